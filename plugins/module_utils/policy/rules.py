# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy rules: how a workload's traffic policy meets MetalLB's announcement.

Input: normalized workloads, the pools by name and what is known about the
cluster. Output: findings ``{rule, severity, workload, object, nodes, reason,
fix}``, each reason and fix one sentence. A rule that needs a fact nobody
gave is not guessed: it is reported once, per missing fact, as a
``context_missing`` info finding.
"""

from __future__ import annotations

import dataclasses
import ipaddress

from ansible_collections.baremetal.metallb.plugins.module_utils.announcers.model import (
    AD_KIND,
    Announcement,
    advertisements_for_pool,
    announce,
    excluded_from_lb,
)

from ..model.addresses import parse_address
from .cluster import EXCLUDE_LABEL, Cluster, Node
from ..model.selectors import describe_selectors, selector_matches
from .workloads import Pool

# Rule ids are part of the interface (fail_on takes them): never rename one.
RULES = (
    "l2_local_no_spread",
    "l2_local_fewer_replicas_than_nodes",
    "bgp_local_not_on_every_advertising_node",
    "ecmp_rehash_without_affinity",
    "cluster_hides_client_ip",
    "local_backends_outside_advertising_nodes",
    "pool_not_advertised",
    "zero_replicas",
    "no_announcing_node",
    "node_excluded_from_lb",
    "ipvs_without_strict_arp",
    "bgp_peer_needs_multihop",
    "mode_unknown",
    "context_missing",
    "pool_lacks_ip_family",
    "l2_ipv6_pool_outside_node_segment",
)
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}


def _names(nodes) -> str:
    return ", ".join(sorted(node.name if isinstance(node, Node) else node for node in nodes)) or "none"


@dataclasses.dataclass
class Finding:
    rule: str
    severity: str
    reason: str
    fix: str
    workload: str | None = None
    object: str | None = None
    nodes: list[str] = dataclasses.field(default_factory=list)

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


class PolicyEngine:
    def __init__(self, workloads: list[dict], pools: dict[str, Pool], cluster: Cluster, default_mode: str | None = None):
        self._workloads = workloads
        # Pools stated by the user win; otherwise those read from the cluster.
        self._pools = pools or cluster.pools or {}
        self._cluster = cluster
        self._default_mode = default_mode
        self._findings: list[Finding] = []
        self._object_findings: dict[tuple, Finding] = {}
        self._missing: dict[str, dict] = {}
        self.resolved: list[dict] = []
        # (workload, mode) -> who announces it (before the endpoint rule), as the rules saw it
        self.announcers: dict[tuple[str, str], Announcement | None] = {}

    # ------------------------------------------------------------ entry point
    def run(self) -> list[dict]:
        for workload in self._workloads:
            self._check_workload(workload)
        self._check_kube_proxy()
        self._check_peers()
        self._check_explicitly_selected_excluded_nodes()
        findings = self._findings + [self._object_findings[key] for key in sorted(self._object_findings)]
        findings += self._context_findings()
        return [finding.as_dict() for finding in findings]

    def _add(self, rule: str, severity: str, reason: str, fix: str, workload: str | None = None, nodes=()) -> None:
        self._findings.append(Finding(rule, severity, reason, fix, workload=workload, nodes=sorted(nodes)))

    def _add_object(self, key: tuple, finding: Finding) -> None:
        # One finding per object and rule; a stronger severity replaces a weaker one.
        current = self._object_findings.get(key)
        if current is None or SEVERITY_ORDER[finding.severity] < SEVERITY_ORDER[current.severity]:
            self._object_findings[key] = finding

    def _need(self, fact: str, rule: str, workload: str | None, assumed: str | None = None) -> None:
        entry = self._missing.setdefault(fact, {"rules": set(), "workloads": set(), "assumed": assumed})
        entry["rules"].add(rule)
        if workload:
            entry["workloads"].add(workload)

    # ------------------------------------------------------------ resolution
    def _pool_for(self, workload: dict) -> Pool | None:
        name = workload.get("address_pool")
        if name:
            return self._pools.get(name)
        for text in workload.get("load_balancer_ips") or []:
            address = parse_address(text)
            for pool in self._pools.values():
                if address is not None and pool.holds(address):
                    return pool
        return None

    def _modes_of_pool(self, name: str | None, labels: dict | None) -> list[str] | None:
        known = [kind for kind in ("layer2", "bgp") if self._cluster.advertisements(kind) is not None]
        if not known:
            return None
        modes = [kind for kind in known if advertisements_for_pool(self._cluster.advertisements(kind), name, labels)]
        return modes or None

    def _modes_of(self, pool: Pool) -> list[str] | None:
        return [pool.protocol] if pool.protocol else self._modes_of_pool(pool.name, pool.labels)

    def _modes(self, workload: dict, pool: Pool | None) -> list[str] | None:
        if workload.get("mode"):
            return [workload["mode"]]
        if pool is not None:
            modes = self._modes_of(pool)
            if modes:
                return modes
        elif workload.get("address_pool"):
            # A pool only known by name: its advertisements may tell.
            modes = self._modes_of_pool(workload["address_pool"], None)
            if modes:
                return modes
        if self._default_mode:
            return [self._default_mode]
        # Auto-assignment: MetalLB takes any auto-assign pool; settled only if they all agree.
        candidates = {tuple(self._modes_of(pool) or ("?",)) for pool in self._pools.values() if pool.auto_assign}
        if len(candidates) == 1 and ("?",) not in candidates:
            return list(candidates.pop())
        return None

    def _advertised_nowhere(self, pool_name: str | None, pool: Pool | None) -> bool:
        """Both kinds of advertisement known and none selects this (named) pool."""
        if not pool_name or any(self._cluster.advertisements(kind) is None for kind in ("layer2", "bgp")):
            return False
        labels = pool.labels if pool else None
        return not any(advertisements_for_pool(self._cluster.advertisements(kind), pool_name, labels) for kind in ("layer2", "bgp"))

    def _announcers(self, mode: str, pool_name: str | None, pool_labels: dict | None, ignore_exclusion: bool = False) -> Announcement | None:
        # Before the endpoint rule: the Local rules below compare the pods' nodes with these.
        return announce(self._cluster, mode, pool_name, pool_labels, honour_exclusion=not ignore_exclusion)

    def _pod_nodes(self, workload: dict) -> set[str] | None:
        """Nodes the scheduler may place the pods on: schedulable and matching nodeSelector and affinity."""
        if self._cluster.nodes is None:
            return None
        selector = {
            "matchLabels": {key: str(value) for key, value in (workload.get("node_selector") or {}).items()},
            "matchExpressions": [
                {"key": term["key"], "operator": term.get("operator") or "In", "values": term.get("values") or []}
                for term in workload.get("node_affinity") or []
            ],
        }
        return {node.name for node in self._cluster.nodes if node.schedulable and selector_matches(selector, node.labels)}

    def _observed(self, ref: str) -> set[str] | None:
        if self._cluster.endpoints is None or ref not in self._cluster.endpoints:
            return None
        return set(self._cluster.endpoints[ref])

    # ------------------------------------------------------------ per workload
    def _check_workload(self, workload: dict) -> None:
        ref = f"{workload.get('namespace')}/{workload.get('name')}"
        pool = self._pool_for(workload)
        pool_name = pool.name if pool else workload.get("address_pool")
        modes = self._modes(workload, pool)
        self.resolved.append({"workload": ref, "pool": pool_name, "modes": modes or []})
        local = workload.get("external_traffic_policy") == "Local"
        replicas = workload.get("replicas") or 0

        if replicas == 0:
            self._add(
                "zero_replicas", "warning",
                "MetalLB announces a VIP only while its Service has a ready endpoint, so with 0 replicas the address is assigned but nobody answers.",
                "Set replicas to at least 1, or remove the workload.",
                ref,
            )
        self._rule_cluster_hides_client_ip(workload, ref)
        self._rule_pool_families(workload, ref, pool)
        if modes is None and self._advertised_nowhere(pool_name, pool):
            self._add(
                "pool_not_advertised", "error",
                f"Neither an L2Advertisement nor a BGPAdvertisement selects pool {pool_name}, so MetalLB assigns {ref} an address but never announces it.",
                f"Create an L2Advertisement or a BGPAdvertisement that lists {pool_name} in ipAddressPools (or has no pool restriction).",
                ref,
            )
            return
        if modes is None:
            self._add(
                "mode_unknown", "info",
                f"The announcement mode of {ref} is unknown, so the layer2 and BGP rules were not evaluated for it.",
                "Set address_pool to one of the pools (with its protocol), mode on the workload, or the module's mode.",
                ref,
            )
            return
        for mode in modes:
            announcers = self._announcers(mode, pool_name, pool.labels if pool else None)
            self.announcers[(ref, mode)] = announcers
            if not self._rule_pool_not_advertised(mode, pool_name, ref):
                continue
            if announcers is not None and announcers.assumed:
                used = ["node_excluded_from_lb"]
                if local:
                    used += ["local_backends_outside_advertising_nodes"]
                    used += ["l2_local_fewer_replicas_than_nodes"] if mode == "layer2" else ["bgp_local_not_on_every_advertising_node"]
                for rule in used:
                    self._need(
                        f"{'l2' if mode == 'layer2' else 'bgp'}_advertisements", rule, ref,
                        assumed=f"every node with a speaker was taken to announce in {mode} mode",
                    )
            if not self._rule_nobody_announces(mode, pool_name, pool, announcers, ref):
                continue
            if mode == "layer2" and pool is not None:
                self._rule_l2_ipv6_segment(ref, pool, announcers)
            if mode == "layer2" and local:
                self._rule_l2_local(workload, ref, replicas, announcers)
            if mode == "bgp" and local:
                self._rule_bgp_local(workload, ref, replicas, announcers)
            if mode == "bgp":
                self._rule_ecmp(workload, ref)
            if local:
                self._rule_local_backends(workload, ref, mode, pool_name, announcers)

    def _rule_cluster_hides_client_ip(self, workload: dict, ref: str) -> None:
        uses = workload.get("client_ip_uses") or []
        if workload.get("external_traffic_policy") != "Cluster" or not uses:
            return
        text = ", ".join(use.replace("_", " ") for use in uses)
        self._add(
            "cluster_hides_client_ip", "error" if "access_control" in uses else "warning",
            f"With externalTrafficPolicy Cluster kube-proxy source-NATs external traffic, so the pods of {ref} see a node address "
            f"instead of the client's and its {text} act on the wrong address.",
            "Set external_traffic_policy: Local and keep the pods on the announcing nodes, or pass the client address in a PROXY protocol "
            "or X-Forwarded-For header.",
            ref,
        )

    def _rule_pool_families(self, workload: dict, ref: str, pool: Pool | None) -> None:
        """A Service of stated ip_families whose pool (named, or any auto-assign pool) lacks one of them:
        MetalLB takes every family of a Service from one pool."""
        wanted = {int(f[-1]) for f in workload.get("ip_families") or [] if f in ("IPv4", "IPv6")}
        if workload.get("ip_family_policy") == "RequireDualStack":
            wanted = {4, 6}  # the API server adds the other family
        if not wanted:
            return  # the cluster's primary family: not known here, not guessed
        if pool is not None:
            candidates, what = [pool], f"pool {pool.name}"
        elif workload.get("address_pool") or not self._pools:
            return  # a pool known by name only, or no pools given: nothing to compare with
        else:
            candidates, what = [p for p in self._pools.values() if p.auto_assign], "no auto-assign pool"
        if any(wanted <= {run.version for run in p.runs} for p in candidates):
            return
        have = sorted({run.version for p in candidates for run in p.runs})
        missing = sorted(wanted - set(have))
        asked = "RequireDualStack (IPv4 and IPv6)" if len(wanted) > 1 else f"IPv{min(wanted)} only"
        if pool is not None:
            held = " and ".join(f"IPv{v}" for v in have) or "no"
            reason = f"{ref} is {asked} but pool {pool.name} has {held} addresses only"
            fix = f"Add {' and '.join(f'IPv{v}' for v in missing)} addresses to pool {pool.name}"
        else:
            reason = f"{ref} is {asked} but {what} has every family it asks for"
            fix = "Give one auto-assign pool every family the Service asks for, or name such a pool in address_pool"
        self._add(
            "pool_lacks_ip_family", "error",
            f"{reason}, and MetalLB takes all of a Service's addresses from one pool, so {ref} gets no address and stays pending.",
            f"{fix}, or set ip_families to the families the pool has.",
            ref,
        )

    def _rule_l2_ipv6_segment(self, ref: str, pool: Pool, announcers: Announcement | None) -> None:
        """An IPv6 layer2 pool outside every IPv6 network of the announcing nodes: NDP for it goes nowhere."""
        runs6 = [run for run in pool.runs if run.version == 6]
        if not runs6:
            return
        nodes = [n for n in self._cluster.nodes or [] if announcers is None or n.name in (announcers.nodes or [])]
        networks = [net for n in nodes for dummy, net in n.addresses if net is not None and net.version == 6]
        if not networks:
            networks = [net for net in self._cluster.node_subnets or [] if net.version == 6]
        if not networks:
            self._need("node_subnets", "l2_ipv6_pool_outside_node_segment", ref)
            return
        outside = [run for run in runs6 if not any(run.first >= int(net.network_address) and run.last <= int(net.broadcast_address)
                                                   for net in networks)]
        if not outside:
            return
        texts = ", ".join(f"{ipaddress.IPv6Address(run.first)}-{ipaddress.IPv6Address(run.last)}" for run in outside)
        segments = ", ".join(sorted({str(net) for net in networks}))
        self._add_object(
            ("pool", pool.name, "l2_ipv6_pool_outside_node_segment"),
            Finding(
                "l2_ipv6_pool_outside_node_segment", "error",
                f"Layer2 pool {pool.name} has IPv6 addresses ({texts}) outside the nodes' IPv6 segments ({segments}), so the speaker "
                f"answers neighbor solicitations nobody sends for them and {ref} is unreachable over IPv6.",
                f"Take pool {pool.name}'s IPv6 addresses from the nodes' IPv6 segment, or announce them with BGP.",
                object=f"pool/{pool.name}",
            ),
        )

    def _rule_pool_not_advertised(self, mode: str, pool_name: str | None, ref: str) -> bool:
        """False when no advertisement of this mode exists for the pool (then the other rules are moot)."""
        ads = self._cluster.advertisements(mode)
        if ads is None:
            return True
        labels = self._pools[pool_name].labels if pool_name in self._pools else None
        if advertisements_for_pool(ads, pool_name, labels):
            return True
        what = f"pool {pool_name}" if pool_name else "any pool"
        self._add(
            "pool_not_advertised", "error",
            f"No {AD_KIND[mode]} selects {what}, so MetalLB assigns {ref} an address in {mode} mode but never announces it.",
            f"Create a {AD_KIND[mode]} that lists {pool_name or 'the pool'} in ipAddressPools (or has no pool restriction).",
            ref,
        )
        return False

    def _rule_nobody_announces(self, mode: str, pool_name: str | None, pool: Pool | None, announcers: Announcement | None, ref: str) -> bool:
        """False when no node announces the workload in this mode (then the placement rules are moot)."""
        if announcers is None:
            self._need("nodes", "node_excluded_from_lb", ref)
            self._need("nodes", "no_announcing_node", ref)
            return True
        if announcers.nodes:
            return True
        without_exclusion = self._announcers(mode, pool_name, pool.labels if pool else None, ignore_exclusion=True)
        if without_exclusion.nodes:
            self._excluded_nodes_finding(mode, without_exclusion, ref)
            return False
        kind = AD_KIND[mode]
        if mode == "bgp" and self._cluster.peers == []:
            why = "there is no BGPPeer, so no node has a session to announce over"
            fix = "Create a BGPPeer for the upstream router (see the bgp_router role for the router side)."
        elif not announcers.selected:
            selectors = " or ".join(describe_selectors(ad.node_selectors) for ad in announcers.advertisements) or "none"
            why = f"the node selectors of the {kind}s for its pool ({selectors}) match none of the nodes"
            if mode == "bgp" and self._cluster.peers is not None:
                why += " that also peer with one of its BGPPeers"
            fix = f"Fix the {kind}'s nodeSelectors (or the nodes' labels) so that they select the nodes meant to announce."
        else:
            why = f"none of the selected nodes ({_names(announcers.selected)}) runs a MetalLB speaker and reports its network available"
            fix = "Run the MetalLB speaker on the selected nodes (check the speaker DaemonSet's nodeSelector and tolerations) or select other nodes."
        self._add("no_announcing_node", "error", f"No node announces {ref} in {mode} mode: {why}.", fix, ref, announcers.selected)
        return False

    def _excluded_nodes_finding(self, mode: str, without_exclusion: Announcement, ref: str) -> None:
        by_name = {node.name: node for node in self._cluster.nodes}
        for name in sorted(without_exclusion.nodes):
            if excluded_from_lb(self._cluster, by_name[name]):
                self._add_object(
                    ("node", name, "node_excluded_from_lb"),
                    Finding(
                        "node_excluded_from_lb", "error",
                        f"Node {name} carries the label {EXCLUDE_LABEL} (kubeadm and Talos put it on control-plane nodes), and it is the only kind of node "
                        f"selected to announce in {mode} mode, so MetalLB silently announces {ref} from no node at all.",
                        f"Remove the label (kubectl label node {name} {EXCLUDE_LABEL}-), run the speaker with --ignore-exclude-lb "
                        "(Helm speaker.ignoreExcludeLB), or announce from nodes without it.",
                        object=f"node/{name}",
                        nodes=[name],
                    ),
                )

    def _check_explicitly_selected_excluded_nodes(self) -> None:
        """An advertisement that names a node by its labels means it should announce: say when it cannot."""
        if self._cluster.nodes is None:
            return
        for mode in ("layer2", "bgp"):
            for ad in self._cluster.advertisements(mode) or []:
                if not ad.node_selectors:
                    continue
                for node in self._cluster.nodes:
                    if excluded_from_lb(self._cluster, node) and node.speaker and ad.selects_node(node):
                        self._add_object(
                            ("node", node.name, "node_excluded_from_lb"),
                            Finding(
                                "node_excluded_from_lb", "warning",
                                f"{ad.label} selects node {node.name} ({describe_selectors(ad.node_selectors)}) but the node carries the label "
                                f"{EXCLUDE_LABEL}, so MetalLB silently never announces from it.",
                                f"Remove the label (kubectl label node {node.name} {EXCLUDE_LABEL}-) or run the speaker with --ignore-exclude-lb "
                                "(Helm speaker.ignoreExcludeLB).",
                                object=f"node/{node.name}",
                                nodes=[node.name],
                            ),
                        )

    def _rule_l2_local(self, workload: dict, ref: str, replicas: int, announcers: Announcement | None) -> None:
        if replicas >= 2 and not workload.get("topology_spread"):
            self._add(
                "l2_local_no_spread", "warning",
                f"In layer2 mode with Local only a node running a ready pod can announce the VIP, and without a spread constraint the {replicas} pods "
                f"of {ref} may share one node, whose failure then takes down both the pods and the announcement.",
                "Set topology_spread: true (maxSkew 1 on kubernetes.io/hostname) so that the pods, and with them the nodes able to announce, are spread.",
                ref,
            )
        if announcers is None:
            self._need("nodes", "l2_local_fewer_replicas_than_nodes", ref)
            return
        # Candidates: announcing nodes a pod can run on (the others are local_backends_outside_advertising_nodes' business).
        candidates = announcers.nodes & self._pod_nodes(workload)
        count = len(candidates)
        if 1 <= replicas < count:
            self._add(
                "l2_local_fewer_replicas_than_nodes", "warning",
                f"In layer2 mode with Local only nodes with a ready pod may take the VIP, so {replicas} replica(s) of {ref} for {count} candidate "
                f"nodes ({_names(candidates)}) leave some of them unable to take over, and each move of a pod can move the VIP.",
                f"Set replicas to at least {count} with topology_spread, or use external_traffic_policy: Cluster if the client address is not needed.",
                ref,
                candidates,
            )

    def _rule_bgp_local(self, workload: dict, ref: str, replicas: int, announcers: Announcement | None) -> None:
        spread = workload.get("topology_spread") and workload.get("when_unsatisfiable") == "DoNotSchedule"
        reason_head = f"In BGP mode with Local a node advertises the VIP of {ref} only while it runs a ready pod"
        fix = (
            "Run a pod on every advertising node: pin the pods to the advertisement's node label with node_selector, keep topology_spread "
            "with DoNotSchedule and set replicas to at least the number of advertising nodes."
        )
        if announcers is None:
            if not spread:
                self._add(
                    "bgp_local_not_on_every_advertising_node", "warning",
                    f"{reason_head}, and without a DoNotSchedule spread constraint nothing places a pod on each advertising node, so ECMP uses "
                    "fewer paths and the nodes that advertise carry uneven shares.",
                    fix, ref,
                )
            else:
                self._need("nodes", "bgp_local_not_on_every_advertising_node", ref)
            return
        observed = self._observed(ref)
        missing, why = set(), ""
        if observed is not None:
            missing = announcers.nodes - observed
            why = f"and advertising node(s) {_names(missing)} run none"
        else:
            pod_nodes = self._pod_nodes(workload)
            missing = announcers.nodes - pod_nodes
            if missing:
                why = f"and advertising node(s) {_names(missing)} cannot run one (node_selector, affinity or taints keep the pods off)"
            elif not spread:
                missing = set(announcers.nodes)
                why = "and without a DoNotSchedule spread constraint the scheduler may leave advertising nodes without a pod"
            elif replicas < len(pod_nodes):
                missing = set(announcers.nodes)
                why = f"and {replicas} replica(s) spread over the {len(pod_nodes)} node(s) the pods may run on cannot cover every advertising node"
        if missing:
            self._add(
                "bgp_local_not_on_every_advertising_node", "warning",
                f"{reason_head}, {why}, so ECMP uses fewer paths and the nodes that advertise carry uneven shares.",
                fix, ref, missing,
            )

    def _rule_ecmp(self, workload: dict, ref: str) -> None:
        if workload.get("session_affinity") == "ClientIP":
            return
        long_sessions = workload.get("long_sessions")
        if long_sessions is False:
            return
        if long_sessions:
            self._add(
                "ecmp_rehash_without_affinity", "warning",
                f"The router spreads the VIP of {ref} over the nodes with ECMP and rehashes flows whenever a node starts or stops advertising, "
                "so its long-lived sessions are moved to another node and reset.",
                "Enable resilient (consistent) ECMP hashing on the router where available, and set session_affinity: ClientIP so that a "
                "client's new connections return to the same pod.",
                ref,
            )
        else:
            self._add(
                "ecmp_rehash_without_affinity", "info",
                f"In BGP mode an ECMP rehash moves flows to other nodes and resets long-lived sessions, and {ref} does not say whether it holds any.",
                "Set long_sessions: true (and session_affinity: ClientIP) if clients hold long sessions, or long_sessions: false to record that they do not.",
                ref,
            )

    def _rule_local_backends(self, workload: dict, ref: str, mode: str, pool_name: str | None, announcers: Announcement | None) -> None:
        rule = "local_backends_outside_advertising_nodes"
        fix = (
            "Pin the pods to the advertising nodes with node_selector on the advertisement's node label, or widen the advertisement's "
            "nodeSelectors to the nodes the pods run on."
        )
        if announcers is None:
            self._static_local_backends(workload, ref, mode, pool_name, rule, fix)
            return
        observed = self._observed(ref)
        backends = observed if observed is not None else self._pod_nodes(workload)
        where = "run on" if observed is not None else "may run on"
        if not backends:
            self._add(
                rule, "error",
                f"No schedulable node matches the node_selector and node_affinity of {ref}, so it has no pod anywhere and with Local nobody announces the VIP.",
                "Fix node_selector or node_affinity so that they match the advertising nodes, or remove the taints that keep the pods off them.",
                ref,
            )
            return
        inside = backends & announcers.nodes
        outside = backends - announcers.nodes
        if not inside:
            self._add(
                rule, "error",
                f"With Local only a node that runs a ready pod of {ref} announces its VIP in {mode} mode, but the pods {where} "
                f"{_names(backends)} and the announcing nodes are {_names(announcers.nodes)}, so nobody announces the VIP.",
                fix, ref, backends,
            )
        elif outside:
            self._add(
                rule, "warning",
                f"With Local the pods of {ref} on {_names(outside)} receive no external traffic, because those nodes do not announce the VIP "
                f"in {mode} mode (announcing nodes: {_names(announcers.nodes)}).",
                fix, ref, outside,
            )

    def _static_local_backends(self, workload: dict, ref: str, mode: str, pool_name: str | None, rule: str, fix: str) -> None:
        """Without the node list: compare the pods' nodeSelector with the advertisements' selectors."""
        ads = self._cluster.advertisements(mode)
        if ads is None:
            self._need("nodes", rule, ref)
            return
        labels = self._pools.get(pool_name).labels if pool_name in self._pools else None
        matching = advertisements_for_pool(ads, pool_name, labels)
        if not matching or any(not ad.node_selectors for ad in matching):
            return  # some advertisement takes every node: pods anywhere are covered
        node_selector = {key: str(value) for key, value in (workload.get("node_selector") or {}).items()}
        pinned = any(
            not selector.get("matchExpressions") and (selector.get("matchLabels") or {})
            and all(node_selector.get(key) == str(value) for key, value in selector["matchLabels"].items())
            for ad in matching for selector in ad.node_selectors
        )
        if not pinned:
            wanted = " or ".join(describe_selectors(ad.node_selectors) for ad in matching)
            self._add(
                rule, "warning",
                f"Only nodes matching {wanted} announce {ref} in {mode} mode, and with Local pods elsewhere get no traffic, but its "
                "node_selector does not keep the pods on those nodes.",
                fix, ref,
            )

    # ------------------------------------------------------------ cluster objects
    def _uses_mode(self, mode: str) -> list[str]:
        return [entry["workload"] for entry in self.resolved if mode in entry["modes"]]

    def _check_kube_proxy(self) -> None:
        layer2 = self._uses_mode("layer2")
        if not layer2:
            return
        proxy = self._cluster.kube_proxy
        if proxy is None:
            for ref in layer2:
                self._need("kube_proxy", "ipvs_without_strict_arp", ref)
            return
        if proxy.mode == "ipvs" and not proxy.strict_arp:
            self._add_object(
                ("kube-proxy", "", "ipvs_without_strict_arp"),
                Finding(
                    "ipvs_without_strict_arp", "error",
                    "kube-proxy runs in IPVS mode without strictARP, so every node answers ARP for the VIPs it binds to kube-ipvs0 and clients "
                    f"of {', '.join(layer2)} reach random nodes instead of the MetalLB leader.",
                    "Set ipvs.strictARP: true in the kube-proxy configuration (ConfigMap kube-system/kube-proxy) and restart the kube-proxy pods.",
                    object="kube-proxy",
                ),
            )

    def _check_peers(self) -> None:
        peers = self._cluster.peers
        if not peers:
            return
        nodes = self._cluster.nodes
        subnets = self._cluster.node_subnets
        for peer in peers:
            if peer.address is None or peer.ebgp_multihop:
                continue  # interface (unnumbered) peers are on-link by definition
            if peer.my_asn is not None and peer.my_asn == peer.peer_asn:
                continue  # iBGP sessions are not limited to one hop
            if nodes is None:
                verdict = self._on_link(peer.address, [], subnets)
                if verdict is None:
                    self._need("node_subnets", "bgp_peer_needs_multihop", None)
                elif not verdict:
                    self._multihop_finding(peer, [])
                continue
            off_link, unknown = [], False
            for node in nodes:
                if not node.speaker or not peer.selects_node(node):
                    continue
                verdict = self._on_link(peer.address, node.addresses, subnets)
                if verdict is None:
                    unknown = True
                elif not verdict:
                    off_link.append(node.name)
            if off_link:
                self._multihop_finding(peer, off_link)
            elif unknown:
                self._need("node_subnets", "bgp_peer_needs_multihop", None)

    @staticmethod
    def _on_link(address, node_addresses: list, subnets: list | None) -> bool | None:
        """Whether ``address`` is on a subnet of the node: True, False, or None when unknown."""
        networks = [network for dummy, network in node_addresses if network is not None]
        if not networks and subnets is not None:
            bare = [addr for addr, network in node_addresses if network is None]
            # The node's own subnets among the stated ones, or all of them when its addresses are unknown.
            networks = [net for net in subnets if not bare or any(addr.version == net.version and addr in net for addr in bare)]
        if not networks:
            return None
        return any(address.version == net.version and address in net for net in networks)

    def _multihop_finding(self, peer, off_link: list[str]) -> None:
        where = f"node(s) {', '.join(off_link)}" if off_link else "the nodes (cluster.node_subnets)"
        self._add_object(
            ("bgppeer", peer.name, "bgp_peer_needs_multihop"),
            Finding(
                "bgp_peer_needs_multihop", "error",
                f"BGPPeer {peer.name} at {peer.address} is not on a subnet of {where}, and an eBGP session without ebgpMultiHop is single-hop "
                "(TTL 1), so it never establishes.",
                f"Set ebgpMultiHop: true on BGPPeer {peer.name} and 'neighbor <node> ebgp-multihop' with 'disable-connected-check' on the router, "
                "or peer with the router's address on the node subnet.",
                object=f"bgppeer/{peer.name}",
                nodes=off_link,
            ),
        )

    # ------------------------------------------------------------ what was not known
    def _context_findings(self) -> list[Finding]:
        give = {
            "nodes": "cluster.nodes (names, labels, speaker) or gather them from the cluster",
            "kube_proxy": "cluster.kube_proxy (mode and strict_arp) or gather the kube-proxy ConfigMap",
            "node_subnets": "cluster.node_subnets or node addresses with their prefix length (198.51.100.11/24)",
            "l2_advertisements": "cluster.l2_advertisements or gather them from the cluster",
            "bgp_advertisements": "cluster.bgp_advertisements or gather them from the cluster",
        }
        findings = []
        for fact in sorted(self._missing):
            entry = self._missing[fact]
            rules = ", ".join(sorted(entry["rules"]))
            scope = f" for {', '.join(sorted(entry['workloads']))}" if entry["workloads"] else ""
            if entry["assumed"]:
                reason = f"cluster.{fact} is not known, so {rules} ran on an assumption{scope}: {entry['assumed']}."
            else:
                reason = f"cluster.{fact} is not known, so {rules} could not be evaluated{scope}."
            findings.append(Finding("context_missing", "info", reason, f"Give {give[fact]}.", object=f"cluster.{fact}"))
        return findings
