# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""prober.probe() against the simulated cases in test_arping_prober.yaml."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import prober
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.arping.arping_sim import SimSegment
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


def _run(case):
    options = case.get("transport", {})
    segment = SimSegment(case["vips"], stop_delay=options.get("stop_delay"), min_probe_time=options.get("min_probe_time", 0.0))
    settings = prober.Settings(**case["settings"])
    watch = case.get("watch")
    if watch:
        return segment, prober.probe(segment, list(case["vips"]), settings, clock=segment.clock,
                                     from_macs=set(watch["from_macs"]), deadline=watch["deadline"])
    return segment, prober.probe(segment, list(case["vips"]), settings, clock=segment.clock)


@parametrize_cases(CASES)
def test_schedule(case):
    segment, observations = _run(case)
    assert set(observations) == set(case["vips"])
    for address, expect in case["expect"].items():
        obs = observations[address]
        assert obs.error is None
        assert sorted({reply[0] for reply in obs.replies}) == sorted(expect["macs"])
        for key in ("probes", "answered"):
            if key in expect:
                assert getattr(obs, key) == expect[key], key
        if "replies" in expect:
            assert len(obs.replies) == expect["replies"]
        if "elapsed_ms" in expect:
            assert obs.elapsed_ms == pytest.approx(expect["elapsed_ms"], abs=0.2)
        # The bound the module promises: a stable check with the raw prober never
        # outlives timeout (an arping adds the time it takes to exit).
        if not case.get("watch") and "transport" not in case:
            assert obs.elapsed_ms <= case["settings"]["timeout"] * 1000.0 + 0.2
        if "change" in expect:
            change = obs.change
            for key, value in expect["change"].items():
                actual = getattr(change, key)
                assert (actual is None) if value is None else actual == pytest.approx(value, abs=1e-4), key
    assert not segment.stopping, "a probe was left running"


def test_probes_are_broadcast_to_every_vip_at_once():
    segment = SimSegment({f"198.51.100.{n}": [{"mac": "aa:00:00:00:00:01", "delay_ms": 1}] for n in range(200, 220)})
    prober.probe(segment, list(segment.responders), prober.Settings(count=1, timeout=0.5), clock=segment.clock)
    assert {start[1] for start in segment.starts} == {0.0}
    assert len(segment.starts) == 20


def test_a_transport_error_ends_only_that_vip():
    segment = SimSegment(
        {"198.51.100.200": [{"mac": "aa:00:00:00:00:01", "delay_ms": 1}], "198.51.100.201": []},
        fail_start=("198.51.100.201",),
    )
    observations = prober.probe(segment, list(segment.responders), prober.Settings(), clock=segment.clock)
    assert observations["198.51.100.201"].error == "cannot send"
    assert observations["198.51.100.200"].error is None and observations["198.51.100.200"].probes == 3


def test_a_failing_stop_is_recorded():
    segment = SimSegment({"198.51.100.200": [{"mac": "aa:00:00:00:00:01", "delay_ms": 1}]}, fail_stop=("198.51.100.200",))
    observations = prober.probe(segment, ["198.51.100.200"], prober.Settings(), clock=segment.clock)
    assert observations["198.51.100.200"].error == "tool failed"
