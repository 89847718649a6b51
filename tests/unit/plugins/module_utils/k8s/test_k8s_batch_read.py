# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""BatchRead against a fake of the dynamic client's two calls (cases in the YAML beside)."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import batch_read
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, check_reads, metadata_only
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.dynamic_api_fake import FakeDynamicApi
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)


def FakeApi(page_size=None):
    return FakeDynamicApi(DATA["served"], DATA["objects"], page_size)


def _with_defaults(reads: list[dict]) -> list[dict]:
    # What AnsibleModule hands the module: every suboption present.
    return [{name: read.get(name, spec.get("default")) for name, spec in batch_read.READ_ARG_SPEC.items()} for read in reads]


@parametrize_cases(DATA["cases"])
def test_reads(case):
    api = FakeApi(case.get("page_size"))
    result = BatchRead(api).run(check_reads(_with_defaults(case["reads"])))
    assert set(result["resources"]) == set(case["expect"])
    for key, want in case["expect"].items():
        assert result["api_found"][key] is want["found"], key
        items = result["resources"][key]
        names = sorted("/".join(filter(None, (o["metadata"].get("namespace"), o["metadata"]["name"]))) for o in items)
        assert names == want["names"], key
        read = next(r for r in case["reads"] if r["key"] == key)
        # every item carries apiVersion and kind, as k8s_info returns them
        assert all(o["apiVersion"] == read.get("api_version", "v1") and o["kind"] == read["kind"] for o in items), key
        if "lists" in want:
            assert api.lists == want["lists"]


def test_metadata_only_keeps_no_data_and_no_annotations():
    reads = check_reads(_with_defaults([{"key": "secrets", "kind": "Secret", "namespace": "metallb-system", "metadata_only": True}]))
    secret = BatchRead(FakeApi()).run(reads)["resources"]["secrets"][0]
    assert secret == {"apiVersion": "v1", "kind": "Secret", "type": "kubernetes.io/basic-auth",
                      "metadata": {"name": "peer-password", "namespace": "metallb-system",
                                   "labels": {"app.kubernetes.io/managed-by": "baremetal.metallb"}}}
    assert "c2VjcmV0" not in repr(secret)


def test_metadata_only_of_an_object_without_type():
    assert metadata_only({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n", "annotations": {"a": "b"}}, "spec": {}}) == {
        "apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}


def test_a_key_used_twice_is_named():
    with pytest.raises(ValueError, match="the key 'nodes' is used twice"):
        check_reads(_with_defaults([{"key": "nodes", "kind": "Node"}, {"key": "nodes", "kind": "Pod"}]))


def test_an_api_error_other_than_not_found_stops_the_reads():
    class Forbidden(FakeDynamicApi):
        def get(self, read, *args, **kwargs):
            raise K8sError(f"{read.what}: HTTP 403: forbidden", status=403)

    reads = check_reads(_with_defaults([{"key": "kube_proxy", "kind": "ConfigMap", "namespace": "kube-system", "name": "kube-proxy"}]))
    with pytest.raises(K8sError, match=r"reads\[kube_proxy\]: reading ConfigMap \(v1\) in kube-system: HTTP 403"):
        BatchRead(Forbidden(DATA["served"], DATA["objects"])).run(reads)
