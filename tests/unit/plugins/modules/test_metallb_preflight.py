# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_preflight refuses bad input before it reads anything (test_metallb_preflight.yaml)."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.modules import metallb_preflight
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

CASES = load_data(__file__, "cases")
run = ModuleRunner(metallb_preflight)


@parametrize_cases(CASES)
def test_input_first(capsys, monkeypatch, case):
    def no_read(*args, **kwargs):
        raise AssertionError("the cluster was read")
    monkeypatch.setattr(metallb_preflight, "read_cluster", no_read)
    code, result, dummy = run(capsys, case["args"])
    assert_expected(code, result, case["expect"])


def test_an_unreadable_cluster_is_one_warning_not_a_failure(capsys, monkeypatch):
    """As pool_validate: the validation stage of site.yml runs on without a reachable cluster."""
    def unreachable(*args, **kwargs):
        raise metallb_preflight.K8sError("cannot reach the API server")
    monkeypatch.setattr(metallb_preflight, "read_cluster", unreachable)
    monkeypatch.setattr(metallb_preflight.K8sModule, "client", lambda self, connections=None: None)
    code, result, dummy = run(capsys, {"fail_on": ["error"], "pools": []})
    assert code == 0, result
    assert [f["id"] for f in result["findings"]] == ["cluster_unreadable"]
    assert result["findings"][0]["severity"] == "warning" and result["errors"] == []
    assert "cannot reach the API server" in result["summary"][0]
