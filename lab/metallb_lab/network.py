# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Namespaces, the segment and the hosts' addresses.

Every ``ensure_*`` function compares what exists with the plan, fixes the difference and
returns a list of what it changed (empty: nothing to do). So ``up`` builds a fresh lab
and repairs a running one with the same code.

Nothing is ever created in the root network namespace: the bridge lives in the switch
namespace and each veth pair is created there with its peer directly in the host's
namespace.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from . import plan as P
from .plan import Host, LabPlan
from .system import LabError, enter_argv, is_mountpoint, ns_inode, run, umount

HOSTINIT = Path(__file__).with_name("hostinit.py")
# Scripts that run inside a host use the system Python: the host has its own /root, which
# hides an interpreter installed there (pyenv, a venv under /root).
HOST_PYTHON = "/usr/bin/python3"


# ---------------------------------------------------------------- network namespaces
def netns_path(ns: str) -> Path:
    return Path("/run/netns") / ns


def netns_exists(ns: str) -> bool:
    return netns_path(ns).exists() and is_mountpoint(netns_path(ns))


def ip(ns: str, *args: str, check: bool = True):
    return run(["ip", "-n", ns, *args], check=check)


def ip_json(ns: str, *args: str) -> list[dict]:
    out = ip(ns, "-j", *args).stdout.strip()
    return json.loads(out) if out else []


def ip_batch(ns: str, commands: list[str]) -> None:
    if commands:
        run(["ip", "-n", ns, "-batch", "-"], input="\n".join(commands) + "\n")


def delete_netns(ns: str) -> None:
    if netns_exists(ns) or netns_path(ns).exists():
        run(["ip", "netns", "del", ns], check=False)


# ---------------------------------------------------------------- sysctls per role
def host_sysctls(host: Host) -> dict[str, str]:
    values = {
        # IPv6 addresses are usable at once (no DAD delay), and nobody takes or asks for
        # router advertisements: routes are static, as on the planned segment.
        "net.ipv6.conf.all.accept_dad": "0",
        "net.ipv6.conf.default.accept_dad": "0",
        "net.ipv6.conf.all.accept_ra": "0",
        "net.ipv6.conf.default.accept_ra": "0",
        "net.ipv6.conf.all.router_solicitations": "0",
        "net.ipv6.conf.default.router_solicitations": "0",
    }
    if host.role == P.ROUTER:
        values |= {
            "net.ipv4.ip_forward": "1",
            "net.ipv6.conf.all.forwarding": "1",
            "net.ipv6.conf.default.forwarding": "1",
            # The ECMP hash policy (fib_multipath_hash_policy) is NOT set here: the kernel's
            # default (0, L3) stays until the bgp_router role sets it, as on a real router.
            # the router forwards back out of the interface it received on (client and
            # nodes share the segment): no redirects, so traffic really goes through it
            "net.ipv4.conf.all.send_redirects": "0",
            "net.ipv4.conf.default.send_redirects": "0",
        }
    if host.role == P.CLIENT:
        values |= {
            "net.ipv4.conf.all.accept_redirects": "0",
            "net.ipv4.conf.default.accept_redirects": "0",
            "net.ipv6.conf.all.accept_redirects": "0",
            "net.ipv6.conf.default.accept_redirects": "0",
        }
    if host.upstream:
        # The routed layout's client has an ECMP route over every router and no routing
        # protocol: it leaves a path once the router's neighbour entry fails (use_neigh);
        # neigh_sysctls makes it notice within seconds
        values["net.ipv4.fib_multipath_use_neigh"] = "1"
    return values


def neigh_sysctls(host: Host) -> dict[str, str]:
    """The routed client's neighbour timers on its interface (a new network namespace has no
    neigh/default): a dead router's entry fails within ~1-3 s (reachable 0.5-1.5 s, 1 s delay,
    3 probes 200 ms apart) instead of the kernel's ~30 s."""
    if not host.upstream:
        return {}
    return {f"net.{fam}.neigh.{P.IFACE}.{key}": value
            for fam in ("ipv4", "ipv6")
            for key, value in (("base_reachable_time_ms", "1000"), ("delay_first_probe_time", "1"),
                               ("retrans_time_ms", "200"))}


