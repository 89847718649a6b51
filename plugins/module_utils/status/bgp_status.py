# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What MetalLB's speakers say they announce over BGP (ServiceBGPStatus, metallb.io/v1beta1, v0.15+), against the router's FIB.

Each speaker keeps one ServiceBGPStatus per Service it advertises (in MetalLB's namespace,
``generateName: bgp-``, labels ``metallb.io/node``, ``metallb.io/service-name`` and
``metallb.io/service-namespace``) with ``status.node``, ``status.serviceName``,
``status.serviceNamespace`` and ``status.peers``, the names of the BGPPeers it advertises the
Service to; it deletes the object when it advertises the Service to no peer (speaker/bgp_controller.go
``PeersForService``, internal/k8s/controllers/bgp_status_controller.go). The speakers write them in
every mode (native, frr, frr-k8s).

``attach`` puts each Service's ``{node: [peer names]}`` into its ``lb_status`` BGP section as
``announced_by`` (``None`` when the API has no such kind). ``route_differences`` compares it with
the router's next hops for one VIP (``bgp_verify``'s FIB result) and names each disagreement with
its likely cause; ``wire.route_check`` adds them to its own.
"""

from __future__ import annotations


def announced_by(statuses: list | None) -> dict | None:
    """``namespace/name`` -> {node: sorted peer names}, from the ServiceBGPStatus objects; None: not known."""
    if statuses is None:
        return None
    out: dict = {}
    for item in statuses:
        status = (item or {}).get("status") or {}
        labels = ((item or {}).get("metadata") or {}).get("labels") or {}
        name = status.get("serviceName") or labels.get("metallb.io/service-name")
        namespace = status.get("serviceNamespace") or labels.get("metallb.io/service-namespace")
        node = status.get("node") or labels.get("metallb.io/node")
        if not (name and namespace and node):
            continue
        peers = out.setdefault(f"{namespace}/{name}", {}).setdefault(node, [])
        peers.extend(p for p in status.get("peers") or [] if p not in peers)
        peers.sort()
    return out


def attach(services: list[dict], statuses: list | None) -> None:
    """Sets ``announced_by`` in the BGP section of each Service report (``lb_status``'s ``services``)."""
    known = announced_by(statuses)
    for service in services:
        section = service.get("bgp")
        if section is not None:
            section["announced_by"] = None if known is None else known.get(f"{service['namespace']}/{service['name']}", {})


def _same_family(address: str, other: str) -> bool:
    return (":" in address) == (":" in other)


def route_differences(address: str, hops: list[str], announced: dict | None, nodes) -> list[dict]:
    """The router's next hops for ``address`` against the speakers' ServiceBGPStatus (``announced``:
    {node: peers}); ``nodes``: ``wire.Nodes`` (node <-> address). Each difference: ``kind``,
    ``next_hop``, ``text`` (what differs and its likely cause). None/empty when not comparable."""
    if announced is None or not nodes.by_address:
        return []
    out = []
    for hop in hops:
        node = nodes.by_address.get(hop)
        if node and node not in announced:
            out.append({"kind": "not_announced", "next_hop": hop,
                        "text": f"the router routes {address} via {nodes.hop_label(hop)}, but that node's speaker reports "
                                "no announcement of it (no ServiceBGPStatus): a stale route (graceful restart keeps a restarting "
                                "speaker's routes for its restart time; a node that failed silently stays until the hold time "
                                "runs out, or BFD notices) or a BGP speaker other than MetalLB's"})
    for node, peers in sorted(announced.items()):
        own = [a for a in nodes.addresses.get(node, []) if _same_family(a, address)]
        if own and not any(a in hops for a in own):
            out.append({"kind": "announced_not_routed", "next_hop": own[0],
                        "text": f"{node}'s speaker reports announcing {address} to {', '.join(peers) or 'no peer'} "
                                f"(ServiceBGPStatus), but the router has no next hop via {nodes.hop_label(own[0])}: "
                                "the session with the router is down or not set up (the BGPPeer's nodeSelectors, the "
                                "BGPAdvertisement's peers, the router's neighbors), or the router's inbound prefix-list "
                                "refuses the prefix"})
    return out
