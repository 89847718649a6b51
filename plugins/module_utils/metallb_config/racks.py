# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-rack BGP peering: each node peers only with its own rack's routers.

A site lists its racks (``[{name, routers: [{name, address}], nodes: [...]}]``, the shape the
lab's inventory gives as ``lab_racks``) and one node label key (``topology.kubernetes.io/zone``
in the lab). ``rack_peering`` derives from that, in one place:

* ``bgp_peers``: one MetalLB BGPPeer per router (the site's common peer fields, such as
  ``my_asn``, ``peer_asn`` and ``hold_time``, plus ``peer_address`` and ``node_selectors``
  selecting the nodes of the router's rack(s): MetalLB's speaker on a node opens a session
  only to the BGPPeers whose nodeSelectors select that node);
* ``node_labels``: node -> {label key: rack name}, for ``edge_nodes_labels`` (the label the
  selectors match must be on the nodes);
* ``router_nodes``: router -> the nodes that peer with it (the next hops it should see).

With no racks the site's single peer is returned unchanged. Plain data in and out.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.baremetal.metallb.plugins.module_utils.model.names import (
    dns1123_subdomain,
    label_value,
    qualified_name,
)


class RackError(ValueError):
    """Racks that cannot be turned into peers; the message names the variable and the fix."""


def _text(value) -> str:
    return "" if value is None else str(value).strip()


def rack_peering(peer: dict, racks, label: str, racks_var: str = "metallb_racks",
                 label_var: str = "metallb_rack_label", peer_var: str = "metallb_bgp_peer") -> dict:
    """``{"bgp_peers", "node_labels", "router_nodes"}``; RackError lists every problem at once."""
    if not isinstance(peer, dict):
        raise RackError(f"{peer_var}: must be a mapping of BGPPeer fields (my_asn, peer_asn, ...), got {type(peer).__name__}")
    if racks in (None, "", []):
        return {"bgp_peers": [dict(peer)], "node_labels": {}, "router_nodes": {}}
    if not isinstance(racks, list):
        raise RackError(f"{racks_var}: must be a list of racks ({{name, routers, nodes}}), got {type(racks).__name__}")
    problems = []
    label = _text(label)
    problem = qualified_name(label)
    if problem:
        problems.append(f"{label_var}: the node label key {label!r} {problem}; set it to the label that names a node's "
                        "rack (for example topology.kubernetes.io/zone)")
    for key in ("peer_address", "node_selectors"):
        if key in peer:
            problems.append(f"{peer_var}.{key}: set per router by {racks_var}; remove it from {peer_var}")

    routers: dict[str, dict] = {}  # name -> {"address", "racks"}, in the order they are listed
    rack_of: dict[str, str] = {}
    rack_names = []
    for index, rack in enumerate(racks):
        where = f"{racks_var}[{index}]"
        if not isinstance(rack, dict):
            problems.append(f"{where}: must be a mapping with name, routers and nodes")
            continue
        name = _text(rack.get("name"))
        problem = label_value(name) if name else "is missing"
        if problem:
            problems.append(f"{where}.name: {name!r} {problem} (it becomes the value of the label {label})")
            continue
        if name in rack_names:
            problems.append(f"{where}.name: rack {name!r} is listed twice; list each rack once")
            continue
        rack_names.append(name)
        nodes = rack.get("nodes") or []
        if not isinstance(nodes, list) or not nodes:
            problems.append(f"{where}.nodes: rack {name} needs a list of at least one node name")
            nodes = []
        for node in map(_text, nodes):
            if not node:
                problems.append(f"{where}.nodes: an empty node name")
            elif node in rack_of and rack_of[node] != name:
                problems.append(f"{where}.nodes: {node} is in racks {rack_of[node]} and {name}; a node carries one "
                                f"{label} label, so list it in one rack")
            else:
                rack_of[node] = name
        listed = rack.get("routers") or []
        if not isinstance(listed, list) or not listed:
            problems.append(f"{where}.routers: rack {name} needs at least one router ({{name, address}}) for its nodes to peer with")
            listed = []
        for number, router in enumerate(listed):
            rwhere = f"{where}.routers[{number}]"
            if not isinstance(router, dict):
                problems.append(f"{rwhere}: must be a mapping with name and address")
                continue
            rname, address = _text(router.get("name")), _text(router.get("address"))
            problem = dns1123_subdomain(rname)
            if problem:
                problems.append(f"{rwhere}.name: {rname!r} {problem} (it names the router's BGPPeer)")
                continue
            try:
                address = str(ipaddress.ip_address(address))
            except ValueError:
                problems.append(f"{rwhere}.address: {address!r} is not an IP address (the router's address the nodes peer with)")
                continue
            known = routers.setdefault(rname, {"address": address, "racks": []})
            if known["address"] != address:
                problems.append(f"{rwhere}.address: router {rname} is listed with {known['address']} and {address}; "
                                "give one address per router")
            elif name not in known["racks"]:
                known["racks"].append(name)
    addresses = [r["address"] for r in routers.values()]
    for address in sorted({a for a in addresses if addresses.count(a) > 1}):
        problems.append(f"{racks_var}: routers {', '.join(n for n, r in routers.items() if r['address'] == address)} share "
                        f"the address {address}; a BGPPeer per address, so give each router its own")
    if problems:
        raise RackError("; ".join(problems))

    prefix = _text(peer.get("name"))
    peers = []
    for rname, router in routers.items():
        values = router["racks"]
        selector = ({"match_labels": {label: values[0]}} if len(values) == 1
                    else {"match_expressions": [{"key": label, "operator": "In", "values": values}]})
        peers.append({**peer, "name": f"{prefix}-{rname}" if prefix else rname, "peer_address": router["address"],
                      "node_selectors": [selector]})
    return {
        "bgp_peers": peers,
        "node_labels": {node: {label: rack} for node, rack in rack_of.items()},
        "router_nodes": {rname: [node for node, rack in rack_of.items() if rack in router["racks"]]
                         for rname, router in routers.items()},
    }
