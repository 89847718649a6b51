# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The read-only verification identity: its rules are exactly what lb_status reads."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.snapshot import read_snapshot
from ansible_collections.baremetal.metallb.plugins.module_utils.status import verify_access as V

REPO = Path(__file__).resolve().parents[5]
CLUSTER_SCOPED = {"Node"}


class Resource:
    def __init__(self, read):
        self.kind = read.kind
        self.namespaced = read.kind not in CLUSTER_SCOPED
        self.group = read.api_version.split("/")[0] if "/" in read.api_version else ""


class RecordingApi:
    """Answers every read with one object per kind; records (group, plural, namespace, verb)."""

    def __init__(self):
        self.calls = []

    def resource(self, read):
        return Resource(read)

    def get(self, read, resource, namespace, name=None, **query):
        self.calls.append((resource.group, V.plural(resource.kind), namespace, "get" if name else "list"))
        if resource.kind == "Service":
            return {"items": [{"metadata": {"name": "web", "namespace": "demo"}, "spec": {"type": "LoadBalancer"}}]}
        return {"items": []}


def allowed(rules, group, resource, verb):
    return any(group in r["apiGroups"] and resource in r["resources"] and verb in r["verbs"] for r in rules)


@pytest.mark.parametrize("namespaces", [[], ["demo"]])
def test_rules_are_exactly_what_lb_status_reads(namespaces):
    api = RecordingApi()
    read_snapshot(None, "metallb-system", "app.kubernetes.io/managed-by=baremetal.metallb", namespaces, api=api)
    objs = {o["kind"]: o for o in V.objects()}
    cluster, role = objs["ClusterRole"]["rules"], objs["Role"]["rules"]
    assert objs["Role"]["metadata"]["namespace"] == "metallb-system"
    for group, resource, namespace, verb in api.calls:
        rules = cluster + role if namespace == "metallb-system" else cluster
        assert allowed(rules, group, resource, verb), (group, resource, namespace, verb)
    # nothing granted that is not read: every rule's every resource is used
    used = {(g, r, v) for g, r, _namespace, v in api.calls}
    granted = {(g, r, v) for rule in cluster + role for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]}
    assert granted == used
    # no namespaced read outside MetalLB's namespace is served by the Role alone
    assert all(not allowed(cluster, g, r, v) for g, r, v in {(g, r, v) for rule in role
               for g in rule["apiGroups"] for r in rule["resources"] for v in rule["verbs"]})


def test_no_write_verb_and_no_secret_is_readable():
    for obj in V.objects():
        for rule in obj.get("rules") or []:
            assert rule["verbs"] == ["list"], rule
            assert "secrets" not in rule["resources"]


def test_bindings_name_the_service_account_and_namespaces_follow_the_options():
    objs = V.objects("verifier", "ops", "lb-system", token_secret=True)
    kinds = [o["kind"] for o in objs]
    assert kinds == ["ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Secret"]
    for binding in (objs[2], objs[4]):
        assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "verifier", "namespace": "ops"}]
        assert binding["roleRef"]["name"] == "verifier"
    assert objs[3]["metadata"]["namespace"] == objs[4]["metadata"]["namespace"] == "lb-system"
    secret = objs[5]
    assert secret["type"] == "kubernetes.io/service-account-token"
    assert secret["metadata"]["annotations"] == {"kubernetes.io/service-account.name": "verifier"}
    assert secret["metadata"]["namespace"] == "ops" and "data" not in secret
    assert "Secret" not in [o["kind"] for o in V.objects(token_secret=False)]


def test_shipped_rbac_file_is_the_generated_one():
    shipped = yaml.safe_load((REPO / "roles/lb_verify/files/verify-rbac.yaml").read_text())
    assert (shipped["apiVersion"], shipped["kind"]) == ("v1", "List")
    assert shipped["items"] == V.objects(token_secret=False)


ADMIN = {
    "apiVersion": "v1", "kind": "Config", "current-context": "lab",
    "clusters": [{"name": "lab", "cluster": {"server": "https://127.0.0.1:6443", "certificate-authority": "/pki/ca.crt"}},
                 {"name": "other", "cluster": {"server": "https://192.0.2.9:6443", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "admin", "user": {"client-certificate": "/pki/admin.crt", "client-key": "/pki/admin.key"}}],
    "contexts": [{"name": "lab", "context": {"cluster": "lab", "user": "admin"}},
                 {"name": "o", "context": {"cluster": "other", "user": "admin"}}],
}


def test_token_kubeconfig_keeps_the_cluster_and_drops_the_admin_credentials():
    out = V.token_kubeconfig(ADMIN, "tok3n")
    assert out["clusters"] == [ADMIN["clusters"][0]]
    assert out["users"] == [{"name": "baremetal-metallb-verify", "user": {"token": "tok3n"}}]
    assert out["current-context"] == "baremetal-metallb-verify"
    assert "admin" not in yaml.safe_dump(out)
    other = V.token_kubeconfig(ADMIN, "t", user="v", context="o")
    assert other["clusters"][0]["cluster"]["server"] == "https://192.0.2.9:6443"


@pytest.mark.parametrize("admin, token, context, message", [
    (ADMIN, "t", "nope", "no context 'nope'"),
    ({**ADMIN, "clusters": []}, "t", "", "has no server"),
    (ADMIN, "", "", "no token"),
    ("not a dict", "t", "", "not a mapping"),
])
def test_token_kubeconfig_errors(admin, token, context, message):
    with pytest.raises(V.KubeconfigError, match=message):
        V.token_kubeconfig(admin, token, context=context)