SWITCH_SYSCTLS = {
    # the switch is layer 2 only: no addresses, not even IPv6 link-local
    "net.ipv6.conf.all.disable_ipv6": "1",
    "net.ipv6.conf.default.disable_ipv6": "1",
}


def ensure_sysctls(ns: str, wanted: dict[str, str]) -> list[str]:
    keys = list(wanted)
    current = run([*enter_argv(ns), "sysctl", "-n", *keys]).stdout.split("\n")
    diff = {k: v for k, v, cur in zip(keys, wanted.values(), current) if cur.strip() != v}
    if diff:
        run([*enter_argv(ns), "sysctl", "-q", "-w", *(f"{k}={v}" for k, v in diff.items())])
    return [f"sysctl {k}={v}" for k, v in diff.items()]


# ---------------------------------------------------------------- the switch
def ensure_switch(plan: LabPlan) -> list[str]:
    ns = plan.switch_netns
    changes = []
    if not netns_exists(ns):
        run(["ip", "netns", "add", ns])
        changes.append(f"netns {ns}")
    changes += ensure_sysctls(ns, SWITCH_SYSCTLS)
    links = {link["ifname"]: link for link in ip_json(ns, "link", "show")}
    cmds = []
    if links.get("lo", {}).get("operstate") == "DOWN" or "UP" not in links.get("lo", {}).get("flags", []):
        cmds.append("link set lo up")
    for bridge in plan.bridges:
        if bridge not in links:
            # no multicast snooping: IPv6 neighbour discovery must flood like ARP does
            cmds.append(f"link add {bridge} type bridge stp_state 0 mcast_snooping 0")
            cmds.append(f"link set {bridge} up")
        elif "UP" not in links[bridge].get("flags", []):
            cmds.append(f"link set {bridge} up")
    ip_batch(ns, cmds)
    return changes + [f"{ns}: {c}" for c in cmds]


def switch_ports(plan: LabPlan) -> dict[str, dict]:
    if not netns_exists(plan.switch_netns):
        return {}
    return {
        link["ifname"]: link
        for link in ip_json(plan.switch_netns, "link", "show")
        if link.get("master") in plan.bridges
    }


# ---------------------------------------------------------------- host networking
def route_gateways(route: dict) -> list[str]:
    """The gateways of one ``ip -j route`` entry: one, or one per ECMP path."""
    return [route["gateway"]] if "gateway" in route else \
        [nh["gateway"] for nh in route.get("nexthops", []) if "gateway" in nh]


def route_command(fam: str, dst: str, gateways: tuple[str, ...], dev: str = P.IFACE) -> list[str]:
    if len(gateways) == 1:
        return [fam, "route", "replace", dst, "via", gateways[0], "dev", dev]
    return [fam, "route", "replace", dst, *(w for gw in gateways for w in ("nexthop", "via", gw, "dev", dev))]


def ensure_host_network(plan: LabPlan, host: Host) -> list[str]:
    ns = plan.netns(host)
    changes = []
    if not netns_exists(ns):
        run(["ip", "netns", "add", ns])
        changes.append(f"netns {ns}")
    # before the veth exists: the defaults apply to interfaces created afterwards
    changes += ensure_sysctls(ns, host_sysctls(host))

    for link in host.links:
        changes += _ensure_link(plan, ns, link)
    if neigh_sysctls(host):
        changes += ensure_sysctls(ns, neigh_sysctls(host))

    route_cmds = []
    for fam, dst, gws in plan.routes(host):
        routes = ip_json(ns, fam, "route", "show", "exact", dst) if dst != "default" else \
            ip_json(ns, fam, "route", "show", "default")
        if not any(sorted(route_gateways(r)) == sorted(gws) for r in routes):
            route_cmds.append(route_command(fam, dst, gws))
    # routes need the links up, which _ensure_link made sure of
    for c in route_cmds:
        ip(ns, *c)
    changes += [f"{ns}: {' '.join(c)}" for c in route_cmds]
    return changes


