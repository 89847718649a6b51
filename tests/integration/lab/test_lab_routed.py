# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The routed layout (``labctl up --routers 2``): two routers, two racks, the client upstream.

One lab of its own (``rt<pid>``: router1/rack1 with node1+node3, router2/rack2 with node2+node4,
the client on 192.0.2.0/24), the stand-in speakers (no Kubernetes) and the bgp_router role on
both routers from the lab's inventory (each router's ``lab_neighbor_group``). The tests run in
file order: per-rack sessions, then the client's traffic through a router, then that router
fails.
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from metallb_lab.client import LabClient, unique_name  # on sys.path: ../conftest.py

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "targets" / "bgp_router"))

from bgp_target import apply  # noqa: E402

VIP = "203.0.113.50"
VIP_RANGE = "203.0.113.0/24"
PORT = 8080
# an answer naming the node; one process per node, ended by pid (and by `down` in any case)
SERVER = """
import socket, socketserver
class H(socketserver.BaseRequestHandler):
    def handle(self):
        self.request.recv(16)
        self.request.sendall(socket.gethostname().encode())
socketserver.ThreadingTCPServer.allow_reuse_address = True
socketserver.ThreadingTCPServer(("0.0.0.0", %d), H).serve_forever()
""" % PORT
# the client: a new TCP connection every 20 ms for SECONDS; [wall time, node that answered or ""]
PROBE = """
import json, socket, sys, time
end, out = time.monotonic() + float(sys.argv[1]), []
while time.monotonic() < end:
    t = time.monotonic()
    try:
        with socket.create_connection((%r, %d), timeout=0.1) as s:
            s.sendall(b"?")
            answer = s.recv(64).decode()
    except OSError:
        answer = ""
    out.append((time.time(), answer))
    time.sleep(max(0.0, 0.02 - (time.monotonic() - t)))
print(json.dumps(out))
""" % (VIP, PORT)
RACKS = {"router1": ["node1", "node3"], "router2": ["node2", "node4"]}


@pytest.fixture(scope="module")
def lab():
    with LabClient.fresh(unique_name("rt"), nodes=4, routers=2) as routed:
        run, dummy = apply(routed)
        assert run.rc == 0, run.stdout + run.stderr
        servers = [subprocess.Popen([*routed.hosts[n].enter, "/usr/bin/python3", "-c", SERVER])
                   for n in routed.nodes]
        try:
            yield routed
        finally:
            for proc in servers:
                proc.terminate()
                proc.wait(timeout=10)


def _addresses(lab: LabClient, nodes: list[str]) -> list[str]:
    return sorted([lab.hosts[n].address for n in nodes] + [lab.hosts[n].address6 for n in nodes])


def _forwarded(lab: LabClient, router: str) -> int:
    """The router's IPv4 ForwDatagrams counter (/proc/net/snmp of its network namespace)."""
    lines = [line.split() for line in lab.exec(router, "cat", "/proc/net/snmp").stdout.splitlines()
             if line.startswith("Ip:")]
    return int(dict(zip(lines[0], lines[1]))["ForwDatagrams"])


def _probe(lab: LabClient, seconds: float) -> list[tuple[float, str]]:
    return json.loads(lab.exec("client", "/usr/bin/python3", "-c", PROBE, str(seconds), timeout=seconds + 30).stdout)


