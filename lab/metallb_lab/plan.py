# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's address plan and names. Pure data: nothing here touches the system.

Only documentation ranges are used (RFC 5737, RFC 3849), so nothing in the lab can
ever collide with, or be routed to, a real network.
"""
from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path

STATE_ROOT = Path("/run/metallb-lab")
DEFAULT_NAME = "mlb"
DEFAULT_NODES = 3
MAX_NODES = 80  # node K gets .10+K; .100 is the client

SEGMENT4 = ipaddress.IPv4Network("198.51.100.0/24")
SEGMENT6 = ipaddress.IPv6Network("2001:db8:100::/64")
VIPS4 = ipaddress.IPv4Network("203.0.113.0/24")
VIPS6 = ipaddress.IPv6Network("2001:db8:203::/48")

NODE_ASN = 64500
ROUTER_ASN = 64501
BGP_KEEPALIVE = 3
BGP_HOLD = 9  # short on purpose: silent-failure tests wait for the hold timer

IFACE = "eth0"  # every host's segment interface
BRIDGE = "br0"  # in the switch namespace

ROUTER, NODE, CLIENT = "router", "node", "client"
GROUPS = {ROUTER: "routers", NODE: "k8s_nodes", CLIENT: "clients"}

_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")


@dataclass(frozen=True)
class Host:
    """One simulated machine on the segment."""

    name: str
    role: str
    octet: int

    @property
    def address(self) -> str:
        return str(SEGMENT4.network_address + self.octet)

    @property
    def address6(self) -> str:
        # written with the same digits as the IPv4 octet (node1: .11 and ::11), for readability
        return str(ipaddress.IPv6Address(f"{SEGMENT6.network_address}{self.octet}"))

    @property
    def mac(self) -> str:
        # Locally administered, and readable: 02:00 + c6:33:64 (= 198.51.100) + the octet.
        return "02:00:c6:33:64:%02x" % self.octet

    @property
    def group(self) -> str:
        return GROUPS[self.role]

    @property
    def asn(self) -> int | None:
        return {ROUTER: ROUTER_ASN, NODE: NODE_ASN}.get(self.role)


ROUTER_HOST = Host("router", ROUTER, 1)
CLIENT_HOST = Host("client", CLIENT, 100)


def node(index: int) -> Host:
    return Host(f"node{index}", NODE, 10 + index)


def validate_name(name: str) -> str:
    if not _NAME_RE.match(name):
        raise ValueError(
            f"lab name {name!r}: use 1-12 lower-case letters and digits, starting with a letter"
        )
    return name


@dataclass(frozen=True)
class LabPlan:
    """Everything that follows from a lab's name and size."""

    name: str
    nodes: int = DEFAULT_NODES
    bfd: bool = False

    def __post_init__(self) -> None:
        validate_name(self.name)
        if not 1 <= self.nodes <= MAX_NODES:
            raise ValueError(f"--nodes must be between 1 and {MAX_NODES}")

    @property
    def hosts(self) -> list[Host]:
        return [ROUTER_HOST, *(node(i) for i in range(1, self.nodes + 1)), CLIENT_HOST]

    @property
    def node_hosts(self) -> list[Host]:
        return [h for h in self.hosts if h.role == NODE]

    def host(self, name: str) -> Host:
        for h in self.hosts:
            if h.name == name:
                return h
        raise KeyError(f"lab {self.name} has no host {name!r} (hosts: {', '.join(h.name for h in self.hosts)})")

    @property
    def switch_netns(self) -> str:
        return f"{self.name}-sw"

    def netns(self, host: Host | str) -> str:
        return f"{self.name}-{host if isinstance(host, str) else host.name}"

    @property
    def state_dir(self) -> Path:
        return state_dir(self.name)


def state_dir(name: str) -> Path:
    return STATE_ROOT / name
