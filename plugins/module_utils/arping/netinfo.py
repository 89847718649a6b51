# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where to probe from: the interface and source address for each VIP.

Answers come from the kernel (``ip -j route get`` / ``ip -j addr show``), never
from assumptions. When the kernel's answer does not put a VIP on a directly
attached Ethernet segment, resolution fails with the reason instead of picking
some interface: an ARP probe from the wrong place proves nothing.
"""

from __future__ import annotations

import ipaddress
import json
import shutil
import subprocess
from dataclasses import dataclass
from typing import Callable

# run(argv, data=None) -> (rc, stdout, stderr), data going to stdin; the module
# passes AnsibleModule.run_command.
Runner = Callable[..., tuple]


class ResolveError(Exception):
    """A VIP cannot be probed from this host as asked."""


@dataclass(frozen=True)
class Binding:
    """Probe ``address`` out of ``interface`` (index, MAC) from ``source``."""

    address: str
    interface: str
    ifindex: int
    mac: str
    source: str


def subprocess_runner(argv: list, data: str | None = None) -> tuple:
    """Runner for use outside Ansible (benchmarks, the prober run by hand)."""
    proc = subprocess.run(argv, input=data, capture_output=True, text=True, check=False)
    return proc.returncode, proc.stdout, proc.stderr


def find_ip_binary() -> str | None:
    return shutil.which("ip") or next(
        (path for path in ("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip") if shutil.which(path)), None
    )


def _documents(out: str, what: str) -> list:
    """The JSON documents ``ip -j -batch`` prints one after the other."""
    decoder, docs, index, text = json.JSONDecoder(), [], 0, out or ""
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index >= len(text):
            return docs
        try:
            doc, index = decoder.raw_decode(text, index)
        except ValueError as exc:
            raise ResolveError(f"{what}: unreadable output from ip -j ({exc})") from exc
        docs.append(doc)


def _json(rc: int, out: str, err: str, what: str):
    if rc != 0:
        raise ResolveError(f"{what}: {(err or out).strip() or f'exit {rc}'}")
    try:
        return json.loads(out)
    except ValueError as exc:
        raise ResolveError(f"{what}: unreadable output from ip -j ({exc})") from exc


class Resolver:
    """Resolve VIPs to Bindings with the ``ip`` tool."""

    def __init__(self, run: Runner, ip_path: str = "ip") -> None:
        self._run = run
        self._ip = ip_path
        self._links: dict[str, dict] | None = None
        self._routes: dict[str, dict | str] = {}

    def lookup(self, addresses: list[str]) -> None:
        """``ip route get`` for each address and ``ip addr show``, in one ``ip -batch`` process.

        ip stops a batch at the first command that fails (printing ``Command failed
        -:N``); that command gets the error and the rest go into the next batch.
        """
        pending = [f"route get {address}" for address in addresses if address not in self._routes]
        if self._links is None:
            pending.append("addr show")
        while pending:
            rc, out, err = self._run([self._ip, "-j", "-batch", "-"], data="".join(f"{command}\n" for command in pending))
            answers = _documents(out, "ip -j -batch")
            for command, answer in zip(pending, answers):
                self._store(command, answer)
            if len(answers) >= len(pending):
                break
            reason = "; ".join(line.strip() for line in (err or "").splitlines()
                               if line.strip() and not line.startswith("Command failed")) or f"exit {rc}"
            self._store(pending[len(answers)], reason)
            pending = pending[len(answers) + 1:]

    def _store(self, command: str, answer) -> None:
        if command == "addr show":
            self._links = {link["ifname"]: link for link in answer} if isinstance(answer, list) else {}
        elif isinstance(answer, str):
            self._routes[command.split()[-1]] = answer
        else:
            self._routes[command.split()[-1]] = answer[0] if answer else "ip route get returned nothing"

    def route(self, address: str) -> dict:
        if address not in self._routes:
            self.lookup([address])
        route = self._routes[address]
        if isinstance(route, str):
            raise ResolveError(
                f"{address}: this host has no route to it ({route}); run the task on a host "
                "attached to the nodes' L2 segment"
            )
        return route

    def link(self, interface: str, option: str) -> dict:
        if self._links is None:
            self.lookup([])
        link = self._links.get(interface)
        if link is None:
            # Not among the links: let ip say why, in its own words.
            rc, out, err = self._run([self._ip, "-j", "addr", "show", "dev", interface])
            if rc != 0:
                raise ResolveError(f"{option}: interface {interface!r} does not exist on this host ({(err or out).strip()})")
            links = _json(rc, out, err, f"ip addr show dev {interface}")
            if not links:
                raise ResolveError(f"{option}: interface {interface!r} does not exist on this host")
            link = self._links[interface] = links[0]
        flags = set(link.get("flags", []))
        problem = None
        if "LOOPBACK" in flags or link.get("link_type") != "ether" or not link.get("address"):
            problem = f"is not an Ethernet interface (link type {link.get('link_type')!r})"
        elif "NOARP" in flags:
            problem = "has ARP turned off (NOARP)"
        elif "UP" not in flags:
            problem = "is down"
        elif "LOWER_UP" not in flags:
            problem = "has no carrier (not LOWER_UP)"
        if problem:
            raise ResolveError(f"{option}: interface {interface} {problem}; ARP and NDP probes need an up Ethernet interface")
        return link

    def resolve(self, address: str, interface: str | None = None) -> Binding:
        vip = ipaddress.ip_address(address)
        family, label = ("inet", "IPv4") if vip.version == 4 else ("inet6", "IPv6")
        route = self.route(address)
        rtype = route.get("type", "unicast")
        if rtype == "local":
            raise ResolveError(
                f"{address} is an address of this host itself; run leader_verify from another host of the segment"
            )
        if rtype != "unicast":
            raise ResolveError(f"{address}: the route to it is of type {rtype!r}; nothing can be probed")

        if interface is None:
            if route.get("gateway"):
                raise ResolveError(
                    f"{address} is reached through the gateway {route['gateway']} on {route.get('dev')}, so it is not "
                    "on a segment this host is attached to: run the task on a host of the nodes' L2 segment, or set "
                    "'interface' to the interface on that segment"
                )
            link = self.link(route["dev"], f"the interface routing to {address}")
            source = route.get("prefsrc")
            if not source:
                raise ResolveError(f"{address}: the kernel gives no source address on {route['dev']}; set 'interface'")
            return Binding(address, route["dev"], int(link["ifindex"]), link["address"].lower(), source)

        link = self.link(interface, "interface")
        # A link-local source only reaches link-local VIPs: the global address answers for global ones.
        addrs = [a for a in link.get("addr_info", []) if a.get("family") == family
                 and (vip.is_link_local or not ipaddress.ip_address(a["local"]).is_link_local)]
        for entry in addrs:
            network = ipaddress.ip_network(f"{entry['local']}/{entry['prefixlen']}", strict=False)
            if vip in network:
                return Binding(address, interface, int(link["ifindex"]), link["address"].lower(), entry["local"])
        # A VIP outside every subnet of the interface is still on-link when the
        # kernel routes it out of that interface without a gateway.
        if route.get("dev") == interface and not route.get("gateway") and route.get("prefsrc"):
            return Binding(address, interface, int(link["ifindex"]), link["address"].lower(), route["prefsrc"])
        have = ", ".join(f"{a['local']}/{a['prefixlen']}" for a in addrs) or "none"
        raise ResolveError(
            f"{address}: interface {interface} has no {label} address in a subnet containing it (its addresses: {have}) "
            f"and the kernel does not route it out of {interface} directly; refusing to guess a source address"
        )
