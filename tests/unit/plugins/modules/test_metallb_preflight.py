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
