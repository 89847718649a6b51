# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's data path (issue 8, lab/cluster/datapath.py): packets, on the wire.

A lab and cluster of their own (``dp<pid>``, or $DATAPATH_TEST_LAB), real MetalLB (supervisor),
`clusterctl datapath` (kube-proxy in nftables mode per node host, echo pods in namespaces of
their own). Requests come from the lab's `client` host (echo.py's stdlib client, run in its
namespaces); the echo server answers with the pod, its node and the source address it saw.
Tests run in file order (L2 first, then BGP); numbers are printed (pytest -s). The last test
tears the cluster down and checks that the data path left nothing behind.
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s, config as k8s_config  # noqa: E402
from metallb_lab.client import LabClient  # noqa: E402  (lab/ on sys.path: conftest.py)
from metallb_lab.system import alive  # noqa: E402

from cluster_commands import sh, timed  # noqa: E402  (pytest puts this folder, which has no __init__.py, on sys.path)

REPO = Path(__file__).resolve().parents[3]
LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
ECHO = str(REPO / "lab" / "cluster" / "echo.py")
NAME = os.environ.get("DATAPATH_TEST_LAB") or f"dp{os.getpid()}"
NODES = 3
CLIENT = "198.51.100.100"
NODE_ADDR = {f"node{k}": f"198.51.100.{10 + k}" for k in range(1, NODES + 1)}
GRP, MLNS = "metallb.io", "metallb-system"
OPT_IN = {"lab.baremetal.metallb/datapath": "echo"}
SEEN: dict = {}  # what one test leaves for a later one (pids, VIPs)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def dp_status() -> dict:
    return json.loads(sh([*CLUSTERCTL, "datapath", "--name", NAME, "--status"]).stdout)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    inv = tmp_path_factory.mktemp("dp-inventory")
    try:
        timed("labctl up", [*LABCTL, "up", "--name", NAME, "--nodes", str(NODES), "--inventory", str(inv)])
        timed("clusterctl up", [*CLUSTERCTL, "up", "--name", NAME, "--inventory", str(inv)])
        timed("clusterctl metallb", [*CLUSTERCTL, "metallb", "--name", NAME])
        timed("clusterctl datapath (kube-proxy healthy on every node)", [*CLUSTERCTL, "datapath", "--name", NAME])
        api = k8s_config.new_client_from_config(config_file=str(inv / ".kubeconfig"))
        lab = LabClient(NAME, inv)
        yield {"api": api, "lab": lab, "core": k8s.CoreV1Api(api), "apps": k8s.AppsV1Api(api),
               "co": k8s.CustomObjectsApi(api)}
    finally:
        subprocess.run([*CLUSTERCTL, "down", "--name", NAME], capture_output=True, check=False)
        subprocess.run([*LABCTL, "down", "--name", NAME], capture_output=True, check=False)


# ----------------------------------------------------------------------------- helpers

def deployment(name: str, replicas: int, opt_in: bool = True) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": {**labels, **(OPT_IN if opt_in else {})}},
                "spec": {"topologySpreadConstraints": [{
                    "maxSkew": 1, "topologyKey": "kubernetes.io/hostname", "whenUnsatisfiable": "DoNotSchedule",
                    "labelSelector": {"matchLabels": labels}}],
                    # kwok runs no containers: the image is never pulled (.invalid cannot resolve)
                    "containers": [{"name": "echo", "image": "registry.invalid/echo:lab",
                                    "ports": [{"containerPort": 8080}]}]}}}}


def lb_service(name: str, app: str, pool: str, policy: str = "Cluster", affinity: str | None = None) -> dict:
    spec = {"type": "LoadBalancer", "externalTrafficPolicy": policy, "selector": {"app": app},
            "ports": [{"port": 80, "targetPort": 8080}]}
    if affinity:
        spec["sessionAffinity"] = affinity
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "annotations": {"metallb.io/address-pool": pool}}, "spec": spec}


def wired(pod: dict) -> bool:
    """Namespace made and echo listening (the data path says "running" only then)."""
    return pod.get("state") == "running" and bool(pod.get("pid"))


