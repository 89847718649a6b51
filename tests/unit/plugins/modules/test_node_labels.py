# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The node_labels module's main(): check mode, diff, errors and docs, on the fake Node API.

The integration test (tests/integration/test_node_labels.py) runs it against the lab's API server.
"""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import module as k8s_module
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.baremetal.metallb.plugins.modules import node_labels
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.node_api_fake import FakeNodeApi

TOKEN = "s3cr3t-t0ken-value"
KUBECONFIG = {"users": [{"name": "admin", "user": {"token": TOKEN}}]}


@pytest.fixture
def cluster(monkeypatch):
    api = FakeNodeApi({"node1": {"labels": {"kubernetes.io/hostname": "node1"}}, "node2": {"labels": {}},
                       "node3": {"labels": {}}})
    monkeypatch.setattr(K8sClient, "from_params", classmethod(lambda cls, params: object()))
    monkeypatch.setattr(node_labels, "NodeApi", lambda client: api)
    return api


run = ModuleRunner(node_labels)


SEEDS = {"nodes": ["node1", "node3"], "common_labels": {"node-role": "edge"}, "kubeconfig": KUBECONFIG}


def test_check_mode_with_diff_reports_and_sends_nothing(capsys, cluster):
    code, result, out = run(capsys, {**SEEDS, "_ansible_check_mode": True, "_ansible_diff": True})
    assert code == 0 and result["changed"] is True
    assert result["changed_nodes"] == ["node1", "node3"] and result["patched"] == 0
    assert cluster.patches == []
    assert result["diff"]["after"]["node1"]["labels"]["node-role"] == "edge"
    assert "node-role" not in result["diff"]["before"]["node1"]["labels"]
    assert TOKEN not in out


def test_apply_then_converged_run_has_no_diff(capsys, cluster):
    code, result, out = run(capsys, SEEDS)
    assert code == 0 and result["patched"] == 2 and "diff" not in result
    code, result, out = run(capsys, {**SEEDS, "_ansible_diff": True})
    assert code == 0 and result["changed"] is False and result["patched"] == 0 and "diff" not in result
    assert len(cluster.patches) == 2


def test_bad_key_fails_naming_the_variable_before_the_client_is_built(capsys, monkeypatch):
    def no_client(cls, params):
        raise AssertionError("the client must not be built for invalid input")
    monkeypatch.setattr(K8sClient, "from_params", classmethod(no_client))
    code, result, out = run(capsys, {**SEEDS, "common_labels": {"node role": "edge"},
                                     "variable_names": {"common_labels": "edge_nodes_label"}})
    assert code == 1
    assert "edge_nodes_label: the label key 'node role'" in result["msg"]
    assert result["errors"] and TOKEN not in out


def test_missing_node_fails_without_patching(capsys, cluster):
    code, result = run(capsys, {**SEEDS, "nodes": ["node1", "node9"]})[:2]
    assert code == 1 and "node9" in result["msg"] and cluster.patches == []


def test_warnings_reach_ansible(capsys, cluster):
    code, result = run(capsys, {**SEEDS, "nodes": ["node1", "node9"], "missing_nodes": "warn"})[:2]
    assert code == 0 and result["missing_nodes"] == ["node9"]
    assert any("node9" in str(warning) for warning in result["warnings"])


def test_missing_kubernetes_library(capsys, monkeypatch):
    monkeypatch.setattr(k8s_module, "HAS_KUBERNETES", False)
    code, result = run(capsys, SEEDS)[:2]
    assert code == 1 and "kubernetes" in result["msg"]
