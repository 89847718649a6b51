# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cases of test_report.yaml run the way lb_verify runs them, without Ansible:

lb_verify_plan's decisions (``verify_plan``) -> leader_verify's verdict for the replies seen
(``leader.judge``) or bgp_verify's result for FRR's JSON (``BgpVerifier`` on a fake vtysh) ->
``merge_checks`` and ``render_markdown``. Shared by the unit tests and the Mermaid rendering
test (tests/integration/test_report_mermaid.py), which renders every chart these cases draw.
"""

from __future__ import annotations

import copy
import json

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import leader, prober
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrTools
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.verify import BgpVerifier
from ansible_collections.baremetal.metallb.plugins.module_utils.status.mermaid import flowchart
from ansible_collections.baremetal.metallb.plugins.module_utils.status.plan import verify_plan
from ansible_collections.baremetal.metallb.plugins.module_utils.status.report import merge_checks, render_markdown
from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import Nodes
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data

DATA = load_data(__file__, name="test_report.yaml")
HOSTVARS, GROUPS = DATA["inventory"]["hostvars"], DATA["inventory"]["groups"]


def service(case: dict) -> dict:
    report = copy.deepcopy(DATA["services"][case["service"]])
    if "ingress_ips" in case:
        report["ingress_ips"] = case["ingress_ips"]
        report["pools"] = {ip: "lan" for ip in case["ingress_ips"]}
    return report


def plan_for(services: list[dict]) -> dict:
    return verify_plan(services, HOSTVARS, GROUPS)


def leader_verify(plan: dict, replies: list[str] | None) -> dict | None:
    """leader_verify's ``addresses`` result for the plan's VIPs, each answered by ``replies`` (MACs)."""
    if not plan["l2_addresses"]:
        return None
    by_mac = leader.normalize_nodes(plan["node_macs"])[0]
    return {
        ip: leader.judge(prober.Observation(address=ip, started=0.0, finished=0.06, probes=3,
                                            answered=3 if replies else 0, replies=[(mac, 0.2) for mac in replies or []]),
                         by_mac, plan["l2_expected"].get(ip))
        for ip in plan["l2_addresses"]
    }


def _link_local(hop: str) -> str:
    """The link-local address the fake router's zebra installs for a node's global IPv6 next hop."""
    return f"fe80::ff:{hop.rsplit(':', 1)[1]}"


class FakeRouter:
    """vtysh answering ``show bgp neighbors``, ``show ip route P`` (``route``), ``show ipv6 route P``
    (``route6``; ``link_local: true``: installed via the nodes' link-local addresses, as FRR does
    without prefer-global) and ``show bgp ipv6 unicast P`` (each path's global and link-local next hop)."""

    def __init__(self, neighbors: dict, route: dict | None, route6: dict | None = None):
        self.neighbors = {address: {"bgpState": state, "remoteAs": 64500} for address, state in (neighbors or {}).items()}
        self.routes = {"ip": route, "ipv6": route6}

    def __call__(self, argv):
        command = argv[2]
        if command == "show bgp neighbors json":
            return 0, json.dumps(self.neighbors), ""
        words = command.split()
        route = self.routes.get(words[1]) if words[2:3] == ["route"] else self.routes["ipv6"]
        if route is None:
            return 0, "{}", ""
        prefix = words[3] if words[2] == "route" else words[4]
        if words[1] == "bgp":
            return 0, json.dumps({"prefix": prefix, "paths": [
                {"nexthops": [{"ip": hop, "scope": "global"}, {"ip": _link_local(hop), "scope": "link-local"}]}
                for hop in route["hops"]]}), ""
        installed = [_link_local(hop) if route.get("link_local") else hop for hop in route["hops"]]
        entry = {"prefix": prefix, "protocol": route.get("protocol", "bgp"), "selected": True,
                 "installed": route.get("installed", True),
                 "nexthops": [{"ip": hop, "fib": route.get("fib", True), "active": True} for hop in installed]}
        return 0, json.dumps({prefix: [entry]}), ""


def bgp_verify(plan: dict, neighbors: dict, route: dict | None, route6: dict | None = None) -> dict | None:
    """bgp_verify's whole result for the plan's prefixes and peers, as the module returns it to lb_verify
    (link_local_nexthops: false)."""
    if not plan["bgp_prefixes"]:
        return None
    peers, prefixes = BgpVerifier.normalize(plan["bgp_peers"], plan["bgp_prefixes"])
    result = BgpVerifier(FrrTools(FakeRouter(neighbors, route, route6), vtysh="/usr/bin/vtysh")).verify(
        peers, prefixes, link_local=False)
    result.pop("ok")
    return result


def run(case: dict, kind: str) -> tuple[dict, str, dict]:
    """(the merged Service, the report, the module's result) for an ``arp`` or ``bgp`` case."""
    report = service(case)
    plan = plan_for([report])
    nodes = Nodes(plan["node_macs"], plan["node_addresses"])
    if kind == "arp":
        module = leader_verify(plan, case["replies"])
        merged = merge_checks([report], module or {}, None, nodes=nodes)
    else:
        module = bgp_verify(plan, case["neighbors"], case.get("route"), case.get("route6"))
        merged = merge_checks([report], None, module["prefixes"], peers=module["peers"], nodes=nodes)
    return merged[0], render_markdown(merged, nodes=nodes, notes=plan["notes"]), module


def every_case() -> list[tuple[str, dict]]:
    return [("arp", case) for case in DATA["arp"]] + [("bgp", case) for case in DATA["bgp"]]


def _probe(report: dict, stray: str | None = None) -> list[dict]:
    """lb_probe results spreading 30 requests per VIP and port over the Service's endpoint nodes (and ``stray``)."""
    nodes = list(report["endpoint_nodes"]) + ([stray] if stray else [])
    return [{"address": ip, "port": port["port"], "requests": 30, "answered": 30, "by_pod": {}, "sources": {},
             "by_node": {node: 30 // len(nodes) for node in nodes}, "client_ip_preserved": None,
             "problems": [f"pods on {stray} answered"] if stray else []}
            for ip in report["ingress_ips"] for port in report.get("ports") or []] if nodes else []


def gallery() -> list[tuple[str, list[str]]]:
    """(name, chart lines) of every kind of chart the report draws: each case above, and each
    Service unchecked (in both modes at once, and with no mode at all too), and for each way
    to the pods with a data path, and with answers from a node that does not announce."""
    charts = []
    for kind, case in every_case():
        merged, report, _module = run(case, kind)
        charts.append((f"{kind}-{case['id']}", report[report.index("```mermaid"):].splitlines()))
    plan = plan_for([])
    nodes = Nodes(plan["node_macs"], plan["node_addresses"])
    both = dict(copy.deepcopy(DATA["services"]["l2_cluster"]), name="both-modes", modes=["layer2", "bgp"],
                bgp=copy.deepcopy(DATA["services"]["bgp_cluster"]["bgp"]))
    nothing = dict(copy.deepcopy(DATA["services"]["l2_local"]), name="not-advertised", modes=[], layer2=None)
    # the data path drawn for each way to the pods: Local, Cluster from one node, Cluster through the kube-proxy hub
    with_datapath = ("l2_local", "l2_cluster", "bgp_cluster", "both_modes")
    for name, report in list(DATA["services"].items()) + [("both_modes", both), ("not_advertised", nothing)]:
        variants = [("unchecked", None)]
        if name in with_datapath:
            variants += [("datapath", _probe(report)), ("stray", _probe(report, "node3"))]
        for variant, datapath in variants:
            (merged,) = merge_checks([copy.deepcopy(report)], None, None, datapath, nodes=nodes)
            charts.append((f"service-{name}-{variant}", flowchart(merged, nodes)))
    return charts
