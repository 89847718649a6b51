# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/verify.yml against the lab: real MetalLB, real ARP from the `client` host.

Two layer 2 Services (Local and Cluster) applied with lb_workload; verify.yml must agree with
the wire (the MAC answering each VIP is the leader MetalLB recorded), write a report with a
Mermaid flowchart per Service, change nothing (also in check mode), and fail, naming the
Service and the fix, once no node may announce the pool any more.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KUBE_LAB = {"base": "vfy", "metallb": True}
NS = "metallb-system"
POOL = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "lan-vips", "namespace": NS},
        "spec": {"addresses": ["198.51.100.200-198.51.100.230"]}}
L2ADV = {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "lan", "namespace": NS},
         "spec": {"ipAddressPools": ["lan-vips"]}}
WORKLOADS = {
    "lb_workload_pools": [{"name": "lan-vips", "protocol": "layer2", "addresses": ["198.51.100.200-198.51.100.230"]}],
    "lb_workload_workloads": [
        {"name": "web-local", "namespace": "demo", "image": "registry.invalid/web:1", "replicas": 3,
         "ports": [{"name": "http", "port": 80, "target_port": 8080}], "external_traffic_policy": "Local",
         "address_pool": "lan-vips", "load_balancer_ips": ["198.51.100.210"]},
        {"name": "web-cluster", "namespace": "demo", "image": "registry.invalid/web:1", "replicas": 2,
         "ports": [{"name": "http", "port": 80, "target_port": 8080}], "address_pool": "lan-vips"},
    ],
}


@pytest.fixture(scope="module")
def applied(kube_lab):
    custom = k8s.CustomObjectsApi(kube_lab["api"])
    for obj, plural in ((POOL, "ipaddresspools"), (L2ADV, "l2advertisements")):
        custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, obj)
    run_playbook(REPO / "tests/integration/targets/lb_workload_apply/playbook.yml", kube_lab["lab"].inventory,
                 {**WORKLOADS, "lb_workload_kubeconfig": str(kube_lab["kubeconfig"])})
    return kube_lab


def verify(kube_lab, report: Path, **kwargs):
    return run_playbook("playbooks/verify.yml", kube_lab["lab"].inventory,
                        {"metallb_kubeconfig": str(kube_lab["kubeconfig"]), "lb_verify_report_path": str(report)}, **kwargs)


def leaders(kube_lab) -> dict:
    items = k8s.CustomObjectsApi(kube_lab["api"]).list_namespaced_custom_object(
        "metallb.io", "v1beta1", NS, "servicel2statuses")["items"]
    return {i["metadata"]["labels"]["metallb.io/service-name"]: i["status"]["node"] for i in items}


def test_verify_agrees_with_the_wire_and_writes_the_report(applied, tmp_path):
    report = tmp_path / "reports" / "metallb.md"
    run = verify(applied, report)
    assert run.changed == 0
    assert re.search(r"demo/web-cluster 198\.51\.100\.2[0-3]\d: ok", run.stdout), run.stdout
    assert "demo/web-local 198.51.100.210: ok" in run.stdout
    text = report.read_text()
    assert "2 of 2 Service(s) as expected." in text
    assert text.count("```mermaid") == 2
    # the leader in the report is the node MetalLB recorded, and ARP from the client agreed
    for name, node in leaders(applied).items():
        assert f"| demo/{name} |" in text and f"leader {node} | ARP ok |" in text, text


def test_verify_is_check_mode_safe(applied, tmp_path):
    run = verify(applied, tmp_path / "r.md", check=True)
    assert run.changed == 0 and "web-local 198.51.100.210: ok" in run.stdout


def test_verify_fails_naming_the_service_when_no_node_may_announce(applied, tmp_path):
    custom = k8s.CustomObjectsApi(applied["api"])
    custom.patch_namespaced_custom_object("metallb.io", "v1beta1", NS, "l2advertisements", "lan",
                                          {"spec": {"nodeSelectors": [{"matchLabels": {"no-such-label": "x"}}]}})
    report = tmp_path / "broken.md"
    run = verify(applied, report, expect_failure=True)
    assert "MetalLB does not announce every Service as expected" in run.stdout
    assert "layer2_no_announcing_node" in run.stdout and "demo/web-local" in run.stdout
    text = report.read_text()
    assert "0 of 2 Service(s) as expected." in text and "PROBLEMS" in text
    assert "Fix: run a pod on an advertising node" in text
