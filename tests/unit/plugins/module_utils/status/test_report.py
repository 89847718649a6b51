# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""merge_checks / render_markdown: the wire checks against MetalLB's view, and the report.

The data-driven cases (test_report.yaml, run by report_cases.py) go through the path lb_verify
takes: every leader_verify status and every bgp_verify difference must reach the summary and
the report with who answered, who was expected, and what it likely means.
"""

from __future__ import annotations

import copy
import re

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import leader
from ansible_collections.baremetal.metallb.plugins.module_utils.status.mermaid import flowchart
from ansible_collections.baremetal.metallb.plugins.module_utils.status.report import merge_checks, render_markdown
from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import Nodes
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.status import report_cases
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.status.report_cases import DATA
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import is_subset, parametrize_cases

L2_LOCAL = DATA["services"]["l2_local"]
BGP_CLUSTER = DATA["services"]["bgp_cluster"]
# Each sentence bgp_verify's compare() writes, by kind: a new kind of sentence fails test_bgp_cases.
BGP_DIFFERENCES = {
    "peer_not_configured": r"^peer \S+ is not configured on the router$",
    "peer_not_established": r"^peer \S+ is \S+, not Established$",
    "routed_unexpectedly": r"^\S+ should not be routed but is ",
    "not_routed": r"^\S+ is not in the routing table ",
    "not_installed": r"^\S+ is selected \(\S+\) but not installed in the FIB$",
    "missing_next_hop": r"^\S+: missing next hop \S+$",
    "extra_next_hop": r"^\S+: extra next hop ",
    "link_local_next_hop": r"^\S+: next hop \S+ is installed as its link-local address ",
}
ADDRESS = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")


def _check(case: dict, merged: dict, report: str) -> None:
    said = "\n".join(merged["problems"]) if merged["problems"] else "ok"
    assert merged["ok"] is case.get("ok", False), said
    for text in case.get("says", []):
        assert text in said, f"{case['id']}: {text!r} not in the problems:\n{said}"
        assert text == "ok" or text in report, f"{case['id']}: {text!r} not in the report"
    for text in case.get("report", []):
        assert text in report, f"{case['id']}: {text!r} not in the report:\n{report}"
    for text in case.get("never", []):
        assert text not in said and text not in report.split("```mermaid")[0], f"{case['id']}: {text!r} is said"
    chart = "\n".join(flowchart(merged, report_cases.Nodes(*_names())))
    for text in case.get("chart", []):
        assert text in chart, f"{case['id']}: {text!r} not in the chart:\n{chart}"
    assert chart in report
    if case.get("table"):
        assert case["table"] in report, report


def _names() -> tuple[dict, dict]:
    plan = report_cases.plan_for([])
    return plan["node_macs"], plan["node_addresses"]


@parametrize_cases(DATA["arp"])
def test_arp_cases(case):
    merged, report, module = report_cases.run(case, "arp")
    # every VIP of the Service, of either family (ARP for IPv4, NDP for IPv6), has its verdict
    assert set(module) == set(merged["ingress_ips"])
    for address, verdict in module.items():
        assert verdict["status"] == case["status"], "the case does not give leader_verify the status it is about"
        check = merged["wire"]["leader"][address]
        assert check["protocol"] == ("NDP" if ":" in address else "ARP")
        # who answered, with node names and MACs, and who was expected
        assert [(r["node"], r["mac"]) for r in check["responders"]] == [(r["node"], r["mac"]) for r in verdict["responders"]]
        assert check["expected"] == merged["layer2"]["leader"]
        assert (check["meaning"] is None) == (check["status"] == "ok")
    _check(case, merged, report)


def test_every_leader_verify_status_has_a_case():
    assert set(leader.STATUSES) <= {case["status"] for case in DATA["arp"]}


@parametrize_cases(DATA["bgp"])
def test_bgp_cases(case):
    merged, report, module = report_cases.run(case, "bgp")
    kinds = []
    for difference in module["differences"]:
        matching = [kind for kind, pattern in BGP_DIFFERENCES.items() if re.search(pattern, difference)]
        assert len(matching) == 1, f"bgp_verify wrote a difference of no known kind: {difference!r}"
        kinds += matching
        # everything bgp_verify named reaches the report: its addresses are in the Service's problems
        for address in ADDRESS.findall(difference):
            assert address in "\n".join(merged["problems"]), f"{difference!r} is not carried:\n{merged['problems']}"
    assert sorted(kinds) == sorted(case["differences"]), module["differences"]
    if module["differences"]:
        assert not merged["ok"]
    # one check per VIP (a dual-stack Service has two), each with the next hops bgp_verify read for it
    assert sorted(merged["wire"]["routes"]) == sorted(merged["ingress_ips"])
    for address, check in merged["wire"]["routes"].items():
        assert check["next_hops"] == module["prefixes"][f"{address}/{128 if ':' in address else 32}"]["nexthops"]
    _check(case, merged, report)


def test_every_bgp_verify_difference_has_a_case():
    assert set(BGP_DIFFERENCES) <= {kind for case in DATA["bgp"] for kind in case["differences"]}


# ---------------------------------------------------------------- the rest of the report

@pytest.mark.parametrize("leaders, routes, ok, problem", [
    ({"198.51.100.210": {"status": "ok", "leader": "node2"}},
     {"203.0.113.10/32": {"nexthops": ["198.51.100.13", "198.51.100.11"]}}, [True, True], None),
    ({"198.51.100.210": {"status": "ok", "leader": "node1"}}, None, [False, True], "answered by node1; expected node2"),
    ({"198.51.100.210": {"status": "duplicate", "leader": None,
                         "responders": [{"mac": "02:00:c6:33:64:0b", "node": "node1"}, {"mac": "0a:0a:0a:0a:0a:0a", "node": None}]}},
     None, [False, True], "answered by 2 responders: node1 (02:00:c6:33:64:0b) and 0a:0a:0a:0a:0a:0a"),
    (None, {"203.0.113.10/32": {"nexthops": ["198.51.100.11"]}}, [True, False], "missing next hop 198.51.100.13"),
    (None, None, [True, True], None),
])
def test_merge_checks_without_names(leaders, routes, ok, problem):
    """Results as an older caller passes them (no node names, no MACs, no peers) still say what was seen."""
    merged = merge_checks([L2_LOCAL, BGP_CLUSTER], leaders, routes)
    assert [s["ok"] for s in merged] == ok
    problems = [p for s in merged for p in s["problems"]]
    assert (problem is None and not problems) or any(problem in p for p in problems), problems
    assert "nobody (duplicate)" not in "".join(problems)
    assert merged[0]["wire"]["routes"] is None  # not a BGP Service
    assert (merged[1]["wire"]["routes"] is None) == (routes is None)


def test_error_findings_make_a_service_not_ok():
    bad = copy.deepcopy(L2_LOCAL)
    bad["findings"] = [{"rule": "l2_leader_without_endpoint", "severity": "error", "message": "m", "fix": "f"}]
    warn = copy.deepcopy(BGP_CLUSTER)
    warn["findings"] = [{"rule": "x", "severity": "warning", "message": "m", "fix": "f"}]
    assert [s["ok"] for s in merge_checks([bad, warn], None, None)] == [False, True]


def test_markdown_has_a_table_row_and_a_flowchart_per_service():
    text = render_markdown(merge_checks([L2_LOCAL, BGP_CLUSTER], None, None))
    assert text.count("```mermaid") == 2 and text.count("flowchart LR") == 2
    assert "| demo/web-local | 198.51.100.210 | layer2 | Local | leader node2 | not checked | 0 |" in text
    assert '-->|"ARP leader"| n_node2' in text and '-->|"client IP kept"|' in text
    assert 'router[["router (ECMP)"]]' in text and '-->|"BGP next hop"| n_node3' in text
    # Cluster through two nodes: kube-proxy on either forwards to any pod, with SNAT
    assert "n_node1 --> kube_proxy" in text and '  kube_proxy -->|"any pod"| n_pods_node2' in text
    assert "classDef" not in text  # nothing checked, nothing failing


def test_local_announcer_without_pod_is_drawn_as_dropped():
    bad = copy.deepcopy(L2_LOCAL)
    bad["layer2"]["leader"] = "node3"
    text = render_markdown(merge_checks([bad], None, None))
    assert "no local pod: traffic dropped" in text and "class n_pods_node3 fail" in text


def test_datapath_problems_count_and_are_reported_with_the_shares_on_the_edges():
    service = copy.deepcopy(L2_LOCAL)
    probe = {"address": "198.51.100.210", "port": 80, "requests": 30, "answered": 30, "by_pod": {"demo/a": 24, "demo/b": 6},
             "by_node": {"node2": 24, "node1": 6}, "sources": {"198.51.100.12": 30}, "client_ip_preserved": False,
             "problems": ["pods saw 198.51.100.12 instead of the client's address under Local"]}
    other = dict(probe, address="203.0.113.99")  # another Service's VIP: not this one's
    (merged,) = merge_checks([service], None, None, [probe, other])
    assert merged["wire"]["datapath"] == [probe] and not merged["ok"]
    assert "data path 198.51.100.210:80: pods saw" in merged["problems"][0]
    text = render_markdown([merged])
    assert "data path FAIL" in text and "client address not preserved (SNAT)" in text and "by node node2 24" in text
    assert '  n_node2 -->|"client IP kept 24/30"| n_pods_node2' in text
    # under Local, pods on node1 answered although node1 does not announce
    assert '-.->|"answered 6/30, node does not announce"| n_pods_node1' in text and "class n_pods_node1 fail" in text


def _failing_links(lines: list[str]) -> list[str]:
    """The links ``linkStyle`` styles as failing, by their index among the chart's links."""
    links = [line for line in lines if re.search(r" (-->|-\.->)", line)]
    styled = next((line.split()[1] for line in lines if line.startswith("  linkStyle ")), "")
    return [links[int(index)] for index in styled.split(",") if index]


