# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The announcer model: which nodes announce a Service, in one place.

``workload_policy`` (``policy/rules.py``) and ``lb_status`` / ``verify.yml``
(``status/services.py``) both ask it; neither decides on its own.

Input: the cluster's facts (``policy.cluster.Cluster``, built from plain API
object dicts by ``cluster_from_objects`` or from stated facts by
``ClusterInput``), the Service's pool, traffic policy, addresses and the nodes
holding an endpoint that can serve. Output: per mode an ``Announcement``: the
advertisements that take the pool, the nodes announcing (per BGP peer and per
address family with their next hops) and, for every other known node, one
reason code (``REASONS``) saying why it does not.

MetalLB's rules as its v0.16 speakers apply them (layer2_controller.go,
bgp_controller.go, internal/config):

* an advertisement takes a pool it names in ``ipAddressPools``, a pool whose
  labels match one of its ``ipAddressPoolSelectors``, or, with neither, every pool;
  and a Service whose labels match one of its ``serviceSelectors`` (none: every Service);
* it takes a node its ``nodeSelectors`` match (none: every node);
* a node whose ``NetworkUnavailable`` condition is True never announces;
* a node labelled ``node.kubernetes.io/exclude-from-external-load-balancers``
  never announces unless its speaker runs with ``--ignore-exclude-lb``;
* no endpoint that can serve (ready, or terminating and serving) anywhere:
  nobody announces; ``externalTrafficPolicy: Local``: only nodes holding one;
* layer 2: the candidates (above, among nodes with a speaker) are ordered by
  sha256(node + "#" + first address); the first is the leader;
* BGP: a node advertises over a peer's session when the BGPPeer's
  ``nodeSelectors`` take the node (none: every node) and an advertisement that
  takes the node lists that peer in ``peers`` (none: every peer).