def _wait_established(lab: LabClient, router: str, timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        sessions = lab.bgp_sessions(router)
        if sessions and all(s["state"] == "Established" for s in sessions.values()):
            return sessions
        if time.monotonic() > deadline:
            return sessions
        time.sleep(0.5)


def test_each_router_peers_with_its_own_racks_nodes_only(lab):
    assert lab.routers == ["router1", "router2"]
    assert {n: lab.hosts[n].rack for n in lab.nodes} == {
        "node1": "rack1", "node2": "rack2", "node3": "rack1", "node4": "rack2"}
    for router, nodes in RACKS.items():
        sessions = _wait_established(lab, router)
        assert all(s["state"] == "Established" for s in sessions.values()), (router, sessions)
        summary = lab.vtysh_json(router, "show bgp summary")
        peers = sorted({p for af in summary.values() for p in af.get("peers", {})})
        assert peers == _addresses(lab, nodes), (router, summary)
    # and each speaker only has sessions to its own rack's router
    for node in lab.nodes:
        router = next(r for r, nodes in RACKS.items() if node in nodes)
        assert sorted(lab.bgp_sessions(node)) == sorted([lab.hosts[router].address, lab.hosts[router].address6])


def test_the_upstream_client_reaches_a_vip_through_a_router_both_ways(lab):
    lab.announce(f"{VIP}/32")
    for node in lab.nodes:
        lab.exec(node, "ip", "addr", "replace", f"{VIP}/32", "dev", "lo")
    for router, nodes in RACKS.items():
        assert lab.wait_for_nexthops(router, VIP, [lab.hosts[n].address for n in nodes],
                                     time.monotonic(), 10) is not None, (router, lab.kernel_nexthops(router, VIP))
    # the client has no address on the nodes' segment: two paths, one per router's uplink
    assert lab.kernel_nexthops("client", VIP_RANGE) == ["192.0.2.251", "192.0.2.252"]
    assert "198.51.100." not in lab.exec("client", "ip", "-4", "addr").stdout
    # each node's way back to the client is its own rack's router
    for router, nodes in RACKS.items():
        for node in nodes:
            assert lab.kernel_nexthops(node, "default") == [lab.hosts[router].address]
    before = {r: _forwarded(lab, r) for r in RACKS}
    answers = _probe(lab, 1.0)
    after = {r: _forwarded(lab, r) for r in RACKS}
    answered = [a for dummy, a in answers if a]
    assert answered and len(answered) == len(answers), answers
    # the client's L3 hash puts all its flows on one router; that router carried both directions
    # (every exchange is >= 5 packets each way) and only its rack's nodes answered
    forwarded = {r: after[r] - before[r] for r in RACKS}
    carrier = max(forwarded, key=forwarded.get)
    other = next(r for r in RACKS if r != carrier)
    assert forwarded[carrier] >= 6 * len(answers), forwarded
    assert forwarded[other] < len(answers), forwarded
    assert set(answered) <= set(RACKS[carrier]), (carrier, set(answered))


def test_router_failure_new_connections_continue_through_the_other_router(lab):
    before = _probe(lab, 0.3)
    carrier = next(r for r, nodes in RACKS.items() if before[-1][1] in nodes)
    other = next(r for r in RACKS if r != carrier)
    with ThreadPoolExecutor(1) as pool:
        probing = pool.submit(_probe, lab, 8.0)
        time.sleep(2.0)
        down_at = time.time()
        lab.timed_link(carrier, "down")  # both of its links, silently: no FIN, no RST, no BGP NOTIFICATION
        answers = probing.result()
    try:
        failed = [t for t, a in answers if not a]
        after = [(t, a) for t, a in answers if t > down_at]
        recovered = next((t for t, a in after if a in RACKS[other]), None)
        assert recovered is not None, f"nothing answered through {other} after {carrier} failed: {after}"
        interruption = recovered - down_at
        tail = [a for t, a in after if t > recovered]
        lost_later = tail.count("")
        print(f"\nrouter failure: {carrier} down; first answer through {other} after {interruption:.2f} s; "
              f"{len(failed)} of {len(answers)} new connections (every 20 ms) failed, {lost_later} of "
              f"{len(tail)} after the switch")
        assert all(a for t, a in answers if t < down_at), "connections failed before the router did"
        # detection is the client's neighbour probing (lab: ~1-3 s), not BGP on the routers
        assert interruption < 5.0, interruption
        # after the switch only the other rack answers; the kernel may retry the dead router's
        # address once its failed neighbour entry is garbage-collected (a short blip, counted above)
        assert tail and all(a in RACKS[other] for a in tail if a), tail
        assert lost_later <= len(tail) // 4, (lost_later, len(tail))
        assert lab.kernel_nexthops("client", VIP_RANGE) == ["192.0.2.251", "192.0.2.252"]  # a static ECMP route
        # what took the path out: the client's neighbour entry for the dead router failed
        uplink = {"router1": "192.0.2.251", "router2": "192.0.2.252"}[carrier]
        neigh = lab.exec("client", "ip", "neigh", "show", uplink).stdout
        assert "FAILED" in neigh, neigh
    finally:
        lab.link(carrier, "up")