def test_local_traffic_through_a_second_responder_is_drawn_failing():
    """The client's ARP cache took the rogue responder's MAC: every request went to its pods."""
    case = next(c for c in DATA["arp"] if c["id"] == "duplicate_a_second_candidate_answers_besides_metallbs_only_leader")
    service = report_cases.service(case)
    plan = report_cases.plan_for([service])
    nodes = Nodes(plan["node_macs"], plan["node_addresses"])
    probe = {"address": "198.51.100.210", "port": 80, "requests": 30, "answered": 30, "by_pod": {}, "sources": {},
             "by_node": {"node1": 30}, "client_ip_preserved": True, "problems": ["pods on node1 answered, which do not announce"]}
    (merged,) = merge_checks([service], report_cases.leader_verify(plan, case["replies"]), None, [probe], nodes=nodes)
    lines = flowchart(merged, nodes)
    assert _failing_links(lines) == ['  n_vip_demo_web_local -->|"answers ARP too"| n_node1',
                                     '  n_node1 -->|"client IP kept 30/30"| n_pods_node1']
    assert "n_pods_node1" in next(line for line in lines if line.endswith(" fail") and line.startswith("  class "))
    assert '  n_node2 -->|"client IP kept 0/30"| n_pods_node2' in lines


def test_cluster_shares_on_the_edges_from_one_leader():
    service = copy.deepcopy(DATA["services"]["l2_cluster"])
    probe = {"address": "198.51.100.220", "port": 80, "requests": 30, "answered": 30, "by_pod": {}, "sources": {},
             "by_node": {"node1": 10, "node2": 12, "node3": 8}, "client_ip_preserved": False, "problems": []}
    lines = flowchart(merge_checks([service], None, None, [probe])[0])
    assert '  n_node1 -->|"SNAT 12/30"| n_pods_node2' in lines and '  n_node1 -->|"SNAT 8/30"| n_pods_node3' in lines


