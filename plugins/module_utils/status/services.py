# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What should announce each LoadBalancer Service, from the objects the API server holds.

Plain data in (API objects as dicts, the shape ``kubernetes.core.k8s_info`` returns),
plain data out: one report per Service that ``verify.yml`` checks against the wire
(``leader_verify`` from a client, ``bgp_verify`` on the router) and renders for people.

Which nodes announce (advertisement and peer selection, node conditions and labels,
endpoints) is MetalLB's rule set in ``announcers.model``, the one ``workload_policy``
uses too; this module turns its answer into the report and compares it with what
MetalLB recorded (ServiceL2Status, the speakers' Events).
"""

from __future__ import annotations

import re

from ansible_collections.baremetal.metallb.plugins.module_utils.announcers.model import MODES, announce_service, family
from ansible_collections.baremetal.metallb.plugins.module_utils.model.addresses import parse_address
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import (
    Cluster,
    cluster_from_objects,
    dig,
    serving_endpoints,
)

POOL_ANNOTATION = "metallb.io/address-pool"
# the speaker's Event (reason nodeAssigned) each time it starts announcing a Service
ANNOUNCING = re.compile(r'announcing from node "(?P<node>[^"]+)" with protocol "(?P<protocol>[^"]+)"')


def announcement_history(events: list[dict]) -> dict[str, dict[str, list[dict]]]:
    """``namespace/name`` -> protocol -> ``[{node, last_seen, count}]``, oldest first, from the
    speakers' nodeAssigned Events (kept by the API server for its event TTL, 1 h by default).
    Event timestamps have a resolution of one second: two changes within it keep the API's order."""
    history: dict[str, dict[str, dict[str, dict]]] = {}
    for event in events:
        match = ANNOUNCING.search(event.get("message") or "")
        if not match:
            continue
        obj = event.get("involvedObject") or {}
        key = f"{obj.get('namespace', 'default')}/{obj.get('name')}"
        seen = (event.get("lastTimestamp") or dig(event, "series", "lastObservedTime") or event.get("eventTime")
                or dig(event, "metadata", "creationTimestamp") or "")
        per_node = history.setdefault(key, {}).setdefault(match["protocol"], {})
        entry = per_node.setdefault(match["node"], {"node": match["node"], "last_seen": "", "count": 0})
        entry["count"] += int(event.get("count") or dig(event, "series", "count", default=1) or 1)
        entry["last_seen"] = max(entry["last_seen"], str(seen))
    return {key: {proto: sorted(nodes.values(), key=lambda e: e["last_seen"]) for proto, nodes in protos.items()}
            for key, protos in history.items()}


def last_change(history: list[dict], current: list[str], mode: str) -> dict | None:
    """What the Events say happened last to the announcement of a Service in one mode, given
    the nodes announcing now: ``stopped`` (nobody announces), ``moved`` (layer 2: the leader is
    another node) or ``withdrawn`` (BGP: some nodes no longer advertise); ``from`` is the node
    that started announcing last among those that no longer do, ``previously`` all of them,
    newest first; ``None`` when no Event names another node.

    The Events record when a node started announcing, not when it stopped: after a partition
    (both sides announce) or a flap, ``from`` may name the node that announced briefly rather
    than the one that announced longest, so ``previously`` keeps them all."""
    gone = [entry for entry in history if entry["node"] not in current]
    if not gone:
        return None
    previous = gone[-1]
    change = {"from": previous["node"], "previously": [entry["node"] for entry in reversed(gone)], "to": list(current)}
    if not current:
        return dict(change, event="stopped", at=previous["last_seen"])
    newer = [entry["last_seen"] for entry in history if entry["node"] in current and entry["last_seen"] >= previous["last_seen"]]
    return dict(change, event="moved" if mode == "layer2" else "withdrawn", at=newer[-1] if newer else None)


def _finding(rule: str, severity: str, message: str, fix: str) -> dict:
    return {"rule": rule, "severity": severity, "message": message, "fix": fix}


class ServiceReport:
    """Builds the per-Service reports; ``objects`` as for ``policy.cluster.cluster_from_objects``
    plus ``services`` (LoadBalancer Services), ``l2_statuses`` (ServiceL2Status) and ``pods``."""

    def __init__(self, objects: dict):
        self._objects = objects
        self._cluster: Cluster = cluster_from_objects(objects)
        if self._cluster.nodes is None:
            self._cluster.nodes = []  # no Node read: nobody is known to announce
        self._endpoints = serving_endpoints(objects.get("endpoint_slices") or [])
        self._endpoints_known = objects.get("endpoint_slices") is not None
        self._leaders = self._l2_leaders(objects.get("l2_statuses") or [])
        self._history = announcement_history(objects.get("announcement_events") or [])

    @staticmethod
    def _l2_leaders(statuses: list[dict]) -> dict[str, list[str]]:
        leaders: dict[str, set] = {}
        for status in statuses:
            labels = dig(status, "metadata", "labels", default={})
            key = f"{labels.get('metallb.io/service-namespace')}/{labels.get('metallb.io/service-name')}"
            node = dig(status, "status", "node")
            if node:
                leaders.setdefault(key, set()).add(node)
        return {key: sorted(nodes) for key, nodes in leaders.items()}

    def run(self) -> list[dict]:
        services = [s for s in self._objects.get("services") or [] if dig(s, "spec", "type") == "LoadBalancer"]
        reports = [self._one(service) for service in services]
        return sorted(reports, key=lambda r: (r["namespace"], r["name"]))

    # ------------------------------------------------------------ one Service
    def _pool_of(self, address) -> str | None:
        for pool in (self._cluster.pools or {}).values():
            if pool.holds(address):
                return pool.name
        return None

    def _one(self, service: dict) -> dict:
        name, namespace = dig(service, "metadata", "name"), dig(service, "metadata", "namespace", default="default")
        key = f"{namespace}/{name}"
        ips = [entry.get("ip") for entry in dig(service, "status", "loadBalancer", "ingress", default=[]) if entry.get("ip")]
        expected_pool = dig(service, "metadata", "annotations", POOL_ANNOTATION)
        policy = dig(service, "spec", "externalTrafficPolicy", default="Cluster")
        endpoints = self._endpoints.get(key, {})
        pools = {ip: self._pool_of(parse_address(ip)) for ip in ips}
        findings = []
        report: dict = {
            "name": name, "namespace": namespace, "ingress_ips": ips, "expected_pool": expected_pool,
            "pools": pools, "external_traffic_policy": policy,
            "session_affinity": dig(service, "spec", "sessionAffinity", default="None"),
            "ports": [{"name": port.get("name"), "port": port.get("port"), "protocol": port.get("protocol", "TCP")}
                      for port in dig(service, "spec", "ports", default=[])],
            "endpoint_nodes": dict(sorted(endpoints.items())), "modes": [], "layer2": None, "bgp": None,
        }
        if not ips:
            findings.append(_finding("no_address", "error", f"Service {key} has no load-balancer address",
                                     "check the MetalLB controller's events on the Service: the pool may be full or not match"))
        if expected_pool and self._cluster.pools is not None:
            stray = [ip for ip, pool in pools.items() if pool != expected_pool]
            if stray:
                findings.append(_finding("unexpected_pool", "error",
                                         f"{', '.join(stray)} not from pool {expected_pool} (from {', '.join(str(pools[ip]) for ip in stray)})",
                                         f"release the address or fix the {POOL_ANNOTATION} annotation"))
        report["address_from_expected_pool"] = None if not ips or not expected_pool or self._cluster.pools is None else not any(
            pools[ip] != expected_pool for ip in ips)
        pool_name = expected_pool or next((pool for pool in pools.values() if pool), None)

        pool = (self._cluster.pools or {}).get(pool_name) if pool_name else None
        addresses = [address for address in (parse_address(ip) for ip in ips) if address is not None]
        announced = announce_service(
            self._cluster, pool_name, pool.labels if pool else None, local=policy == "Local",
            endpoint_nodes=set(endpoints) if self._endpoints_known else None, addresses=addresses,
            service_labels=dig(service, "metadata", "labels", default={}),
        )
        for mode, announcement in announced.items():
            report["modes"].append(mode)
            nodes, candidates = sorted(announcement.eligible), sorted(announcement.nodes)
            section = {"advertisements": sorted(ad.name for ad in announcement.advertisements),
                       "advertising_nodes": nodes, "candidate_nodes": candidates,
                       # every other node with the reason code of announcers.model.REASONS
                       "not_announcing": dict(sorted(announcement.excluded.items()))}
            if not candidates and ips:
                findings.append(_finding(
                    f"{mode}_no_announcing_node", "error",
                    f"no node announces {key} in {mode} mode (advertising nodes: {', '.join(nodes) or 'none'}; "
                    f"nodes with a ready endpoint: {', '.join(sorted(endpoints)) or 'none'})",
                    "run a pod on an advertising node (Local), or widen the advertisement's nodeSelectors"))
            history = self._history.get(key, {}).get(mode, [])
            section["announced_by_history"] = history
            if policy == "Local":
                # MetalLB's own behaviour, not a fault: these nodes do not announce until a pod is ready there
                section["waiting_for_pod"] = [n for n in nodes if n not in candidates]
            if mode == "layer2":
                leaders = self._leaders.get(key, [])
                section["leader"] = leaders[0] if len(leaders) == 1 else None
                section["expected_leader"] = announcement.leader  # MetalLB's election over the candidates
                section["leader_has_endpoint"] = None if section["leader"] is None else section["leader"] in endpoints
                if ips and policy == "Local" and candidates and section["waiting_for_pod"]:
                    findings.append(_finding(
                        "l2_local_nodes_without_pod", "warning",
                        f"with Local only nodes with a ready pod can lead {key}: {', '.join(section['waiting_for_pod'])} "
                        f"{'has' if len(section['waiting_for_pod']) == 1 else 'have'} none, so the VIP can fail over only to "
                        f"{', '.join(candidates)}",
                        f"run a pod on every node of the L2Advertisement ({', '.join(nodes)}): topologySpreadConstraints "
                        f"maxSkew 1 on kubernetes.io/hostname and replicas >= {len(nodes)}; uncordon drained nodes"))
                if ips and not leaders:
                    findings.append(_finding("l2_no_leader", "error", f"MetalLB records no L2 leader for {key}",
                                             "check the speakers' logs; an excluded or unlabelled node announces nothing"))
                elif len(leaders) > 1:
                    findings.append(_finding("l2_several_leaders", "warning", f"{key}: ServiceL2Status names {', '.join(leaders)}",
                                             "a leader change is in progress: verify again in a few seconds"))
                elif section["leader"] and policy == "Local" and not section["leader_has_endpoint"]:
                    findings.append(_finding("l2_leader_without_endpoint", "error",
                                             f"leader {section['leader']} of {key} has no ready pod: with Local its traffic is dropped",
                                             "spread the pods over the candidate nodes (topologySpreadConstraints) or use Cluster"))
            else:
                hops = announcement.next_hops(self._cluster, sorted({family(a) for a in addresses}) or None)
                section["next_hops"] = sorted(hop for found in hops.values() for hop in found)
            # who announces now: the recorded L2 leader(s), or the BGP nodes that advertise
            section["last_change"] = last_change(history, self._leaders.get(key, []) if mode == "layer2" else candidates, mode)
            report[mode] = section
        if self._cluster.l2_advertisements is None and self._cluster.bgp_advertisements is None:
            findings.append(_finding("metallb_not_installed", "error", "MetalLB's CRDs are not installed: nothing announces the Service",
                                     "install MetalLB (metallb_install) and configure it (metallb_config)"))
        elif ips and not report["modes"]:
            findings.append(_finding("not_advertised", "error",
                                     f"no L2Advertisement or BGPAdvertisement selects the pool of {key} ({pool_name})",
                                     "add an advertisement for the pool (metallb_config)"))
        if policy == "Cluster":
            report["source_ip"] = "SNAT: pods see a node address"
        else:
            report["source_ip"] = "preserved: pods see the client address"
        report["findings"] = findings
        return report


def summary_line(report: dict) -> str:
    """``namespace/name VIPs mode details (policy, endpoints): ok | N finding(s)``."""
    parts = [f"{report['namespace']}/{report['name']}", ",".join(report["ingress_ips"]) or "(no address)"]
    for mode in MODES:
        section = report.get(mode)
        if not section:
            continue
        if mode == "layer2":
            parts.append(f"layer2 leader {section.get('leader') or '?'}")
        else:
            parts.append(f"bgp via {','.join(section['candidate_nodes']) or 'nobody'}")
        change = section.get("last_change")
        if change:
            parts.append(f"[{change['event']} from {change['from']}]")
    if not report["modes"]:
        parts.append("not advertised")
    parts.append(f"({report['external_traffic_policy']}, {len(report['endpoint_nodes'])} endpoint node(s)):")
    findings = report["findings"]
    parts.append("ok" if not findings else "; ".join(f"{f['severity']} {f['rule']}" for f in findings))
    return " ".join(parts)
