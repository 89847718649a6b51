# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the wire showed for one VIP, against what MetalLB's view expects, in words.

``arp_check`` reads one address of ``leader_verify``'s ``addresses`` result (ARP for an IPv4
VIP, NDP for an IPv6 one: ``family`` and ``announcement`` name them), ``route_check``
one prefix of ``bgp_verify``'s ``prefixes`` result (with its ``peers``). Each returns a plain
dict: ``status`` (ok, FAIL, not checked), the module's own verdict, who answered or which
next hops the router has (node names and MACs or addresses), who was expected, and what the
difference most likely means. ``Nodes`` names MACs and addresses. No Ansible imports.
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.arping.parsers import normalize_mac
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.state import link_local_text
from ansible_collections.baremetal.metallb.plugins.module_utils.status.bgp_status import route_differences

OK, FAIL, SKIPPED = "ok", "FAIL", "not checked"


class Nodes:
    """Node name <-> MACs on the segment and node name <-> addresses (the router's next hops)."""

    def __init__(self, macs: dict | None = None, addresses: dict | None = None):
        self.macs: dict[str, list[str]] = {}
        self.by_mac: dict[str, str] = {}
        for node, value in (macs or {}).items():
            for mac in value if isinstance(value, (list, tuple)) else [value]:
                if mac:
                    mac = _mac(mac)
                    self.macs.setdefault(str(node), []).append(mac)
                    self.by_mac.setdefault(mac, str(node))
        self.addresses: dict[str, list[str]] = {}
        self.by_address: dict[str, str] = {}
        for node, value in (addresses or {}).items():
            for address in value if isinstance(value, (list, tuple)) else [value]:
                if address:
                    self.addresses.setdefault(str(node), []).append(str(address))
                    self.by_address.setdefault(str(address), str(node))

    @property
    def names(self) -> list[str]:
        return sorted(set(self.macs) | set(self.addresses))

    def node_label(self, node: str | None) -> str:
        """``node2 (02:00:c6:33:64:0c)``: a node with its MAC(s) when known."""
        if not node:
            return "nobody"
        macs = self.macs.get(node)
        return f"{node} ({', '.join(macs)})" if macs else node

    def responder_label(self, responder: dict) -> str:
        node = responder.get("node") or self.by_mac.get(_mac(responder.get("mac") or ""))
        if node:
            return f"{node} ({responder['mac']})" if responder.get("mac") else node
        return f"{responder.get('mac')} (a MAC of no known node)"

    def hop_label(self, address: str) -> str:
        """``198.51.100.13 (node3)``, or ``... (no known node)``."""
        node = self.by_address.get(address)
        if node or not self.by_address:
            return f"{address} ({node})" if node else address
        return f"{address} (no known node)"


def family(address: str) -> str:
    """``IPv4`` or ``IPv6``: the family of a VIP (the report keeps them apart for dual-stack Services)."""
    return "IPv6" if ":" in str(address) else "IPv4"


def hops_of_family(address: str, hops) -> list[str]:
    """The next hops of ``address``'s family: a dual-stack Service's IPv4 VIP is routed via the nodes' IPv4
    addresses, its IPv6 VIP via their IPv6 ones (one BGP session per family)."""
    return sorted(hop for hop in hops or [] if family(hop) == family(address))


def announcement(address: str) -> str:
    """How a layer 2 VIP is announced and probed: ARP for IPv4, NDP (neighbor solicitation/advertisement) for IPv6."""
    return "NDP" if ":" in str(address) else "ARP"


def _mac(value: str) -> str:
    try:
        return normalize_mac(value)
    except ValueError:
        return str(value).lower()


def _and(items: list[str]) -> str:
    """``a``, ``a and b``, ``a, b and c``."""
    if len(items) < 2:
        return items[0] if items else "nobody"
    return ", ".join(items[:-1]) + " and " + items[-1]


# ---------------------------------------------------------------- layer 2: who answers ARP

