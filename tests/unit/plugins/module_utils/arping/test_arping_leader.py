# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""leader.py: verdicts (judge) and whole LeaderVerify runs, from test_arping_leader.yaml."""

from __future__ import annotations

import re

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import installed, leader, netinfo, prober
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.leader import LeaderVerify, LeaderVerifyError
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.arping.arping_sim import SimSegment, ip_runner
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
WALL0 = 1700000000.0
IPUTILS_V = (0, "arping from iputils 20221126\nlibcap: yes, IDN: yes\n", "")
HABETS_V = (1, "ARPing 2.23, by Thomas Habets <thomas@habets.se>\nusage: arping [ -0aAbdDeFpPqrRuUvzZ ]\n",
            "arping: option requires an argument -- 'V'\n")

DEFAULTS = dict(nodes={}, count=3, timeout=1.0, reply_window=0.02, wait_for="stable", deadline=30.0,
                fail_on=list(leader.FAILURES), prober="auto", interface=None, expected=None, from_node=None, arping_path=None)


def _subset(expected, actual, where=""):
    if isinstance(expected, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not a dict"
        for key, value in expected.items():
            _subset(value, actual.get(key), f"{where}.{key}")
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(actual) == len(expected), f"{where}: {actual!r}"
        for index, (want, have) in enumerate(zip(expected, actual)):
            _subset(want, have, f"{where}[{index}]")
    elif isinstance(expected, float):
        assert actual == pytest.approx(expected, abs=0.05), f"{where}: {actual!r} != {expected!r}"
    else:
        assert actual == expected, f"{where}: {actual!r} != {expected!r}"


def _verify(params, segment=None, runner=None, find_binary=None, transports=None):
    segment = segment or SimSegment({})
    factories = transports or {"raw": lambda settings, path: segment}
    return LeaderVerify(
        dict(DEFAULTS, **params),
        runner=runner or ip_runner(),
        find_binary=find_binary or (lambda name: f"/usr/sbin/{name}" if name == "ip" else None),
        transports=factories,
        clock=segment.clock,
        wall=lambda: WALL0,
    )


@parametrize_cases(DATA["judge"])
def test_judge(case):
    by_mac = leader.normalize_nodes(DATA["nodes"])[0]
    obs = prober.Observation(address="198.51.100.200", started=0.0, finished=0.06, probes=3,
                             answered=3, replies=[tuple(reply) for reply in case["replies"]])
    result = leader.judge(obs, by_mac, case.get("expected"), case.get("from_node"))
    _subset(case["result"], result, case["id"])
    assert result["status"] in leader.STATUSES


@parametrize_cases(DATA["run"])
def test_run(case):
    segment = SimSegment(case.get("vips", {}))
    verify = _verify(case["params"], segment)
    if "error" in case:
        with pytest.raises(LeaderVerifyError) as info:
            verify.run()
        assert case["error"] in str(info.value)
        return
    result = verify.run()
    assert result["changed"] is False
    assert result["prober"] == "sim"
    assert result["failed"] is case["failed"]
    _subset(case["result"], result["addresses"], case["id"])
    if "failed_addresses" in case:
        assert result["failed_addresses"] == case["failed_addresses"]
    if "msg" in case:
        assert result["msg"] == case["msg"]
    for text in case.get("msg_contains", []):
        assert text in result["msg"]
    assert segment.closed, "the transport was not closed"


class _NoRawSocket(SimSegment):
    def open(self, bindings):
        raise prober.ProbeTransportError("opening a raw socket on eth0 needs root or CAP_NET_RAW (Operation not permitted)")


def _arping_runner(version_answer):
    return ip_runner({"-V": version_answer})


def test_auto_falls_back_to_the_installed_arping_with_a_warning():
    tool = SimSegment({"198.51.100.200": [{"mac": "02:00:c6:33:64:0b", "delay_ms": 1}]})
    tool.name = "iputils"
    verify = _verify(
        {"addresses": ["198.51.100.200"], "nodes": DATA["nodes"]},
        segment=tool,
        runner=_arping_runner(IPUTILS_V),
        find_binary=lambda name: f"/usr/bin/{name}",
        transports={"raw": lambda settings, path: _NoRawSocket({}), "iputils": lambda settings, path: tool},
    )
    result = verify.run()
    assert result["prober"] == "iputils"
    assert result["arping"] == {"path": "/usr/bin/arping", "flavor": "iputils", "version": "20221126"}
    assert result["addresses"]["198.51.100.200"]["leader"] == "node1"
    assert verify.warnings and "probing with iputils arping /usr/bin/arping instead" in verify.warnings[0]


def test_auto_without_raw_socket_and_without_arping():
    verify = _verify(
        {"addresses": ["198.51.100.200"]},
        transports={"raw": lambda settings, path: _NoRawSocket({})},
    )
    with pytest.raises(LeaderVerifyError) as info:
        verify.run()
    message = str(info.value)
    assert message.startswith("prober: auto: opening a raw socket on eth0 needs root or CAP_NET_RAW")
    assert "no tool to fall back to" in message and "install iputils-arping" in message


def test_raw_asked_for_but_not_permitted():
    verify = _verify({"addresses": ["198.51.100.200"], "prober": "raw"}, transports={"raw": lambda settings, path: _NoRawSocket({})})
    with pytest.raises(LeaderVerifyError, match="^prober: raw: opening a raw socket"):
        verify.run()


def test_flavor_asked_for_is_checked():
    verify = _verify(
        {"addresses": ["198.51.100.200"], "prober": "habets"},
        runner=_arping_runner(IPUTILS_V),
        find_binary=lambda name: f"/usr/bin/{name}",
    )
    with pytest.raises(LeaderVerifyError) as info:
        verify.run()
    assert str(info.value) == (
        "prober: habets was asked for, but /usr/bin/arping is iputils arping 20221126; "
        "set arping_path to habets arping, or prober: iputils"
    )


def test_habets_detected_from_its_banner():
    tool = SimSegment({"198.51.100.200": []})
    tool.name = "habets"
    verify = _verify(
        {"addresses": ["198.51.100.200"], "prober": "habets", "timeout": 0.2, "fail_on": []},
        segment=tool,
        runner=_arping_runner(HABETS_V),
        find_binary=lambda name: f"/usr/sbin/{name}",
        transports={"habets": lambda settings, path: tool},
    )
    result = verify.run()
    assert result["arping"]["flavor"] == "habets" and result["arping"]["version"] == "2.23"
    assert result["addresses"]["198.51.100.200"]["status"] == "no_reply"


def test_unrecognised_arping_is_refused(tmp_path):
    fake = tmp_path / "arping"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    verify = _verify(
        {"addresses": ["198.51.100.200"], "prober": "iputils", "arping_path": str(fake)},
        runner=_arping_runner((1, "", "arping: invalid option -- 'V'\nBusyBox v1.36.1 multi-call binary.\n")),
    )
    with pytest.raises(LeaderVerifyError, match=f"arping_path: {fake}: unrecognised arping"):
        verify.run()


def test_arping_path_must_be_executable(tmp_path):
    verify = _verify({"addresses": ["198.51.100.200"], "prober": "iputils", "arping_path": str(tmp_path / "nope")})
    with pytest.raises(LeaderVerifyError, match="arping_path: .*/nope is not an executable file; install iputils-arping"):
        verify.run()


def test_probing_errors_fail_the_run():
    segment = SimSegment({"198.51.100.200": []}, fail_start=("198.51.100.200",))
    with pytest.raises(LeaderVerifyError, match="probing failed: 198.51.100.200: cannot send"):
        _verify({"addresses": ["198.51.100.200"]}, segment).run()
    assert segment.closed


def test_a_tool_that_never_got_to_probe_asks_for_more_time():
    class Void(SimSegment):
        def stop_probe(self, address):
            super().stop_probe(address)
            return prober.ProbeOutcome(sent=0, replies=[])

    segment = Void({"198.51.100.200": []})
    with pytest.raises(LeaderVerifyError, match="timeout: 0.01s was too short for sim to send a single probe"):
        _verify({"addresses": ["198.51.100.200"], "timeout": 0.01, "reply_window": 0.0}, segment).run()


# ---------------------------------------------------------------- IPv6 VIPs and the tool probers

NDISC6_V = (0, "ndisc6: IPv6 Neighbor/Router Discovery userland tool 1.0.5 ($Rev$)\nWritten by Remi Denis-Courmont\n", "")


def _tools_runner(answers: dict):
    """``ip`` as recorded, and ``<tool> -V`` answered per tool name."""
    ip = ip_runner()

    def run(argv, data=None):
        name = argv[0].rsplit("/", 1)[-1]
        return answers[name] if name in answers else ip(argv, data)

    return run


MIXED = {
    "198.51.100.200": [{"mac": "02:00:c6:33:64:0b", "delay_ms": 1}],
    "2001:db8:100::240": [{"mac": "02:00:c6:33:64:0c", "delay_ms": 1}],
}


def test_arping_prober_probes_the_ipv6_vips_with_ndisc6():
    tool, made = SimSegment(MIXED), []
    tool.name = "iputils+ndisc6"

    def factory(settings, path, ndisc6=None):
        made.append((path, ndisc6))
        return tool

    verify = _verify(
        {"addresses": ["198.51.100.200", "2001:db8:100::240"], "nodes": DATA["nodes"], "prober": "iputils"},
        segment=tool, runner=_tools_runner({"arping": IPUTILS_V, "ndisc6": NDISC6_V}),
        find_binary=lambda name: f"/usr/bin/{name}", transports={"iputils": factory},
    )
    result = verify.run()
    assert made == [("/usr/bin/arping", "/usr/bin/ndisc6")]
    assert result["ndisc6"] == {"path": "/usr/bin/ndisc6", "version": "1.0.5"}
    assert result["arping"]["flavor"] == "iputils"
    assert result["addresses"]["2001:db8:100::240"]["leader"] == "node2"
    assert result["addresses"]["2001:db8:100::240"]["source"] == "2001:db8:100::100"


def test_auto_falls_back_to_ndisc6_for_ipv6_vips():
    tool = SimSegment(MIXED)
    tool.name = "ndisc6"
    verify = _verify(
        {"addresses": ["2001:db8:100::240"], "nodes": DATA["nodes"]},
        segment=tool, runner=_tools_runner({"ndisc6": NDISC6_V}), find_binary=lambda name: f"/usr/bin/{name}",
        transports={"raw": lambda settings, path: _NoRawSocket({}), "ndisc6": lambda settings, path: tool},
    )
    result = verify.run()
    assert "arping" not in result and result["ndisc6"]["path"] == "/usr/bin/ndisc6"
    assert verify.warnings and "probing with ndisc6 /usr/bin/ndisc6 instead" in verify.warnings[0]


@pytest.mark.parametrize("find, answers, error", [
    (lambda name: None if name == "ndisc6" else f"/usr/bin/{name}", {"arping": IPUTILS_V},
     "no ndisc6 found in PATH, /usr/sbin or /sbin; the IPv6 VIPs need it: install ndisc6 or set ndisc6_path"),
    (lambda name: f"/usr/bin/{name}", {"arping": IPUTILS_V, "ndisc6": IPUTILS_V},
     "ndisc6_path: /usr/bin/ndisc6: not ndisc6"),
], ids=["missing", "not_ndisc6"])
def test_ndisc6_missing_or_wrong_is_refused_before_probing(find, answers, error):
    verify = _verify({"addresses": ["198.51.100.200", "2001:db8:100::240"], "prober": "iputils"},
                     runner=_tools_runner(answers), find_binary=find)
    with pytest.raises(LeaderVerifyError, match=re.escape(error)):
        verify.run()


def test_ndisc6_argv_and_what_it_cannot_probe():
    binding = netinfo.Binding("2001:db8:100::240", "eth0", 2, "02:00:c6:33:64:64", "2001:db8:100::100")
    assert installed.command("ndisc6", "/usr/bin/ndisc6", binding, 1 / 3) == [
        "/usr/bin/ndisc6", "-m", "-n", "-r", "1", "-w", "333", "-s", "2001:db8:100::100", "2001:db8:100::240", "eth0",
    ]
    only6 = installed.ToolTransport("ndisc6", "/usr/bin/ndisc6", prober.Settings())
    v4 = netinfo.Binding("198.51.100.200", "eth0", 2, "02:00:c6:33:64:64", "198.51.100.100")
    with pytest.raises(prober.ProbeTransportError, match="ndisc6 cannot probe IPv4 VIPs"):
        only6.open([v4])
    both = installed.ToolTransport("iputils", "/usr/bin/arping", prober.Settings(), ndisc6_path="/usr/bin/ndisc6")
    both.open([v4, binding])
    assert both.name == "iputils+ndisc6" and both.min_probe_time == installed.MIN_PROBE_TIME["iputils"]
    without = installed.ToolTransport("iputils", "/usr/bin/arping", prober.Settings())
    with pytest.raises(prober.ProbeTransportError, match="install ndisc6 or set ndisc6_path"):
        without.open([binding])
