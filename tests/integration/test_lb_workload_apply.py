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
from pathlib import Path

import pytest
import yaml

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
TARGET = REPO / "tests" / "integration" / "targets" / "lb_workload_apply"
SEEDS = yaml.safe_load((REPO / "tests" / "integration" / "targets" / "lb_workload_render" / "seeds.yml").read_text())
KUBE_LAB = {"base": "lwa"}
NAMES = sorted(w["name"] for w in SEEDS["lb_workload_workloads"])
NS = "demo"


def play(kube_lab, extra: dict | None = None, **kwargs):
    return run_playbook(TARGET / "playbook.yml", kube_lab["lab"].inventory,
                        {"lb_workload_kubeconfig": str(kube_lab["kubeconfig"]), **(extra or {})}, **kwargs)


def deployments(kube_lab) -> dict:
    return {d.metadata.name: d for d in k8s.AppsV1Api(kube_lab["api"]).list_namespaced_deployment(NS).items}


def services(kube_lab) -> dict:
    return {s.metadata.name: s for s in k8s.CoreV1Api(kube_lab["api"]).list_namespaced_service(NS).items}


def versions(kube_lab) -> dict:
    """resourceVersion of every object in the namespace we apply to: unchanged = not written."""
    return {**{("Deployment", n): d.metadata.resource_version for n, d in deployments(kube_lab).items()},
            **{("Service", n): s.metadata.resource_version for n, s in services(kube_lab).items()}}


def workloads_with(name: str, **changes) -> list[dict]:
    out = copy.deepcopy(SEEDS["lb_workload_workloads"])
    for w in out:
        if w["name"] == name:
            w.update(changes)
    return out


def test_check_mode_on_a_fresh_cluster_lists_what_it_would_create(kube_lab):
    run = play(kube_lab, check=True, diff=True)
    assert run.changed > 0
    for name in NAMES:
        assert f"Deployment {NS}/{name}" in run.stdout and f"Service {NS}/{name}" in run.stdout
    namespaces = [n.metadata.name for n in k8s.CoreV1Api(kube_lab["api"]).list_namespace().items]
    assert NS not in namespaces, "check mode created the namespace"


def test_apply_creates_the_seeds_workloads(kube_lab):
    run = play(kube_lab)
    assert run.changed > 0
    deps, svcs = deployments(kube_lab), services(kube_lab)
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


def test_the_real_scheduler_spreads_each_workload_one_pod_per_node(kube_lab):
    pods = k8s.CoreV1Api(kube_lab["api"]).list_namespaced_pod(NS).items
    for name in NAMES:
        nodes = sorted(p.spec.node_name for p in pods if p.metadata.labels.get("app.kubernetes.io/name") == name)
        assert nodes == ["node1", "node2", "node3"], f"{name}: pods on {nodes}"


def test_second_run_changes_nothing(kube_lab):
    before = versions(kube_lab)
    assert play(kube_lab).changed == 0
    assert versions(kube_lab) == before


def test_check_diff_on_the_converged_cluster_is_quiet(kube_lab):
    run = play(kube_lab, check=True, diff=True)
    assert run.changed == 0
    # --diff prints a diff only for a task that changed: server-set fields make no noise
    assert "--- before" not in run.stdout and "+++ after" not in run.stdout, run.stdout


def test_update_changes_only_what_changed(kube_lab):
    before = versions(kube_lab)
    run = play(kube_lab, {"lb_workload_workloads": workloads_with("web-cluster", replicas=2)}, diff=True)
    assert run.changed > 0
    assert deployments(kube_lab)["web-cluster"].spec.replicas == 2
    after = versions(kube_lab)
    assert after[("Deployment", "web-cluster")] != before[("Deployment", "web-cluster")]
    untouched = {k: v for k, v in before.items() if k != ("Deployment", "web-cluster")}
    assert {k: after[k] for k in untouched} == untouched
    assert "replicas" in run.stdout  # the diff shows the change


@pytest.mark.parametrize("changes, variable", [
    ({"replicas": -1}, "lb_workload_workloads[1].replicas"),
    ({"ports": [{"name": "http", "port": 70000}]}, "lb_workload_workloads[1].ports[0].port"),
    ({"external_traffic_policy": "Sometimes"}, "external_traffic_policy"),
])
def test_bad_input_fails_before_anything_is_written(kube_lab, changes, variable):
    before = versions(kube_lab)
    run = play(kube_lab, {"lb_workload_workloads": workloads_with("web-cluster", **changes)}, expect_failure=True)
    assert variable in run.stdout, run.stdout
    assert versions(kube_lab) == before


def test_a_workload_in_both_lists_is_refused(kube_lab):
    before = versions(kube_lab)
    run = play(kube_lab, {"lb_workload_remove": [{"name": "web-local", "namespace": NS}]}, expect_failure=True)
    assert "lb_workload_remove[0]" in run.stdout
    assert versions(kube_lab) == before


def test_remove_deletes_only_what_the_collection_manages(kube_lab):
    apps = k8s.AppsV1Api(kube_lab["api"])
    # someone else's Deployment with a name listed for removal: never ours to delete
    foreign = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "foreign", "namespace": NS},
               "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "foreign"}},
                        "template": {"metadata": {"labels": {"app": "foreign"}},
                                     "spec": {"containers": [{"name": "c", "image": "registry.invalid/c:1"}]}}}}
    apps.create_namespaced_deployment(NS, foreign)
    keep = [w for w in SEEDS["lb_workload_workloads"] if w["name"] != "web-cluster"]
    remove = [{"name": "web-cluster", "namespace": NS}, {"name": "foreign", "namespace": NS}]
    run = play(kube_lab, {"lb_workload_workloads": keep, "lb_workload_remove": remove})
    assert run.changed > 0
    deps, svcs = deployments(kube_lab), services(kube_lab)
    assert "web-cluster" not in deps and "web-cluster" not in svcs
    assert "foreign" in deps
    assert sorted(set(deps) - {"foreign"}) == sorted(set(NAMES) - {"web-cluster"})
    again = play(kube_lab, {"lb_workload_workloads": keep, "lb_workload_remove": remove})
    assert again.changed == 0
    with pytest.raises(ApiException):
        apps.read_namespaced_deployment("web-cluster", NS)