def responders_of(seen: dict, nodes: Nodes) -> list[dict]:
    """leader_verify's ``responders`` with their nodes (from ``nodes`` when the module had none);
    a result without ``responders`` (an older caller) counts its ``leader`` as the one responder."""
    responders = []
    for entry in seen.get("responders") or []:
        mac = _mac(entry.get("mac") or "")
        responders.append({"node": entry.get("node") or nodes.by_mac.get(mac), "mac": mac or None,
                           "replies": entry.get("replies")})
    if not responders and seen.get("leader"):
        responders.append({"node": seen["leader"], "mac": seen.get("mac"), "replies": None})
    return responders


def _duplicate_meaning(known: list[str], strangers: list[str], expected: str | None, service: dict, nodes: Nodes) -> str:
    candidates = set(service["layer2"].get("candidate_nodes") or [])
    several = any(f["rule"] == "l2_several_leaders" for f in service.get("findings") or [])
    reasons = []
    if strangers:
        reasons.append(f"{_and(strangers)} belong{'s' if len(strangers) == 1 else ''} to no known node: another host on the "
                       "segment holds the address (a rogue responder: a static address, a VM, a DHCP lease inside the pool), "
                       "or a node's MAC is missing from lb_verify_node_macs / node_mac")
    everyone = nodes.names
    if len(everyone) >= 3 and set(known) >= set(everyone):
        reasons.append("every node answers: kube-proxy in IPVS mode without strictARP (each node holds every VIP on "
                       "kube-ipvs0 and answers ARP for it): set strictARP: true in kube-proxy's configuration")
    else:
        outsiders = [node for node in known if node not in candidates]
        rivals = [node for node in known if node in candidates and node != expected]
        if outsiders:
            reasons.append(f"{_and(outsiders)} may not announce this VIP (no candidate), so that answer is not MetalLB's: "
                           f"the address is configured on {_and(outsiders)} outside MetalLB (a rogue responder: an address "
                           "added by hand, keepalived, kube-vip), or kube-proxy in IPVS mode without strictARP")
        if rivals and expected in known and not several:
            reasons.append(f"MetalLB records {expected} as the only leader, yet {_and(rivals)} answer{'s' if len(rivals) == 1 else ''} "
                           f"too: the address is configured on {_and(rivals)} outside MetalLB (a rogue responder: an address "
                           f"added by hand, keepalived, kube-vip), or {_and(rivals)} lead{'s' if len(rivals) == 1 else ''} too "
                           "(a memberlist split brain: the speakers cannot reach each other on port 7946 TCP and UDP), or "
                           "kube-proxy in IPVS mode without strictARP")
        elif len(rivals) + (expected in known) > 1:
            leaders = [node for node in known if node in candidates]
            reasons.append(f"{_and(leaders)} each act as the leader"
                           + (" (MetalLB records several leaders)" if several else "")
                           + ": a memberlist split brain (their speakers cannot reach each other on port 7946 TCP and UDP)"
                           + ("" if several else ", an address configured on one of them outside MetalLB (a rogue "
                              "responder), or kube-proxy in IPVS mode without strictARP"))
    if expected and expected not in known:
        reasons.append(f"MetalLB's leader {expected} is not among them")
    return "; ".join(reasons) or "more than one MAC answers for the address"


def _other_node_meaning(node: str, expected: str | None, service: dict) -> str:
    layer2 = service["layer2"]
    if not expected:
        return (f"MetalLB records no leader for the Service (no ServiceL2Status), yet {node} answers: the status is not "
                "written yet (verify again) or this MetalLB is older than 0.14.4, or the answer is not MetalLB's")
    if node in (layer2.get("candidate_nodes") or []):
        return (f"a stale leader: {node} still answers after MetalLB elected {expected} (the VIP is moving: verify again in "
                f"a few seconds; if it stays, {node}'s speaker does not see the election: a memberlist partition, port 7946 "
                "TCP and UDP)")
    return (f"{node} is no candidate for this VIP (any more), and {expected} stays silent: {node}'s speaker has not stopped "
            f"announcing yet (a stale leader: verify again), or something other than MetalLB answers for the address on "
            f"{node} (a rogue responder: an address added by hand, keepalived, kube-vip)")


