# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""graceful_restart: which sessions predate the router's graceful restart mode, and the rolling reset
(cases in test_graceful_restart.yaml, on FRR 8.4.4's recorded JSON)."""

from __future__ import annotations

import copy
import json
import pathlib

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.graceful_restart import (
    RollingReset, configured_mode, next_marker, plan, warning)
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrError, FrrTools
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.frr.test_verify import Clock
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

RECORDED = json.loads((pathlib.Path(__file__).parent / "fixtures" / "neighbors_all_established.json").read_text())
PLAN_CASES = load_data(__file__, "plan_cases")
ROLLING_CASES = load_data(__file__, "rolling_cases")
GR_FIELDS = ("localGrMode", "remoteGrMode")


def _apply(entry: dict, fields: dict) -> None:
    for key, value in fields.items():
        if key in GR_FIELDS:
            entry["gracefulRestartInfo"][key] = value
        elif key == "accepted":
            entry["addressFamilyInfo"]["ipv4Unicast"]["acceptedPrefixCounter"] = value
        else:
            entry[key] = value


def neighbors(case: dict) -> dict:
    data = copy.deepcopy(RECORDED)
    for entry in data.values():
        _apply(entry, case.get("set_all", {}))
    for address, fields in (case.get("set") or {}).items():
        _apply(data[address], fields)
    return data


@parametrize_cases(PLAN_CASES)
def test_plan(case):
    data = neighbors(case)
    marker = next_marker(case["marker"], case.get("mode") or configured_mode(data), case["now"])
    assert marker == case["marker_after"]
    result = plan(case["peers"], data, marker, case["now"], case.get("mode"))
    assert result["reset"] == case["reset"], result
    assert result["not_restarting"] == case["not_restarting"], result
    for address in case["reset"]:
        assert result["peers"][address]["predates_change"] is True


def test_the_recorded_json_is_frr_defaults_helper_mode():
    assert configured_mode(RECORDED) == "Helper"
    assert configured_mode({}) is None


def test_warning_names_the_peers_and_both_fixes():
    text = warning(["198.51.100.11", "198.51.100.12"], "Restart")
    for part in ("198.51.100.11, 198.51.100.12", "NOT in effect", "clear bgp", "bgp_router_graceful_restart_reset: true"):
        assert part in text


class Router:
    """vtysh answering "show bgp neighbors X json" from the case's polls, and "clear bgp X"."""

    def __init__(self, polls: dict):
        self.polls = {a: list(states) for a, states in polls.items()}
        self.commands: list[str] = []

    def __call__(self, argv):
        command = argv[-1]
        self.commands.append(command)
        if command.startswith("clear bgp "):
            return 0, "", ""
        address = command.split()[3]
        states = self.polls[address]
        state = states.pop(0) if len(states) > 1 else states[0]
        entry = copy.deepcopy(RECORDED[address])
        _apply(entry, state)
        return 0, json.dumps({address: entry}), ""


@parametrize_cases(ROLLING_CASES)
def test_rolling_reset(case):
    router, clock = Router(case["polls"]), Clock()
    rolling = RollingReset(FrrTools(router), clock=clock, sleep=clock.sleep, timeout=case.get("timeout", 120),
                           poll_interval=1)
    if "error" in case:
        with pytest.raises(FrrError) as err:
            rolling.reset(case["peers"])
        for part in case["error"]:
            assert part in str(err.value)
        assert [c.split()[-1] for c in router.commands if c.startswith("clear")] == case["cleared"]
        return
    done = rolling.reset(case["peers"])
    assert router.commands == case["commands"]
    assert [d["address"] for d in done] == case["done"]


def test_clear_bgp_failure_is_an_error():
    tools = FrrTools(lambda argv: (0, "% No such neighbor or address family\n", ""))
    with pytest.raises(FrrError, match="clear bgp 198.51.100.11"):
        tools.clear_bgp("198.51.100.11")
