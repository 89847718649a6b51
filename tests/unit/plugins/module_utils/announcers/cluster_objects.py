# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""API objects (the dicts the API server returns) from the short forms the unit cases use.

``objects_from_case``: the compact cluster of the announcer and ServiceReport cases.
``objects_from_stated``: workload_policy's stated ``pools`` and ``cluster`` (snake_case), so
that one cluster can be fed to both ``workload_policy`` and ``lb_status``.
"""

from __future__ import annotations

import re


def _meta(name: str, **extra) -> dict:
    return dict({"name": name, "namespace": "metallb-system"}, **extra)


def node_object(name: str, labels: dict, addresses: list[str], network_unavailable: bool = False, unschedulable: bool = False) -> dict:
    status = {"addresses": [{"type": "InternalIP", "address": address} for address in addresses]}
    if network_unavailable:
        status["conditions"] = [{"type": "NetworkUnavailable", "status": "True", "reason": "NoRouteCreated"}]
    return {"metadata": {"name": name, "labels": dict(labels, **{"kubernetes.io/hostname": name})},
            "spec": {"unschedulable": True} if unschedulable else {}, "status": status}


def speaker_pod(node: str, ignore_exclude_lb: bool = False) -> dict:
    args = ["--port=7472", "--log-level=info"] + (["--ignore-exclude-lb"] if ignore_exclude_lb else [])
    return {"metadata": {"name": f"speaker-{node}", "labels": {"component": "speaker"}},
            "spec": {"nodeName": node, "containers": [{"name": "speaker", "args": args}]},
            "status": {"phase": "Running"}}


def advertisement_object(ad: dict) -> dict:
    spec = {"ipAddressPools": ad.get("pools", []), "nodeSelectors": ad.get("node_selectors", [])}
    if ad.get("pool_selectors"):
        spec["ipAddressPoolSelectors"] = ad["pool_selectors"]
    if ad.get("peers"):
        spec["peers"] = ad["peers"]
    if ad.get("service_selectors"):
        spec["serviceSelectors"] = ad["service_selectors"]
    return {"metadata": _meta(ad["name"]), "spec": spec}


def peer_object(peer: dict) -> dict:
    return {"metadata": _meta(peer["name"]),
            "spec": {"peerAddress": peer.get("address", "198.51.100.1"), "myASN": 64500, "peerASN": 64501,
                     "nodeSelectors": peer.get("node_selectors", [])}}


def _index(name: str, position: int) -> int:
    digits = re.search(r"\d+$", name)
    return int(digits.group()) if digits else position + 1


def objects_from_case(case: dict) -> dict:
    """``nodes`` {name: labels} (default node1..node3), ``speakers`` (default all), ``ignore_exclude_lb``,
    ``network_unavailable`` [names], ``ipv6`` (nodes get an IPv6 address too), ``pools`` {name: addresses},
    ``pool_labels`` {name: labels}, ``l2_ads``/``bgp_ads`` [{name, pools, pool_selectors, node_selectors, peers, service_selectors}],
    ``peers`` [{name, address, node_selectors}], ``endpoints`` {node: count} of the Service demo/web (``unknown``: no slices read)."""
    nodes = case.get("nodes") or {"node1": {}, "node2": {}, "node3": {}}
    unavailable = set(case.get("network_unavailable", []))
    node_objects = []
    for position, (name, labels) in enumerate(nodes.items()):
        index = _index(name, position)
        addresses = [f"198.51.100.{10 + index}"] + ([f"2001:db8:100::{10 + index}"] if case.get("ipv6") else [])
        node_objects.append(node_object(name, labels or {}, addresses, name in unavailable))
    return {
        "nodes": node_objects,
        "speaker_pods": [speaker_pod(n, case.get("ignore_exclude_lb", False)) for n in case.get("speakers", list(nodes))],
        "ip_address_pools": [{"metadata": _meta(name, labels=case.get("pool_labels", {}).get(name, {})), "spec": {"addresses": addresses}}
                             for name, addresses in case.get("pools", {}).items()],
        "l2_advertisements": [advertisement_object(ad) for ad in case.get("l2_ads", [])],
        "bgp_advertisements": [advertisement_object(ad) for ad in case.get("bgp_ads", [])],
        "bgp_peers": [peer_object(p) for p in case.get("peers", [])],
        "endpoint_slices": None if case.get("endpoints") == "unknown" else [endpoint_slice("demo", "web", case.get("endpoints", {}))],
    }


def endpoint_slice(namespace: str, service: str, endpoints: dict) -> dict:
    return {"metadata": {"namespace": namespace, "labels": {"kubernetes.io/service-name": service}},
            "endpoints": [{"nodeName": node, "conditions": {"ready": True}}
                          for node, count in endpoints.items() for dummy in range(count)]}


def _stated_ad(ad: dict) -> dict:
    return advertisement_object({"name": ad.get("name", "ad"), "pools": ad.get("ip_address_pools") or [],
                                 "pool_selectors": ad.get("ip_address_pool_selectors") or [],
                                 "node_selectors": ad.get("node_selectors") or [], "peers": ad.get("peers") or []})


def objects_from_stated(pools: list[dict] | None, cluster: dict | None) -> dict:
    """The API objects behind workload_policy's stated facts; a fact not stated stays unknown (``None``)."""
    cluster = cluster or {}
    objects: dict = {"nodes": None, "speaker_pods": None, "l2_advertisements": None, "bgp_advertisements": None,
                     "bgp_peers": None, "ip_address_pools": None}
    if cluster.get("nodes") is not None:
        objects["nodes"] = [
            node_object(node["name"], {k: str(v) for k, v in (node.get("labels") or {}).items()},
                        [str(a).partition("/")[0] for a in node.get("addresses") or []],
                        bool(node.get("network_unavailable")), node.get("schedulable") is False)
            for node in cluster["nodes"]
        ]
        objects["speaker_pods"] = [speaker_pod(node["name"], bool(cluster.get("speaker_ignore_exclude_lb")))
                                   for node in cluster["nodes"] if node.get("speaker") is not False]
    for key in ("l2_advertisements", "bgp_advertisements"):
        if cluster.get(key) is not None:
            objects[key] = [_stated_ad(ad) for ad in cluster[key]]
    if cluster.get("bgp_peers") is not None:
        objects["bgp_peers"] = [
            {"metadata": _meta(peer["name"]),
             "spec": {key: value for key, value in (("peerAddress", peer.get("address")), ("interface", peer.get("interface")),
                                                    ("myASN", peer.get("my_asn")), ("peerASN", peer.get("peer_asn")),
                                                    ("nodeSelectors", peer.get("node_selectors") or [])) if value is not None}}
            for peer in cluster["bgp_peers"]
        ]
    if pools is not None:
        objects["ip_address_pools"] = [
            {"metadata": _meta(pool["name"], labels=pool.get("labels") or {}),
             "spec": {"addresses": pool.get("addresses") or [], "autoAssign": pool.get("auto_assign", True) is not False}}
            for pool in pools
        ]
    return objects