Kept open for the FRR-based modes and several peers: the per-peer and
per-family results are computed here, so a mode that pairs sessions
differently changes ``_peer_pairs`` and nothing else.
"""

from __future__ import annotations

import dataclasses
import hashlib

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import EXCLUDE_LABEL, Advertisement, Cluster, Node

MODES = ("layer2", "bgp")
AD_KIND = {"layer2": "L2Advertisement", "bgp": "BGPAdvertisement"}

# Why a node does not announce, first failing check wins (in this order).
REASONS = {
    "not_selected": "no advertisement of the pool selects the node (nodeSelectors)",
    "no_peer": "no BGPPeer paired with an advertisement of the pool selects the node (BGPPeer nodeSelectors, BGPAdvertisement peers)",
    "no_speaker": "no MetalLB speaker runs on the node",
    "network_unavailable": "the node's NetworkUnavailable condition is True",
    "excluded_label": f"the node carries {EXCLUDE_LABEL} and its speaker runs without --ignore-exclude-lb",
    "no_endpoints": "the Service has no endpoint that can serve on any node",
    "no_local_endpoint": "externalTrafficPolicy Local and the node holds no endpoint that can serve",
}


def family(address) -> str:
    return f"ipv{address.version}"


def advertisements_for_pool(ads: list[Advertisement] | None, pool_name: str | None, pool_labels: dict | None,
                            service_labels: dict | None = None) -> list[Advertisement] | None:
    """The advertisements that take the pool (all of them when the pool is unknown) and the Service (its labels
    unknown: taken to match); ``None`` when the advertisements are unknown."""
    if ads is None:
        return None
    return [ad for ad in ads if (pool_name is None or ad.selects_pool(pool_name, pool_labels)) and ad.selects_service(service_labels)]


def excluded_from_lb(cluster: Cluster, node: Node) -> bool:
    """The exclusion label applies: the node carries it and neither the stated facts nor its speaker ignore it."""
    return node.excluded and not (cluster.ignore_exclude_lb or node.ignore_exclude_lb)


def l2_leader(candidates, first_address) -> str | None:
    """The node MetalLB's layer 2 election picks: the lowest sha256 of ``node#address`` (the Service's first address)."""
    if not candidates or first_address is None:
        return None
    return min(candidates, key=lambda node: hashlib.sha256(f"{node}#{first_address}".encode()).digest())


@dataclasses.dataclass
class Announcement:
    """Who announces one Service (or pool) in one mode."""

    mode: str
    advertisements: list[Advertisement]  # those that take the pool
    assumed: bool  # the advertisements are unknown: one taking every pool and node was assumed
    selected: set[str]  # taken by an advertisement (BGP: and a paired peer), before the node checks
    eligible: set[str]  # selected and able to announce: speaker, network available, not excluded
    announcing: set[str] | None  # eligible and allowed by the endpoints; None when the endpoints are unknown
    excluded: dict[str, str]  # every known node that does not announce -> reason code (REASONS)
    peers: dict[str, set[str]] | None  # BGP: peer name -> nodes advertising over its session; None when the peers are unknown
    leader: str | None = None  # layer 2: the node the election picks, when the endpoints and the addresses are known

    @property
    def nodes(self) -> set[str]:
        """The announcing nodes as far as they are known: after the endpoint rule, else before it."""
        return self.eligible if self.announcing is None else self.announcing

    def next_hops(self, cluster: Cluster, families: list[str] | None = None, nodes=None) -> dict[str, list[str]]:
        """Family -> the router's expected next hops: per node its first address of that family
        (no family given: its first address). ``nodes`` defaults to the announcing nodes."""
        addresses = {node.name: node.addresses for node in cluster.nodes or []}
        hops: dict[str, set] = {}
        for name in self.nodes if nodes is None else nodes:
            own = [address for address, dummy in addresses.get(name, [])]
            for fam in families or [None]:
                match = next((a for a in own if fam is None or family(a) == fam), None)
                if match is not None:
                    hops.setdefault(fam or family(match), set()).add(str(match))
        return {fam: sorted(found) for fam, found in sorted(hops.items())}

    def as_dict(self, cluster: Cluster, families: list[str] | None = None) -> dict:
        """Plain data: the announcing nodes per family and per peer, each excluded node with its reason."""
        return {
            "mode": self.mode,
            "advertisements": sorted(ad.name for ad in self.advertisements),
            "assumed": self.assumed,
            "selected": sorted(self.selected),
            "eligible": sorted(self.eligible),
            "announcing": None if self.announcing is None else sorted(self.announcing),
            "excluded": {node: {"reason": reason, "why": REASONS[reason]} for node, reason in sorted(self.excluded.items())},
            "families": self.next_hops(cluster, families),
            "peers": None if self.peers is None else {
                peer: {"nodes": sorted(nodes), "next_hops": self.next_hops(cluster, families, nodes)}
                for peer, nodes in sorted(self.peers.items())
            },
            "leader": self.leader,
        }


def _peer_pairs(cluster: Cluster, node: Node, ads: list[Advertisement]) -> set[str] | None:
    """BGP: the peers whose session on ``node`` carries the pool (``None``: peers unknown)."""
    if cluster.peers is None:
        return None
    paired = set()
    for ad in ads:
        if ad.selects_node(node):
            paired |= {peer.name for peer in cluster.peers if (not ad.peers or peer.name in ad.peers) and peer.selects_node(node)}
    return paired


def announce(
    cluster: Cluster,
    mode: str,
    pool_name: str | None,
    pool_labels: dict | None = None,
    *,
    local: bool = False,
    endpoint_nodes=None,
    addresses=(),
    service_labels: dict | None = None,
    honour_exclusion: bool = True,
) -> Announcement | None:
    """Who announces a Service of pool ``pool_name`` in ``mode``; ``None`` when the nodes are unknown.

    ``endpoint_nodes``: the nodes holding an endpoint that can serve (``None``: unknown, and then
    ``announcing`` stays ``None``); ``addresses``: the Service's addresses, first one first;
    ``service_labels``: for the advertisements' serviceSelectors (``None``: unknown, every one matches);
    ``honour_exclusion=False`` asks who would announce without the exclusion label."""
    if cluster.nodes is None:
        return None
    ads = advertisements_for_pool(cluster.advertisements(mode), pool_name, pool_labels, service_labels)
    assumed = ads is None
    if assumed:
        ads = [Advertisement(kind=mode, name="(assumed)", pools=[], pool_selectors=[], node_selectors=[])]
    selected, eligible, excluded = set(), set(), {}
    peers: dict[str, set[str]] | None = None if mode != "bgp" or cluster.peers is None else {peer.name: set() for peer in cluster.peers}
    node_peers: dict[str, set[str]] = {}
    for node in cluster.nodes:
        pairs = _peer_pairs(cluster, node, ads) if mode == "bgp" else None
        if not any(ad.selects_node(node) for ad in ads):
            reason = "not_selected"
        elif pairs is not None and not pairs:
            reason = "no_peer"
        else:
            selected.add(node.name)
            if not node.speaker:
                reason = "no_speaker"
            elif node.network_unavailable:
                reason = "network_unavailable"
            elif honour_exclusion and excluded_from_lb(cluster, node):
                reason = "excluded_label"
            else:
                eligible.add(node.name)
                node_peers[node.name] = pairs or set()
                continue
        excluded[node.name] = reason
    announcing = None
    if endpoint_nodes is not None:
        endpoint_nodes = set(endpoint_nodes)
        announcing = set()
        for name in eligible:
            if not endpoint_nodes:
                excluded[name] = "no_endpoints"
            elif local and name not in endpoint_nodes:
                excluded[name] = "no_local_endpoint"
            else:
                announcing.add(name)
    result = Announcement(
        mode=mode, advertisements=ads, assumed=assumed, selected=selected, eligible=eligible,
        announcing=announcing, excluded=excluded, peers=peers,
    )
    if peers is not None:
        for name in result.nodes:
            for peer in node_peers[name]:
                peers[peer].add(name)
    if mode == "layer2" and announcing is not None:
        result.leader = l2_leader(announcing, next(iter(addresses), None))
    return result


def announce_service(cluster: Cluster, pool_name: str | None, pool_labels: dict | None, *, local: bool,
                     endpoint_nodes=None, addresses=(), service_labels: dict | None = None) -> dict[str, Announcement]:
    """Mode -> ``Announcement`` for every mode whose (known) advertisements take the pool and the Service."""
    found = {}
    for mode in MODES:
        if not advertisements_for_pool(cluster.advertisements(mode), pool_name, pool_labels, service_labels):
            continue
        found[mode] = announce(cluster, mode, pool_name, pool_labels, local=local, endpoint_nodes=endpoint_nodes,
                               addresses=addresses, service_labels=service_labels)
    return found