def wait_wired(app: str, n: int, timeout: float = 60) -> list[dict]:
    t = time.monotonic()
    pods: list = []
    while time.monotonic() - t < timeout:
        pods = [p for p in dp_status().get("pods", []) if p["pod"].startswith(f"{app}-") and wired(p)]
        if len(pods) == n:
            print(f"\n[time] {n} {app} pods wired (netns + echo): {time.monotonic() - t:.1f} s")
            return pods
        time.sleep(0.2)
    raise AssertionError(f"{app}: {len(pods)} of {n} pods wired: {dp_status().get('pods')}")


def vip_of(core, svc: str, timeout: float = 30) -> str:
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        ing = core.read_namespaced_service(svc, "default").status.load_balancer.ingress
        if ing:
            return ing[0].ip
        time.sleep(0.2)
    raise AssertionError(f"{svc}: no LoadBalancer IP")


def ask(lab: LabClient, vip: str, count: int, keepalive: bool = False) -> list[dict]:
    """`count` requests from the client host, a new TCP connection each (unless keepalive)."""
    out = lab.exec("client", "python3", ECHO, "get", vip, "80", "--count", str(count),
                   *(["--keepalive"] if keepalive else []), timeout=count * 3 + 30).stdout
    return json.loads(out)


def first_answer(lab: LabClient, vip: str, timeout: float = 30) -> float:
    """Seconds until the VIP answers at all (ARP / routes / kube-proxy rules settling)."""
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        if "error" not in ask(lab, vip, 1)[0]:
            return time.monotonic() - t
        time.sleep(0.2)
    raise AssertionError(f"{vip}: no answer within {timeout} s")


def report(title: str, answers: list[dict]) -> tuple[collections.Counter, collections.Counter, collections.Counter]:
    ok = [a for a in answers if "error" not in a]
    pods = collections.Counter(f"{a['pod'].split('/')[1]}@{a['node']}" for a in ok)
    nodes = collections.Counter(a["node"] for a in ok)
    sources = collections.Counter(a["source"] for a in ok)
    print(f"\n[{title}] {len(ok)}/{len(answers)} answered; by pod: {dict(sorted(pods.items()))}; "
          f"pod's node: {dict(sorted(nodes.items()))}; source seen by the pod: {dict(sorted(sources.items()))}",
          flush=True)
    return pods, nodes, sources


def l2_leader(co, svc: str, timeout: float = 30) -> str:
    sel = f"metallb.io/service-name={svc},metallb.io/service-namespace=default"
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        items = co.list_namespaced_custom_object(GRP, "v1beta1", MLNS, "servicel2statuses", label_selector=sel)["items"]
        leaders = {(i.get("status") or {}).get("node") for i in items} - {None, ""}
        if len(leaders) == 1:
            return leaders.pop()
        time.sleep(0.2)
    raise AssertionError(f"{svc}: no single L2 leader")


# ----------------------------------------------------------------------------- the data path itself

