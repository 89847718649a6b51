# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What ``lb_verify`` checks on the wire, and where, from ``lb_status``'s view and the inventory.

``verify_plan`` decides: the client host that probes ARP and sends the data-path requests,
the router asked for its routes, each node's MACs and addresses (to name who answers),
the layer 2 VIPs of both families with the leader MetalLB recorded (ARP for IPv4, NDP for IPv6), the BGP VIPs with their next hops and the
router's sessions with them, the data-path targets, and a note for each check that cannot
run. ``wire_results`` reads what the checks returned. Plain data in and out; no Ansible imports.
"""

from __future__ import annotations

import ipaddress

from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import hops_of_family

MAC_VARS = ("node_mac", "lab_mac")
ADDRESS_VARS = ("node_address", "lab_address", "ansible_host")
ADDRESS6_VARS = ("node_address6", "lab_address6")  # a dual-stack node's IPv6 address: its IPv6 next hop
NEIGHBOR_GROUP_VAR = "bgp_router_neighbor_group"  # a router's own: the nodes bgp_router peers it with


class PlanError(ValueError):
    """Input the plan cannot use: the message names the variable."""


def _first(names) -> str:
    return next(iter(names or []), "") or ""


def _host_value(hostvars, host: str, names: tuple[str, ...]) -> str:
    try:
        variables = hostvars[host]
    except (KeyError, TypeError):
        return ""
    for name in names:
        try:
            value = variables[name]
        except KeyError:
            continue
        if value not in (None, ""):
            return str(value)
    return ""


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _mapping(value, variable: str) -> dict:
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise PlanError(f"{variable}: must be a mapping of node name to {'MAC address' if 'mac' in variable else 'address'}, "
                        f"got {type(value).__name__}")
    return {str(k): v for k, v in value.items()}


def _address_order(address: str) -> tuple:
    """IPv4 addresses first, then IPv6 (a dual-stack Service's next hops are of both families)."""
    parsed = ipaddress.ip_address(address)
    return parsed.version, parsed


def _inventory_addresses(hostvars, node_names: list[str]) -> dict:
    """Node -> its address, or [IPv4, IPv6] for a node with an IPv6 address variable too."""
    out = {}
    for node in node_names:
        found = list(dict.fromkeys(address for names in (ADDRESS_VARS, ADDRESS6_VARS)
                                   if _is_address(address := _host_value(hostvars, node, names))))
        if found:
            out[node] = found[0] if len(found) == 1 else found
    return out


def _router_nodes(hostvars, groups: dict, router: str) -> list[str] | None:
    """The nodes ``router`` peers with: the group its ``bgp_router_neighbor_group`` names (as bgp_router
    configured it); None (every node) when the router's inventory does not say."""
    group = _host_value(hostvars, router, (NEIGHBOR_GROUP_VAR,))
    return [str(n) for n in groups[group] or []] if group and group in groups else None


def router_checks(router_names: list[str], bgp_prefixes: dict, hostvars, groups: dict, addresses: dict) -> list[dict]:
    """Per router: the nodes it peers with, and each BGP VIP's next hops it should have (the VIP's next hops of
    those nodes; a next hop of no known node is expected everywhere, as nothing tells which router it peers with)."""
    owner = {str(a): node for node, value in addresses.items()
             for a in (value if isinstance(value, (list, tuple)) else [value])}
    out = []
    for router in router_names:
        nodes = _router_nodes(hostvars, groups, router)
        prefixes = {ip: [hop for hop in hops if nodes is None or hop not in owner or owner[hop] in nodes]
                    for ip, hops in bgp_prefixes.items()}
        out.append({"host": router, "nodes": nodes, "bgp_prefixes": prefixes,
                    "bgp_peers": sorted({hop for hops in prefixes.values() for hop in hops}, key=_address_order)})
    return out


def verify_plan(services: list[dict], hostvars=None, groups=None, client_host: str = "", router_hosts=None,
                node_group: str = "k8s_nodes", node_macs=None, node_addresses=None) -> dict:
    groups = groups or {}
    client = str(client_host or "") or _first(groups.get("clients"))
    # every router: each is asked for its own routes, against the nodes it peers with
    router_names = [str(r) for r in (router_hosts or groups.get("routers") or []) if r]
    router = _first(router_names)
    node_names = [str(n) for n in groups.get(node_group) or []]
    macs = _mapping(node_macs, "lb_verify_node_macs") or {
        node: mac for node in node_names if (mac := _host_value(hostvars, node, MAC_VARS))}
    # Only addresses name next hops: an inventory's ansible_host may be a DNS name.
    addresses = _mapping(node_addresses, "lb_verify_node_addresses") or _inventory_addresses(hostvars, node_names)

    l2_leaders: dict[str, str | None] = {}
    bgp_prefixes: dict[str, list[str]] = {}
    targets = []
    for service in services:
        layer2, bgp = service.get("layer2"), service.get("bgp")
        if layer2:
            # every family: leader_verify sends ARP requests for IPv4 VIPs and neighbor solicitations for IPv6 ones
            l2_leaders.update({ip: layer2.get("leader") for ip in service["ingress_ips"]})
        if bgp:
            bgp_prefixes.update({ip: hops_of_family(ip, bgp.get("next_hops")) for ip in service["ingress_ips"]})
        announcing = ([layer2["leader"]] if layer2 and layer2.get("leader") else []) + (bgp["candidate_nodes"] if bgp else [])
        targets += [{"name": f"{service['namespace']}/{service['name']}", "address": ip, "port": port["port"],
                     "policy": service["external_traffic_policy"], "session_affinity": service["session_affinity"],
                     "announcing_nodes": list(dict.fromkeys(announcing)), "endpoint_nodes": list(service["endpoint_nodes"])}
                    for ip in service["ingress_ips"] for port in service.get("ports") or [] if port.get("protocol") == "TCP"]

    notes = []
    if l2_leaders and not client:
        notes.append("ARP/NDP not checked: no client host (lb_verify_client_host or group clients)")
    if bgp_prefixes and not router:
        notes.append("BGP routes not checked: no router host (lb_verify_router_hosts or group routers)")
    unnamed = sorted({leader for leader in l2_leaders.values() if leader and leader not in macs})
    if l2_leaders and client and unnamed:
        notes.append(f"no MAC known for {', '.join(unnamed)} (lb_verify_node_macs, or the node_mac host variable): "
                     "its ARP/NDP answers count as a MAC of no known node")
    return {
        "client": client,
        "router": router,
        "node_macs": macs,
        "node_addresses": addresses,
        "l2_addresses": list(l2_leaders),
        "families": {ip: ("IPv6" if ":" in ip else "IPv4") for ip in dict.fromkeys(
            ip for service in services for ip in service["ingress_ips"])},
        # leader_verify refuses an expected node without a MAC; the report still compares with MetalLB's leader
        "l2_expected": {ip: leader for ip, leader in l2_leaders.items() if leader in macs},
        "bgp_prefixes": bgp_prefixes,
        "bgp_peers": sorted({hop for hops in bgp_prefixes.values() for hop in hops}, key=_address_order),
        # each router's own expectations (bgp_verify runs on each; the report shows each)
        "routers": router_checks(router_names, bgp_prefixes, hostvars, groups, addresses) if bgp_prefixes else [],
        "probe_targets": targets,
        # which checks have something to check and somewhere to run
        "check_arp": bool(client and l2_leaders),
        "check_bgp": bool(router and bgp_prefixes),
        "check_datapath": bool(client and targets),
        "notes": notes,
    }


def wire_results(result, key: str, module: str, notes: list[str]):
    """``result[key]`` of a registered module result; None when the task was skipped or did not
    get that far (a note then says why)."""
    if result is None:
        return None
    if not isinstance(result, dict):
        raise PlanError(f"{module}: give the registered result of the {module} task (a mapping)")
    if key in result:
        return result[key]
    if not result.get("skipped"):
        notes.append(f"{module} could not run: {result.get('msg') or 'it returned no ' + key}")
    return None


def router_results(result, plan: dict, notes: list[str]) -> list[dict] | None:
    """The bgp_verify task looped over ``plan['routers']`` (one result per router) as ``merge_checks``'
    ``routers``: each router's plan entry with its ``routes`` and ``peers`` (None when it did not run there).
    None when ``result`` is not a looped one (a single router's result: ``wire_results``)."""
    if not isinstance(result, dict) or not isinstance(result.get("results"), list):
        return None
    by_host = {str((item.get("item") or {}).get("host")): item for item in result["results"]
               if isinstance(item, dict) and isinstance(item.get("item"), dict)}
    out = []
    for router in plan.get("routers") or []:
        item = by_host.get(router["host"])
        routes = None if item is None else wire_results(item, "prefixes", f"bgp_verify on {router['host']}", notes)
        out.append(dict(router, routes=routes, peers=item.get("peers") if routes is not None else None))
    return out
