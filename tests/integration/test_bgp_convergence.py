# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The BGP claims of the seed (metallb-bgp-external-traffic-policy.md), proven on real FRR.

* every node announces the VIP -> the router spreads it over all of them (ECMP);
* one node withdraws it (externalTrafficPolicy: Local, no local pod) -> its next hop
  leaves the router's FIB within 1 s;
* a node fails silently (link down) -> its next hop leaves within the hold time, not
  before (nothing tells the router);
* with BFD (100 ms x 3) the same failure is noticed within 1 s.

The bounds are the seed's claims, checked by polling the router's kernel FIB from the
moment of the event (started through the lab's Python API, so no process start-up
delays it); how long it actually took is printed (and measured repeatedly by
bench/bgp_convergence.py), never compared with anything tighter.
One lab of its own (``bgpcv<pid>``, 3 nodes) for the module; the tests run in file order.
"""

from __future__ import annotations

import pathlib
import sys
import time

import pytest

from metallb_lab.client import LabClient, unique_name  # on sys.path: conftest.py

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent / "targets" / "bgp_router"))

from bgp_target import apply, verify  # noqa: E402

VIP = "203.0.113.20"
HOLD = 9  # apply.yml and the lab speakers: timers 3 9


@pytest.fixture(scope="module")
def lab():
    with LabClient.fresh(unique_name("bgpcv"), nodes=3) as bgp_lab:
        run = apply(bgp_lab)[0]
        assert run.rc == 0, run.stdout + run.stderr
        yield bgp_lab


def _converged(lab: LabClient, want: list[str]) -> None:
    verified = verify(lab, peers=lab.node4, prefixes={VIP: want}, timeout=30)
    assert verified.get("failed") is not True, verified.get("msg")


def test_all_nodes_announce_ecmp_over_all(lab):
    lab.announce(f"{VIP}/32")
    verified = verify(lab, peers=lab.node4, prefixes={VIP: lab.node4}, timeout=15)
    assert verified.get("failed") is not True, verified.get("msg")
    assert lab.kernel_nexthops("router", VIP) == sorted(lab.node4)


def test_withdraw_local_policy_next_hop_gone_within_1s(lab):
    start = lab.timed_speaker("node2", "withdraw", f"{VIP}/32")
    took = lab.wait_for_nexthops("router", VIP, [lab.node4[0], lab.node4[2]], start, timeout=1.0)
    print(f"\nnode2 withdrew {VIP}: its next hop left the router's FIB after {took}")
    assert took is not None, f"node2's next hop still in the FIB 1 s after the withdraw: {lab.kernel_nexthops('router', VIP)}"
    # bgp_verify says the same, naming what is missing when asked for all three
    verified = verify(lab, prefixes={VIP: lab.node4})
    assert verified["failed"] is True
    assert verified["differences"] == [f"{VIP}/32: missing next hop {lab.node4[1]}"]
    lab.announce(f"{VIP}/32", ["node2"])
    _converged(lab, lab.node4)


def test_silent_failure_next_hop_gone_within_hold_time_not_before(lab):
    start = lab.timed_link("node3", "down")
    try:
        # nothing tells the router: the path stays while the hold timer runs
        time.sleep(2)
        assert lab.kernel_nexthops("router", VIP) == sorted(lab.node4), "path left before the hold timer could expire"
        # the hold timer runs from the last keepalive, before the link went down; 0.5 s
        # more covers bgpd and zebra removing the path (one run took 9.03 s)
        took = lab.wait_for_nexthops("router", VIP, lab.node4[:2], start, timeout=HOLD + 0.5)
        print(f"\nnode3 link down: its next hop left after {took} (hold time {HOLD} s)")
        assert took is not None, f"node3's next hop still there {HOLD} s after link down: {lab.kernel_nexthops('router', VIP)}"
        state = lab.bgp_sessions("router")[lab.node4[2]]["state"]
        assert state != "Established"
    finally:
        lab.link("node3", "up")
    _converged(lab, lab.node4)


def test_bfd_silent_failure_next_hop_gone_within_1s(lab):
    for host in lab.nodes:
        lab.speaker(host, "configure", bfd=True)
    # the role enables bfdd (daemons file + reload of watchfrr only) and the BFD profile
    run, result = apply(lab, bgp_router_bfd=True, bgp_router_bfd_receive_interval=100, bgp_router_bfd_transmit_interval=100)
    assert run.rc == 0, run.stdout + run.stderr
    assert "Reload FRR so that watchfrr starts the newly enabled daemons" in run.stdout
    assert result["reloaded"] is True and lab.frr_reload_test("router") == ""
    _converged(lab, lab.node4)
    deadline = time.monotonic() + 30
    while True:
        peers = {p["peer"]: p for p in lab.vtysh_json("router", "show bfd peers")}
        if all(peers.get(a, {}).get("status") == "up" for a in lab.node4) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert all(peers[a]["status"] == "up" for a in lab.node4), peers
    assert {peers[a]["transmit-interval"] for a in lab.node4} == {100}

    start = lab.timed_link("node3", "down")
    try:
        took = lab.wait_for_nexthops("router", VIP, lab.node4[:2], start, timeout=1.0)
        print(f"\nnode3 link down with BFD 100 ms x 3: its next hop left after {took}")
        assert took is not None, f"node3's next hop still there 1 s after link down with BFD: {lab.kernel_nexthops('router', VIP)}"
    finally:
        lab.link("node3", "up")
    _converged(lab, lab.node4)
