# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""BFD and graceful restart in frr-k8s mode, end to end on the lab (issue 17, "Proof on the lab").

One lab and cluster for the module (conftest ``kube_lab``): MetalLB's ``metallb-frr-k8s.yaml``
(frr-k8s's FRR on every node), the lab router configured by the collection's bgp_router role
(3/9 timers as the lab's speakers), a Service with externalTrafficPolicy Cluster announced by
every node (ECMP, the router hashes on L4) and its echo pods on node1 and node2 only, so that
node3 carries client connections as an ingress node and nothing else.

* BFD: node3 fails silently (its switch port goes down: the router gets no notice), once with
  the hold timer only and once with BFD 100 ms x 3 on both sides (the router through
  bgp_router_bfd*, MetalLB through a BFDProfile on the BGPPeer), in one run. Measured each time:
  when the router's FIB drops node3, and the client's loss (a stream of new connections from
  the client host: when the last one through node3 failed). First run: hold timer 7.9 s (FIB)
  and 7.86 s (last failed connection, 85 of 579 failed); BFD 0.32 s and 0.32 s (5 of 377).

* Graceful restart: node3's bgpd crashes (SIGKILL through the lab, lab/cluster/frr_pods.py
  kill_frr_daemon: no NOTIFICATION, the TCP connection just closes; the pod's watchfrr starts bgpd
  again and loads the pod's frr.conf) while the client holds 30 connections and opens new ones,
  once without graceful restart and once with it on both sides (bgp_router_graceful_restart, the
  BGPPeer's enableGracefulRestart). Counted each time: whether and when the router's FIB lost
  node3, the held connections that broke, the new ones that failed. FRR puts a changed graceful
  restart setting into a session's OPEN only when the session starts again: the bgp_router role
  resets the router's sessions that predate the change, one at a time (bgp_router_graceful_restart_reset),
  and the module checks, right after the role's run and with no reset of its own, that every session
  is a new one with both ends advertising the new mode, and that a second run changes nothing (two
  runs: the role's run with the rolling reset of the 3 sessions 21.4 / 17.4 s, turning it off 18.2 /
  18.2 s, the second run changed=0 in 8.8 / 6.6 s). Two runs of the bgpd restart:
  without, the FIB dropped node3 after 0.07 / 0.09 s and 12 / 18 of 30 held connections broke;
  with, the FIB kept node3 throughout (bgpd back after 39 s: watchfrr waits 60 s between two
  restarts of a daemon) and none broke; no new connection failed in either.

The numbers are printed (pytest -s).
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")

from cluster_commands import sh  # noqa: E402  (this folder is on sys.path)
from test_frr_k8s import (  # noqa: E402  (the frr-k8s bring-up's helpers)
    CLUSTERCTL, GRP, MLNS, NODE_ADDR, NODE_ASN, REPO, ROUTER, ROUTER_ASN,
    all_up, create_retrying, manifest, router_route, router_sessions, wait,
)

KUBE_LAB = {"base": "fb", "nodes": 3}
APPLY = REPO / "tests/integration/targets/bgp_router/apply.yml"
TRAFFIC = Path(__file__).with_name("maintenance_traffic.py")
POOL = "203.0.113.50-203.0.113.59"
FAIL = "node3"  # an ingress node only: the echo pods run on node1 and node2
BFD = {"receiveInterval": 100, "transmitInterval": 100, "detectMultiplier": 3}
NAME = "frrproof"
PEER = {"myASN": NODE_ASN, "peerASN": ROUTER_ASN, "peerAddress": ROUTER, "holdTime": "9s", "keepaliveTime": "3s",
        "connectTime": "2s"}
SEEN: dict = {}


def router_vars(bfd: bool = False, graceful_restart: bool = False) -> dict:
    return {"bgp_router_metallb_mode": "frr-k8s", "bgp_router_bfd": bfd, "bgp_router_graceful_restart": graceful_restart,
            "bgp_router_bfd_receive_interval": BFD["receiveInterval"],
            "bgp_router_bfd_transmit_interval": BFD["transmitInterval"],
            "bgp_router_bfd_detect_multiplier": BFD["detectMultiplier"]}


def configure(c: dict, *, bfd: bool = False, graceful_restart: bool = False) -> None:
    """Both sides the same: MetalLB's BGPPeer toward the router, then the router through bgp_router alone.
    A changed graceful restart setting takes effect in the running sessions through the role (its rolling
    reset, bgp_router_graceful_restart_reset): no session is reset here."""
    # MetalLB's webhook refuses a change of enableGracefulRestart: the BGPPeer is created anew
    c["co"].delete_namespaced_custom_object(GRP, "v1beta2", MLNS, "bgppeers", "router")
    spec = dict(PEER, **({"bfdProfile": NAME} if bfd else {}), **({"enableGracefulRestart": True} if graceful_restart else {}))
    create_retrying(lambda: c["co"].create_namespaced_custom_object(GRP, "v1beta2", MLNS, "bgppeers", {
        "apiVersion": f"{GRP}/v1beta2", "kind": "BGPPeer", "metadata": {"name": "router"}, "spec": spec}))
    changing = graceful_restart != c.get("graceful_restart", False)
    before = nodes_in_mode(c, graceful_restart) if changing else None
    start = time.monotonic()
    run = c["lab"].playbook(APPLY, router_vars(bfd, graceful_restart))
    took = time.monotonic() - start
    assert not run.failed, run
    if changing:
        renegotiated(c, graceful_restart, before)
        print(f"\n[gr] bgp_router with graceful restart {'on' if graceful_restart else 'off'}: its run (rolling reset "
              f"of {len(NODE_ADDR)} sessions included) took {took:.1f} s", flush=True)
        if graceful_restart:  # the sessions run the new mode: a second run finds nothing to do
            start = time.monotonic()
            again = c["lab"].playbook(APPLY, router_vars(bfd, graceful_restart))
            print(f"[gr] the second run: changed={again.changed}, {time.monotonic() - start:.1f} s", flush=True)
            assert not again.failed and again.changed == 0, again
    steady(c, bfd)


def gr_modes(c: dict, node: str) -> dict:
    """Graceful restart of ``node``'s session as each end sees it: its own mode (``*``: the global
    one), the mode the other end's OPEN advertised, and the rest of FRR's gracefulRestartInfo."""
    addr = NODE_ADDR[node]
    router = c["lab"].vtysh_json("router", f"show bgp neighbors {addr} json").get(addr, {})
    mine = node_vtysh_json(c, node, f"show bgp neighbors {ROUTER} json").get(ROUTER, {})
    return {side: {"state": n.get("bgpState"), "established": n.get("connectionsEstablished"),
                   **n.get("gracefulRestartInfo", {})} for side, n in (("router", router), (node, mine))}


def nodes_in_mode(c: dict, graceful_restart: bool) -> dict:
    """Wait until every node's FRR runs MetalLB's new setting (``neighbor X graceful-restart``, which
    frr-k8s renders from enableGracefulRestart) with its session Established; the router's count of
    established connections per node then."""
    want = "Restart" if graceful_restart else "Helper"

    def in_mode(node: str) -> bool | None:
        m = gr_modes(c, node)
        return m[node].get("localGrMode", "").startswith(want) and m["router"]["state"] == "Established" or None

    for node in NODE_ADDR:
        wait(f"{node}'s FRR in {want} mode toward the router, its session Established",
             lambda n=node: in_mode(n), 60, 0.5)
    return {node: gr_modes(c, node)["router"]["established"] for node in NODE_ADDR}


def renegotiated(c: dict, graceful_restart: bool, before: dict) -> None:
    """FRR puts a changed graceful restart setting into a session's OPEN only when the session starts
    ("reset this peer to take effect"). Right after the role's run, with no reset from here: every
    session is a new one and both ends advertise the new mode (the node's remoteGrMode is what the
    router's OPEN said)."""
    want = "Restart" if graceful_restart else "Helper"
    for node in NODE_ADDR:
        m = SEEN[f"gr_modes_{node}"] = gr_modes(c, node)
        assert (m["router"]["state"] == "Established" and m["router"]["established"] > before[node]
                and m["router"].get("remoteGrMode") == want and m[node].get("remoteGrMode") == want), (node, before, m)
    c["graceful_restart"] = graceful_restart


def steady(c: dict, bfd: bool) -> None:
    """Every session Established, the VIP over every node, and (with BFD) the router's BFD peers up."""
    lab, vip = c["lab"], c["vip"]
    wait("every session Established", lambda: set(router_sessions(lab).values()) == {"Established"}
         and len(router_sessions(lab)) == len(NODE_ADDR) or None, 120, 0.2)
    wait(f"{vip} over every node", lambda: router_route(lab, vip) == sorted(NODE_ADDR.values()) or None, 60, 0.1)
    if bfd:
        def bfd_up():
            peers = [p for p in lab.vtysh_json("router", "show bfd peers") if p.get("peer") in NODE_ADDR.values()]
            return peers if len(peers) == len(NODE_ADDR) and {p.get("status") for p in peers} == {"up"} else None
        peers = wait("the router's BFD sessions with every node up", bfd_up, 60, 0.2)
        assert {(p["receive-interval"], p["transmit-interval"], p["detect-multiplier"]) for p in peers} == {
            (BFD["receiveInterval"], BFD["transmitInterval"], BFD["detectMultiplier"])}, peers
    else:  # no BFD on the router (bfdd stopped, or running without these peers)
        out = lab.exec("router", "vtysh", "-c", "show bfd peers json", check=False)
        peers = json.loads(out.stdout or "[]") if out.returncode == 0 else []
        assert not [p for p in peers if p.get("peer") in NODE_ADDR.values()], peers


class Traffic:
    """maintenance_traffic.py on the client host: streams of new connections, held ones per stream."""

    def __init__(self, c: dict, tmp: Path, *, streams: int, held: int, timeout: float) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.stop_file = tmp / "stop"
        targets = [f"s{k}={c['vip']}:80" for k in range(streams)]
        self.proc = subprocess.Popen([*c["lab"].hosts["client"].enter, "/usr/bin/python3", str(TRAFFIC),
                                      "--stop-file", str(self.stop_file), "--interval", "0.02", "--timeout", str(timeout),
                                      "--held", str(held), *targets],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        assert first.startswith('{"started"'), first + self.proc.stderr.read()
        time.sleep(1.5)  # a steady state first

    def result(self) -> dict:
        self.stop_file.write_text("")
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])


def silent_failure(c: dict, tmp: Path) -> dict:
    """node3's switch port down while the client connects; the router's FIB and the client's loss."""
    lab, vip = c["lab"], c["vip"]
    others = sorted(a for n, a in NODE_ADDR.items() if n != FAIL)
    # three streams of short-lived connections (a lost SYN costs the timeout: 0.25 s of resolution)
    traffic = Traffic(c, tmp, streams=3, held=0, timeout=0.25)
    wall = time.time()
    start = lab.timed_link(FAIL, "down")
    try:
        fib = lab.wait_for_nexthops("router", vip, others, start, 30, 0.01)
        time.sleep(1.0)  # connections after the FIB change, to see the loss has ended
    finally:
        lab.timed_link(FAIL, "up")
    result = traffic.result()
    new = sorted(x for s in result.values() for x in s["new"])
    before = [x for x in new if x[0] < wall]
    failed = [x for x in new if not x[1] and x[0] >= wall]
    last_failed = failed[-1][0] - wall if failed else 0.0
    recovered = next((x[0] - wall for x in new if x[0] > wall + last_failed and x[1]), None) if failed else 0.0
    return {"fib": fib, "connections": len(new), "failed": len(failed), "failed_before": len([x for x in before if not x[1]]),
            "last_failed": last_failed, "recovered": recovered,
            "nodes": sorted({x[2] for x in new if x[1]})}


@pytest.fixture(scope="module")
def frr(kube_lab):
    """frr-k8s mode, a pool, the BGPPeer (3/9, no BFD, no graceful restart yet), the BFDProfile, a
    Cluster Service with its echo pods on node1 and node2, over every node on the router."""
    from kubernetes import client as k8s  # noqa: PLC0415
    lab, name, api = kube_lab["lab"], kube_lab["name"], kube_lab["api"]
    run = lab.playbook(APPLY, router_vars())
    assert not run.failed, run
    sh([*CLUSTERCTL, "kubectl", "--name", name, "--", "apply", "--server-side", "-f", str(manifest())])
    wait("every pod of metallb-frr-k8s.yaml running", lambda: all_up(name), 180)
    co, core, apps = k8s.CustomObjectsApi(api), k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    for version, plural, kind, spec in (
            ("v1beta1", "ipaddresspools", "IPAddressPool", {"addresses": [POOL]}),
            ("v1beta1", "bfdprofiles", "BFDProfile", BFD),
            ("v1beta2", "bgppeers", "BGPPeer", PEER),
            ("v1beta1", "bgpadvertisements", "BGPAdvertisement", {"ipAddressPools": [NAME]})):
        body = {"apiVersion": f"{GRP}/{version}", "kind": kind, "metadata": {"name": "router" if kind == "BGPPeer" else NAME},
                "spec": spec}
        create_retrying(lambda v=version, p=plural, b=body: co.create_namespaced_custom_object(GRP, v, MLNS, p, b))
    labels = {"app": NAME, "lab.baremetal.metallb/datapath": "echo"}
    on_node1_or_node2 = {"nodeSelectorTerms": [
        {"matchExpressions": [{"key": "kubernetes.io/hostname", "operator": "In", "values": ["node1", "node2"]}]}]}
    one_per_node = [{"labelSelector": {"matchLabels": labels}, "topologyKey": "kubernetes.io/hostname"}]
    affinity = {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": on_node1_or_node2},
                "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": one_per_node}}
    apps.create_namespaced_deployment("default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": NAME},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {"affinity": affinity, "containers": [{"name": "echo", "image": "registry.invalid/echo:lab"}]}}}})
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": NAME},
        "spec": {"type": "LoadBalancer", "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}})
    vip = wait("a LoadBalancer IP", lambda: (core.read_namespaced_service(NAME, "default")
                                             .status.load_balancer.ingress or [None])[0], 30).ip
    c = {"lab": lab, "name": name, "co": co, "core": core, "vip": vip}
    steady(c, bfd=False)
    return c


def report(what: str, m: dict) -> None:
    print(f"\n[time] {FAIL} silent ({what}): router FIB dropped it after {m['fib']} s; client: "
          f"{m['failed']} of {m['connections']} new connections failed, the last {m['last_failed']:.2f} s "
          f"after the failure, all fine again from {m['recovered']} s; answered by {m['nodes']}", flush=True)


def node_frr(c: dict, node: str) -> tuple[Path, Path]:
    """(the state dir of ``node``'s frr-k8s pod, the node's network namespace), as the supervisor runs it."""
    from cluster.control import Cluster  # noqa: PLC0415 (lab/ on sys.path: conftest.py)
    pod = next(p for p in c["core"].list_namespaced_pod(MLNS, label_selector="app=frr-k8s").items
               if p.spec.node_name == node)
    return (Cluster(c["name"]).state / "pods" / f"{MLNS}.{pod.metadata.name}",
            Path(f"/run/netns/{c['name']}-{node}"))


def node_vtysh_json(c: dict, node: str, command: str) -> dict:
    """vtysh on ``node``'s frr-k8s FRR (its daemons' sockets in the pod's /var/run/frr volume)."""
    pod_dir, dummy = node_frr(c, node)
    run_dir = next(d for d in (pod_dir / "empty").glob("*") if (d / "bgpd.vty").exists())
    out = subprocess.run(["vtysh", "--vty_socket", str(run_dir), "-c", command], capture_output=True, text=True,
                         check=True, timeout=30).stdout
    return json.loads(out)


def restart_bgpd(c: dict, tmp: Path) -> dict:
    """node3's bgpd killed (SIGKILL: no NOTIFICATION, its TCP connection closes; watchfrr starts it
    again and loads the pod's frr.conf) while the client holds connections; the router's FIB watched
    throughout, until node3's session is Established again and the VIP is over every node."""
    from cluster import frr_pods  # noqa: PLC0415 (lab/ on sys.path: conftest.py)
    lab, vip = c["lab"], c["vip"]
    everyone = sorted(NODE_ADDR.values())
    traffic = Traffic(c, tmp, streams=1, held=30, timeout=1.0)
    before = lab.bgp_sessions("router")[NODE_ADDR[FAIL]]
    pod_dir, netns = node_frr(c, FAIL)
    start = time.monotonic()
    killed = frr_pods.kill_frr_daemon(pod_dir, netns, "bgpd")
    lost, changes, next_session, down, back = None, [], 0.0, None, None
    while time.monotonic() - start < 90:
        now = time.monotonic()
        hops = lab.kernel_nexthops("router", vip)
        if not changes or changes[-1][1] != hops:
            changes.append((round(now - start, 2), hops))
        if NODE_ADDR[FAIL] not in hops and lost is None:
            lost = now - start
        if now >= next_session:
            s = lab.bgp_sessions("router")[NODE_ADDR[FAIL]]
            if down is None and (s["state"] != "Established" or s["dropped"] > before["dropped"]):
                down = now - start
            if s["state"] == "Established" and s["established"] > before["established"] and hops == everyone:
                back = now - start
                break
            next_session = now + 0.25
        time.sleep(0.02)
    time.sleep(2.0)  # connections after it, to see they are fine
    result = traffic.result()
    held = [h for s in result.values() for h in s["held"]]
    new = [x for s in result.values() for x in s["new"]]
    restarted = frr_pods.frr_daemon_pids(next(d for d in (pod_dir / "empty").glob("*") if (d / "bgpd.pid").exists()),
                                         netns).get("bgpd")
    return {"killed": killed, "restarted": restarted, "down": down, "lost": lost, "back": back,
            "held": len(held), "held_broken": sum(1 for h in held if h["broke"] is not None),
            "new": len(new), "new_failed": sum(1 for x in new if not x[1]), "fib": changes}


def test_graceful_restart_keeps_routes_and_connections_through_a_bgpd_restart(frr, tmp_path):
    """node3's bgpd restarted twice while connections run: without graceful restart (the fixture's
    state), then with it on both sides. Leaves the module as the fixture made it (no graceful restart)."""
    plain = restart_bgpd(frr, tmp_path / "plain")
    steady(frr, bfd=False)
    configure(frr, graceful_restart=True)
    negotiated = SEEN[f"gr_modes_{FAIL}"]
    gr = restart_bgpd(frr, tmp_path / "gr")
    steady(frr, bfd=False)
    configure(frr)  # as the fixture left it: the BFD test's hold-timer half wants the routes dropped
    print(f"\n[gr] {FAIL}'s session negotiated: {json.dumps(negotiated, sort_keys=True)}", flush=True)
    for what, m in (("without graceful restart", plain), ("with graceful restart", gr)):
        print(f"\n[count] {FAIL}'s bgpd killed (pid {m['killed']}, watchfrr's new one {m['restarted']}) {what}: "
              f"router saw the session down after {m['down']} s; its FIB lost {FAIL} "
              f"{'after %.2f s' % m['lost'] if m['lost'] is not None else 'never'}; session back and the VIP over "
              f"every node after {m['back']} s; held connections broken {m['held_broken']} of {m['held']}, "
              f"new connections failed {m['new_failed']} of {m['new']}; FIB (s, next hops): {m['fib']}", flush=True)
    for m in (plain, gr):  # a real restart each time: the session went down and came back
        assert m["restarted"] and m["restarted"] != m["killed"] and m["down"] is not None and m["back"] is not None, m
    assert negotiated["router"]["localGrMode"].startswith("Restart") and negotiated[FAIL]["localGrMode"] == "Restart", \
        negotiated
    assert plain["lost"] is not None, plain  # withdrawn as soon as the session went
    assert plain["held_broken"] > 0, plain  # those through node3 were moved to another node mid-stream
    assert gr["lost"] is None, gr  # kept (stale) until the new bgpd re-established and sent them again
    assert gr["held_broken"] == 0 and gr["new_failed"] == 0, gr


def test_bfd_detects_a_silent_node_failure_within_a_second_hold_timer_in_nine(frr, tmp_path):
    """BFD stays on the router afterwards (turning it off again: see the bgp_router note in the report)."""
    hold = silent_failure(frr, tmp_path / "hold")
    report("hold timer 3/9", hold)
    steady(frr, bfd=False)
    configure(frr, bfd=True)
    bfd = silent_failure(frr, tmp_path / "bfd")
    report("BFD 100 ms x 3", bfd)
    steady(frr, bfd=True)
    for m in (hold, bfd):
        assert m["fib"] is not None and m["failed_before"] == 0 and m["nodes"] == ["node1", "node2"], m
        assert m["failed"] > 0 and m["recovered"] is not None, m  # node3 carried client connections
    assert 5.0 <= hold["fib"] <= 10.5, hold  # the hold time (9 s) after the last keepalive (every 3 s)
    assert hold["last_failed"] >= 5.0, hold
    assert bfd["fib"] < 1.0, bfd  # 3 x 100 ms, then bgpd and zebra
    assert bfd["last_failed"] < 1.0 and bfd["recovered"] < 2.0, bfd
    assert bfd["recovered"] < hold["last_failed"], (bfd, hold)