def test_kube_proxy_runs_in_every_node_host(cluster):
    st = dp_status()
    lab = cluster["lab"]
    assert not st["problem"], st["problem"]
    SEEN["kube_proxy_pids"] = []
    for node in NODE_ADDR:
        n = st["nodes"][node]
        pid = n["kube_proxy_pid"]
        assert pid and alive(pid) and n["healthz"], n
        assert Path(f"/proc/{pid}/exe").resolve().name == "kube-proxy"
        assert os.stat(f"/proc/{pid}/ns/net").st_ino == os.stat(f"/run/netns/{NAME}-{node}").st_ino
        SEEN["kube_proxy_pids"].append(pid)
        # real nftables rules, from the real Service `kubernetes` (ClusterIP 198.18.128.1)
        rules = lab.exec(node, "nft", "list", "table", "ip", "kube-proxy").stdout
        assert "198.18.128.1" in rules, rules[:2000]
        assert lab.exec(node, "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "1"
    # the kubernetes Service through kube-proxy's DNAT, from a node host: 198.18.128.1:443 -> API server
    out = lab.exec("node1", "curl", "-sk", "--max-time", "5", "https://198.18.128.1/version").stdout
    assert json.loads(out)["gitVersion"] == "v1.37.1"


def test_opted_in_pods_get_a_real_namespace(cluster):
    core, apps, lab = cluster["core"], cluster["apps"], cluster["lab"]
    apps.create_namespaced_deployment("default", deployment("echo", NODES))
    apps.create_namespaced_deployment("default", deployment("sim", 1, opt_in=False))  # stays simulated
    wired = wait_wired("echo", NODES)
    assert sorted(p["node"] for p in wired) == sorted(NODE_ADDR)
    k8s_pods = {p.metadata.name: p for p in core.list_namespaced_pod("default", label_selector="app=echo").items}
    for p in wired:
        assert k8s_pods[p["pod"]].status.pod_ip == p["pod_ip"] and k8s_pods[p["pod"]].spec.node_name == p["node"]
        addrs = json.loads(sh(["ip", "-n", p["netns"], "-j", "-4", "addr", "show", "dev", "eth0"]).stdout)
        assert [a["local"] for a in addrs[0]["addr_info"]] == [p["pod_ip"]]
        assert os.stat(f"/proc/{p['pid']}/ns/net").st_ino == os.stat(f"/run/netns/{p['netns']}").st_ino
        # node1 reaches every pod directly (own veth, or the other node's podCIDR route): no NAT
        a = json.loads(lab.exec("node1", "curl", "-s", "--max-time", "3", f"http://{p['pod_ip']}:8080/").stdout)
        assert (a["pod"], a["node"], a["source"]) == (f"default/{p['pod']}", p["node"], NODE_ADDR["node1"])
    sim = [p for p in dp_status()["pods"] if p["pod"].startswith("sim-")]
    assert sim == []  # not opted in: not even listed
    assert len([n for n in sh(["ip", "netns", "list"]).stdout.split() if n.startswith(f"{NAME}-p")]) == NODES


def test_replaced_pod_is_rewired(cluster):
    """A deleted pod is unwired (echo ended, namespace gone) and its replacement wired, also
    when kwok gives it the same IP again."""
    core, lab = cluster["core"], cluster["lab"]
    old = next(p for p in dp_status()["pods"] if p["pod"].startswith("echo-") and p["node"] == "node2")
    t = time.monotonic()
    core.delete_namespaced_pod(old["pod"], "default", grace_period_seconds=0)
    new: list = []
    while time.monotonic() - t < 60:
        new = [p for p in dp_status()["pods"] if p["pod"].startswith("echo-") and wired(p)]
        if len(new) == NODES and old["pod"] not in {p["pod"] for p in new}:
            break
        time.sleep(0.2)
    print(f"\n[time] pod deleted -> replacement wired: {time.monotonic() - t:.1f} s")
    assert len(new) == NODES and old["pod"] not in {p["pod"] for p in new}, new
    assert not alive(old["pid"]) and not Path(f"/run/netns/{old['netns']}").exists()
    repl = next(p for p in new if p["node"] == old["node"])
    a = json.loads(lab.exec("node1", "curl", "-s", "--max-time", "3", f"http://{repl['pod_ip']}:8080/").stdout)
    assert a["pod"] == f"default/{repl['pod']}"


def test_killed_datapath_is_replaced_cleanly(cluster):
    """SIGKILL leaves kube-proxies, echo servers and namespaces behind; the next `clusterctl
    datapath` ends them by PID and wires everything again."""
    st = dp_status()
    old_pids = [n["kube_proxy_pid"] for n in st["nodes"].values()] + [p["pid"] for p in st["pods"] if p.get("pid")]
    os.kill(st["pid"], 9)
    while alive(st["pid"]):
        time.sleep(0.05)
    timed("clusterctl datapath after SIGKILL", [*CLUSTERCTL, "datapath", "--name", NAME])
    assert not [p for p in old_pids if alive(p)]
    wired = wait_wired("echo", NODES)
    st = dp_status()
    SEEN["kube_proxy_pids"] = [n["kube_proxy_pid"] for n in st["nodes"].values()]
    assert all(alive(p) for p in SEEN["kube_proxy_pids"]) and all(alive(p["pid"]) for p in wired)
    netns = [n for n in sh(["ip", "netns", "list"]).stdout.split() if n.startswith(f"{NAME}-p")]
    assert sorted(netns) == sorted(p["netns"] for p in wired)


# ----------------------------------------------------------------------------- L2

def test_l2_pool(cluster):
    co = cluster["co"]
    co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "ipaddresspools", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "l2"},
        "spec": {"addresses": ["198.51.100.200-198.51.100.230"]}})
    co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "l2advertisements", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "l2"},
        "spec": {"ipAddressPools": ["l2"]}})


