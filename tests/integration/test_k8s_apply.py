# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""k8s_apply against the lab's real API server (kwok plays the kubelet, so Deployments roll out).

A lab of its own (the ``kube_lab`` fixture), in the pattern: check mode on an empty cluster
(nothing written; objects in a new namespace or of a new kind unverified) -> apply with wait
(a CRD and an object of its kind in one run; the Deployment available when the task returns)
-> repeat (changed=0) -> check+diff of an update (the Secret's values never shown) -> update
-> another field manager's change (a conflict naming the field; force takes it) -> bad input
(an error naming the definition, nothing written). Between runs the test reads the API server.
"""
from __future__ import annotations

import base64
import copy
import json
import re
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402
from kubernetes.dynamic import DynamicClient  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "tests" / "integration" / "targets" / "k8s_apply" / "playbook.yml"
KUBE_LAB = {"base": "kap", "nodes": 1}
NS = "apply-test"
PASSWORD = "Kp4-never-shown"
GROUP = "lab.baremetal.example"

NAMESPACE = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS, "labels": {"team": "lab"}}}
CRD = {
    "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
    "metadata": {"name": f"widgets.{GROUP}"},
    "spec": {"group": GROUP, "scope": "Namespaced",
             "names": {"plural": "widgets", "singular": "widget", "kind": "Widget", "listKind": "WidgetList"},
             "versions": [{"name": "v1", "served": True, "storage": True, "schema": {"openAPIV3Schema": {
                 "type": "object", "properties": {"spec": {"type": "object", "properties": {"size": {"type": "integer"}}}}}}}]},
}
WIDGET = {"apiVersion": f"{GROUP}/v1", "kind": "Widget", "metadata": {"name": "w1", "namespace": NS}, "spec": {"size": 3}}
CONFIG_MAP = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": NS}, "data": {"mode": "a"}}
SECRET = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "peer", "namespace": NS}, "stringData": {"password": PASSWORD}}
DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": NS},
    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
             "template": {"metadata": {"labels": {"app": "web"}},
                          "spec": {"containers": [{"name": "web", "image": "registry.k8s.io/pause:3.10"}]}}},
}
# Workload first, Namespace last: the module's waves, not the list, decide the order.
ALL = [DEPLOYMENT, WIDGET, SECRET, CONFIG_MAP, CRD, NAMESPACE]


@pytest.fixture(scope="module")
def kube(kube_lab):
    return kube_lab


def apply(kube, tmp_path, definitions, *, check=False, diff=False, **extra):
    out = tmp_path / "result.json"
    run = run_playbook(PLAYBOOK, kube["lab"].inventory / "hosts.yml",
                       {"kubeconfig": str(kube["kubeconfig"]), "definitions": definitions, "result_file": str(out), **extra},
                       check=check, diff=diff)
    return run, json.loads(out.read_text())


def methods(result) -> dict:
    return {f"{r['kind']} {r['name']}": r["method"] for r in result["results"]}


def exists(kube, read) -> bool:
    try:
        read()
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return True


def test_check_mode_on_an_empty_cluster_writes_nothing(kube, tmp_path):
    run, result = apply(kube, tmp_path, ALL, check=True, diff=True)
    assert result["changed"] is True and run.changed == 1
    assert set(methods(result).values()) == {"create"}
    unverified = sorted(f"{r['kind']} {r['name']}" for r in result["results"] if r["unverified"])
    # the Namespace and the CRD were dry-run; what lives in them could not be
    assert unverified == ["ConfigMap settings", "Deployment web", "Secret peer", "Widget w1"]
    assert not exists(kube, lambda: k8s.CoreV1Api(kube["api"]).read_namespace(NS))
    assert not exists(kube, lambda: k8s.ApiextensionsV1Api(kube["api"]).read_custom_resource_definition(CRD["metadata"]["name"]))
    assert "Namespace apply-test (created)" in run.stdout


def test_apply_creates_in_dependency_order_and_waits(kube, tmp_path):
    run, result = apply(kube, tmp_path, ALL, wait=True)
    assert not result.get("failed"), result.get("msg")
    assert set(methods(result).values()) == {"create"} and run.changed == 1
    widget = k8s.CustomObjectsApi(kube["api"]).get_namespaced_custom_object(GROUP, "v1", NS, "widgets", "w1")
    assert widget["spec"] == {"size": 3}
    # wait: the task returned the Deployment as it was once available (a new one has no status in the apply's answer)
    status = next(r for r in result["results"] if r["kind"] == "Deployment")["object"]["status"]
    assert status.get("availableReplicas") == 2 and status.get("updatedReplicas") == 2, status
    secret = k8s.CoreV1Api(kube["api"]).read_namespaced_secret("peer", NS)
    assert base64.b64decode(secret.data["password"]).decode() == PASSWORD
    assert PASSWORD not in json.dumps(result) and PASSWORD not in run.stdout


def test_repeat_changes_nothing(kube, tmp_path):
    before = k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).metadata.resource_version
    run, result = apply(kube, tmp_path, ALL, wait=True)
    assert result["changed"] is False and run.changed == 0
    assert set(methods(result).values()) == {"unchanged"}
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).metadata.resource_version == before
    run, result = apply(kube, tmp_path, ALL, check=True, diff=True)
    assert result["changed"] is False and "--- before" not in run.stdout


def test_check_and_diff_of_an_update_show_only_what_changes(kube, tmp_path):
    config_map = copy.deepcopy(CONFIG_MAP)
    config_map["data"]["mode"] = "b"
    secret = copy.deepcopy(SECRET)
    secret["stringData"]["password"] = "Other-Kp4-pw"
    run, result = apply(kube, tmp_path, [config_map, secret, NAMESPACE], check=True, diff=True)
    assert methods(result) == {"ConfigMap settings": "update", "Secret peer": "update", "Namespace apply-test": "unchanged"}
    # the diff as the output callback prints it (YAML or JSON, by ansible.cfg)
    assert re.search(r'^-\s+"?mode"?: "?a"?$', run.stdout, re.M) and re.search(r'^\+\s+"?mode"?: "?b"?$', run.stdout, re.M), run.stdout
    assert re.search(r'^\+\s+"?password"?: "?\(hidden, changed\)"?$', run.stdout, re.M), run.stdout
    for text in (run.stdout, json.dumps(result)):
        for value in (PASSWORD, "Other-Kp4-pw", base64.b64encode(PASSWORD.encode()).decode()):
            assert value not in text
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).data == {"mode": "a"}
    run, result = apply(kube, tmp_path, [config_map])
    assert methods(result) == {"ConfigMap settings": "update"}
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).data == {"mode": "b"}


def test_another_managers_change_is_a_conflict_until_forced(kube, tmp_path):
    dynamic = DynamicClient(kube["api"])
    config_maps = dynamic.resources.get(api_version="v1", kind="ConfigMap")
    dynamic.server_side_apply(config_maps, body={"apiVersion": "v1", "kind": "ConfigMap",
                                                 "metadata": {"name": "settings", "namespace": NS}, "data": {"mode": "z"}},
                              namespace=NS, field_manager="someone-else", force_conflicts=True)
    config_map = dict(CONFIG_MAP, data={"mode": "b"})
    run, result = apply(kube, tmp_path, [config_map])
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("definitions[0] (ConfigMap apply-test/settings): applying ConfigMap apply-test/settings: HTTP 409")
    (conflict,) = result["conflicts"]
    assert conflict["object"] == "ConfigMap apply-test/settings" and conflict["field"] == ".data.mode"
    assert 'conflict with "someone-else"' in conflict["message"]
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).data == {"mode": "z"}
    run, result = apply(kube, tmp_path, [config_map], force_conflicts=True)
    assert methods(result) == {"ConfigMap settings": "update"}
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).data == {"mode": "b"}


@pytest.mark.parametrize("definitions, message", [
    ([{"apiVersion": "v1", "metadata": {"name": "x", "namespace": NS}}], "definitions[0]: kind missing"),
    ([NAMESPACE, {"apiVersion": "example.invalid/v1", "kind": "Nothing", "metadata": {"name": "x", "namespace": NS}}],
     "definitions[1] (Nothing apply-test/x): the API server does not serve Nothing in example.invalid/v1"),
])
def test_bad_input_names_the_definition(kube, tmp_path, definitions, message):
    before = k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).metadata.resource_version
    run, result = apply(kube, tmp_path, definitions)
    assert result["failed"] is True and result["msg"].startswith(message), result["msg"]
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_config_map("settings", NS).metadata.resource_version == before
