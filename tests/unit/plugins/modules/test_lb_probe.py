# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lb_probe module's main(): targets probed, policies checked, refusals (cases in the YAML beside).

Probing and the policies' promises are tested in module_utils/probe/test_echo_probe.py; here the
real probe() runs against fake echo backends (its connection faked), so only main()'s wiring is new.
"""

from __future__ import annotations

import itertools

from ansible_collections.baremetal.metallb.plugins.module_utils.probe import echo_probe
from ansible_collections.baremetal.metallb.plugins.modules import lb_probe
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.probe.test_echo_probe import FakeConnection
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, is_subset, load_data, parametrize_cases

CASES = load_data(__file__)
run = ModuleRunner(lb_probe)


@parametrize_cases(CASES)
def test_case(capsys, monkeypatch, case):
    probed = []

    def probe(address, port, count, timeout, path):
        probed.append((address, port))
        answers = [tuple(answer) if answer else None for answer in case["backends"][address]]
        return echo_probe.probe(address, port, count, timeout, path, connect=FakeConnection(itertools.cycle(answers)))

    monkeypatch.setattr(lb_probe, "probe", probe)
    code, result, dummy = run(capsys, case["args"])
    expect = case["expect"]
    assert_expected(code, result, expect)
    assert result.get("changed", False) is False
    if "problems" not in expect:  # refused: nothing probed
        assert probed == [] and "targets" not in result
        return
    assert probed == [(target["address"], target["port"]) for target in case["args"]["targets"]]
    for want, got in zip(expect.get("targets", []), result["targets"], strict=False):
        assert is_subset(want, got), got
    for texts, target in zip(expect["problems"], result["targets"], strict=True):
        assert len(target["problems"]) == len(texts), target["problems"]
        for text, problem in zip(texts, target["problems"], strict=True):
            assert text in problem
