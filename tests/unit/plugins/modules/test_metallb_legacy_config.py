# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_legacy_config on given data (nothing read): the objects, masked passwords, refusals (test_metallb_legacy_config.yaml)."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.modules import metallb_legacy_config
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

CASES = load_data(__file__, "cases")
run = ModuleRunner(metallb_legacy_config)


@parametrize_cases(CASES)
def test_module(capsys, monkeypatch, case):
    def no_read(*args, **kwargs):
        raise AssertionError("the cluster was read")
    monkeypatch.setattr(metallb_legacy_config, "read_configmap", no_read)
    code, result, out = run(capsys, case["args"])
    assert_expected(code, result, case["expect"])
    for text in case.get("summary_has", []):
        assert text in result["summary"]
    for secret in case.get("never_in_output", []):
        assert secret not in out