def _ensure_link(plan: LabPlan, ns: str, link: P.Link) -> list[str]:
    """One interface of a host: its veth, switch port, MAC and addresses."""
    sw, ifc = plan.switch_netns, link.interface
    changes = []
    links = {l["ifname"]: l for l in ip_json(ns, "link", "show")}
    port = switch_ports(plan).get(link.port)
    if ifc not in links:
        if port is not None or link.port in {l["ifname"] for l in ip_json(sw, "link", "show")}:
            ip(sw, "link", "del", link.port)
        # the peer is created directly inside the host: no lab interface in the root netns
        ip(sw, "link", "add", link.port, "type", "veth", "peer", "name", ifc,
           "address", link.mac, "netns", ns)
        changes.append(f"{ns}: veth {ifc} <-> {sw}:{link.port}")
        links = {l["ifname"]: l for l in ip_json(ns, "link", "show")}
        port = None
    cmds_sw = []
    if port is None:
        cmds_sw += [f"link set {link.port} master {link.bridge}", f"link set {link.port} up"]
    elif "UP" not in port.get("flags", []):
        cmds_sw.append(f"link set {link.port} up")  # e.g. after `labctl link HOST down`
    ip_batch(sw, cmds_sw)
    changes += [f"{sw}: {c}" for c in cmds_sw]

    cmds = []
    if "UP" not in links["lo"].get("flags", []):
        cmds.append("link set lo up")
    if links[ifc].get("address") != link.mac:
        cmds.append(f"link set {ifc} address {link.mac}")
    if "UP" not in links[ifc].get("flags", []):
        cmds.append(f"link set {ifc} up")
    have = {
        (a["family"], a["local"], a["prefixlen"])
        for i in ip_json(ns, "addr", "show", "dev", ifc)
        for a in i.get("addr_info", [])
    }
    if ("inet", link.address, 24) not in have:
        cmds.append(f"addr add {link.address}/24 dev {ifc}")
    if ("inet6", link.address6, 64) not in have:
        cmds.append(f"addr add {link.address6}/64 dev {ifc} nodad")
    ip_batch(ns, cmds)
    return changes + [f"{ns}: {c}" for c in cmds]


def set_port(plan: LabPlan, host: Host, up: bool) -> None:
    """Take the host's switch ports (a routed lab's router has two) down or up: pulled
    cables, so no FIN or RST is sent."""
    ip_batch(plan.switch_netns, [f"link set {link.port} {'up' if up else 'down'}" for link in host.links])


# ---------------------------------------------------------------- mount + UTS namespaces
def ensure_ns_dir(ns_dir: Path) -> list[str]:
    """The directory holding the mount/UTS handles must be a private mount point.

    Binding a mount-namespace handle into a shared mount is refused by the kernel (it
    could create a propagation loop), so the directory is bound onto itself, private.
    """
    ns_dir.mkdir(mode=0o755, parents=True, exist_ok=True)
    if is_mountpoint(ns_dir):
        return []
    run(["mount", "-n", "--bind", str(ns_dir), str(ns_dir)])
    run(["mount", "-n", "--make-private", str(ns_dir)])
    return [f"private mount {ns_dir}"]


