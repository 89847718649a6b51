# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read BGP peer and route state out of FRR's JSON, and compare it with what is expected.

Inputs are the decoded outputs of (FRR 8.x):

* ``show bgp neighbors json``: ``{"<addr>": {"bgpState": "Established",
  "bgpTimerUpMsec": 12000, "connectionsEstablished": 1, ...}}``
  (peer-groups are not listed; unknown neighbors are simply absent).
* ``show ip route <prefix> json`` / ``show ipv6 route <prefix> json``:
  ``{"<prefix>": [{"protocol": "bgp", "selected": true, "installed": true,
  "nexthops": [{"ip": "...", "fib": true, "active": true}, ...]}]}``, or
  ``{}`` when there is no such route. A next hop is in the kernel FIB when
  zebra flags it ``fib``.
"""

from __future__ import annotations

import ipaddress
import typing as t


class InputError(ValueError):
    """A user-supplied address or prefix that cannot be used."""


def normalize_address(text: str, what: str) -> str:
    try:
        return str(ipaddress.ip_address(str(text).strip()))
    except ValueError:
        raise InputError(f"{what}: '{text}' is not an IP address") from None


def normalize_prefix(text: str, what: str) -> tuple[str, int]:
    """``'203.0.113.10'`` -> ``('203.0.113.10/32', 4)``; a host bit set in a prefix is an error."""
    raw = str(text).strip()
    try:
        network = ipaddress.ip_network(raw if "/" in raw else f"{raw}/{128 if ':' in raw else 32}")
    except ValueError as exc:
        raise InputError(f"{what}: '{text}' is not an IP address or prefix ({exc})") from None
    return str(network), network.version


def neighbor_info(address: str, neighbors: dict) -> dict | None:
    """The entry of ``address`` in ``show bgp neighbors json``, or None."""
    info = neighbors.get(address)
    if info is None:
        # FRR prints IPv6 keys in its own spelling; match on the parsed address.
        for key, value in neighbors.items():
            try:
                if ipaddress.ip_address(key) == ipaddress.ip_address(address):
                    return value
            except ValueError:
                continue
    return info


def peer_state(address: str, neighbors: dict) -> dict:
    """The state of one peer from ``show bgp neighbors json``."""
    info = neighbor_info(address, neighbors)
    if info is None:
        return {"configured": False, "state": "NotConfigured", "established": False}
    state = info.get("bgpState", "Unknown")
    established = state == "Established"
    result = {
        "configured": True,
        "state": state,
        "established": established,
        "remote_as": info.get("remoteAs"),
        "local_as": info.get("localAs"),
        "peer_group": info.get("peerGroup"),
        "connections_established": info.get("connectionsEstablished", 0),
        "connections_dropped": info.get("connectionsDropped", 0),
        "last_reset": info.get("lastResetDueTo"),
    }
    # bgpTimerUpMsec is the time since the last state change in any state; it is
    # only an uptime while Established.
    result["uptime_msec"] = info.get("bgpTimerUpMsec", 0) if established else 0
    result["established_epoch"] = info.get("bgpTimerUpEstablishedEpoch") if established else None
    return result


def link_local_aliases(bgp_route_json: dict) -> dict[str, str]:
    """Map each link-local next hop of ``show bgp ipv6 unicast <prefix> json`` to its global one.

    Over IPv6, zebra installs the link-local next hop a peer sent, while users
    know the node by its global address (or, failing that, its peer address).
    """
    aliases = {}
    for path in (bgp_route_json or {}).get("paths", []):
        hops = path.get("nexthops", [])
        globals_ = [h["ip"] for h in hops if h.get("ip") and h.get("scope", "global") == "global"]
        fallback = globals_[0] if globals_ else (path.get("peer") or {}).get("peerId")
        for hop in hops:
            if hop.get("ip") and hop.get("scope") == "link-local" and fallback:
                aliases[str(ipaddress.ip_address(hop["ip"]))] = str(ipaddress.ip_address(fallback))
    return aliases


def fib_nexthops(prefix: str, route_json: dict) -> tuple[dict | None, list[str]]:
    """The selected zebra entry for ``prefix`` and its next hops flagged as in the FIB."""
    entries = route_json.get(prefix)
    if entries is None:
        wanted = ipaddress.ip_network(prefix)
        for key, value in route_json.items():
            try:
                if ipaddress.ip_network(key) == wanted:
                    entries = value
                    break
            except ValueError:
                continue
    selected = [e for e in entries or [] if e.get("selected")]
    if not selected:
        return None, []
    hops = []
    for nh in selected[0].get("nexthops", []):
        if nh.get("fib") and nh.get("active", True) and nh.get("ip"):
            address = str(ipaddress.ip_address(nh["ip"]))
            if address not in hops:
                hops.append(address)
    return selected[0], hops


def route_state(prefix: str, route_json: dict, aliases: dict[str, str] | None = None) -> dict:
    """Selected route for ``prefix``; ``nexthops`` are the FIB next hops with link-locals translated."""
    entry, raw = fib_nexthops(prefix, route_json)
    if entry is None:
        return {"prefix": prefix, "present": False, "installed": False, "protocol": None, "nexthops": [], "fib_nexthops": []}
    aliases = aliases or {}
    return {
        "prefix": prefix,
        "present": True,
        "installed": bool(entry.get("installed")),
        "protocol": entry.get("protocol"),
        "nexthops": _sorted({aliases.get(a, a) for a in raw}),
        "fib_nexthops": _sorted(raw),
        "aliases": {a: aliases[a] for a in raw if a in aliases},
    }


def link_local_text(hop: str, link_local: str) -> str:
    """Why a route installed via a node's link-local address is a fault (said the same by bgp_verify and verify.yml)."""
    return (f"next hop {hop} is installed as its link-local address {link_local}: the router should install the "
            "node's global address, as it does for IPv4 (its inbound route-map needs 'set ipv6 next-hop prefer-global', "
            "which bgp_router sets)")


