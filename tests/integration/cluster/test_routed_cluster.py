# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The seeds' BGP set-up on the routed layout, through site.yml: two racks, a router each, the client upstream.

One lab (``labctl up --routers 2``: router1 with rack1 = node1+node3, router2 with rack2 = node2+node4,
the client on 192.0.2.0/24 reaching the VIPs over both routers), one cluster (kwok nodes, the real
MetalLB native speakers, kube-proxy and echo pods), and site.yml with the lab's inventory
(inventories/lab/metallb.yml) and the seeds' two BGP workloads. The inventory derives, through
metallb_rack_peering, one BGPPeer per router with nodeSelectors for its rack and the rack label on
each node; bgp_router gives each router its own rack's nodes; verify.yml checks both routers.

The tests run in file order: what site.yml built, the sessions per rack, a router failure under
client traffic, then the Local withdrawal (it scales a Deployment down: last).
"""
from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from cluster_commands import Traffic  # noqa: E402
from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
INVENTORY = REPO / "inventories" / "lab" / "metallb.yml"
KUBE_LAB = {"base": "rk", "nodes": 4, "routers": 2}
RACKS = {"router1": ["node1", "node3"], "router2": ["node2", "node4"]}
EDGE = {"router1": "node1", "router2": "node2"}  # the first node of each rack (the inventory's edge_nodes_names)
LABEL = "topology.kubernetes.io/zone"
UPLINKS = ["192.0.2.251", "192.0.2.252"]
NS, MLNS = "demo", "metallb-system"


def _bgp_workloads() -> list[dict]:
    """The seeds' BGP workloads from the lab's inventory (api-server: Cluster; stateful-api: Local on the edge
    nodes). The layer 2 ones are left out: their ARP check needs a client on the nodes' segment, and this
    layout's client is upstream."""
    workloads = yaml.safe_load(INVENTORY.read_text())["all"]["vars"]["metallb_workloads"]
    return [w for w in workloads if w["address_pool"] == "production-pool"]