def arp_check(address: str, seen: dict | None, service: dict, nodes: Nodes) -> dict:
    """One VIP's ARP verdict: ``leader_verify``'s view of ``address`` against MetalLB's leader
    (``service``: an lb_status report with a ``layer2`` section)."""
    expected = service["layer2"].get("leader")
    proto = announcement(address)
    check = {"address": address, "family": family(address), "protocol": proto, "status": SKIPPED, "verdict": None, "detail": None, "node": None, "mac": None,
             "responders": [], "expected": expected, "expected_macs": nodes.macs.get(expected or "", []),
             "meaning": None}
    if seen is None:
        check["text"] = f"{proto} for {address}: not checked (no {proto} result)"
        return check
    verdict = seen.get("status")
    responders = responders_of(seen, nodes)
    node = seen.get("leader")
    check.update(verdict=verdict, detail=verdict, node=node, mac=seen.get("mac"), responders=responders)
    agrees = verdict == "ok" and node is not None and node == expected
    who = _and([nodes.responder_label(r) for r in responders])
    answered = f"answered by {who}"
    want = f"expected {nodes.node_label(expected)}, MetalLB's leader" if expected else "MetalLB records no leader"
    if agrees:
        check.update(status=OK, text=f"{proto} for {address}: {answered}, MetalLB's leader (ok)")
        return check
    known = list(dict.fromkeys(r["node"] for r in responders if r["node"]))
    strangers = [r["mac"] or "?" for r in responders if not r["node"]]
    if verdict == "no_reply":
        probes = seen.get("probes")
        answered = f"nobody answered{f' {probes} probe(s)' if probes else ''}"
        meaning = (f"{expected}'s speaker does not announce the VIP (the speaker is down or restarting) or {expected} is "
                   "cut off the segment (link down); MetalLB moves the VIP only once memberlist sees the node gone"
                   if expected else "no speaker announces the VIP: no node may announce it, or every speaker is down")
    elif verdict == "duplicate":
        answered = f"answered by {len(responders)} responders: {who}"
        want = f"expected {nodes.node_label(expected)} alone, MetalLB's leader" if expected else want
        meaning = _duplicate_meaning(known, strangers, expected, service, nodes)
    elif verdict == "unknown_mac":
        meaning = _duplicate_meaning([], strangers, expected, service, nodes)
    elif verdict in ("unexpected_leader", "ok") and node:
        meaning = _other_node_meaning(node, expected, service)
    else:
        meaning = f"leader_verify's verdict is {verdict!r}"
    check.update(status=FAIL, meaning=meaning,
                 text=f"{proto} for {address} ({verdict}): {answered}; {want}. Likely: {meaning}")
    return check


# ---------------------------------------------------------------- BGP: the router's next hops

def _peer_reason(address: str, peers: dict | None, nodes: Nodes) -> tuple[str | None, bool | None]:
    """(why the session explains a missing route, whether it is Established; None: not checked)."""
    state = (peers or {}).get(address)
    if state is None:
        return None, None
    who = nodes.hop_label(address)
    if not state.get("configured", True):
        return (f"the router has no BGP neighbor {who}: add the node to the router's neighbors (bgp_router)", False)
    if not state.get("established"):
        return (f"the router's BGP session with {who} is {state.get('state') or 'down'}, not Established: its speaker is "
                "down, no BGPPeer selects the node, or the ASNs, password or addresses differ", False)
    return None, True


