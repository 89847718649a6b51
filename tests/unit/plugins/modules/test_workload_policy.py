# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The workload_policy module: main(), the action plugin, and its RETURN."""

from __future__ import annotations

import json

import yaml

from ansible_collections.baremetal.metallb.plugins.modules import workload_policy
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner

WEB = {"name": "web", "image": "nginx:1.27", "replicas": 2, "ports": [{"port": 80}], "external_traffic_policy": "Local", "address_pool": "lan"}
POOLS = [{"name": "lan", "protocol": "layer2", "addresses": ["198.51.100.200-198.51.100.230"]}]
CLUSTER = {
    "nodes": [{"name": f"n{index}", "addresses": [f"198.51.100.1{index}/24"]} for index in (1, 2, 3)],
    "l2_advertisements": [{"name": "all"}],
    "kube_proxy": {"mode": "iptables"},
    "bgp_peers": [{"name": "upstream", "address": "198.51.100.1", "password": "Hunter2-bgp"}],
}


run = ModuleRunner(workload_policy)


def test_findings_are_reported_and_never_changed(capsys):
    code, result, dummy = run(capsys, {"workloads": [WEB], "pools": POOLS, "cluster": CLUSTER, "_ansible_check_mode": True})
    assert code == 0
    assert result["changed"] is False
    assert [f["rule"] for f in result["findings"]] == ["l2_local_fewer_replicas_than_nodes"]
    assert result["counts"] == {"error": 0, "warning": 1, "info": 0}
    assert result["resolved"] == [{"workload": "default/web", "pool": "lan", "modes": ["layer2"]}]
    assert result["workloads"][0]["ports"][0]["target_port"] == 80
    # no_log on the peer password: Ansible masks it wherever it would appear.
    assert "Hunter2-bgp" not in json.dumps(result)


def test_fail_on_makes_findings_fatal(capsys):
    code, result, dummy = run(capsys, {"workloads": [WEB], "pools": POOLS, "cluster": CLUSTER, "fail_on": ["warning"]})
    assert code == 1
    assert result["failed"] is True
    assert [f["rule"] for f in result["fatal"]] == ["l2_local_fewer_replicas_than_nodes"]
    assert "1 match fail_on (warning)" in result["msg"]


def test_invalid_input_fails_with_every_problem(capsys):
    bad = dict(WEB, replicas=-1, ports=[{"port": 70000}])
    code, result, dummy = run(capsys, {"workloads": [bad, bad], "pools": POOLS})
    assert code == 1
    assert sorted(e["code"] for e in result["errors"]) == ["duplicate_name", "invalid_port", "invalid_port", "negative_replicas", "negative_replicas"]
    assert result["findings"] == []
    assert "nothing was checked or applied" in result["msg"]


def test_unknown_policy_value_is_refused_by_the_argument_spec(capsys):
    code, result, dummy = run(capsys, {"workloads": [dict(WEB, external_traffic_policy="local")]})
    assert code == 1
    assert "external_traffic_policy" in result["msg"] and "Cluster, Local" in result["msg"]


def test_examples_and_return_parse():
    assert yaml.safe_load(workload_policy.EXAMPLES)
    returned = yaml.safe_load(workload_policy.RETURN)
    assert {"findings", "fatal", "counts", "errors", "workloads", "resolved"} == set(returned)
