# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""leader_verify on the lab segment: real ARP and NDP between network namespaces.

The session lab (conftest ``lab``) gets VIPs on its nodes' segment interface; the module
runs on the client host through ansible-playbook (conftest ``ansible_playbook``: shipped
over SSH, as users run it) with each prober: its own raw socket, iputils arping and
Thomas Habets' arping. The targets write the registered results to a file that the tests
below read. The VIPs are removed again at the end of the module. Needs root (the lab does).
"""

from __future__ import annotations

import json
import pathlib
import sys

import pytest

from metallb_lab.client import LABCTL as LABCTL_PY  # on sys.path: conftest.py

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests" / "integration" / "targets" / "leader_verify"
LABCTL = f"{sys.executable} {LABCTL_PY}"
HABETS = ROOT / ".cache" / "habets-arping" / "usr" / "sbin" / "arping"

# The VIPs (lab segment, L2 test range) and who holds them for the steady-state checks.
STATIC = {
    "198.51.100.201": ["node1"],
    "198.51.100.203": ["node1", "node2"],
    "198.51.100.205": ["node3"],
    **{f"198.51.100.{n}": ["node2"] for n in range(210, 230)},
}
PROBERS = {
    "raw": {"lv_prober": "raw"},
    "iputils": {"lv_prober": "iputils", "lv_arping_path": "/usr/bin/arping"},
    "habets": {"lv_prober": "habets", "lv_arping_path": str(HABETS)},
}
CHANGE_VIP = {"raw": "198.51.100.240", "iputils": "198.51.100.241", "habets": "198.51.100.242"}
# IPv6 (NDP) on the segment's 2001:db8:100::/64: the same cases, with the raw prober and ndisc6.
STATIC6 = {
    "2001:db8:100::201": ["node1"],
    "2001:db8:100::203": ["node1", "node2"],
    "2001:db8:100::205": ["node3"],
}
PROBERS6 = {"raw": {"lv_prober": "raw"}, "ndisc6": {"lv_prober": "ndisc6"}}
CHANGE_VIP6 = "2001:db8:100::240"


@pytest.fixture(scope="module")
def l2(lab):
    """The session lab with the steady-state VIPs in place; they are removed afterwards."""
    placed = []
    try:
        for address, holders in {**STATIC, **STATIC6}.items():
            for host in holders:
                lab.vip(host, "add", address)
                placed.append((host, address))
        yield lab
    finally:
        for host, address in placed:
            lab.labctl("vip", host, "del", address, check=False)


@pytest.fixture
def macs(lab):
    return {name: lab.hosts[name].mac for name in lab.nodes}


def _playbook(ansible_playbook, lab, name: str, tmp_path: pathlib.Path, **extra) -> dict:
    result_file = tmp_path / f"{name}.json"
    extra = {key: value for key, value in extra.items() if value is not None}
    extra["lv_result_file"] = str(result_file)
    ansible_playbook(TARGET / f"{name}.yml", lab.inventory, extra_vars=extra)
    return json.loads(result_file.read_text())


@pytest.fixture(scope="module", params=list(PROBERS))
def static(request, l2, ansible_playbook, tmp_path_factory):
    """The steady-state playbook, once per prober."""
    results = _playbook(ansible_playbook, l2, "static", tmp_path_factory.mktemp(request.param), **PROBERS[request.param])
    return request.param, results


def test_nodes_from_facts_match_the_lab(macs, static):
    results = static[1]
    assert results["nodes"] == macs


def test_one_holder_is_ok_with_its_name(macs, static):
    prober, results = static
    one = results["one"]
    assert one["failed"] is False and one["changed"] is False
    assert one["prober"] == prober
    result = one["addresses"]["198.51.100.201"]
    assert result["status"] == "ok"
    assert result["leader"] == "node1" and result["mac"] == macs["node1"]
    assert [r["mac"] for r in result["responders"]] == [macs["node1"]]
    assert result["probes"] == 3 and result["answered"] == 3
    assert result["rtt_ms"] is not None and result["rtt_ms"] > 0
    assert result["interface"] == "eth0" and result["source"] == "198.51.100.100"
    if prober != "raw":
        assert results["one"]["arping"]["flavor"] == prober


def test_check_mode_gives_the_same_verdict(static):
    results = static[1]
    check = results["one_check"]
    assert check["changed"] is False and check["failed"] is False
    assert check["addresses"]["198.51.100.201"]["leader"] == "node1"


def test_nobody_is_no_reply_within_the_timeout(static):
    prober, results = static
    nobody = results["nobody"]
    assert nobody["failed"] is True
    result = nobody["addresses"]["198.51.100.202"]
    assert result["status"] == "no_reply" and result["responders"] == [] and result["leader"] is None
    # The bound the module promises (its own clock): timeout=0.5 s. An arping needs
    # a moment to report after it is stopped at the timeout.
    slack = 30 if prober == "raw" else 300
    assert 0.5 * 1000 * 2 / 3 <= result["elapsed_ms"] <= 500 + slack
    assert "198.51.100.202: no reply to" in nobody["msg"] and "within 0.5s on eth0" in nobody["msg"]


def _assert_node1_and_node2_both_answer(two: dict, vip: str, macs: dict) -> None:
    assert two["failed"] is True and two["failed_addresses"] == [vip]
    result = two["addresses"][vip]
    assert result["status"] == "duplicate" and result["leader"] is None
    assert sorted((r["node"], r["mac"]) for r in result["responders"]) == [
        ("node1", macs["node1"]), ("node2", macs["node2"]),
    ]
    # Both answer every probe (a broadcast, or a solicitation to the solicited-node group), not just the first.
    assert all(r["replies"] >= 2 for r in result["responders"])
    assert f"{macs['node1']} (node1)" in two["msg"] and f"{macs['node2']} (node2)" in two["msg"]


def test_two_holders_are_a_duplicate_naming_both(macs, static):
    _assert_node1_and_node2_both_answer(static[1]["two"], "198.51.100.203", macs)


def test_wrong_expectation_is_unexpected_leader(macs, static):
    results = static[1]
    wrong = results["wrong"]
    assert wrong["failed"] is True
    result = wrong["addresses"]["198.51.100.205"]
    assert result["status"] == "unexpected_leader"
    assert result["leader"] == "node3" and result["expected"] == "node1"
    assert f"198.51.100.205: answered by {macs['node3']} (node3); expected node1 to answer" in wrong["msg"]


def test_twenty_vips_at_once(static):
    results = static[1]
    twenty = results["twenty"]
    assert twenty["failed"] is False
    assert len(twenty["addresses"]) == 20
    assert {r["status"] for r in twenty["addresses"].values()} == {"ok"}
    assert {r["leader"] for r in twenty["addresses"].values()} == {"node2"}


def test_fail_on_empty_reports_without_failing(static):
    results = static[1]
    report = results["report"]
    assert report["failed"] is False and report["failed_addresses"] == []
    assert report["addresses"]["198.51.100.202"]["status"] == "no_reply"
    assert report["addresses"]["198.51.100.203"]["status"] == "duplicate"


def test_refuses_what_it_cannot_resolve(static):
    results = static[1]
    assert results["no_interface"]["failed"] is True
    assert results["no_interface"]["msg"].startswith("interface: interface 'nosuch0' does not exist on this host")
    assert results["gateway"]["failed"] is True
    assert results["gateway"]["msg"].startswith(
        "203.0.113.5 is reached through the gateway 198.51.100.1 on eth0, so it is not on a segment this host is attached to"
    )


def test_without_root_auto_falls_back_to_iputils(l2, ansible_playbook, tmp_path):
    results = _playbook(ansible_playbook, l2, "unprivileged", tmp_path)
    auto = results["auto"]
    assert auto["prober"] == "iputils" and auto["arping"]["flavor"] == "iputils"
    assert any("probing with iputils arping" in warning for warning in auto.get("warnings", []))
    assert auto["addresses"]["198.51.100.201"]["leader"] == "node1"
    assert auto["addresses"]["198.51.100.203"]["status"] == "duplicate"
    raw = results["raw"]
    assert raw["failed"] is True
    assert raw["msg"].startswith("prober: raw: opening a raw socket on eth0 needs root or CAP_NET_RAW")
    assert "become: true" in raw["msg"]


CHANGES = {
    **{prober: (vip, PROBERS[prober]) for prober, vip in CHANGE_VIP.items()},
    # ndisc6 is in the same wait loop (prober.probe) as raw; one IPv6 move is enough lab time.
    "raw-ipv6": (CHANGE_VIP6, PROBERS6["raw"]),
}


@pytest.mark.parametrize("case", list(CHANGES))
def test_wait_for_change_sees_the_move(lab, ansible_playbook, tmp_path, case):
    vip, prober = CHANGES[case]
    lab.vip("node1", "add", vip)
    try:
        results = _playbook(ansible_playbook, lab, "change", tmp_path, lv_vip=vip, lv_lab=lab.name, lv_labctl=LABCTL,
                            **prober)
    finally:
        for host in ("node1", "node2"):
            lab.labctl("vip", host, "del", vip, check=False)
    assert results["before"]["addresses"][vip]["leader"] == "node1"
    after = results["after"]
    assert after["failed"] is False, after.get("msg")
    result = after["addresses"][vip]
    assert result["status"] == "ok" and result["leader"] == "node2"
    change = result["change"]
    assert change["from_node"] == "node1" and change["to_node"] == "node2"
    # It saw node1 answer before the move and node2 after it began (one clock for all).
    assert change["from_last_seen_at"] is not None and change["detected_at"] is not None
    assert change["from_last_seen_at"] <= change["detected_at"]
    assert change["detected_at"] >= results["move_started"]
    assert change["gap_ms"] is not None and change["gap_ms"] >= 0
    assert change["detected_ms"] > 0 and change["polls"] > 1


# ---------------------------------------------------------------- IPv6 (NDP)

@pytest.fixture(scope="module")
def ipv6_runs(l2, ansible_playbook, tmp_path_factory):
    """The IPv6 playbook: every check with the raw prober and with ndisc6, in one run."""
    return _playbook(ansible_playbook, l2, "ipv6", tmp_path_factory.mktemp("ipv6"))


@pytest.fixture(params=list(PROBERS6))
def static6(request, ipv6_runs):
    """(prober, {check: that prober's result})."""
    return request.param, {check: next(r for r in runs if r["item"] == request.param) for check, runs in ipv6_runs.items()}


def test_ipv6_one_holder_is_ok_with_its_name(macs, static6):
    prober, results = static6
    one = results["one"]
    assert one["failed"] is False and one["prober"] == prober
    result = one["addresses"]["2001:db8:100::201"]
    assert result["status"] == "ok" and result["leader"] == "node1" and result["mac"] == macs["node1"]
    assert [r["mac"] for r in result["responders"]] == [macs["node1"]]
    assert result["probes"] == 3 and result["answered"] == 3
    # Probed from the client's global address on the segment, not its link-local one.
    assert result["interface"] == "eth0" and result["source"] == "2001:db8:100::100"
    if prober == "raw":
        assert result["rtt_ms"] is not None and result["rtt_ms"] > 0
    else:
        assert one["ndisc6"]["path"].endswith("/ndisc6") and one["ndisc6"]["version"]


def test_ipv6_nobody_is_no_reply_within_the_timeout(static6):
    prober, results = static6
    nobody = results["nobody"]
    assert nobody["failed"] is True
    result = nobody["addresses"]["2001:db8:100::202"]
    assert result["status"] == "no_reply" and result["responders"] == []
    slack = 30 if prober == "raw" else 300
    assert 0.5 * 1000 * 2 / 3 <= result["elapsed_ms"] <= 500 + slack
    assert "2001:db8:100::202: no reply to 3 neighbor solicitation(s) within 0.5s on eth0" in nobody["msg"]


def test_ipv6_two_holders_are_a_duplicate_naming_both(macs, static6):
    _assert_node1_and_node2_both_answer(static6[1]["two"], "2001:db8:100::203", macs)


def test_ipv6_and_ipv4_in_one_run(macs, static6):
    prober, results = static6
    mixed = results["mixed"]
    assert mixed["failed"] is True and mixed["failed_addresses"] == ["2001:db8:100::205"]
    addresses = mixed["addresses"]
    assert addresses["198.51.100.201"]["leader"] == "node1" and addresses["198.51.100.201"]["source"] == "198.51.100.100"
    assert addresses["2001:db8:100::201"]["leader"] == "node1"
    assert addresses["2001:db8:100::205"]["status"] == "unexpected_leader" and addresses["2001:db8:100::205"]["leader"] == "node3"
    # ndisc6 probes no IPv4: an arping does those in the same run.
    assert mixed["prober"] == ("raw" if prober == "raw" else "iputils+ndisc6")
