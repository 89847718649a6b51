# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bgp_mode.router_mode_problems (the filter bgp_router_mode_problems) against the cases in test_bgp_mode.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.bgp_mode import router_mode_problems
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__, "cases")


@parametrize_cases(CASES)
def test_case(case):
    messages = router_mode_problems(case["opts"].get("metallb_mode"), case["opts"])
    assert len(messages) == len(case["messages"]), messages
    for expected, message in zip(case["messages"], messages):
        for text in expected:
            assert text in message, message