def test_notes_head_the_report():
    text = render_markdown(merge_checks([L2_LOCAL], None, None), notes=["ARP not checked: no client host"])
    assert "- Note: ARP not checked: no client host" in text.split("| Service |", maxsplit=1)[0]


def test_nodes_name_macs_and_next_hops():
    nodes = Nodes({"node1": "02-00-C6-33-64-0B", "node2": ["02:00:c6:33:64:0c", "02:00:c6:33:64:1c"]},
                  {"node1": "198.51.100.11"})
    assert nodes.by_mac["02:00:c6:33:64:1c"] == "node2"
    assert nodes.node_label("node2") == "node2 (02:00:c6:33:64:0c, 02:00:c6:33:64:1c)"
    assert nodes.hop_label("198.51.100.11") == "198.51.100.11 (node1)"
    assert nodes.hop_label("198.51.100.99") == "198.51.100.99 (no known node)"
    assert Nodes().hop_label("198.51.100.99") == "198.51.100.99"  # no addresses known: no claim either way


@pytest.mark.parametrize("mode, section, lines", [
    ("layer2", {"waiting_for_pod": ["node3"], "last_change": {"event": "moved", "from": "node3", "to": ["node1"], "at": "T1"}},
     ["  - node3: out of the election until a pod is ready there (Local)",
      "  - What MetalLB did last (its nodeAssigned Events): moved from node3 to node1 at T1"]),
    ("layer2", {"leader": None, "last_change": {"event": "stopped", "from": "node2", "to": [], "at": "T0"}},
     ["  - What MetalLB did last (its nodeAssigned Events): stopped (last announced by node2) at T0"]),
    ("bgp", {"candidate_nodes": ["node1"], "next_hops": ["198.51.100.11"], "waiting_for_pod": ["node3"],
             "last_change": {"event": "withdrawn", "from": "node3", "to": ["node1"], "at": None}},
     ["  - node3: route withdrawn: no ready pod there (Local)",
      "  - What MetalLB did last (its nodeAssigned Events): withdrawn by node3 (still via node1)"]),
])
def test_report_says_what_metallb_did_last(mode, section, lines):
    service = copy.deepcopy(L2_LOCAL if mode == "layer2" else BGP_CLUSTER)
    service[mode].update(section)
    text = render_markdown(merge_checks([service], None, None)).splitlines()
    for line in lines:
        assert line in text


