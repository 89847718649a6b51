# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lb_status module's main(): what it reads, the report, fail_on (cases in the YAML beside).

The report itself is tested in module_utils/status/test_service_report.py; the integration
tests run the module against the lab's cluster.
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import module as k8s_module
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.status.services import summary_line
from ansible_collections.baremetal.metallb.plugins.modules import lb_status
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.status import test_service_report as reports
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

CASES = load_data(__file__)
CLUSTERS = {case["id"]: case for case in reports.CASES}
run = ModuleRunner(lb_status)


class Cluster:
    """lb_status's client and snapshot read, faked; ``reads`` records each read's arguments."""

    def __init__(self, monkeypatch, objects=None, error=None):
        self.reads = []
        self.client = object()

        def read_snapshot(client, metallb_namespace, label_selector, namespaces):
            assert client is self.client
            self.reads.append([metallb_namespace, label_selector, namespaces])
            if error:
                raise error
            return objects

        monkeypatch.setattr(K8sClient, "from_params", classmethod(lambda cls, params: self.client))
        monkeypatch.setattr(lb_status, "read_snapshot", read_snapshot)


@parametrize_cases(CASES)
def test_case(capsys, monkeypatch, case):
    cluster = Cluster(monkeypatch, reports._objects(CLUSTERS[case["cluster"]]))
    code, result, dummy = run(capsys, case["args"])
    expect = case["expect"]
    assert_expected(code, result, expect)
    assert result["changed"] is False
    (service,) = result["services"]
    assert [finding["rule"] for finding in service["findings"]] == expect["findings"]
    assert result["summary"] == [summary_line(service)]
    assert result["summary"][0].endswith("ok" if not expect["findings"] else service["findings"][-1]["rule"])
    if "read" in expect:
        assert cluster.reads == [expect["read"]]


def test_api_error_is_the_message(capsys, monkeypatch):
    Cluster(monkeypatch, error=K8sError("reading Services: HTTP 403: forbidden"))
    code, result, dummy = run(capsys, {})
    assert code == 1 and result["msg"] == "reading Services: HTTP 403: forbidden"


def test_missing_kubernetes_library(capsys, monkeypatch):
    cluster = Cluster(monkeypatch)
    monkeypatch.setattr(k8s_module, "HAS_KUBERNETES", False)
    code, result, dummy = run(capsys, {})
    assert code == 1 and "kubernetes" in result["msg"] and cluster.reads == []
