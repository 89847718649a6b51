# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lb_workload applying to the lab's real Kubernetes API server (lab/clusterctl.py).

The seeds' four workloads (targets/lb_workload_render/seeds.yml) through ansible-playbook,
in the pattern check on a fresh cluster -> create -> repeat (changed=0) -> check+diff
(changed=0, no diff) -> update -> bad input (nothing written) -> remove. Between runs the
test reads what the API server holds, with the kubernetes client Ansible uses. The real
scheduler places the pods (kwok runs them), so the topology spread is checked too.
"""
from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s, config as k8s_config  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from metallb_lab.client import LabClient, run_playbook, unique_name  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "tests" / "integration" / "targets" / "lb_workload_apply"
SEEDS = yaml.safe_load((REPO / "tests" / "integration" / "targets" / "lb_workload_render" / "seeds.yml").read_text())
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
NAMES = sorted(w["name"] for w in SEEDS["lb_workload_workloads"])
NS = "demo"


@pytest.fixture(scope="module")
def kube():
    name = unique_name("lwa")
    lab = LabClient.fresh(name, nodes=3)
    try:
        subprocess.run([*CLUSTERCTL, "up", "--name", name], check=True, capture_output=True, text=True, timeout=900)
        kubeconfig = lab.inventory / "kubeconfig.yaml"
        yield {"lab": lab, "kubeconfig": kubeconfig, "api": k8s_config.new_client_from_config(config_file=str(kubeconfig))}
    finally:
        subprocess.run([*CLUSTERCTL, "down", "--name", name], capture_output=True, check=False)
        lab.down()


def play(kube, extra: dict | None = None, **kwargs):
    return run_playbook(TARGET / "playbook.yml", kube["lab"].inventory,
                        {"lb_workload_kubeconfig": str(kube["kubeconfig"]), **(extra or {})}, **kwargs)


def deployments(kube) -> dict:
    return {d.metadata.name: d for d in k8s.AppsV1Api(kube["api"]).list_namespaced_deployment(NS).items}


def services(kube) -> dict:
    return {s.metadata.name: s for s in k8s.CoreV1Api(kube["api"]).list_namespaced_service(NS).items}


def versions(kube) -> dict:
    """resourceVersion of every object in the namespace we apply to: unchanged = not written."""
    return {**{("Deployment", n): d.metadata.resource_version for n, d in deployments(kube).items()},
            **{("Service", n): s.metadata.resource_version for n, s in services(kube).items()}}


def workloads_with(name: str, **changes) -> list[dict]:
    out = copy.deepcopy(SEEDS["lb_workload_workloads"])
    for w in out:
        if w["name"] == name:
            w.update(changes)
    return out


def test_check_mode_on_a_fresh_cluster_lists_what_it_would_create(kube):
    run = play(kube, check=True, diff=True)
    assert run.changed > 0
    for name in NAMES:
        assert f"Deployment {NS}/{name}" in run.stdout and f"Service {NS}/{name}" in run.stdout
    namespaces = [n.metadata.name for n in k8s.CoreV1Api(kube["api"]).list_namespace().items]
    assert NS not in namespaces, "check mode created the namespace"


def test_apply_creates_the_seeds_workloads(kube):
    run = play(kube)
    assert run.changed > 0
    deps, svcs = deployments(kube), services(kube)
    assert sorted(deps) == NAMES and sorted(svcs) == NAMES
    for name in NAMES:
        assert deps[name].spec.replicas == 3
        assert deps[name].metadata.labels["app.kubernetes.io/managed-by"] == "baremetal.metallb"
        assert (deps[name].status.available_replicas or 0) == 3, f"{name} not available: {deps[name].status}"
        assert svcs[name].spec.type == "LoadBalancer"
    assert svcs["web-local"].spec.external_traffic_policy == "Local"
    assert svcs["web-cluster"].spec.external_traffic_policy == "Cluster"
    assert svcs["web-local"].metadata.annotations["metallb.io/address-pool"] == "lan-vips"
    assert svcs["web-local"].metadata.annotations["metallb.io/loadBalancerIPs"] == "198.51.100.210"
    assert svcs["stateful-api"].spec.session_affinity == "ClientIP"
    assert svcs["stateful-api"].spec.session_affinity_config.client_ip.timeout_seconds == 10800


def test_the_real_scheduler_spreads_each_workload_one_pod_per_node(kube):
    pods = k8s.CoreV1Api(kube["api"]).list_namespaced_pod(NS).items
    for name in NAMES:
        nodes = sorted(p.spec.node_name for p in pods if p.metadata.labels.get("app.kubernetes.io/name") == name)
        assert nodes == ["node1", "node2", "node3"], f"{name}: pods on {nodes}"


def test_second_run_changes_nothing(kube):
    before = versions(kube)
    assert play(kube).changed == 0
    assert versions(kube) == before


def test_check_diff_on_the_converged_cluster_is_quiet(kube):
    run = play(kube, check=True, diff=True)
    assert run.changed == 0
    # --diff prints a diff only for a task that changed: server-set fields make no noise
    assert "--- before" not in run.stdout and "+++ after" not in run.stdout, run.stdout


def test_update_changes_only_what_changed(kube):
    before = versions(kube)
    run = play(kube, {"lb_workload_workloads": workloads_with("web-cluster", replicas=2)}, diff=True)
    assert run.changed > 0
    assert deployments(kube)["web-cluster"].spec.replicas == 2
    after = versions(kube)
    assert after[("Deployment", "web-cluster")] != before[("Deployment", "web-cluster")]
    untouched = {k: v for k, v in before.items() if k != ("Deployment", "web-cluster")}
    assert {k: after[k] for k in untouched} == untouched
    assert "replicas" in run.stdout  # the diff shows the change


@pytest.mark.parametrize("changes, variable", [
    ({"replicas": -1}, "lb_workload_workloads[1].replicas"),
    ({"ports": [{"name": "http", "port": 70000}]}, "lb_workload_workloads[1].ports[0].port"),
    ({"external_traffic_policy": "Sometimes"}, "external_traffic_policy"),
])
def test_bad_input_fails_before_anything_is_written(kube, changes, variable):
    before = versions(kube)
    run = play(kube, {"lb_workload_workloads": workloads_with("web-cluster", **changes)}, expect_failure=True)
    assert variable in run.stdout, run.stdout
    assert versions(kube) == before


def test_a_workload_in_both_lists_is_refused(kube):
    before = versions(kube)
    run = play(kube, {"lb_workload_remove": [{"name": "web-local", "namespace": NS}]}, expect_failure=True)
    assert "lb_workload_remove[0]" in run.stdout
    assert versions(kube) == before


def test_remove_deletes_only_what_the_collection_manages(kube):
    apps = k8s.AppsV1Api(kube["api"])
    # someone else's Deployment with a name listed for removal: never ours to delete
    foreign = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "foreign", "namespace": NS},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "foreign"}},
                        "template": {"metadata": {"labels": {"app": "foreign"}},
                                     "spec": {"containers": [{"name": "c", "image": "registry.invalid/c:1"}]}}}}
    apps.create_namespaced_deployment(NS, foreign)
    keep = [w for w in SEEDS["lb_workload_workloads"] if w["name"] != "web-cluster"]
    remove = [{"name": "web-cluster", "namespace": NS}, {"name": "foreign", "namespace": NS}]
    run = play(kube, {"lb_workload_workloads": keep, "lb_workload_remove": remove})
    assert run.changed > 0
    deps, svcs = deployments(kube), services(kube)
    assert "web-cluster" not in deps and "web-cluster" not in svcs
    assert "foreign" in deps
    assert sorted(set(deps) - {"foreign"}) == sorted(set(NAMES) - {"web-cluster"})
    again = play(kube, {"lb_workload_workloads": keep, "lb_workload_remove": remove})
    assert again.changed == 0
    with pytest.raises(ApiException):
        apps.read_namespaced_deployment("web-cluster", NS)
