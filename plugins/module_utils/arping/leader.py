# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""leader_verify's logic: check the input, probe, name the responders, judge.

``LeaderVerify(params, ...).run()`` takes the module's parameters as a plain dict
and returns the module's result as a plain dict; the transports and the
resolver are injected so unit tests run it without sockets or processes.
"""

from __future__ import annotations

import ipaddress
import time

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import installed, netinfo, prober
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.parsers import (
    FLAVORS,
    NDISC6,
    ArpingError,
    normalize_mac,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.raw import RawTransport

OK = "ok"
NO_REPLY = "no_reply"
DUPLICATE = "duplicate"
UNKNOWN_MAC = "unknown_mac"
UNEXPECTED_LEADER = "unexpected_leader"
STATUSES = (OK, NO_REPLY, DUPLICATE, UNKNOWN_MAC, UNEXPECTED_LEADER)
FAILURES = STATUSES[1:]
PROBERS = ("auto", "raw") + FLAVORS + (NDISC6,)


class LeaderVerifyError(Exception):
    """Bad input or a host that cannot probe: the task fails with this message."""


# ---------------------------------------------------------------- input

def normalize_addresses(addresses) -> list[str]:
    result = []
    for value in addresses or []:
        text = str(value).strip()
        try:
            address = ipaddress.ip_address(text)
        except ValueError:
            raise LeaderVerifyError(f"addresses: {text!r} is not an IP address") from None
        if address.is_loopback or address.is_multicast or address.is_unspecified or address.is_reserved:
            raise LeaderVerifyError(f"addresses: {text} is not a unicast address a node could announce")
        if str(address) not in result:
            result.append(str(address))
    if not result:
        raise LeaderVerifyError("addresses: give at least one VIP to check")
    return result


def normalize_nodes(nodes) -> tuple[dict, dict]:
    """``{node: mac | [macs]}`` -> ({mac: node}, {node: [macs]})."""
    if nodes is None:
        return {}, {}
    if not isinstance(nodes, dict):
        raise LeaderVerifyError("nodes: must be a mapping of node name to MAC address (or list of MAC addresses)")
    by_mac: dict[str, str] = {}
    by_node: dict[str, list] = {}
    for name, value in nodes.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(item, int) and not isinstance(item, bool) for item in values):
            raise LeaderVerifyError(
                f"nodes: {name!r} maps to the number {value!r}: quote MAC addresses in YAML "
                "(YAML 1.1 reads an unquoted all-digit MAC such as 12:34:56:12:34:56 as a base-60 number)"
            )
        if not values or any(not isinstance(item, str) or not item.strip() for item in values):
            raise LeaderVerifyError(
                f"nodes: {name!r} must map to a MAC address or a list of MAC addresses, got {value!r} "
                "(a fact that is not set, such as default_ipv4 on a host without a default route?)"
            )
        macs = []
        for item in values:
            try:
                mac = normalize_mac(item.strip())
            except ValueError as exc:
                raise LeaderVerifyError(f"nodes: {name}: {exc}") from None
            if mac in by_mac and by_mac[mac] != str(name):
                raise LeaderVerifyError(f"nodes: MAC {mac} is given for both {by_mac[mac]} and {name}")
            by_mac[mac] = str(name)
            if mac not in macs:
                macs.append(mac)
        by_node[str(name)] = macs
    return by_mac, by_node


def normalize_expected(expected, addresses: list[str], by_node: dict) -> dict:
    result = {}
    for key, node in (expected or {}).items():
        try:
            address = str(ipaddress.ip_address(str(key).strip()))
        except ValueError:
            raise LeaderVerifyError(f"expected: key {key!r} is not an IP address") from None
        if address not in addresses:
            raise LeaderVerifyError(f"expected: {address} is not one of the addresses being checked ({', '.join(addresses)})")
        node = str(node)
        if node not in by_node:
            raise LeaderVerifyError(
                f"expected: {address} -> {node!r}, but {node!r} is not a node in 'nodes' "
                f"({', '.join(sorted(by_node)) or 'nodes is empty'}); add its MAC to 'nodes'"
            )
        result[address] = node
    return result


def settings_from(params: dict) -> prober.Settings:
    count, timeout, window = params.get("count", 3), params.get("timeout", 1.0), params.get("reply_window", 0.02)
    if count is None or count < 1:
        raise LeaderVerifyError(f"count: must be at least 1 (got {count})")
    if timeout is None or timeout <= 0:
        raise LeaderVerifyError(f"timeout: must be more than 0 seconds (got {timeout})")
    if window is None or window < 0:
        raise LeaderVerifyError(f"reply_window: must be 0 or more seconds (got {window})")
    if window >= timeout:
        raise LeaderVerifyError(
            f"reply_window: {window}s is not shorter than timeout ({timeout}s); the window after a reply must fit in the timeout"
        )
    return prober.Settings(count=int(count), timeout=float(timeout), reply_window=float(window))


# ---------------------------------------------------------------- verdict

def judge(obs: prober.Observation, by_mac: dict, expected: str | None, from_node: str | None = None) -> dict:
    """The per-address result for one Observation."""
    responders: dict[str, dict] = {}
    for mac, rtt in obs.replies:
        entry = responders.setdefault(mac, {"mac": mac, "node": by_mac.get(mac), "replies": 0, "rtt_ms": None})
        entry["replies"] += 1
        if rtt is not None and (entry["rtt_ms"] is None or rtt < entry["rtt_ms"]):
            entry["rtt_ms"] = rtt
    # Several MACs of one node (NICs on the same segment) are one responder.
    identities = list(dict.fromkeys(entry["node"] or entry["mac"] for entry in responders.values()))
    leader = mac = None
    if not responders:
        status = NO_REPLY
    elif len(identities) > 1:
        status = DUPLICATE
    else:
        best = max(responders.values(), key=lambda entry: entry["replies"])
        mac, leader = best["mac"], best["node"]
        if leader is None:
            status = UNKNOWN_MAC
        elif expected is not None and leader != expected:
            status = UNEXPECTED_LEADER
        elif from_node is not None and leader == from_node:
            status = UNEXPECTED_LEADER
        else:
            status = OK
    rtts = [entry["rtt_ms"] for entry in responders.values() if entry["rtt_ms"] is not None and (mac is None or entry["node"] == leader)]
    return {
        "address": obs.address,
        "status": status,
        "leader": leader,
        "mac": mac,
        "responders": list(responders.values()),
        "expected": expected,
        "rtt_ms": min(rtts) if rtts else None,
        "elapsed_ms": obs.elapsed_ms,
        "probes": obs.probes,
        "answered": obs.answered,
    }


def describe(result: dict, timeout: float) -> str:
    """One failing address, in words: VIP, MACs seen, their nodes, what was expected."""
    address, status, expected = result["address"], result["status"], result.get("expected")
    seen = ", ".join(f"{r['mac']} ({r['node'] or 'no known node'})" for r in result["responders"])
    want = f"expected {expected} to answer" if expected else "expected one known node to answer"
    change = result.get("change")
    if change and change.get("detected_ms") is None:
        want = f"expected {expected or 'a node other than ' + change['from_node']} to take over before the deadline"
    if status == NO_REPLY:
        kind = "ARP probe(s)" if ipaddress.ip_address(address).version == 4 else "neighbor solicitation(s)"
        return f"{address}: no reply to {result['probes']} {kind} within {timeout:g}s on {result.get('interface')}; {want}"
    if status == DUPLICATE:
        return f"{address}: {len(result['responders'])} MACs answer: {seen}; {want} alone"
    if status == UNKNOWN_MAC:
        return f"{address}: answered by {seen}, a MAC of no node in 'nodes'; {want}"
    return f"{address}: answered by {seen}; {want}"


# ---------------------------------------------------------------- the run

class LeaderVerify:
    """Run a leader check from module parameters.

    ``runner(argv, data=None) -> (rc, out, err)`` runs ``ip`` and ``arping -V``;
    ``find_binary(name)`` locates a tool; ``transports`` maps a prober name to a
    factory ``(settings, path) -> transport`` (tests pass fakes).
    """

    def __init__(self, params: dict, runner=netinfo.subprocess_runner, find_binary=None, transports=None,
                 clock=time.monotonic, wall=time.time) -> None:
        self.params = params
        self.runner = runner
        self.find_binary = find_binary
        self.transports = transports or {}
        self.clock = clock
        self.wall = wall
        self.warnings: list[str] = []

    def run(self) -> dict:
        params = self.params
        addresses = normalize_addresses(params.get("addresses"))
        by_mac, by_node = normalize_nodes(params.get("nodes"))
        expected = normalize_expected(params.get("expected"), addresses, by_node)
        settings = settings_from(params)
        fail_on = params.get("fail_on")
        fail_on = list(FAILURES) if fail_on is None else list(fail_on)
        wait_for = params.get("wait_for") or "stable"
        from_node = params.get("from_node")
        deadline = params.get("deadline", 30.0)
        if wait_for == "change":
            if not from_node:
                raise LeaderVerifyError("from_node: required with wait_for=change (the node the VIPs move away from)")
            if from_node not in by_node:
                raise LeaderVerifyError(
                    f"from_node: {from_node!r} is not a node in 'nodes' ({', '.join(sorted(by_node)) or 'nodes is empty'}); "
                    "its MACs are needed to tell it from the new holder"
                )
            if deadline is None or deadline <= 0:
                raise LeaderVerifyError(f"deadline: must be more than 0 seconds (got {deadline})")
        elif from_node:
            raise LeaderVerifyError("from_node: only used with wait_for=change")

        bindings = self._resolve(addresses, params.get("interface"))
        transport, tool_info = self._transport(params.get("prober") or "auto", settings, bindings)
        mono0, wall0 = self.clock(), self.wall()
        try:
            if wait_for == "change":
                observations = prober.probe(transport, addresses, settings, clock=self.clock,
                                            from_macs=set(by_node[from_node]), deadline=float(deadline))
            else:
                observations = prober.probe(transport, addresses, settings, clock=self.clock)
        except prober.ProbeTransportError as exc:
            raise LeaderVerifyError(str(exc)) from exc
        finally:
            probed = self.clock()
            transport.close()

        errors = [f"{obs.address}: {obs.error}" for obs in observations.values() if obs.error]
        if errors:
            raise LeaderVerifyError("probing failed: " + "; ".join(errors))
        silent = [obs.address for obs in observations.values() if obs.probes == 0]
        if silent:
            raise LeaderVerifyError(
                f"timeout: {settings.timeout:g}s was too short for {transport.name} to send a single probe for "
                f"{', '.join(silent)}; raise timeout"
            )

        results = {}
        for address in addresses:
            obs = observations[address]
            result = judge(obs, by_mac, expected.get(address), from_node if wait_for == "change" else None)
            binding = bindings[address]
            result.update(interface=binding.interface, source=binding.source)
            if obs.change is not None:
                result["change"] = self._change(obs, from_node, mono0, wall0, by_mac)
            results[address] = result

        failed = [address for address, result in results.items() if result["status"] in fail_on]
        if failed:
            msg = f"{len(failed)} of {len(addresses)} address(es) failed: " + "; ".join(
                describe(results[address], settings.timeout) for address in failed
            )
        else:
            msg = f"{len(addresses)} address(es) checked: " + ", ".join(
                f"{address} {result['status']}" + (f" ({result['leader']})" if result["leader"] else "")
                for address, result in results.items()
            )
        out = {
            "changed": False,
            "failed": bool(failed),
            "msg": msg,
            "addresses": results,
            "failed_addresses": failed,
            "prober": transport.name,
            "elapsed_ms": round((probed - mono0) * 1000.0, 1),
        }
        out.update(tool_info)
        return out

    def _change(self, obs: prober.Observation, from_node: str, mono0: float, wall0: float, by_mac: dict) -> dict:
        change = obs.change

        def wall(mono):
            return None if mono is None else round(wall0 + (mono - mono0), 3)

        detected_ms = None if change.detected_at is None else round((change.detected_at - obs.started) * 1000.0, 1)
        gap_ms = None
        if change.detected_at is not None and change.last_from_at is not None:
            gap_ms = round((change.detected_at - change.last_from_at) * 1000.0, 1)
        to_node = None
        if change.detected_at is not None:
            to_node = next((by_mac[reply[0]] for reply in obs.replies if reply[0] in by_mac), None)
        return {
            "from_node": from_node,
            "to_node": to_node,
            "detected_ms": detected_ms,
            "detected_at": wall(change.detected_at),
            "from_last_seen_at": wall(change.last_from_at),
            "gap_ms": gap_ms,
            "polls": change.polls,
        }

    # ------------------------------------------------------------ plumbing

    def _resolve(self, addresses: list[str], interface: str | None) -> dict:
        ip_path = self.find_binary("ip") if self.find_binary else netinfo.find_ip_binary()
        if not ip_path:
            raise LeaderVerifyError("the 'ip' command (iproute2) is needed to find the interface and source address")
        resolver = netinfo.Resolver(self.runner, ip_path)
        resolver.lookup(addresses)
        bindings = {}
        for address in addresses:
            try:
                bindings[address] = resolver.resolve(address, interface)
            except netinfo.ResolveError as exc:
                raise LeaderVerifyError(str(exc)) from None
        return bindings

    def _arping(self, wanted: str | None) -> tuple[str, str, str]:
        """(path, flavor, version) of the arping to use; ``wanted``: a flavor or None for either."""
        given = self.params.get("arping_path")
        path = installed.find_arping(given) if given else (self.find_binary("arping") if self.find_binary else installed.find_arping())
        if not path:
            where = f"arping_path: {given} is not an executable file" if given else "no arping found in PATH, /usr/sbin or /sbin"
            raise LeaderVerifyError(f"{where}; install iputils-arping (or Thomas Habets' arping) or set arping_path")
        try:
            flavor, version = installed.detect(path, self.runner)
        except ArpingError as exc:
            raise LeaderVerifyError(f"arping_path: {path}: {exc}") from None
        if wanted and flavor != wanted:
            raise LeaderVerifyError(
                f"prober: {wanted} was asked for, but {path} is {flavor} arping {version}; "
                f"set arping_path to {wanted} arping, or prober: {flavor}"
            )
        return path, flavor, version

    def _ndisc6(self) -> tuple[str, str]:
        """(path, version) of the ndisc6 that probes IPv6 VIPs for the tool probers."""
        given = self.params.get("ndisc6_path")
        path = installed.find_arping(given) if given else (
            self.find_binary("ndisc6") if self.find_binary else installed.find_arping(name="ndisc6"))
        if not path:
            where = f"ndisc6_path: {given} is not an executable file" if given else "no ndisc6 found in PATH, /usr/sbin or /sbin"
            raise LeaderVerifyError(f"{where}; the IPv6 VIPs need it: install ndisc6 or set ndisc6_path")
        try:
            version = installed.detect_ndisc6_version(path, self.runner)
        except ArpingError as exc:
            raise LeaderVerifyError(f"ndisc6_path: {path}: {exc}") from None
        return path, version

    def _tools(self, wanted: str | None, bindings: dict) -> tuple[str, str | None, str | None, dict]:
        """(flavor, path, ndisc6 path, result info) for a tool prober; ``wanted``: a flavor, ndisc6 or None."""
        families = {ipaddress.ip_address(address).version for address in bindings}
        info: dict = {}
        flavor = path = ndisc6 = None
        if 4 in families:
            path, flavor, version = self._arping(None if wanted == NDISC6 else wanted)
            info["arping"] = {"path": path, "flavor": flavor, "version": version}
        if 6 in families:
            ndisc6, version = self._ndisc6()
            info["ndisc6"] = {"path": ndisc6, "version": version}
        if flavor is None:
            flavor, path = NDISC6, ndisc6
        return flavor, path, ndisc6, info

    def _transport(self, choice: str, settings: prober.Settings, bindings: dict):
        if choice not in PROBERS:
            raise LeaderVerifyError(f"prober: must be one of {', '.join(PROBERS)} (got {choice!r})")
        if choice in ("auto", "raw"):
            transport = self._factory("raw")(settings, None)
            try:
                transport.open(list(bindings.values()))
                return transport, {}
            except prober.ProbeTransportError as exc:
                if choice == "raw":
                    raise LeaderVerifyError(f"prober: raw: {exc}") from None
                raw_error = str(exc)
            # auto: no raw socket (not root); an arping with file capabilities (or
            # ndisc6, set-uid root in Debian) may still work.
            try:
                flavor, path, ndisc6, info = self._tools(None, bindings)
            except LeaderVerifyError as exc:
                raise LeaderVerifyError(f"prober: auto: {raw_error}; and no tool to fall back to: {exc}") from None
            used = " and ".join(
                f"{tool['flavor'] + ' arping' if name == 'arping' else 'ndisc6'} {tool['path']}" for name, tool in info.items()
            )
            self.warnings.append(f"no raw socket ({raw_error}); probing with {used} instead")
        else:
            flavor, path, ndisc6, info = self._tools(choice, bindings)
        transport = self._factory(flavor)(settings, path, **({"ndisc6": ndisc6} if ndisc6 and ndisc6 != path else {}))
        try:
            transport.open(list(bindings.values()))
        except prober.ProbeTransportError as exc:
            raise LeaderVerifyError(f"prober: {choice}: {exc}") from None
        return transport, info

    def _factory(self, name: str):
        if name in self.transports:
            return self.transports[name]
        if name == "raw":
            return lambda settings, path: RawTransport(clock=self.clock)
        return lambda settings, path, ndisc6=None: installed.ToolTransport(name, path, settings, clock=self.clock, ndisc6_path=ndisc6)
