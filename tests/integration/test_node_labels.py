# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge_nodes role and the node_labels module against the lab's real API server.

Pattern: check on a fresh cluster -> create (the seeds: node-role=edge on node1 and node3,
node names from the inventory group ``edge``) -> repeat (changed=0 and no PATCH) -> check+diff
(quiet) -> update (node3 no longer listed: its managed label goes, a label kubectl put there
stays) -> the exclude-label finding -> bad input (nothing patched) -> delete all. Between runs
the test reads the Nodes the API server holds, and counts the PATCH requests on Nodes from the
API server's own /metrics (``apiserver_request_total``), so "no PATCH" is measured.

A lab of its own (the ``kube_lab`` fixture), torn down at the end.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench"))
from node_labels_bench import ApiMetrics  # noqa: E402

TARGET = REPO / "tests" / "integration" / "targets" / "edge_nodes"
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
KUBE_LAB = {"base": "nlb"}
ANNOTATION = "baremetal.metallb/managed-labels"
EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers"
EDGE_GROUP = "all:\n  children:\n    edge:\n      hosts:\n        node1: {}\n        node3: {}\n"


@pytest.fixture(scope="module")
def kube(kube_lab, tmp_path_factory):
    edge_inventory = tmp_path_factory.mktemp("edge") / "edge.yml"
    edge_inventory.write_text(EDGE_GROUP)
    return {**kube_lab, "edge_inventory": edge_inventory, "core": k8s.CoreV1Api(kube_lab["api"]),
            "metrics": ApiMetrics(kube_lab["kubeconfig"])}


def play(kube, extra: dict | None = None, playbook: str = "playbook.yml", **kwargs):
    """One run; returns (run, PATCH requests on Nodes the API server received meanwhile)."""
    before = kube["metrics"].node_patches()
    run = run_playbook(TARGET / playbook, kube["lab"].inventory,
                       {"edge_nodes_kubeconfig": str(kube["kubeconfig"]), "kubeconfig": str(kube["kubeconfig"]), **(extra or {})},
                       args=("-i", str(kube["edge_inventory"])), **kwargs)
    return run, kube["metrics"].node_patches() - before


def nodes(kube) -> dict:
    return {n.metadata.name: {"labels": n.metadata.labels or {}, "annotations": n.metadata.annotations or {}}
            for n in kube["core"].list_node().items}


def kubectl(kube, *args: str) -> None:
    subprocess.run([*CLUSTERCTL, "kubectl", "--name", kube["name"], "--", *args], check=True, capture_output=True, text=True)


def edge(kube) -> list[str]:
    return sorted(name for name, node in nodes(kube).items() if node["labels"].get("node-role") == "edge")


def test_check_mode_on_a_fresh_cluster_reports_and_patches_nothing(kube):
    run, patches = play(kube, check=True, diff=True)
    assert run.changed == 1
    assert "node-role: edge" in run.stdout, run.stdout
    assert patches == 0 and edge(kube) == []


def test_create_labels_the_seeds_edge_nodes_from_the_inventory_group(kube):
    run, patches = play(kube)
    assert run.changed == 1 and patches == 2
    assert edge(kube) == ["node1", "node3"]
    held = nodes(kube)
    assert held["node1"]["annotations"][ANNOTATION] == "node-role"
    assert ANNOTATION not in held["node2"]["annotations"]
    assert held["node1"]["labels"]["kubernetes.io/hostname"] == "node1"  # kwok's labels kept


def test_second_run_changes_nothing_and_sends_no_patch(kube):
    run, patches = play(kube)
    assert run.changed == 0 and patches == 0


def test_check_diff_on_the_converged_cluster_is_quiet(kube):
    run, patches = play(kube, check=True, diff=True)
    assert run.changed == 0 and patches == 0
    assert "--- before" not in run.stdout and "+++ after" not in run.stdout, run.stdout