def test_l2_cluster_reaches_pods_on_every_node_with_snat(cluster):
    core, co, lab = cluster["core"], cluster["co"], cluster["lab"]
    core.create_namespaced_service("default", lb_service("echo-l2", "echo", "l2", "Cluster"))
    vip = vip_of(core, "echo-l2")
    print(f"\n[time] echo-l2 {vip}: first answer after {first_answer(lab, vip):.1f} s")
    leader = l2_leader(co, "echo-l2")
    answers = ask(lab, vip, 60)
    pods, nodes, sources = report(f"L2 + Cluster, {vip}, leader {leader}", answers)
    assert sum(pods.values()) == 60
    assert set(nodes) == set(NODE_ADDR), nodes  # pods on every node answer
    assert CLIENT not in sources  # SNAT: the pod never sees the client
    assert set(sources) == {NODE_ADDR[leader]}, sources  # ...but the announcing node's address


def test_l2_local_reaches_only_the_leaders_pods_and_keeps_the_client_address(cluster):
    core, co, lab = cluster["core"], cluster["co"], cluster["lab"]
    core.create_namespaced_service("default", lb_service("echo-l2-local", "echo", "l2", "Local"))
    vip = vip_of(core, "echo-l2-local")
    print(f"\n[time] echo-l2-local {vip}: first answer after {first_answer(lab, vip):.1f} s")
    leader = l2_leader(co, "echo-l2-local")
    answers = ask(lab, vip, 60)
    pods, nodes, sources = report(f"L2 + Local, {vip}, leader {leader}", answers)
    assert sum(pods.values()) == 60
    assert set(nodes) == {leader}, nodes
    assert set(sources) == {CLIENT}, sources


def test_session_affinity_client_ip_pins_one_pod(cluster):
    core, lab = cluster["core"], cluster["lab"]
    core.create_namespaced_service("default", lb_service("echo-aff", "echo", "l2", "Cluster", affinity="ClientIP"))
    vip = vip_of(core, "echo-aff")
    first_answer(lab, vip)
    answers = ask(lab, vip, 50)
    pods = report(f"sessionAffinity ClientIP, {vip}, 50 new connections", answers)[0]
    assert sum(pods.values()) == 50 and len(pods) == 1, pods


# ----------------------------------------------------------------------------- BGP

def test_bgp_cluster_spreads_over_every_node(cluster):
    """The lab router configured by the collection's bgp_router role; MetalLB's speakers (the
    supervisor stopped the stand-in FRR speakers for them) peer with it."""
    core, co, lab = cluster["core"], cluster["co"], cluster["lab"]
    run = lab.playbook(REPO / "tests/integration/targets/bgp_router/apply.yml")
    assert not run.failed, run
    co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "ipaddresspools", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "bgp"},
        "spec": {"addresses": ["203.0.113.10-203.0.113.19"]}})
    co.create_namespaced_custom_object(GRP, "v1beta2", MLNS, "bgppeers", {
        "apiVersion": f"{GRP}/v1beta2", "kind": "BGPPeer", "metadata": {"name": "router"},
        "spec": {"myASN": 64500, "peerASN": 64501, "peerAddress": "198.51.100.1", "holdTime": "9s"}})
    co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "BGPAdvertisement", "metadata": {"name": "bgp"},
        "spec": {"ipAddressPools": ["bgp"]}})
    core.create_namespaced_service("default", lb_service("echo-bgp", "echo", "bgp", "Cluster"))
    vip = vip_of(core, "echo-bgp")
    start = time.monotonic()
    took = lab.wait_for_nexthops("router", vip, list(NODE_ADDR.values()), start, timeout=60, interval=0.05)
    assert took is not None, lab.kernel_nexthops("router", vip)
    print(f"\n[time] echo-bgp {vip}: router ECMP via {NODES} nodes after {took:.1f} s; "
          f"first answer after {first_answer(lab, vip):.1f} s more")
    answers = ask(lab, vip, 90)
    pods, nodes, sources = report(f"BGP + Cluster, {vip}", answers)
    assert sum(pods.values()) == 90
    assert set(nodes) == set(NODE_ADDR), nodes  # pods on every node answer
    assert CLIENT not in sources
    # with SNAT the pod sees the node the router chose: the router used every next hop
    assert set(sources) == set(NODE_ADDR.values()), sources
    SEEN["bgp_vip"] = vip


