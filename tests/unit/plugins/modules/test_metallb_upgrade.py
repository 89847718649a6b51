# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""main() of metallb_upgrade against a fake cluster (cases in the YAML beside): the check step's
verdict and refusal, the migrate step's rewrites and storedVersions patch (none in check mode,
none on a clean cluster). The lab test is
tests/integration/cluster/test_metallb_upgrade.py::test_upgrade_keeps_every_service_and_stores_bgppeers_at_v1beta2."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError
from ansible_collections.baremetal.metallb.plugins.modules import metallb_upgrade
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

DATA = load_data(__file__)
RUN = ModuleRunner(metallb_upgrade)


def crd(stored: list, deprecated_v1beta1: bool) -> dict:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": "bgppeers.metallb.io"},
            "spec": {"group": "metallb.io", "scope": "Namespaced", "names": {"plural": "bgppeers"}, "versions": [
                {"name": "v1beta1", "served": True, "storage": False, "deprecated": deprecated_v1beta1},
                {"name": "v1beta2", "served": True, "storage": True}]},
            "status": {"storedVersions": stored}}


def workload(kind: str, name: str, tag: str) -> dict:
    return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "metallb-system"},
            "spec": {"template": {"spec": {"containers": [{"name": name, "image": f"quay.io/metallb/{name}:{tag}"}]}}}}


class Cluster:
    """The reads (BatchRead.run by key), the custom objects API and the status patches."""

    def __init__(self, case: dict):
        tag = case.get("running")
        self.held = [workload("Deployment", "controller", tag), workload("DaemonSet", "speaker", tag)] if tag else []
        self.held.append(crd(case["stored"], False))
        self.peers = [{"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer",
                       "metadata": {"name": name, "namespace": "metallb-system", "resourceVersion": "1",
                                    "managedFields": [{"manager": "kubectl", "apiVersion": f"metallb.io/{api}"}]},
                       "spec": {"myASN": 64500}} for name, api in case["peers"].items()]
        self.replaced, self.patches, self.conflicts = [], [], case.get("conflicts", 0)

    def __call__(self, api):  # as BatchRead(api)
        return self

    def run(self, reads):
        out = {}
        for read in reads:
            out[read.key] = [o for o in self.held if o["kind"] == read.kind and (read.name in (None, o["metadata"]["name"]))
                             and (read.namespace in (None, o["metadata"].get("namespace")))]
        return {"resources": out, "api_found": {k: True for k in out}}

    # the K8sClient the module gets
    def request(self, what, call, *args, **kwargs):
        return call(*args, **kwargs)

    def custom(self):
        return self

    def list_cluster_custom_object(self, group, version, plural):
        assert (group, version, plural) == ("metallb.io", "v1beta2", "bgppeers")
        return {"items": self.peers}

    def replace_namespaced_custom_object(self, group, version, namespace, plural, name, body):
        if self.conflicts:
            self.conflicts -= 1
            raise K8sError("conflict", status=409)
        self.replaced.append((version, name, body["spec"]))

    def get_namespaced_custom_object(self, group, version, namespace, plural, name):
        return next(p for p in self.peers if p["metadata"]["name"] == name)


@parametrize_cases(DATA["cases"])
def test_case(capsys, monkeypatch, case):
    cluster = Cluster(case)
    monkeypatch.setattr(K8sClient, "from_params", classmethod(lambda cls, params, connections=None: cluster))
    monkeypatch.setattr(metallb_upgrade, "BatchRead", cluster)
    monkeypatch.setattr(metallb_upgrade, "DynamicApi", lambda client: None)
    monkeypatch.setattr(metallb_upgrade, "patch_stored_versions",
                        lambda client, name, patch: cluster.patches.append((name, patch)))
    release = [workload("Deployment", "controller", "v0.16.1"), workload("DaemonSet", "speaker", "v0.16.1"),
               crd(["v1beta2"], True)]
    args = dict(case["args"], release=release, kubeconfig={})
    code, result, dummy = RUN(capsys, args)
    expect = case["expect"]
    assert_expected(code, result, expect)
    assert cluster.replaced == [("v1beta2", name, {"myASN": 64500}) for name in expect.get("replaced", [])]
    assert cluster.patches == [("bgppeers.metallb.io", [
        {"op": "test", "path": "/status/storedVersions", "value": case["stored"]},
        {"op": "replace", "path": "/status/storedVersions", "value": ["v1beta2"]}])] * expect.get("patches", 0)
    for text in expect.get("lines_have", []):
        assert any(text in line for line in result["lines"]), result["lines"]
