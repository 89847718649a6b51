# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bgp_mode.router_mode_problems (the filter bgp_router_mode_problems) against the cases in test_bgp_mode.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.bgp_mode import peer_problems, router_mode_problems
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__, "cases")
PEER_CASES = load_data(__file__, "peer_cases")
ROUTER = ["198.51.100.1", "2001:db8:100::1"]


def _assert_messages(messages: list, expected: list) -> None:
    assert len(messages) == len(expected), messages
    for texts, message in zip(expected, messages):
        for text in texts:
            assert text in message, message
        assert "not-in-any-message" not in message


@parametrize_cases(CASES)
def test_case(case):
    _assert_messages(router_mode_problems(case["opts"].get("metallb_mode"), case["opts"]), case["messages"])


@parametrize_cases(PEER_CASES)
def test_peer_case(case):
    _assert_messages(peer_problems(case["opts"], case["peers"], ROUTER), case["messages"])
