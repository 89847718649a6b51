# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""FRR on the lab hosts: the router's pristine files and the nodes' stand-in speaker.

The stand-in speaker is test scaffolding until the Kubernetes lab runs real MetalLB
speakers: FRR with a MetalLB-like BGP session to the router, whose announcements the
tests change with ``labctl speaker``.

Its frr.conf is written in the exact form FRR's ``show running-config`` prints, so
``frr-reload.py --test`` right after start prints no difference. Three things matter
(FRR 8.4, see docs in lab/README.md): zebra prints ``no ip[v6] forwarding``, so the file
says it too (else a reload would turn forwarding on); a neighbor with a BFD profile is
printed as two lines (``bfd`` and ``bfd profile``) and the file has both (else a reload
deletes the BFD session and resets BGP); defaults such as ``detect-multiplier 3`` are not
printed, so the file leaves them out.
"""
from __future__ import annotations

import hashlib
import ipaddress
import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import plan as P
from .plan import Host

PRISTINE_DIR = Path("/etc/frr")
PRISTINE_FILES = ("daemons", "frr.conf", "vtysh.conf", "support_bundle_commands.conf")
FRRINIT = "/usr/lib/frr/frrinit.sh"
FRR_RELOAD = "/usr/lib/frr/frr-reload.py"
BFD_PROFILE = "fast"  # 100 ms x 3, as in the lab notes
LAB_RANGES = [ipaddress.ip_network(n) for n in (
    "198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "198.18.0.0/15", "2001:db8::/32")]


# ---------------------------------------------------------------- package files
def dpkg_md5sums() -> dict[str, str]:
    """md5 of each FRR conffile as shipped, from dpkg's database."""
    out = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", "frr"],
                         capture_output=True, text=True, check=False).stdout
    sums = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2:
            sums[parts[0]] = parts[1]
    return sums


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


def unmodified_package_files() -> list[str]:
    """The names in PRISTINE_FILES whose root copy still matches the package."""
    sums = dpkg_md5sums()
    return [n for n in PRISTINE_FILES
            if (PRISTINE_DIR / n).exists() and sums.get(str(PRISTINE_DIR / n)) == md5(PRISTINE_DIR / n)]


def copy_package_files(etc_frr: Path, names=PRISTINE_FILES) -> None:
    """Copy /etc/frr/<names> from the root filesystem, keeping mode and owner."""
    for name in names:
        src = PRISTINE_DIR / name
        if not src.exists():
            continue
        dst = etc_frr / name
        shutil.copy2(src, dst)
        st = src.stat()
        os.chown(dst, st.st_uid, st.st_gid)


def frr_version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "frr"],
                         capture_output=True, text=True, check=False).stdout
    return out.split("-")[0] or "8.4.4"


# ---------------------------------------------------------------- the stand-in speaker
@dataclass
class SpeakerConfig:
    asn: int = P.NODE_ASN
    router_asn: int = P.ROUTER_ASN
    bfd: bool = False
    hold: int = P.BGP_HOLD
    networks: list[str] = field(default_factory=list)

    @property
    def keepalive(self) -> int:
        return max(1, self.hold // 3)

    @classmethod
    def load(cls, path: Path, default_bfd: bool = False) -> "SpeakerConfig":
        try:
            return cls(**json.loads(path.read_text()))
        except FileNotFoundError:
            return cls(bfd=default_bfd)

    def save(self, path: Path) -> None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=1) + "\n")
        os.replace(tmp, path)


def parse_prefix(text: str) -> ipaddress.IPv4Network | ipaddress.IPv6Network:
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a prefix (e.g. 203.0.113.10/32 or 2001:db8:203::10/128): {exc}")
    if not any(net.version == r.version and net.subnet_of(r) for r in LAB_RANGES):
        raise ValueError(f"{net} is outside the lab's documentation ranges "
                         f"({', '.join(map(str, LAB_RANGES))})")
    return net


def sorted_networks(networks: list[str]) -> list[str]:
    # running-config lists networks in prefix order
    return sorted(networks, key=lambda n: (ipaddress.ip_network(n).version, ipaddress.ip_network(n)))


def render_daemons(bfd: bool) -> str:
    """The package's daemons file with bgpd (and bfdd) switched on, nothing else changed."""
    out = []
    for line in (PRISTINE_DIR / "daemons").read_text().splitlines():
        if line == "bgpd=no" or (bfd and line == "bfdd=no"):
            line = line[:-2] + "yes"
        out.append(line)
    return "\n".join(out) + "\n"


def render_speaker(host: Host, cfg: SpeakerConfig, routers: list[Host] | None = None) -> str:
    """The node's frr.conf: sessions to ``routers`` (its rack's; default the single router)."""
    routers = sorted(routers or [P.ROUTER_HOST], key=lambda r: ipaddress.ip_address(r.address))
    # running-config lists the neighbors in address order, IPv4 first
    peers4, peers6 = [r.address for r in routers], [r.address6 for r in routers]
    lines = [
        f"frr version {frr_version()}",
        "frr defaults traditional",
        f"hostname {host.name}",
        "log file /var/log/frr/frr.log",
        "no ip forwarding",
        "no ipv6 forwarding",
        "service integrated-vtysh-config",
        "!",
    ]
    if cfg.bfd:
        lines += [
            "bfd",
            f" profile {BFD_PROFILE}",
            "  transmit-interval 100",
            "  receive-interval 100",
            " exit",
            " !",
            "exit",
            "!",
        ]
    lines += [
        f"router bgp {cfg.asn}",
        f" bgp router-id {host.address}",
        " no bgp ebgp-requires-policy",
        " no bgp network import-check",
    ]
    for peer in (*peers4, *peers6):
        lines += [
            f" neighbor {peer} remote-as {cfg.router_asn}",
            f" neighbor {peer} timers {cfg.keepalive} {cfg.hold}",
            f" neighbor {peer} timers connect 2",
        ]
        if cfg.bfd:
            lines += [f" neighbor {peer} bfd", f" neighbor {peer} bfd profile {BFD_PROFILE}"]
    nets = sorted_networks(cfg.networks)
    v4 = [n for n in nets if ipaddress.ip_network(n).version == 4]
    v6 = [n for n in nets if ipaddress.ip_network(n).version == 6]
    # IPv4 routes over the IPv4 session, IPv6 routes over the IPv6 session
    lines += [" !", " address-family ipv4 unicast"]
    lines += [f"  network {n}" for n in v4]
    lines += [f"  no neighbor {r6} activate" for r6 in peers6]
    lines += [" exit-address-family", " !", " address-family ipv6 unicast"]
    lines += [f"  network {n}" for n in v6]
    lines += [f"  neighbor {r6} activate" for r6 in peers6]
    lines += [" exit-address-family", "exit", "!"]
    return "\n".join(lines) + "\n"


def vtysh_network(asn: int, net, withdraw: bool) -> list[str]:
    family = "ipv4" if net.version == 4 else "ipv6"
    return ["vtysh", "-c", "configure terminal", "-c", f"router bgp {asn}",
            "-c", f"address-family {family} unicast",
            "-c", f"{'no ' if withdraw else ''}network {net}"]


def daemons_enabled(daemons_text: str) -> list[str]:
    """Daemons frrinit.sh starts: zebra and staticd always (watchfrr too), plus the =yes ones."""
    names = ["zebra", "staticd"]
    for line in daemons_text.splitlines():
        key, _, value = line.partition("=")
        if value.strip() == "yes" and key.endswith("d") and key not in names:
            names.append(key)
    return ["watchfrr", *names]
