# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bgp_router role and frr_config against real FRR and real BGP in the netns lab.

One lab of its own (``bgprt<pid>``, 3 nodes) for the module; the tests run in file order
and each leaves the router in the base configuration (apply.yml's defaults).
Needs root (the lab), the collection installed (make collection) and FRR.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

import pytest

from metallb_lab.client import LabClient, unique_name  # on sys.path: conftest.py

TARGET = pathlib.Path(__file__).resolve().parent / "targets" / "bgp_router"
sys.path.insert(0, str(TARGET))

from bgp_target import RESULT_VAR, apply, verify  # noqa: E402

VIP4 = "203.0.113.10"
VIP6 = "2001:db8:203::10"
PASSWORD = "Lab-MD5-pw.1"


@pytest.fixture(scope="module")
def lab():
    with LabClient.fresh(unique_name("bgprt"), nodes=3) as bgp_lab:
        yield bgp_lab


def _all_peers(lab: LabClient) -> list[str]:
    return lab.node4 + lab.node6


def _neighbors(lab: LabClient, indexes: list[int]) -> list[dict]:
    """Explicit neighbor entries (IPv4 and IPv6) for the given nodes (1-based)."""
    out = []
    for i in indexes:
        out.append({"address": lab.node4[i - 1], "description": f"node{i}"})
        out.append({"address": lab.node6[i - 1], "description": f"node{i}"})
    return out


def _running_config(lab: LabClient) -> str:
    return lab.exec("router", "vtysh", "-c", "show running-config").stdout


def _router_file(lab: LabClient) -> str:
    return lab.exec("router", "cat", "/etc/frr/frr.conf").stdout


def _snapshot(lab: LabClient) -> tuple[str, str]:
    return _running_config(lab), _router_file(lab)


def _hash_policy(lab: LabClient) -> list[str]:
    return lab.exec("router", "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy",
                    "net.ipv6.fib_multipath_hash_policy").stdout.split()


# ---------------------------------------------------------------- apply, idempotence, canonical form
def test_check_mode_on_the_fresh_router_changes_nothing(lab):
    """FRR installed but stopped, pristine /etc/frr: check mode predicts, touches nothing."""
    files = lab.exec("router", "sh", "-c", "md5sum /etc/frr/*").stdout
    run, result = apply(lab, "--check", "--diff")
    assert run.rc == 0, run.stdout + run.stderr
    assert result["changed"] is True and result["daemons_running"] is False
    assert "+router bgp 64501" in run.stdout and "-bgpd=no" in run.stdout and "+bgpd=yes" in run.stdout
    assert lab.exec("router", "sh", "-c", "md5sum /etc/frr/*").stdout == files
    assert lab.exec("router", "vtysh", "-c", "show daemons", check=False).returncode != 0  # still stopped
    # the ECMP hash: predicted in the diff, the kernel's default kept
    assert "+net.ipv4.fib_multipath_hash_policy = 1" in run.stdout
    assert _hash_policy(lab) == ["0", "0"]


def test_first_apply_starts_frr_and_all_sessions_come_up(lab):
    run, result = apply(lab)
    assert run.rc == 0, run.stdout + run.stderr
    # FRR was not running: the file was installed, then FRR started on it
    assert result["daemons_running"] is False and result["file_changed"] is True
    assert _hash_policy(lab) == ["1", "1"]  # bgp_router_ecmp_hash_policy's default, l4
    verified = verify(lab, peers=_all_peers(lab), timeout=30)
    assert verified.get("failed") is not True, verified.get("msg")
    assert all(p["established"] for p in verified["peers"].values())


def test_vip_is_spread_over_every_node_in_the_kernel_fib(lab):
    lab.announce(f"{VIP4}/32")
    lab.announce(f"{VIP6}/128")
    verified = verify(lab, prefixes={VIP4: lab.node4, VIP6: lab.node6}, timeout=10)
    assert verified.get("failed") is not True, verified.get("msg")
    # the kernel agrees with zebra: one next hop per node
    assert lab.kernel_nexthops("router", VIP4) == sorted(lab.node4)
    assert len(lab.kernel_nexthops("router", VIP6)) == 3  # link-local next hops, one per node
    assert verified["prefixes"][f"{VIP6}/128"]["nexthops"] == lab.node6


def test_second_run_changes_nothing_and_the_file_is_canonical(lab):
    run, result = apply(lab)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.recap["router"]["changed"] == 0, run.stdout
    assert result["changed"] is False and result["lines_to_add"] == [] and result["lines_to_delete"] == []
    assert lab.frr_reload_test("router") == ""
    mode = lab.exec("router", "stat", "-c", "%a %U %G", "/etc/frr/frr.conf").stdout.split()
    assert mode == ["640", "root", "frr"]


def test_ecmp_hash_policy_kept_in_a_sysctl_file_check_mode_and_idempotence(lab):
    """bgp_router_sysctl_file (here in the router's own /etc/frr: the lab shares the rest of /etc):
    check mode writes nothing, the apply writes the file and the running values, a re-run changes
    nothing."""
    conf = "/etc/frr/ecmp-hash-test.conf"
    try:
        check, _result = apply(lab, "--check", "--diff", bgp_router_sysctl_file=conf, bgp_router_ecmp_hash_policy="l3")
        assert check.rc == 0, check.stdout + check.stderr
        assert "-net.ipv4.fib_multipath_hash_policy = 1" in check.stdout
        assert "+net.ipv4.fib_multipath_hash_policy = 0" in check.stdout
        assert lab.exec("router", "test", "-e", conf, check=False).returncode != 0
        assert _hash_policy(lab) == ["1", "1"]
        for _attempt in range(2):
            run, _result = apply(lab, bgp_router_sysctl_file=conf, bgp_router_ecmp_hash_policy="l3")
            assert run.rc == 0, run.stdout + run.stderr
            assert _hash_policy(lab) == ["0", "0"]
            settings = [ln for ln in lab.exec("router", "cat", conf).stdout.splitlines() if ln[:1] not in ("#", "")]
            assert settings == ["net.ipv4.fib_multipath_hash_policy = 0", "net.ipv6.fib_multipath_hash_policy = 0"]
        assert run.recap["router"]["changed"] == 0, run.stdout  # the second run
    finally:
        lab.exec("router", "rm", "-f", conf)
        run, _result = apply(lab)  # back to the base: l4, running value only
        assert run.rc == 0 and _hash_policy(lab) == ["1", "1"], run.stdout


def test_frr_config_diff_matches_frr_reload_test_in_check_mode_and_apply(lab):
    before = _snapshot(lab)
    pools = [
        {"name": "lab-vips", "protocol": "bgp", "addresses": ["203.0.113.0/24", "2001:db8:203::/48"]},
        {"name": "more", "protocol": "bgp", "addresses": ["192.0.2.16-192.0.2.31"]},
    ]
    check, predicted = apply(lab, "--check", "--diff", bgp_router_pools=pools)
    assert check.rc == 0, check.stdout + check.stderr
    assert predicted["changed"] is True and predicted["running_changed"] is True
    assert "ip prefix-list METALLB-POOLS-V4 seq 10 permit 192.0.2.16/28 le 32" in predicted["lines_to_add"]
    assert "+ip prefix-list METALLB-POOLS-V4 seq 10 permit 192.0.2.16/28 le 32" in check.stdout
    assert _snapshot(lab) == before, "check mode changed the router"

    run, applied = apply(lab, "--diff", bgp_router_pools=pools)
    assert run.rc == 0, run.stdout + run.stderr
    assert applied["lines_to_add"] == predicted["lines_to_add"]
    assert applied["lines_to_delete"] == predicted["lines_to_delete"]
    assert applied["reloaded"] is True and applied.get("backup_file", "").startswith("/etc/frr/frr.conf.")
    assert lab.frr_reload_test("router") == ""

    run, reverted = apply(lab)
    assert run.rc == 0, run.stdout + run.stderr
    assert any("192.0.2.16/28" in line for line in reverted["lines_to_add"] + reverted["lines_to_delete"])
    assert lab.frr_reload_test("router") == ""


# ---------------------------------------------------------------- routing policy
def test_inbound_filter_accepts_only_pool_prefixes(lab):
    """A node announcing something outside the MetalLB pools gets nothing installed."""
    lab.announce("192.0.2.50/32", ["node1"])  # documentation range, but in no pool
    try:
        # node1 did send it to the router ...
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            sent = lab.vtysh_json("node1", "show bgp ipv4 unicast neighbors 198.51.100.1 advertised-routes")
            if "192.0.2.50/32" in sent.get("advertisedRoutes", {}):
                break
            time.sleep(0.2)
        assert "192.0.2.50/32" in sent.get("advertisedRoutes", {}), sent
        assert f"{VIP4}/32" in sent["advertisedRoutes"]
        # ... which kept the pool prefix and dropped the other one
        assert lab.vtysh_json("router", "show bgp ipv4 unicast 192.0.2.50/32") == {}
        verified = verify(lab, prefixes={"192.0.2.50": [], VIP4: lab.node4})
        assert verified.get("failed") is not True, verified.get("msg")
        assert lab.kernel_nexthops("router", "192.0.2.50") == []
    finally:
        lab.withdraw("192.0.2.50/32", ["node1"])


def test_outbound_denies_all_unless_a_default_route_is_asked_for(lab):
    def learned_from_router() -> set[str]:
        routes = lab.vtysh_json("node1", "show bgp ipv4 unicast").get("routes", {})
        return {prefix for prefix, paths in routes.items() if any(p.get("peerId") == "198.51.100.1" for p in paths)}

    def wait(want: set[str]) -> set[str]:
        deadline = time.monotonic() + 15
        while learned_from_router() != want and time.monotonic() < deadline:
            time.sleep(0.2)
        return learned_from_router()

    assert learned_from_router() == set()
    run, result = apply(lab, bgp_router_outbound="default_route")
    assert run.rc == 0, run.stdout + run.stderr
    assert result["lines_to_add"] == [
        "router bgp 64501 > address-family ipv4 unicast > neighbor METALLB default-originate",
        "router bgp 64501 > address-family ipv6 unicast > neighbor METALLB-V6 default-originate",
    ]
    assert wait({"0.0.0.0/0"}) == {"0.0.0.0/0"}  # the default route, and still nothing else
    run = apply(lab)[0]
    assert run.rc == 0, run.stdout + run.stderr
    assert wait(set()) == set()


# ---------------------------------------------------------------- sessions survive membership changes
def _wait_established(lab: LabClient, addresses: list[str], timeout: float = 30) -> dict:
    verified = verify(lab, peers=addresses, timeout=timeout)
    assert verified.get("failed") is not True, verified.get("msg")
    return verified


def _assert_not_reset(before: dict, after: dict, addresses: list[str]) -> None:
    for address in addresses:
        b, a = before[address], after[address]
        assert a["state"] == "Established", (address, a)
        assert a["established"] == b["established"], f"{address} re-established: {b} -> {a}"
        assert a["dropped"] == b["dropped"], f"{address} dropped: {b} -> {a}"
        assert a["uptime_msec"] >= b["uptime_msec"], f"{address} uptime went back: {b} -> {a}"


def test_adding_and_removing_a_node_resets_no_other_session(lab):
    first_two = [lab.node4[0], lab.node4[1], lab.node6[0], lab.node6[1]]
    run = apply(lab, bgp_router_neighbor_group="", bgp_router_node_asn=64500, bgp_router_neighbors=_neighbors(lab, [1, 2]))[0]
    assert run.rc == 0, run.stdout + run.stderr
    _wait_established(lab, first_two)
    before = lab.bgp_sessions("router")
    assert lab.node4[2] not in before  # node3 is not a neighbor now

    run, added = apply(lab, bgp_router_neighbor_group="", bgp_router_node_asn=64500, bgp_router_neighbors=_neighbors(lab, [1, 2, 3]))
    assert run.rc == 0, run.stdout + run.stderr
    assert added["lines_to_delete"] == []
    assert all("198.51.100.13" in line or "2001:db8:100::13" in line for line in added["lines_to_add"])
    _wait_established(lab, [lab.node4[2], lab.node6[2]])
    _assert_not_reset(before, lab.bgp_sessions("router"), first_two)

    before = lab.bgp_sessions("router")
    run, removed = apply(lab, bgp_router_neighbor_group="", bgp_router_node_asn=64500, bgp_router_neighbors=_neighbors(lab, [1, 3]))
    assert run.rc == 0, run.stdout + run.stderr
    assert removed["lines_to_add"] == []
    assert all("198.51.100.12" in line or "2001:db8:100::12" in line for line in removed["lines_to_delete"])
    after = lab.bgp_sessions("router")
    assert lab.node4[1] not in after and lab.node6[1] not in after
    _assert_not_reset(before, after, [lab.node4[0], lab.node4[2], lab.node6[0], lab.node6[2]])

    run = apply(lab)[0]  # back to the whole group
    assert run.rc == 0, run.stdout + run.stderr
    _wait_established(lab, _all_peers(lab))


def test_nodes_with_different_asns_still_share_the_vip(lab):
    """Per-node ASNs: remote-as per neighbor and multipath-relax, so ECMP still spans every node."""
    lab.speaker("node3", "configure", asn=64510)
    neighbors = _neighbors(lab, [1, 2, 3])
    for entry in neighbors:
        entry["asn"] = 64510 if entry["description"] == "node3" else 64500
    try:
        run, result = apply(lab, bgp_router_neighbor_group="", bgp_router_neighbors=neighbors)
        assert run.rc == 0, run.stdout + run.stderr
        assert "router bgp 64501 > bgp bestpath as-path multipath-relax" in result["lines_to_add"]
        verified = verify(lab, peers=_all_peers(lab), prefixes={VIP4: lab.node4, VIP6: lab.node6}, timeout=30)
        assert verified.get("failed") is not True, verified.get("msg")
        assert verified["peers"][lab.node4[2]]["remote_as"] == 64510
        assert lab.kernel_nexthops("router", VIP4) == sorted(lab.node4)
        assert lab.frr_reload_test("router") == ""
    finally:
        lab.speaker("node3", "configure", asn=64500)
        run = apply(lab)[0]
    assert run.rc == 0, run.stdout + run.stderr
    assert "multipath-relax" not in _running_config(lab)
    _wait_established(lab, _all_peers(lab))


# ---------------------------------------------------------------- secrets
def _node_password(lab: LabClient, password: str | None) -> None:
    for host in lab.nodes:
        commands = ["vtysh", "-c", "configure terminal", "-c", "router bgp 64500"]
        for router in ("198.51.100.1", "2001:db8:100::1"):
            commands += ["-c", f"neighbor {router} password {password}" if password else f"no neighbor {router} password"]
        lab.exec(host, *commands)


def test_md5_password_never_printed_and_file_not_world_readable(lab):
    _node_password(lab, PASSWORD)
    run, result = apply(lab, "-v", "--diff", bgp_router_password=PASSWORD)
    assert run.rc == 0, run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    assert "neighbor METALLB password ********" in run.stdout  # the diff, masked
    assert PASSWORD not in json.dumps(result)
    # MD5 sessions come up with the password on both sides
    _wait_established(lab, _all_peers(lab), timeout=60)
    listing = lab.exec("router", "sh", "-c", "stat -c '%a %U %G %n' /etc/frr/frr.conf /etc/frr/frr.conf.*~").stdout
    for line in listing.splitlines():
        assert line.startswith("640 root frr "), line
    logs = lab.exec("router", "sh", "-c", f"grep -rl -- '{PASSWORD}' /var/log/frr /run/frr || true").stdout
    assert logs.strip() == "", f"password found in {logs}"

    run = apply(lab, "--diff")[0]  # remove it again
    assert run.rc == 0, run.stdout + run.stderr
    assert PASSWORD not in run.stdout + run.stderr
    _node_password(lab, None)
    _wait_established(lab, _all_peers(lab), timeout=60)


# ---------------------------------------------------------------- bad input: fails before the router is touched
BAD_INPUT = [
    ("asn_zero", {"bgp_router_asn": 0}, "bgp_router_asn is 0"),
    ("asn_too_big", {"bgp_router_asn": 4294967296}, "bgp_router_asn is 4294967296"),
    ("router_id_not_ipv4", {"bgp_router_router_id": "2001:db8:100::1"}, "bgp_router_router_id"),
    ("router_id_bad_octet", {"bgp_router_router_id": "198.51.100.256"}, "bgp_router_router_id"),
    ("duplicate_neighbor", {"bgp_router_neighbors": [{"address": "198.51.100.12"}]}, "duplicate neighbor 198.51.100.12"),
    ("hold_time_1", {"bgp_router_hold_time": 1, "bgp_router_keepalive": 0}, "bgp_router_hold_time is 1"),
    ("hold_time_2", {"bgp_router_hold_time": 2}, "bgp_router_hold_time is 2"),
    ("keepalive_not_below_hold", {"bgp_router_keepalive": 9, "bgp_router_hold_time": 9}, "bgp_router_keepalive (9) must be below"),
    ("password_newline", {"bgp_router_password": "abc\nneighbor 198.51.100.99 remote-as 1"}, "bgp_router_password is not usable"),
    ("password_quote", {"bgp_router_password": 'pa"ss'}, "bgp_router_password is not usable"),
    ("neighbor_password_quote", {"bgp_router_neighbors": [{"address": "198.51.100.44", "password": "it's"}]},
     "bgp_router_neighbors[0].password"),
    ("empty_node_list", {"bgp_router_neighbor_group": "", "bgp_router_neighbors": []}, "no neighbors"),
    ("unknown_node_group", {"bgp_router_neighbor_group": "k8s_workers"}, "bgp_router_neighbor_group"),
    ("pool_host_bits", {"bgp_router_pools": [{"name": "p", "addresses": ["203.0.113.5/24"]}]}, "bgp_router_pools: "),
    ("pool_contains_node", {"bgp_router_pools": [{"name": "p", "addresses": ["198.51.100.0/28"]}]}, "contains node address"),
    ("ipv6_pool_without_ipv6_sessions", {"bgp_router_neighbor_address6_var": ""}, "no neighbor has an IPv6 address"),
    ("node_asn_equals_router", {"bgp_router_asn": 64500}, "equals bgp_router_asn"),
    ("sysctl_file_relative", {"bgp_router_sysctl_file": "sysctl.d/ecmp.conf"}, "bgp_router_sysctl_file"),
    # AWX-style strings: "true" must act as true
    ("bfd_toward_native_speakers", {"bgp_router_bfd": "true", "bgp_router_metallb_mode": "native"},
     "bgp_router_bfd is true but bgp_router_metallb_mode is native"),
    ("graceful_restart_toward_native_speakers", {"bgp_router_graceful_restart": "true", "bgp_router_metallb_mode": "native"},
     "bgp_router_graceful_restart is true but bgp_router_metallb_mode is native"),
]


@pytest.mark.parametrize("overrides, needle", [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT])
def test_bad_input_fails_before_the_router_is_touched(lab, overrides, needle):
    before = _snapshot(lab)
    run, result = apply(lab, **overrides)
    assert run.rc != 0, run.stdout
    assert result is None  # frr_config never ran
    assert needle in run.stdout, run.stdout
    assert "nothing was changed on the router" in run.stdout
    # no task after the validation ran: not even facts were gathered on the router
    assert "Read the OS family" not in run.stdout
    for secret in ("abc\nneighbor", 'pa"ss', "it's"):
        if secret in json.dumps(overrides):
            assert secret not in run.stdout + run.stderr
    assert _snapshot(lab) == before


def test_graceful_restart_for_frr_based_speakers_applied_idempotent_and_removed(lab):
    """bgp_router_graceful_restart (speakers in frr-k8s mode, the default): the router gets 'bgp graceful-restart',
    a second run changes nothing (the file is FRR's canonical form), and the base configuration takes it away."""
    run, result = apply(lab, bgp_router_graceful_restart="true", bgp_router_metallb_mode="frr-k8s")
    assert run.rc == 0, run.stdout + run.stderr
    assert result["changed"] is True and "bgp graceful-restart" in json.dumps(result["lines_to_add"]), result
    assert "bgp graceful-restart" in _running_config(lab)
    again, result = apply(lab, bgp_router_graceful_restart="true", bgp_router_metallb_mode="frr-k8s")
    assert again.recap["router"]["changed"] == 0, again.stdout
    assert lab.frr_reload_test("router") == ""
    back, result = apply(lab)
    assert back.rc == 0, back.stdout + back.stderr
    assert "bgp graceful-restart" not in _running_config(lab)
    verified = verify(lab, peers=_all_peers(lab), timeout=60)
    assert verified.get("failed") is not True, verified.get("msg")


def test_bfd_switched_on_and_off_again(lab):
    """BFD toward FRR-based speakers, then off again: the second apply must take BFD away from the running
    configuration too (FRR 8.4's frr-reload.py deletes the BFD profile before the neighbors that use it, which
    bfdd refuses; the apply then reported a difference it could not remove)."""
    bfd = {"bgp_router_bfd": "true", "bgp_router_metallb_mode": "frr-k8s"}
    run, result = apply(lab, **bfd)
    assert run.rc == 0, run.stdout + run.stderr
    assert "bfd" in _running_config(lab)
    off, result = apply(lab, bgp_router_bfd="false", bgp_router_metallb_mode="frr-k8s")
    assert off.rc == 0, off.stdout + off.stderr
    running = _running_config(lab)
    assert "neighbor METALLB bfd" not in running and "\nbfd\n" not in running, running
    assert lab.frr_reload_test("router") == ""
    again, result = apply(lab, bgp_router_bfd="false", bgp_router_metallb_mode="frr-k8s")
    assert again.recap["router"]["changed"] == 0, again.stdout


# ---------------------------------------------------------------- frr_config on its own
def _frr_config(lab: LabClient, content: str, *args: str) -> dict:
    run, result = lab.playbook_result(TARGET / "frr_config.yml", RESULT_VAR, {"frr_content": content}, args=args,
                                      expect_failure=None)
    assert result is not None, run.stdout + run.stderr
    return result


def test_candidate_vtysh_rejects_changes_nothing(lab):
    before = _snapshot(lab)
    bad = before[1].replace(" bgp log-neighbor-changes\n", " bgp log-neighbor-changes\n neighbor 198.51.100.44 password two words\n")
    result = _frr_config(lab, bad)
    assert result["failed"] is True
    assert "vtysh rejected the candidate configuration" in result["msg"]
    assert "two words" not in result["msg"]
    assert _snapshot(lab) == before


def test_failed_reload_rolls_back_to_the_previous_file(lab):
    before = _snapshot(lab)
    sessions = lab.bgp_sessions("router")
    # parses (vtysh -C) but bgpd refuses it: the peer-group does not exist
    bad = before[1].replace(" bgp log-neighbor-changes\n", " bgp log-neighbor-changes\n neighbor 198.51.100.44 peer-group NOPE\n")
    result = _frr_config(lab, bad)
    assert result["failed"] is True
    assert "frr-reload.py --reload failed" in result["msg"] and "Rolled back" in result["msg"]
    assert "Configure the peer-group first" in result["msg"]
    assert _router_file(lab) == before[1]
    assert lab.frr_reload_test("router") == ""
    _assert_not_reset(sessions, lab.bgp_sessions("router"), _all_peers(lab))


def test_check_mode_on_a_stopped_router_reports_the_file_diff(lab):
    """FRR stopped: check mode compares the file, changes nothing, and says so."""
    lab.exec("router", "/usr/lib/frr/frrinit.sh", "stop")
    try:
        current = _router_file(lab)
        candidate = current.replace("hostname router", "hostname router-x")
        result = _frr_config(lab, candidate, "--check", "--diff")
        assert result["changed"] is True and result["daemons_running"] is False
        assert _router_file(lab) == current
    finally:
        lab.exec("router", "/usr/lib/frr/frrinit.sh", "start")
    _wait_established(lab, _all_peers(lab), timeout=60)