def test_router_ecmp_hash_policy_decides_one_clients_spread(cluster):
    """bgp_router_ecmp_hash_policy: the lab leaves the router's kernel at its default, the role
    sets it. New connections from the one client to echo-bgp (SNAT source = the node the router
    chose): under l3 every one takes the same node, under l4 they spread. Ends on l4 (the default)."""
    lab = cluster["lab"]
    vip, n = SEEN["bgp_vip"], 60
    by_policy = {}
    for policy, value in (("l3", "0"), ("l4", "1")):
        run = lab.playbook(REPO / "tests/integration/targets/bgp_router/apply.yml",
                           {"bgp_router_ecmp_hash_policy": policy})
        assert not run.failed, run
        assert lab.exec("router", "sysctl", "-n", "net.ipv4.fib_multipath_hash_policy",
                        "net.ipv6.fib_multipath_hash_policy").stdout.split() == [value, value]
        answers = ask(lab, vip, n)
        sources = report(f"router hash {policy}, {vip}, {n} new connections from one client", answers)[2]
        assert sum(sources.values()) == n, answers
        by_policy[policy] = {next(k for k, a in NODE_ADDR.items() if a == s): c for s, c in sources.items()}
    print(f"\n[ecmp hash] {n} connections from {CLIENT} to {vip}, per node: "
          f"l3 {dict(sorted(by_policy['l3'].items()))}; l4 {dict(sorted(by_policy['l4'].items()))}")
    assert len(by_policy["l3"]) == 1, by_policy  # one client, one VIP: one path
    assert len(by_policy["l4"]) > 1, by_policy


def bare_pod(name: str, node: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"app": "dist", **OPT_IN}},
            "spec": {"nodeName": node,
                     "containers": [{"name": "echo", "image": "registry.invalid/echo:lab",
                                     "ports": [{"containerPort": 8080}]}]}}


def test_bgp_local_only_nodes_with_pods_and_distribution(cluster):
    """Pods 2/1/0 over node1/node2/node3. Local: only node1 and node2 are next hops and the
    client address arrives; the per-pod shares of Cluster and Local are printed (benchmark)."""
    core, lab = cluster["core"], cluster["lab"]
    for name, node in (("dist-a", "node1"), ("dist-b", "node1"), ("dist-c", "node2")):
        core.create_namespaced_pod("default", bare_pod(name, node))
    wait_wired("dist", 3)
    core.create_namespaced_service("default", lb_service("dist-cluster", "dist", "bgp", "Cluster"))
    core.create_namespaced_service("default", lb_service("dist-local", "dist", "bgp", "Local"))
    vips = {"Cluster": vip_of(core, "dist-cluster"), "Local": vip_of(core, "dist-local")}
    want = {"Cluster": list(NODE_ADDR.values()), "Local": [NODE_ADDR["node1"], NODE_ADDR["node2"]]}
    start = time.monotonic()
    for policy, vip in vips.items():
        took = lab.wait_for_nexthops("router", vip, want[policy], start, timeout=60, interval=0.05)
        assert took is not None, (policy, lab.kernel_nexthops("router", vip))
        print(f"\n[time] dist-{policy.lower()} {vip}: router next hops {want[policy]} after {took:.1f} s")
        first_answer(lab, vip)
    n = 300
    shares = {}
    for policy, vip in vips.items():
        answers = ask(lab, vip, n)
        pods, nodes, sources = report(f"BGP + {policy}, pods 2/1/0, {n} new connections", answers)
        assert sum(pods.values()) == n
        assert set(nodes) <= {"node1", "node2"}
        if policy == "Local":
            assert set(sources) == {CLIENT}, sources  # client address preserved
        else:
            assert CLIENT not in sources and set(sources) == set(NODE_ADDR.values()), sources
        shares[policy] = {p: f"{100 * c / n:.0f}%" for p, c in sorted(pods.items())}
    print(f"\n[distribution] per-pod share, pods 2/1/0 (dist-a, dist-b on node1, dist-c on node2): "
          f"Cluster {shares['Cluster']} (ideal 33/33/33); Local {shares['Local']} (ideal for ECMP per node 25/25/50)")