def wait(what: str, probe, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def _forwarded(lab, router: str) -> int:
    """The router's IPv4 ForwDatagrams counter (/proc/net/snmp of its network namespace)."""
    lines = [line.split() for line in lab.exec(router, "cat", "/proc/net/snmp").stdout.splitlines()
             if line.startswith("Ip:")]
    return int(dict(zip(lines[0], lines[1]))["ForwDatagrams"])


def _established(lab, router: str) -> list[str]:
    return sorted(a for a, s in lab.bgp_sessions(router).items() if s["state"] == "Established")


@pytest.fixture(scope="module")
def site(kube_lab, tmp_path_factory):
    lab = kube_lab["lab"]
    assert lab.routers == ["router1", "router2"]
    report = tmp_path_factory.mktemp("routed") / "metallb.md"
    started = time.monotonic()
    run = run_playbook("playbooks/site.yml", lab.inventory,
                       {"metallb_workloads": _bgp_workloads(), "lb_verify_report_path": str(report)},
                       args=("-i", str(INVENTORY)))
    seconds = time.monotonic() - started
    api = kube_lab["api"]
    core = k8s.CoreV1Api(api)
    vips = {s.metadata.name: s.status.load_balancer.ingress[0].ip
            for s in core.list_namespaced_service(NS).items if s.spec.type == "LoadBalancer"}
    print(f"\nsite.yml on the routed layout: {seconds:.1f} s; VIPs {vips}")
    return {**kube_lab, "run": run, "report": report, "vips": vips, "core": core,
            "custom": k8s.CustomObjectsApi(api), "apps": k8s.AppsV1Api(api)}


def test_site_renders_a_peer_per_rack_and_verify_checks_every_router(site):
    lab, vips = site["lab"], site["vips"]
    assert set(vips) == {"api-server", "stateful-api"}, vips
    peers = {p["metadata"]["name"]: p["spec"] for p in site["custom"].list_namespaced_custom_object(
        "metallb.io", "v1beta2", MLNS, "bgppeers")["items"]}
    assert {name: (spec["peerAddress"], spec.get("nodeSelectors")) for name, spec in peers.items()} == {
        f"router-{router}": (lab.hosts[router].address, [{"matchLabels": {LABEL: lab.hosts[router].rack}}])
        for router in RACKS}
    labels = {n.metadata.name: (n.metadata.labels or {}).get(LABEL) for n in site["core"].list_node().items}
    assert labels == {node: lab.hosts[node].rack for node in lab.nodes}
    # verify.yml (site.yml's last stage) asked each router and judged it against its own rack's edge node
    text = site["report"].read_text()
    assert "2 of 2 Service(s) as expected." in text, text
    for router, node in EDGE.items():
        address = lab.hosts[node].address
        for vip in vips.values():
            assert f"  - {router}: BGP route for {vip}: via {address} ({node}) (ok)" in text, text
    # the client is upstream: the data path crossed a router both ways and every request was answered
    assert "data path ok" in text and "data path FAIL" not in text, text


def test_each_nodes_sessions_stay_with_its_racks_router(site):
    """The routers' neighbor tables: each router has Established sessions with its own rack's nodes, every one
    (the BGPPeer selects the whole rack), and none with the other rack's; MetalLB's speakers report the
    Services to their own rack's BGPPeer only (ServiceBGPStatus)."""
    lab = site["lab"]
    for router, nodes in RACKS.items():
        want = sorted(lab.hosts[n].address for n in nodes)
        assert wait(f"{router}'s sessions with {nodes}", lambda r=router, w=want: _established(lab, r) == w or None, 60)
        configured = lab.bgp_sessions(router)
        assert not [a for a in configured if a not in want], (router, configured)
    for router in RACKS:  # each router's FIB: the VIPs via its own rack's edge node only
        for vip in site["vips"].values():
            assert lab.kernel_nexthops(router, vip) == [lab.hosts[EDGE[router]].address], (router, vip)
    statuses = site["custom"].list_namespaced_custom_object("metallb.io", "v1beta1", MLNS, "servicebgpstatuses")["items"]
    announced = {(s["status"]["serviceName"], s["status"]["node"]): sorted(s["status"].get("peers") or [])
                 for s in statuses}
    assert announced == {(svc, node): [f"router-{router}"] for svc in site["vips"] for router, node in EDGE.items()}


def test_router_failure_the_client_continues_through_the_other_router(site, tmp_path):
    lab, vip = site["lab"], site["vips"]["api-server"]
    before = {r: _forwarded(lab, r) for r in RACKS}
    traffic = Traffic(lab, tmp_path, {f"s{k}": f"{vip}:80" for k in range(3)}, interval=0.02, timeout=0.25, held=10)
    time.sleep(1.5)  # a steady state first
    during = {r: _forwarded(lab, r) - before[r] for r in RACKS}
    carrier = max(during, key=during.get)  # the client's hash puts its flows on one router
    other = next(r for r in RACKS if r != carrier)
    wall = time.time()
    lab.timed_link(carrier, "down")  # both of its links, silently: no FIN, no RST, no BGP NOTIFICATION
    try:
        time.sleep(6.0)
        moved = _forwarded(lab, other)
        time.sleep(1.0)
        moved = _forwarded(lab, other) - moved
    finally:
        result = traffic.result()
        lab.link(carrier, "up")
    new = sorted(x for stream in result.values() for x in stream["new"])
    held = [h for stream in result.values() for h in stream["held"]]
    after = [x for x in new if x[0] >= wall]
    first_failed = next((x[0] for x in after if not x[1]), None)
    # the first answer after the first failure: the client's path through the other router works
    recovered = next((x[0] for x in after if x[1] and x[0] > first_failed), None) if first_failed else wall
    tail = [x for x in after if recovered is not None and x[0] > recovered]
    lost_later = [x for x in tail if not x[1]]
    broken = [h for h in held if h.get("broke")]
    interruption = None if recovered is None else recovered - wall
    print(f"\nrouter failure ({carrier} down, {other} carries on): interruption "
          f"{'none' if interruption is None else f'{interruption:.2f} s'} for new connections (every 20 ms, 3 streams); "
          f"{len([x for x in after if not x[1]])} of {len(after)} failed, {len(lost_later)} of {len(tail)} after the "
          f"switch; {len(broken)} of {len(held)} held connections broke; {other} forwarded {moved} packets in 1 s after")
    assert not [x for x in new if not x[1] and x[0] < wall], "connections failed before the router did"
    assert during[carrier] > 0 and during[other] < during[carrier] // 10, during
    # detection is the client's neighbour probing of its uplink (lab: ~1-3 s), not BGP
    assert interruption is not None and interruption < 5.0, (interruption, after[:5])
    # after the switch the other router carries it; the kernel may retry the dead uplink once its failed
    # neighbour entry is garbage-collected (a short blip, counted above)
    assert tail and len(lost_later) <= len(tail) // 4, (len(lost_later), len(tail))
    assert moved > 100, moved  # the other router carries the client's traffic now
    # the carrier comes back: its rack's sessions and routes return
    want = sorted(lab.hosts[n].address for n in RACKS[carrier])
    wait(f"{carrier}'s sessions back", lambda: _established(lab, carrier) == want or None, 60)
    wait(f"{carrier}'s route back", lambda: lab.kernel_nexthops(carrier, vip) == [lab.hosts[EDGE[carrier]].address]
         or None, 60)


def test_local_withdraws_the_edge_node_without_a_pod(site):
    """stateful-api (Local, a pod on each edge node) scaled to one pod: the edge node left without one withdraws,
    so its rack's router drops the VIP, and the other router keeps its next hop."""
    lab, vip = site["lab"], site["vips"]["stateful-api"]
    for router, node in EDGE.items():
        assert lab.kernel_nexthops(router, vip) == [lab.hosts[node].address], router
    site["apps"].patch_namespaced_deployment_scale("stateful-api", NS, {"spec": {"replicas": 1}})
    start = time.monotonic()

    def pod_nodes():
        pods = site["core"].list_namespaced_pod(NS, label_selector="app.kubernetes.io/name=stateful-api").items
        running = [p.spec.node_name for p in pods if p.metadata.deletion_timestamp is None]
        return running if len(running) == 1 else None

    kept = wait("one stateful-api pod", pod_nodes, 60)[0]
    gone = next(r for r, node in EDGE.items() if node != kept)
    stays = next(r for r in EDGE if r != gone)
    withdrawn = lab.wait_for_nexthops(gone, vip, [], start, 60, 0.05)
    assert withdrawn is not None, (gone, lab.kernel_nexthops(gone, vip))
    print(f"\nLocal: {EDGE[gone]} withdrew {vip} {withdrawn:.2f} s after the scale-down; {gone} has no route, "
          f"{stays} keeps {EDGE[stays]}")
    assert lab.kernel_nexthops(stays, vip) == [lab.hosts[EDGE[stays]].address]
    assert lab.kernel_nexthops(gone, site["vips"]["api-server"]) == [lab.hosts[EDGE[gone]].address]  # Cluster stays
