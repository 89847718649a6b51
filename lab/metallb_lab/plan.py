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
# The routed layout (--routers N): the client sits upstream of the routers, on its own segment
UPSTREAM4 = ipaddress.IPv4Network("192.0.2.0/24")
UPSTREAM6 = ipaddress.IPv6Network("2001:db8:192::/64")
MAX_ROUTERS = 4  # routerK is .250+K on both segments
ROUTER_OCTET_BASE = 250
RACK_LABEL = "topology.kubernetes.io/zone"  # the nodes' rack, as a Kubernetes node label

NODE_ASN = 64500
ROUTER_ASN = 64501
BGP_KEEPALIVE = 3
BGP_HOLD = 9  # short on purpose: silent-failure tests wait for the hold timer

IFACE = "eth0"  # every host's segment interface
BRIDGE = "br0"  # in the switch namespace
UPLINK = "eth1"  # a routed lab's routers: their interface on the upstream segment
UPSTREAM_BRIDGE = "br1"  # the upstream segment, also in the switch namespace

ROUTER, NODE, CLIENT = "router", "node", "client"
GROUPS = {ROUTER: "routers", NODE: "k8s_nodes", CLIENT: "clients"}

_NAME_RE = re.compile(r"^[a-z][a-z0-9]{0,11}$")


@dataclass(frozen=True)
class Host:
    """One simulated machine on the segment."""

    name: str
    role: str
    octet: int
    upstream: bool = False  # on the upstream segment only (a routed lab's client)
    uplink: bool = False  # also on the upstream segment, through UPLINK (a routed lab's routers)
    rack: int = 0  # a routed lab's routers and nodes: the rack they belong to (1..racks)

    @property
    def address(self) -> str:
        return _address(UPSTREAM4 if self.upstream else SEGMENT4, self.octet)

    @property
    def address6(self) -> str:
        return _address(UPSTREAM6 if self.upstream else SEGMENT6, self.octet)

    @property
    def mac(self) -> str:
        return _mac(UPSTREAM4 if self.upstream else SEGMENT4, self.octet)

    @property
    def rack_name(self) -> str | None:
        return f"rack{self.rack}" if self.rack else None

    @property
    def links(self) -> list[Link]:
        """The host's interfaces: (interface, bridge, switch port, MAC, IPv4, IPv6)."""
        first = Link(IFACE, UPSTREAM_BRIDGE if self.upstream else BRIDGE, self.name,
                     self.mac, self.address, self.address6)
        if not self.uplink:
            return [first]
        return [first, Link(UPLINK, UPSTREAM_BRIDGE, f"{self.name}-up", _mac(UPSTREAM4, self.octet),
                            _address(UPSTREAM4, self.octet), _address(UPSTREAM6, self.octet))]

    @property
    def group(self) -> str:
        return GROUPS[self.role]

    @property
    def asn(self) -> int | None:
        return {ROUTER: ROUTER_ASN, NODE: NODE_ASN}.get(self.role)


@dataclass(frozen=True)
class Link:
    """One interface of a host and the switch port (on ``bridge``) its veth peer is."""

    interface: str
    bridge: str
    port: str
    mac: str
    address: str
    address6: str


def _address(net, octet: int) -> str:
    # IPv6 written with the same digits as the IPv4 octet (node1: .11 and ::11), for readability
    if net.version == 6:
        return str(ipaddress.IPv6Address(f"{net.network_address}{octet}"))
    return str(net.network_address + octet)


def _mac(net4: ipaddress.IPv4Network, octet: int) -> str:
    # Locally administered, and readable: 02:00 + the segment's three bytes (c6:33:64 = 198.51.100,
    # c0:00:02 = 192.0.2) + the octet.
    return "02:00:" + ":".join("%02x" % b for b in net4.network_address.packed[:3]) + ":%02x" % octet


ROUTER_HOST = Host("router", ROUTER, 1)
CLIENT_HOST = Host("client", CLIENT, 100)


def node(index: int, rack: int = 0) -> Host:
    return Host(f"node{index}", NODE, 10 + index, rack=rack)


