# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""arping/installed.py: finding the tools, their argv, and ToolTransport running real processes
that replay the runs recorded on the lab (test_arping_parsers.yaml)."""

from __future__ import annotations

import json
import sys
import time
from types import SimpleNamespace

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import installed
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.parsers import HABETS, IPUTILS, NDISC6
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.prober import Finished, ProbeTransportError
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data

RUNS = {case["id"]: case for case in load_data(__file__, name="test_arping_parsers.yaml")}
VIP = "198.51.100.240"
BINDING = SimpleNamespace(address=VIP, interface="eth0", source="198.51.100.100", mac="02:00:c6:33:64:64")
# Replays a recorded run: its output up to the summary, then (stopped: on SIGINT) the rest and its exit code.
# (The handler only notes the signal: writing from it could interrupt the write of the head.)
REPLAY = """#!{python}
import json, signal, sys, time
run = json.load(open(sys.argv[0] + ".json"))
interrupted = []
signal.signal(signal.SIGINT, lambda *_: interrupted.append(True))
sys.stdout.write(run["head"]); sys.stdout.flush()
while run["stopped"] and not interrupted:
    time.sleep(0.01)
sys.stdout.write(run["tail"]); sys.stderr.write(run["stderr"]); sys.stdout.flush(); sys.exit(run["rc"])
"""


def _tool(tmp_path, case: dict) -> str:
    stdout = case["stdout"]
    cut = min([stdout.find(marker) for marker in ("Sent ", "\n--- ") if marker in stdout] or [len(stdout)])
    path = tmp_path / "arping"
    path.write_text(REPLAY.format(python=sys.executable))
    path.chmod(0o755)
    (tmp_path / "arping.json").write_text(json.dumps({"head": stdout[:cut], "tail": stdout[cut:], "stderr": case["stderr"],
                                                      "rc": case["rc"], "stopped": bool(case["stopped_with_sigint"])}))
    return str(path)


def _transport(tmp_path, case: dict) -> installed.ToolTransport:
    transport = installed.ToolTransport(case["tool"], _tool(tmp_path, case), SimpleNamespace(timeout=1.0, count=1))
    transport.open([BINDING])
    return transport


def _until_finished(transport, deadline=10.0) -> tuple[list, Finished]:
    heard, end = [], time.monotonic() + deadline
    while time.monotonic() < end:
        for event in transport.poll(0.05):
            if isinstance(event, Finished):
                return heard, event
            heard.append(event)
    raise AssertionError("the replayed tool never finished")


def _poll_while(transport, busy, deadline=10.0) -> list:
    """What ``poll`` hears while ``busy()`` holds."""
    heard, end = [], time.monotonic() + deadline
    while busy() and time.monotonic() < end:
        heard += transport.poll(0.05)
    return heard


def _assert_outcome(outcome, expect: dict) -> None:
    assert outcome.sent == expect["sent"]
    assert sorted({mac for mac, _rtt in outcome.replies}) == expect["macs"]
    assert [rtt for _mac, rtt in outcome.replies] == pytest.approx(expect["rtt_ms"])


@pytest.mark.parametrize("run_id", ["iputils_none_stopped", "iputils_two_stopped", "habets_one_stopped", "habets_two_stopped"])
def test_a_stopped_probe_is_collected_from_poll(tmp_path, run_id):
    case = RUNS[run_id]
    transport = _transport(tmp_path, case)
    try:
        transport.start_probe(VIP)
        heard = _poll_while(transport, lambda: not transport._procs[VIP].out)  # until its first line: it is listening
        assert transport.stop_probe(VIP) is None  # SIGINT sent; the account comes from poll
        later, finished = _until_finished(transport)
        assert finished.address == VIP and finished.error is None
        _assert_outcome(finished.outcome, case["expect"])
        assert sorted({event.mac for event in heard + later}) == case["expect"]["macs"]  # each reply heard as it came
    finally:
        transport.close()


@pytest.mark.parametrize("run_id", ["iputils_none_natural", "iputils_one_natural", "iputils_two_natural"])
def test_a_probe_that_ended_by_itself_is_collected_on_stop(tmp_path, run_id):
    case = RUNS[run_id]
    transport = _transport(tmp_path, case)
    try:
        transport.start_probe(VIP)
        heard = _poll_while(transport, lambda: transport._procs[VIP].popen.poll() is None)
        outcome = transport.stop_probe(VIP)
        _assert_outcome(outcome, case["expect"])
        assert sorted({event.mac for event in heard}) == case["expect"]["macs"]
    finally:
        transport.close()


def test_a_tool_error_names_the_command(tmp_path):
    case = dict(RUNS["iputils_no_such_device"], stopped_with_sigint=False)
    transport = _transport(tmp_path, case)
    try:
        transport.start_probe(VIP)
        _poll_while(transport, lambda: transport._procs[VIP].popen.poll() is None)
        with pytest.raises(ProbeTransportError) as info:
            transport.stop_probe(VIP)
        assert case["error"] in str(info.value)
        assert f"(command: {tmp_path / 'arping'} -b -c 1 -I eth0 -s 198.51.100.100 {VIP})" in str(info.value)
    finally:
        transport.close()


def test_a_tool_that_cannot_run_is_named(tmp_path):
    transport = installed.ToolTransport(IPUTILS, str(tmp_path / "missing-arping"), SimpleNamespace(timeout=1.0, count=1))
    transport.open([BINDING])
    with pytest.raises(ProbeTransportError, match="cannot run .*missing-arping"):
        transport.start_probe(VIP)


def test_ipv6_needs_ndisc6():
    transport = installed.ToolTransport(IPUTILS, "/usr/bin/arping", SimpleNamespace(timeout=1.0, count=1))
    with pytest.raises(ProbeTransportError, match="2001:db8::10: iputils cannot probe IPv6 VIPs; install ndisc6 or set ndisc6_path"):
        transport.open([SimpleNamespace(**dict(BINDING.__dict__, address="2001:db8::10"))])
    both = installed.ToolTransport(HABETS, "/usr/sbin/arping", SimpleNamespace(timeout=1.0, count=1), ndisc6_path="/usr/bin/ndisc6")
    both.open([BINDING, SimpleNamespace(**dict(BINDING.__dict__, address="2001:db8::10"))])
    assert both.name == "habets+ndisc6" and both.min_probe_time == installed.MIN_PROBE_TIME[HABETS]


@pytest.mark.parametrize("flavor, wait, argv", [
    (IPUTILS, 0.4, ["/bin/arping", "-b", "-c", "1", "-I", "eth0", "-s", "198.51.100.100", VIP]),
    (IPUTILS, 2.5, ["/bin/arping", "-b", "-c", "3", "-I", "eth0", "-s", "198.51.100.100", VIP]),
    (HABETS, 0.25, ["/bin/arping", "-d", "-c", "1", "-W", "0.250", "-i", "eth0", "-S", "198.51.100.100", VIP]),
    (HABETS, 0.0, ["/bin/arping", "-d", "-c", "1", "-W", "0.001", "-i", "eth0", "-S", "198.51.100.100", VIP]),
    (NDISC6, 0.25, ["/bin/arping", "-m", "-n", "-r", "1", "-w", "250", "-s", "198.51.100.100", VIP, "eth0"]),
])
def test_command(flavor, wait, argv):
    assert installed.command(flavor, "/bin/arping", BINDING, wait) == argv


def test_command_of_an_unknown_flavor():
    with pytest.raises(ValueError, match="unknown arping flavor 'busybox'"):
        installed.command("busybox", "/bin/arping", BINDING, 1.0)


def test_find_arping(tmp_path, monkeypatch):
    found = tmp_path / "bin" / "arping"
    found.parent.mkdir()
    found.write_text("")
    found.chmod(0o755)
    plain = tmp_path / "plain"
    plain.write_text("")
    monkeypatch.setattr(installed, "SEARCH_DIRS", ())
    monkeypatch.setenv("PATH", f"{tmp_path / 'empty'}:{found.parent}")
    assert installed.find_arping() == str(found)
    assert installed.find_arping(name="ndisc6") is None
    assert installed.find_arping(str(found)) == str(found)
    assert installed.find_arping(str(plain)) is None  # not executable
    monkeypatch.setattr(installed, "SEARCH_DIRS", (str(found.parent),))
    monkeypatch.setenv("PATH", "")
    assert installed.find_arping() == str(found)


@pytest.mark.parametrize("run_id, flavor", [("iputils_version", IPUTILS), ("habets_version", HABETS)])
def test_detect_asks_the_tool_for_its_version(run_id, flavor):
    case, calls = RUNS[run_id], []

    def run(argv):
        calls.append(argv)
        return case["rc"], case["stdout"], case["stderr"]

    assert installed.detect("/usr/sbin/arping", run)[0] == flavor
    assert calls == [["/usr/sbin/arping", "-V"]]