def test_every_chart_styles_only_what_it_draws():
    """linkStyle indices within the chart's links, classes only on declared nodes (Mermaid would refuse
    or silently misplace them); tests/integration/test_report_mermaid.py renders the same charts."""
    for name, lines in report_cases.gallery():
        declared = {m.group(1) for line in lines if (m := re.match(r"  (\w+)[\[({]", line))}
        assert len(_failing_links(lines)) == len(set(_failing_links(lines))), name
        for line in lines:
            if line.startswith("  class "):
                assert set(line.split()[1].split(",")) <= declared, (name, line)


@parametrize_cases(DATA["families"])
def test_family_cases(case):
    """Per family the announcement, the data path and the source-address verdict: a dual-stack
    Service shows both, an IPv4-only one keeps the cells it always had."""
    service = report_cases.service(case)
    service["ports"] = [{"name": "http", "port": 80, "protocol": "TCP"}]
    probes = [{"address": ip, "port": 80, "requests": 30, "answered": 30, "by_pod": {}, "sources": {}, "by_node": {"node1": 30},
               "client_ip_preserved": seen["preserved"], "problems": seen.get("problems") or []}
              for ip, seen in case["probes"].items()]
    (merged,) = merge_checks([service], None, None, probes)
    assert merged["ok"] is case["ok"], merged["problems"]
    assert set(merged["wire"]["families"]) == set(case["families"])
    for fam, expected in case["families"].items():
        assert is_subset(expected, merged["wire"]["families"][fam]), (fam, merged["wire"]["families"][fam])
    text = render_markdown([merged])
    assert case["table"] in text, text
    for said in case.get("report", []):
        assert said in text, f"{said!r} not in:\n{text}"
    for said in case.get("never", []):
        assert said not in text.split("```mermaid", maxsplit=1)[0], said