def test_ecmp_rehash_when_one_node_withdraws(cluster):
    """Long-lived connections through the router to echo-bgp (Cluster, one pod per node); then
    node3 stops advertising (BGPAdvertisement nodeSelectors). The router's hash-threshold ECMP
    remaps flows: a flow moved to another node meets no conntrack entry there and breaks."""
    co, lab = cluster["co"], cluster["lab"]
    vip = SEEN["bgp_vip"]
    conns, duration = 30, 10.0
    proc = subprocess.Popen([*lab.hosts["client"].enter, "python3", ECHO, "hold", vip, "80", "--conns", str(conns),
                             "--duration", str(duration), "--interval", "0.2"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first = json.loads(proc.stdout.readline() or "{}")
    assert first.get("open") == conns, (first, proc.stderr.read() if proc.poll() is not None else "")
    time.sleep(1.0)
    start = time.monotonic()
    co.patch_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", "bgp", {
        "spec": {"nodeSelectors": [{"matchExpressions": [
            {"key": "kubernetes.io/hostname", "operator": "NotIn", "values": ["node3"]}]}]}})
    took = lab.wait_for_nexthops("router", vip, [NODE_ADDR["node1"], NODE_ADDR["node2"]], start, timeout=8,
                                 interval=0.02)
    out, err = proc.communicate(timeout=duration + 60)
    assert took is not None, lab.kernel_nexthops("router", vip)
    results = [json.loads(ln) for ln in out.splitlines() if ln.strip()]
    assert len(results) == conns, err
    by_node = {v: k for k, v in NODE_ADDR.items()}
    via: dict[str, list[dict]] = collections.defaultdict(list)
    for r in results:
        via[by_node[r["first"]["source"]]].append(r)  # SNAT source = the node the router chose
    withdrawn = via.get("node3", [])
    others = [r for n, rs in via.items() if n != "node3" for r in rs]
    broke_w = [r for r in withdrawn if r["broke"] is not None]
    broke_o = [r for r in others if r["broke"] is not None]
    print(f"\n[ecmp rehash] {conns} long-lived connections to {vip}: via node1/node2/node3 = "
          f"{len(via.get('node1', []))}/{len(via.get('node2', []))}/{len(withdrawn)}; node3 withdrawn, "
          f"router FIB 2 next hops after {took:.2f} s. Broke: {len(broke_w)}/{len(withdrawn)} through node3, "
          f"{len(broke_o)}/{len(others)} that did NOT go through node3 "
          f"(errors: {sorted(collections.Counter(r['error'].split(':')[0] for r in broke_w + broke_o).items())})")
    assert withdrawn and len(broke_w) == len(withdrawn)  # no node3 path any more: they cannot survive
    assert all(r["ok"] >= 2 for r in results)  # every connection worked before the withdrawal


# ----------------------------------------------------------------------------- nothing left behind

def test_down_leaves_nothing(cluster):
    lab = cluster["lab"]
    echo_pids = [p["pid"] for p in dp_status()["pods"] if p.get("pid")]
    dp_pid = dp_status()["pid"]
    assert echo_pids and alive(dp_pid)
    timed("clusterctl down (with data path)", [*CLUSTERCTL, "down", "--name", NAME])
    for pid in [dp_pid, *echo_pids, *SEEN["kube_proxy_pids"]]:
        assert not alive(pid), pid
    netns = sh(["ip", "netns", "list"]).stdout.split()
    assert not [n for n in netns if n.startswith(f"{NAME}-p")], netns
    assert not Path(f"/run/metallb-lab/{NAME}/cluster").exists()
    for node in NODE_ADDR:
        assert "kube-proxy" not in lab.exec(node, "nft", "list", "tables").stdout
        assert lab.exec(node, "ip", "route", "show", "proto", "200").stdout.strip() == ""
        assert not [ln for ln in lab.exec(node, "ip", "-o", "link").stdout.splitlines() if ": dp" in ln]
        assert lab.exec(node, "sysctl", "-n", "net.ipv4.ip_forward").stdout.strip() == "0"  # as the lab had it