def compare(expected_peers: t.Iterable[str], peers: dict, expected_prefixes: dict, routes: dict,
            link_local: bool = True) -> list[str]:
    """One sentence per difference between what is expected and what FRR reports. ``link_local``: an IPv6 next hop
    installed as the node's link-local address counts as that node (else it is a difference of its own)."""
    problems = []
    for address in expected_peers:
        state = peers[address]
        if not state["configured"]:
            problems.append(f"peer {address} is not configured on the router")
        elif not state["established"]:
            problems.append(f"peer {address} is {state['state']}, not Established")
    for prefix, wanted in expected_prefixes.items():
        route = routes[prefix]
        want = set(wanted)
        if not want:
            if route["present"]:
                problems.append(
                    f"{prefix} should not be routed but is ({route['protocol']} via {', '.join(route['nexthops']) or 'no next hop'})"
                )
            continue
        if not route["present"]:
            problems.append(f"{prefix} is not in the routing table (expected next hops {', '.join(_sorted(want))})")
            continue
        if not route["installed"]:
            problems.append(f"{prefix} is selected ({route['protocol']}) but not installed in the FIB")
            continue
        # A FIB next hop counts as the expected address when it is that address or
        # the link-local address of the peer that has it.
        aliases = route.get("aliases", {})
        raw = route.get("fib_nexthops", route["nexthops"])
        matched = {a for a in raw if a in want} | {aliases[a] for a in raw if aliases.get(a) in want}
        for missing in _sorted(want - matched):
            problems.append(f"{prefix}: missing next hop {missing}")
        for extra in _sorted(a for a in raw if a not in want and aliases.get(a) not in want):
            label = f"{aliases[extra]} ({extra})" if extra in aliases else extra
            problems.append(f"{prefix}: extra next hop {label}")
        if not link_local:
            problems += [f"{prefix}: {link_local_text(aliases.get(a, a), a)}"
                         for a in raw if ipaddress.ip_address(a).is_link_local and (a in want or aliases.get(a) in want)]
    return problems


def _sorted(addresses: t.Iterable[str]) -> list[str]:
    return sorted(addresses, key=ipaddress.ip_address)
