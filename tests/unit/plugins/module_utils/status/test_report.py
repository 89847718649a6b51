# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""merge_checks / render_markdown: the wire checks against MetalLB's view, and the report."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.status.report import merge_checks, render_markdown

L2_LOCAL = {
    "name": "web-local", "namespace": "demo", "ingress_ips": ["198.51.100.210"], "expected_pool": "lan",
    "pools": {"198.51.100.210": "lan"}, "address_from_expected_pool": True, "external_traffic_policy": "Local",
    "session_affinity": "None", "source_ip": "preserved: pods see the client address",
    "endpoint_nodes": {"node1": 1, "node2": 1}, "modes": ["layer2"],
    "layer2": {"advertisements": ["lan"], "advertising_nodes": ["node1", "node2", "node3"],
               "candidate_nodes": ["node1", "node2"], "leader": "node2", "leader_has_endpoint": True},
    "bgp": None, "findings": [],
}
BGP_CLUSTER = {
    "name": "api", "namespace": "demo", "ingress_ips": ["203.0.113.10"], "expected_pool": None,
    "pools": {"203.0.113.10": "prod"}, "address_from_expected_pool": None, "external_traffic_policy": "Cluster",
    "session_affinity": "ClientIP", "source_ip": "SNAT: pods see a node address", "endpoint_nodes": {"node2": 3},
    "modes": ["bgp"], "layer2": None,
    "bgp": {"advertisements": ["prod"], "advertising_nodes": ["node1", "node3"], "candidate_nodes": ["node1", "node3"],
            "next_hops": ["198.51.100.11", "198.51.100.13"]},
    "findings": [],
}


@pytest.mark.parametrize("leaders, routes, ok, problem", [
    ({"198.51.100.210": {"status": "ok", "leader": "node2"}},
     {"203.0.113.10/32": {"nexthops": ["198.51.100.13", "198.51.100.11"]}}, [True, True], None),
    ({"198.51.100.210": {"status": "ok", "leader": "node1"}}, None, [False, True], "answered by node1"),
    ({"198.51.100.210": {"status": "duplicate", "leader": None}}, None, [False, True], "answered by nobody (duplicate)"),
    (None, {"203.0.113.10/32": {"nexthops": ["198.51.100.11"]}}, [True, False], "via 198.51.100.11, expected"),
    (None, None, [True, True], None),
])
def test_merge_checks(leaders, routes, ok, problem):
    merged = merge_checks([L2_LOCAL, BGP_CLUSTER], leaders, routes)
    assert [s["ok"] for s in merged] == ok
    problems = [p for s in merged for p in s["problems"]]
    assert (problem is None and not problems) or any(problem in p for p in problems), problems
    assert merged[0]["wire"]["routes"] is None  # not a BGP Service
    assert (merged[1]["wire"]["routes"] is None) == (routes is None)


def test_error_findings_make_a_service_not_ok():
    bad = copy.deepcopy(L2_LOCAL)
    bad["findings"] = [{"rule": "l2_leader_without_endpoint", "severity": "error", "message": "m", "fix": "f"}]
    warn = copy.deepcopy(BGP_CLUSTER)
    warn["findings"] = [{"rule": "x", "severity": "warning", "message": "m", "fix": "f"}]
    assert [s["ok"] for s in merge_checks([bad, warn], None, None)] == [False, True]


def test_markdown_has_a_table_row_and_a_flowchart_per_service():
    text = render_markdown(merge_checks([L2_LOCAL, BGP_CLUSTER], {"198.51.100.210": {"status": "ok", "leader": "node2"}}, None))
    assert text.count("```mermaid") == 2 and text.count("flowchart LR") == 2
    assert "| demo/web-local | 198.51.100.210 | layer2 | Local | leader node2 | ARP ok | 0 |" in text
    assert '-->|"ARP leader"| n_node2' in text and '-->|"client IP kept"|' in text
    assert 'router[["router (ECMP)"]]' in text and '-->|"BGP next hop"| n_node3' in text
    assert '-->|"SNAT"| n_pods_node2' in text  # Cluster: kube-proxy forwards to pods elsewhere


def test_local_announcer_without_pod_is_drawn_as_dropped():
    bad = copy.deepcopy(L2_LOCAL)
    bad["layer2"]["leader"] = "node3"
    text = render_markdown(merge_checks([bad], None, None))
    assert "no local pod: traffic dropped" in text


def test_datapath_problems_count_and_are_reported():
    service = dict(copy.deepcopy(L2_LOCAL), ports=[{"name": "http", "port": 80, "protocol": "TCP"}])
    probe = {"address": "198.51.100.210", "port": 80, "requests": 30, "answered": 30, "by_pod": {"demo/a": 30},
             "by_node": {"node2": 30}, "sources": {"198.51.100.12": 30}, "client_ip_preserved": False,
             "problems": ["pods saw 198.51.100.12 instead of the client's address under Local"]}
    other = dict(probe, address="203.0.113.99")  # another Service's VIP: not this one's
    (merged,) = merge_checks([service], None, None, [probe, other])
    assert merged["wire"]["datapath"] == [probe] and not merged["ok"]
    assert "data path 198.51.100.210:80: pods saw" in merged["problems"][0]
    text = render_markdown([merged])
    assert "data path FAIL" in text and "client address not preserved (SNAT)" in text and "by node node2 30" in text


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