def route_check(address: str, seen: dict | None, bgp: dict, peers: dict | None, nodes: Nodes) -> dict:
    """One VIP's route on the router (``bgp_verify``'s prefix result) against MetalLB's next hops."""
    expected = hops_of_family(address, bgp.get("next_hops"))
    check = {"address": address, "status": SKIPPED, "next_hops": None, "expected": expected, "missing": [],
             "extra": [], "differences": [], "peers": {}, "meaning": None}
    if seen is None:
        check["text"] = f"BGP route for {address}: not checked"
        return check
    hops = sorted(seen.get("nexthops") or [])
    present = seen.get("present", bool(hops))
    missing = [hop for hop in expected if hop not in hops]
    extra = [hop for hop in hops if hop not in expected]
    check.update(next_hops=hops, missing=missing, extra=extra,
                 peers={hop: (peers or {})[hop] for hop in expected if hop in (peers or {})})
    differences = []

    def differ(kind: str, text: str, hop: str | None = None):
        differences.append({"kind": kind, "next_hop": hop, "text": text})

    if present and not expected:
        differ("routed_unexpectedly", "no node should announce the VIP, yet the router routes it")
    elif expected and not present:
        differ("not_routed", "the router has no route for it")
    if present and not seen.get("installed", True):
        differ("not_installed", f"FRR selected the {seen.get('protocol') or ''} route but it is not in the kernel FIB: "
                                "zebra could not install it (see zebra's log)")
    foreign = seen.get("protocol") if present and seen.get("protocol") not in (None, "bgp") else None
    if foreign:
        differ("not_bgp", f"the router's route is {foreign}, not BGP: a route from outside MetalLB takes precedence over "
                          "the nodes' announcements")
    for hop in missing:
        reason, established = _peer_reason(hop, peers, nodes)
        if established and foreign:
            reason = f"its session is Established, but the {foreign} route wins over what it advertises"
        elif established:
            reason = ("its session is Established, yet no route via it is installed: its speaker does not advertise the "
                      "VIP (yet), or the router's inbound prefix-list refuses the prefix (is it in the pools bgp_router "
                      "was given?)")
        differ("peer_down" if established is False else "missing_next_hop",
               f"missing next hop {nodes.hop_label(hop)}: "
               + (reason or "its speaker does not advertise the VIP, or the router refuses it (session not checked)"), hop)
    for hop in expected:
        reason, established = _peer_reason(hop, peers, nodes)
        if established is False and hop not in missing:
            differ("peer_down", f"{reason}; the route via it is still installed until the hold time runs out", hop)
    for link_local, hop in sorted((seen.get("aliases") or {}).items()):
        if hop in expected:
            differ("link_local_next_hop", link_local_text(nodes.hop_label(hop), link_local), hop)
    for hop in extra:
        node = nodes.by_address.get(hop)
        if foreign:
            why = f"the {foreign} route sends the VIP's traffic there"
        elif node:
            why = (f"{node} advertises the VIP although MetalLB's view says it should not (a stale announcement: under "
                   "Local its pod just left, or its speaker lags: verify again), or a route from outside MetalLB")
        elif nodes.by_address:
            why = "a BGP speaker other than MetalLB's announces the VIP (a hijack, or a leftover announcement)"
        else:
            why = ("a node's stale announcement, or a BGP speaker other than MetalLB's (no node addresses known to tell: "
                   "lb_verify_node_addresses)")
        differ("extra_next_hop", f"extra next hop {nodes.hop_label(hop)}: {why}", hop)
    # what the speakers say they announce (ServiceBGPStatus, in lb_status's section) against the FIB
    differences += route_differences(address, hops, bgp.get("announced_by"), nodes)
    have = ", ".join(nodes.hop_label(hop) for hop in hops) or ("no next hop in the FIB" if present else "no route")
    want = ", ".join(nodes.hop_label(hop) for hop in expected) or "no route"
    if not differences:
        check.update(status=OK, text=f"BGP route for {address}: via {have} (ok)")
        return check
    kinds = ", ".join(dict.fromkeys(d["kind"] for d in differences))
    meaning = "; ".join(d["text"] for d in differences)
    check.update(status=FAIL, differences=differences, meaning=meaning,
                 text=f"BGP route for {address} ({kinds}): the router has {have}; expected {want}. Likely: {meaning}")
    return check