def test_update_removes_only_the_managed_label_of_a_node_no_longer_listed(kube):
    kubectl(kube, "label", "node", "node3", "team=blue")
    run, patches = play(kube, {"edge_nodes_names": ["node1"]}, diff=True)
    assert run.changed == 1 and patches == 1  # node3 only
    held = nodes(kube)
    assert edge(kube) == ["node1"]
    assert held["node3"]["labels"]["team"] == "blue"  # set by kubectl, never ours
    assert ANNOTATION not in held["node3"]["annotations"]
    assert "node3" in run.stdout  # the diff names it
    run, patches = play(kube, {"edge_nodes_names": ["node1"]})
    assert run.changed == 0 and patches == 0


def test_edge_node_carrying_the_exclude_label_is_reported(kube):
    kubectl(kube, "label", "node", "node2", f"{EXCLUDE}=")  # as kubeadm does on a control plane
    run, patches = play(kube, {"edge_nodes_names": ["node1", "node2"]})
    output = run.stdout + run.stderr
    assert "node node2 is labelled node-role=edge but carries" in output, output
    assert f"kubectl label node node2 {EXCLUDE}-" in output
    assert nodes(kube)["node2"]["labels"][EXCLUDE] == ""  # reported, not removed
    # asked for: no warning, and the label becomes managed
    run, patches = play(kube, {"edge_nodes_names": ["node1", "node2"], "edge_nodes_exclude_from_lb": ["node2"]})
    assert "but carries" not in run.stdout + run.stderr
    assert sorted(nodes(kube)["node2"]["annotations"][ANNOTATION].split(",")) == sorted(["node-role", EXCLUDE])
    # leaving the list removes it again, since the role now manages it
    run, patches = play(kube, {"edge_nodes_names": ["node1"]})
    assert EXCLUDE not in nodes(kube)["node2"]["labels"] and "node-role" not in nodes(kube)["node2"]["labels"]


@pytest.mark.parametrize("extra, variable", [
    ({"edge_nodes_label": {"node role": "edge"}}, "edge_nodes_label: the label key 'node role'"),
    ({"edge_nodes_label": {"example.com/role": "edge/1"}}, "edge_nodes_label['example.com/role']: the value 'edge/1'"),
    ({"edge_nodes_labels": {"node3": {"Bad_Prefix/x": "y"}}}, "edge_nodes_labels['node3']: the label key 'Bad_Prefix/x'"),
    ({"edge_nodes_names": ["node1", "node9"]}, "edge_nodes_names: node(s) node9 do not exist"),
])
def test_bad_input_fails_before_any_patch(kube, extra, variable):
    before = nodes(kube)
    run, patches = play(kube, extra, expect_failure=True)
    assert variable in run.stdout, run.stdout
    assert patches == 0
    assert {n: v["labels"] for n, v in nodes(kube).items()} == {n: v["labels"] for n, v in before.items()}


def test_unknown_node_can_be_skipped_with_a_warning(kube):
    run, patches = play(kube, {"edge_nodes_names": ["node1", "node9"], "edge_nodes_missing_nodes": "warn"})
    assert run.changed == 0 and patches == 0
    assert "node9" in run.stdout + run.stderr and "skipped" in run.stdout + run.stderr


def test_module_null_removes_a_label_someone_else_set(kube):
    # the same ownership annotation as the role's: node1 stays listed, or its managed label would go
    run, patches = play(kube, {"nodes": ["node1"], "common_labels": {"node-role": "edge"}, "labels": {"node3": {"team": None}}},
                        playbook="module.yml")
    assert run.changed == 1 and patches == 1
    assert "team" not in nodes(kube)["node3"]["labels"]


def test_delete_all_removes_every_managed_label_and_nothing_else(kube):
    kubectl(kube, "label", "node", "node1", "team=red")
    run, patches = play(kube, {"edge_nodes_names": []})
    assert run.changed == 1 and patches == 1  # node1, the last edge node
    held = nodes(kube)
    assert edge(kube) == []
    assert all(ANNOTATION not in node["annotations"] for node in held.values())
    assert held["node1"]["labels"]["team"] == "red"
    run, patches = play(kube, {"edge_nodes_names": []})
    assert run.changed == 0 and patches == 0