class HostNamespaces:
    """The persistent mount and UTS namespace handles of one host."""

    def __init__(self, plan: LabPlan, host: Host, ns_dir: Path, host_dir: Path):
        self.plan, self.host, self.host_dir = plan, host, host_dir
        self.mnt = ns_dir / f"{host.name}.mnt"
        self.uts = ns_dir / f"{host.name}.uts"
        # what the handles were built against: a re-created network namespace needs a
        # new mount namespace too (its /sys shows the old one's interfaces)
        self.marker = host_dir / "namespaces.json"

    def enter(self, wd: str | None = None) -> list[str]:
        return enter_argv(self.plan.netns(self.host), self.mnt, self.uts, wd)

    def inodes(self) -> list[int]:
        return [i for i in (ns_inode(self.mnt), ns_inode(self.uts)) if i is not None]

    def ok(self) -> bool:
        if not (is_mountpoint(self.mnt) and is_mountpoint(self.uts)):
            return False
        try:
            built = json.loads(self.marker.read_text())
        except (OSError, ValueError):
            return False
        return built == {"netns": ns_inode(netns_path(self.plan.netns(self.host))),
                         "mnt": ns_inode(self.mnt)}

    def create(self) -> None:
        for handle in (self.mnt, self.uts):
            handle.touch()
        # unshare binds the new namespaces onto the handle files (in the root mount
        # namespace, where nsenter left us); hostinit then furnishes the new namespace.
        run([
            *enter_argv(self.plan.netns(self.host)),
            "unshare", f"--mount={self.mnt}", f"--uts={self.uts}", "--propagation", "private",
            "--", HOST_PYTHON, str(HOSTINIT), "--hostname", self.host.name, "--lab", self.plan.name,
            "--state-dir", str(self.plan.state_dir), "--host-dir", str(self.host_dir),
        ])
        self.marker.write_text(json.dumps({
            "netns": ns_inode(netns_path(self.plan.netns(self.host))), "mnt": ns_inode(self.mnt)}))

    def remove(self) -> None:
        """Only after every process inside has ended."""
        for handle in (self.mnt, self.uts):
            if is_mountpoint(handle):
                umount(handle)
            if handle.exists():
                handle.unlink()
        self.marker.unlink(missing_ok=True)


def host_dirs(host_dir: Path) -> None:
    """The host's private directories (mounted by hostinit), with the owners FRR expects."""
    import grp
    import pwd

    frr_uid, frr_gid = pwd.getpwnam("frr").pw_uid, grp.getgrnam("frr").gr_gid
    for sub, mode, owned_by_frr in (
        ("etc-frr", 0o750, True),
        ("run-frr", 0o755, True),
        ("var-log", 0o755, False),
        ("var-log/frr", 0o750, True),
        ("var-tmp", 0o1777, False),
        ("root", 0o700, False),
        ("run", 0o755, False),
        ("etc", 0o755, False),
        ("pids", 0o755, False),
    ):
        d = host_dir / sub
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, mode)
        if owned_by_frr:
            os.chown(d, frr_uid, frr_gid)


def write_host_files(plan: LabPlan, host: Host, host_dir: Path) -> None:
    etc = host_dir / "etc"
    lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback", ""]
    for h in plan.hosts:
        lines += [f"{h.address}\t{h.name}", f"{h.address6}\t{h.name}"]
    _write_if_changed(etc / "hosts", "\n".join(lines) + "\n")
    _write_if_changed(etc / "hostname", host.name + "\n")
    # No nameserver: the resolver falls back to 127.0.0.1, which refuses at once. A real
    # resolver address would have lab hosts send queries towards the outside world.
    _write_if_changed(etc / "resolv.conf", "# lab host: no DNS, names are in /etc/hosts\n")


def _write_if_changed(path: Path, text: str) -> bool:
    if path.exists() and path.read_text() == text:
        return False
    # written in place: the file may be bind-mounted into a running host
    with open(path, "w") as f:
        f.write(text)
    return True


def check_no_clash(plan: LabPlan) -> None:
    """Refuse to build over namespaces this lab did not create."""
    names = [plan.switch_netns, *(plan.netns(h) for h in plan.hosts)]
    clash = [n for n in names if netns_path(n).exists()]
    if clash:
        raise LabError(
            f"network namespace(s) {', '.join(clash)} exist but lab {plan.name!r} has no state in "
            f"{plan.state_dir}: they belong to something else. Pick another --name "
            f"(or remove them yourself if you know they are left-overs)."
        )
