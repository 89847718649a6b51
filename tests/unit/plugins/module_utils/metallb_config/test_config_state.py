# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""config_state.judge against the cases in test_config_state.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.config_state import judge, message
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, load_data, parametrize_cases

CASES = load_data(__file__, "cases")


@parametrize_cases(CASES)
def test_case(case):
    verdict = judge(case["before"], case["after"], case["changed"])
    assert verdict["settled"] is case["settled"]
    assert verdict["pending"] == case["pending"]
    assert_matched(case["invalid"], verdict["invalid"], what="invalid component")
    if "message_has" in case:
        text = message(verdict, "metallb-system")
        for part in case["message_has"]:
            assert part in text, text
    for name, problems in case.get("other_problems", {}).items():
        assert [s for s in verdict["states"] if s["name"] == name][0]["other_problems"] == problems
