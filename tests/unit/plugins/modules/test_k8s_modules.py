# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""main() of k8s_apply and k8s_batch_info on the fake dynamic client (cases in the YAML beside).

The integration test (tests/integration/test_k8s_apply.py) runs them against the lab's API server.
"""

from __future__ import annotations

import copy

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import module as k8s_module
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError
from ansible_collections.baremetal.metallb.plugins.modules import k8s_apply, k8s_batch_info
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.dynamic_api_fake import FakeApplyApi
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

DATA = load_data(__file__)
MODULES = {"k8s_apply": k8s_apply, "k8s_batch_info": k8s_batch_info}
RUN = {name: ModuleRunner(module) for name, module in MODULES.items()}
TOKEN = "s3cr3t-t0ken-value"
KUBECONFIG = {"users": [{"name": "admin", "user": {"token": TOKEN}}]}


class Cluster:
    """The fake API both modules talk to, and the clients they made."""

    def __init__(self, monkeypatch, conflicts=None):
        self.api = FakeApplyApi(DATA["served"], copy.deepcopy(DATA["objects"]), conflicts=conflicts)
        self.clients = []
        monkeypatch.setattr(K8sClient, "from_params", classmethod(self._client))
        for module in MODULES.values():
            monkeypatch.setattr(module, "DynamicApi", lambda client: self.api)

    def _client(self, cls, params, connections=None):
        self.clients.append(params)
        return object()


@parametrize_cases(DATA["cases"])
def test_case(capsys, monkeypatch, case):
    cluster = Cluster(monkeypatch, case.get("conflicts"))
    code, result, out = RUN[case["module"]](capsys, dict(case["args"], kubeconfig=KUBECONFIG))
    expect = case["expect"]
    assert_expected(code, result, expect)
    assert TOKEN not in out
    assert set(expect.get("has_keys", [])) <= set(result)
    assert bool(cluster.clients) == expect.get("contacted", True)
    if "methods" in expect:
        assert {entry["name"]: entry["method"] for entry in result["results"]} == expect["methods"]
    if "sent" in expect:
        assert cluster.api.calls == [tuple(call) for call in expect["sent"]]
    if "diff_headers" in expect:
        assert [diff["before_header"] for diff in result["diff"]] == expect["diff_headers"]
    for key, names in expect.get("names", {}).items():
        assert sorted(obj["metadata"]["name"] for obj in result["resources"][key]) == names


@pytest.mark.parametrize("name", sorted(MODULES))
def test_missing_kubernetes_library(capsys, monkeypatch, name):
    cluster = Cluster(monkeypatch)
    monkeypatch.setattr(k8s_module, "HAS_KUBERNETES", False)
    args = next(case["args"] for case in DATA["cases"] if case["module"] == name)
    code, result, dummy = RUN[name](capsys, args)
    assert code == 1 and "kubernetes" in result["msg"] and not cluster.clients


@pytest.mark.parametrize("name", sorted(MODULES))
def test_client_error_is_the_message(capsys, monkeypatch, name):
    def refuse(cls, params, connections=None):
        raise K8sError("kubeconfig: no such context 'lab'")

    monkeypatch.setattr(K8sClient, "from_params", classmethod(refuse))
    args = next(case["args"] for case in DATA["cases"] if case["module"] == name)
    code, result, dummy = RUN[name](capsys, args)
    assert code == 1 and result["msg"] == "kubeconfig: no such context 'lab'"