def router(index: int, rack: int) -> Host:
    """routerK of a routed lab: .250+K on the nodes' segment and on the upstream one."""
    return Host(f"router{index}", ROUTER, ROUTER_OCTET_BASE + index, uplink=True, rack=rack)


UPSTREAM_CLIENT = Host("client", CLIENT, 100, upstream=True)


def rack_of(index: int, racks: int) -> int:
    """Racks are dealt round-robin (node1 rack1, node2 rack2, ...), so every rack gets nodes."""
    return (index - 1) % racks + 1 if racks else 0


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
    # 1: the single-router layout (router, nodes and client on one segment). 2 and more: the
    # routed layout (router1..N between the nodes' segment and an upstream one with the client),
    # with the nodes and routers dealt into `racks` racks (default: one per router).
    routers: int = 1
    racks: int = 0

    def __post_init__(self) -> None:
        validate_name(self.name)
        if not 1 <= self.nodes <= MAX_NODES:
            raise ValueError(f"--nodes must be between 1 and {MAX_NODES}")
        if not 1 <= self.routers <= MAX_ROUTERS:
            raise ValueError(f"--routers must be between 1 and {MAX_ROUTERS}")
        if self.routers == 1 and self.racks:
            raise ValueError("--racks needs the routed layout: add --routers 2 (or more)")
        if self.routed and not 1 <= self.rack_count <= min(self.routers, self.nodes):
            raise ValueError(f"--racks must be between 1 and the number of routers and of nodes "
                             f"({min(self.routers, self.nodes)} here), so every rack has a router and a node")

    @classmethod
    def from_meta(cls, name: str, meta: dict) -> "LabPlan":
        """The plan a lab was built with (lab.json; labs from before --routers have none)."""
        return cls(name, meta.get("nodes", DEFAULT_NODES), meta.get("bfd", False),
                   meta.get("routers", 1), meta.get("racks", 0))

    @property
    def routed(self) -> bool:
        return self.routers > 1

    @property
    def rack_count(self) -> int:
        return (self.racks or self.routers) if self.routed else 0

    @property
    def router_hosts(self) -> list[Host]:
        if not self.routed:
            return [ROUTER_HOST]
        return [router(k, rack_of(k, self.rack_count)) for k in range(1, self.routers + 1)]

    @property
    def hosts(self) -> list[Host]:
        racks = self.rack_count
        return [*self.router_hosts, *(node(i, rack_of(i, racks)) for i in range(1, self.nodes + 1)),
                UPSTREAM_CLIENT if self.routed else CLIENT_HOST]

    @property
    def bridges(self) -> list[str]:
        return [BRIDGE, UPSTREAM_BRIDGE] if self.routed else [BRIDGE]

    def rack_routers(self, host: Host) -> list[Host]:
        """The routers a node peers with and sends through: its rack's (all, in one segment)."""
        return [r for r in self.router_hosts if not host.rack or r.rack == host.rack]

    def rack_nodes(self, rack: int) -> list[Host]:
        return [h for h in self.node_hosts if h.rack == rack]

    def routes(self, host: Host) -> list[tuple[str, str, tuple[str, ...]]]:
        """(family flag, destination, gateways) of the host's static routes; several gateways:
        one ECMP route.

        Single-router layout: the nodes' default route and the client's VIP routes go to the
        router. Routed: a node's default route goes to its rack's routers (so replies to the
        upstream client return through a router that peers with it), and the client reaches
        the VIPs and the nodes' segment over every router's upstream address, ECMP.
        """
        if host.role == ROUTER:
            return []  # no default route: nothing can leave the lab
        if host.role == NODE:
            gws = self.rack_routers(host)
            return [("-4", "default", tuple(r.address for r in gws)),
                    ("-6", "default", tuple(r.address6 for r in gws))]
        if not self.routed:
            return [("-4", str(VIPS4), (ROUTER_HOST.address,)), ("-6", str(VIPS6), (ROUTER_HOST.address6,))]
        ups = [r.links[1] for r in self.router_hosts]
        return [(fam, str(dst), tuple(getattr(u, attr) for u in ups))
                for fam, attr, nets in (("-4", "address", (VIPS4, SEGMENT4)), ("-6", "address6", (VIPS6, SEGMENT6)))
                for dst in nets]

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
