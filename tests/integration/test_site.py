# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/site.yml end to end on a fresh lab, with the lab's desired state
(inventories/lab/metallb.yml: both seeds on one cluster), as `make demo` runs it.

check on the fresh cluster (does not fail, creates nothing) -> site (router, MetalLB,
config, edge labels, workloads, verify: 4 of 4 Services as expected on the wire, the data
path included) -> repeat (changed=0) -> check + diff (changed=0). Then the seeds' claims
are read from the report and the API server.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KUBE_LAB = {"base": "site"}
DESIRED = REPO / "inventories" / "lab" / "metallb.yml"


def site(kube_lab, report: Path, **kwargs):
    return run_playbook("playbooks/site.yml", kube_lab["lab"].inventory, {"lb_verify_report_path": str(report)},
                        args=("-i", str(DESIRED)), **kwargs)


def test_check_mode_on_a_fresh_cluster_changes_nothing_and_does_not_fail(kube_lab, tmp_path):
    run = site(kube_lab, tmp_path / "check.md", check=True, diff=True)
    assert run.changed > 0  # it says what it would do
    namespaces = {n.metadata.name for n in k8s.CoreV1Api(kube_lab["api"]).list_namespace().items}
    assert "metallb-system" not in namespaces and "demo" not in namespaces


def test_site_converges_and_verifies_both_seeds(kube_lab, tmp_path):
    report = tmp_path / "site.md"
    run = site(kube_lab, report)
    assert run.changed > 0
    text = report.read_text()
    assert "4 of 4 Service(s) as expected." in text, text
    # layer 2: one leader answers ARP; Local keeps the client address, Cluster hides it
    assert re.search(r"\| demo/web-local \| 198\.51\.100\.210 \| layer2 \| Local \| leader node\d \| ARP ok; data path ok \|", text)
    assert re.search(r"\| demo/web-cluster \| 198\.51\.100\.2\d\d \| layer2 \| Cluster \| leader node\d \| ARP ok; data path ok \|", text)
    # BGP: only the edge nodes (node1, node3) are next hops
    assert "| demo/api-server | 203.0.113." in text and "ECMP node1, node3 | routes ok; data path ok |" in text
    local = text[text.index("## demo/web-local"):]
    assert "client address preserved" in local.split("## ")[1]
    cluster = text[text.index("## demo/web-cluster"):]
    assert "client address not preserved (SNAT)" in cluster.split("## ")[1]
    nodes = {n.metadata.name: n.metadata.labels for n in k8s.CoreV1Api(kube_lab["api"]).list_node().items}
    assert [n for n, labels in sorted(nodes.items()) if labels.get("node-role") == "edge"] == ["node1", "node3"]


def test_second_run_changes_nothing(kube_lab, tmp_path):
    run = site(kube_lab, tmp_path / "again.md")
    assert run.changed == 0, run.stdout[-3000:]


def test_check_diff_on_the_converged_lab_is_quiet(kube_lab, tmp_path):
    run = site(kube_lab, tmp_path / "quiet.md", check=True, diff=True)
    assert run.changed == 0, run.stdout[-3000:]
    assert "4 of 4 Service(s) as expected." in (tmp_path / "quiet.md").read_text()
