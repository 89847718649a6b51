# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The arping and ndisc6 parsers against the recorded runs in test_arping_parsers.yaml."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import parsers
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)
RUNS = [case for case in CASES if "expect" in case or "error" in case]
VERSIONS = [case for case in CASES if "detect" in case or "detect_error" in case]
NDISC6_VERSIONS = [case for case in CASES if "detect_ndisc6" in case or "detect_ndisc6_error" in case]


def _parse(case):
    return parsers.parse_run(
        case["tool"], case["stdout"], case["stderr"], case["rc"], find_duplicates="-d" in case.get("argv", [])
    )


@parametrize_cases(RUNS)
def test_run(case):
    if "error" in case:
        with pytest.raises(parsers.ArpingError) as info:
            _parse(case)
        assert case["error"] in str(info.value)
        return
    run = _parse(case)
    expect = case["expect"]
    assert run.flavor == case["tool"]
    assert run.rc == case["rc"]
    assert (run.sent, run.received) == (expect["sent"], expect["received"])
    assert run.macs == expect["macs"]
    assert [reply.rtt_ms for reply in run.replies] == pytest.approx(expect["rtt_ms"])
    assert all(reply.ip == run.target for reply in run.replies)
    if "holders" in case:
        # The parse against the lab's ground truth: every holder is seen, nothing else,
        # except where the invocation itself cannot see them all.
        if case.get("misses_holders"):
            assert set(run.macs) < set(case["holders"])
        else:
            assert set(run.macs) == set(case["holders"])


@parametrize_cases(VERSIONS)
def test_detect(case):
    if "detect_error" in case:
        with pytest.raises(parsers.ArpingError, match=case["detect_error"]):
            parsers.detect_flavor(case["stdout"], case["stderr"])
        return
    assert list(parsers.detect_flavor(case["stdout"], case["stderr"])) == case["detect"]


@parametrize_cases(NDISC6_VERSIONS)
def test_detect_ndisc6(case):
    if "detect_ndisc6_error" in case:
        with pytest.raises(parsers.ArpingError, match=case["detect_ndisc6_error"]):
            parsers.detect_ndisc6(case["stdout"], case["stderr"])
        return
    assert parsers.detect_ndisc6(case["stdout"], case["stderr"]) == case["detect_ndisc6"]


def test_exit_code_of_iputils_cannot_tell_loss_from_a_second_responder():
    """Why leader_verify reads the replies: rc 1 for nothing and for two MACs alike."""
    by_id = {case["id"]: case for case in CASES}
    silent, double = by_id["iputils_none_stopped"], by_id["iputils_two_stopped"]
    assert silent["rc"] == double["rc"] == 1
    assert _parse(silent).macs == []
    assert len(_parse(double).macs) == 2


def test_habets_exit_code_with_d_flags_two_macs_only():
    by_id = {case["id"]: case for case in CASES}
    assert by_id["habets_two_stopped"]["rc"] == 1
    assert by_id["habets_one_stopped"]["rc"] == 0
    assert by_id["habets_none_stopped"]["rc"] == 0  # -d: nothing answered is not an error
    assert by_id["habets_none_natural"]["rc"] == 1  # without -d it is


@pytest.mark.parametrize(
    "flavor, line, mac, rtt",
    [
        ("iputils", "Unicast reply from 198.51.100.240 [02:00:C6:33:64:0B]  0.551ms", "02:00:c6:33:64:0b", 0.551),
        ("iputils", "Unicast reply from 198.51.100.240 [02:00:C6:33:64:0B]  UNSOLICITED?", "02:00:c6:33:64:0b", None),
        ("iputils", "Sent 1 probes (1 broadcast(s))", None, None),
        # Habets leaves the newline for its next write: the line is complete without it.
        ("habets", "42 bytes from 02:00:c6:33:64:0b (198.51.100.240): index=0 time=12.105 usec", "02:00:c6:33:64:0b", 0.012105),
        ("habets", "42 bytes from 02:00:c6:33:64:0b (198.51.100.240): index=0 time=1.5 sec", "02:00:c6:33:64:0b", 1500.0),
        ("habets", "Timeout", None, None),
    ],
)
def test_reply_line(flavor, line, mac, rtt):
    reply = parsers.parse_reply_line(flavor, line)
    if mac is None:
        assert reply is None
    else:
        assert reply.mac == mac
        assert reply.rtt_ms == pytest.approx(rtt) if rtt is not None else reply.rtt_ms is None


@pytest.mark.parametrize(
    "text, mac",
    [
        ("3A:2C:6C:3F:09:4E", "3a:2c:6c:3f:09:4e"),
        ("3a-2c-6c-3f-09-4e", "3a:2c:6c:3f:09:4e"),
        ("3a2c.6c3f.094e", "3a:2c:6c:3f:09:4e"),
        ("3a:2c:6c:3f:09", None),
        ("3a:2c:6c:3f:09:4g", None),
        ("3a/2c/6c/3f/09/4e", None),
    ],
)
def test_normalize_mac(text, mac):
    if mac is None:
        with pytest.raises(ValueError, match="is not a MAC address"):
            parsers.normalize_mac(text)
    else:
        assert parsers.normalize_mac(text) == mac


def test_unknown_flavor_is_a_programming_error():
    with pytest.raises(ValueError):
        parsers.parse_run("busybox", "", "", 0)
