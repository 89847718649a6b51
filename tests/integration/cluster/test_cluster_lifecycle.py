# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's Kubernetes cluster (lab/clusterctl.py), end to end, as Ansible will see it.

A lab and cluster of its own (``kc<pid>``, own inventory dir), reached only through the
kubeconfig `clusterctl up` writes (root namespace -> relay -> API server in NAME-control),
with the kubernetes Python client Ansible's kubernetes.core uses. The last test tears it down
and checks that nothing is left. Tests run in file order; measured times are printed (-s).
"""
from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s, config as k8s_config  # noqa: E402

REPO = Path(__file__).resolve().parents[3]
LABCTL = [sys.executable, str(REPO / "lab" / "labctl.py")]
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
NAME = f"kc{os.getpid()}"
NODES = 3
POD_CIDR = ipaddress.ip_network("198.18.0.0/17")
SVC_CIDR = ipaddress.ip_network("198.18.128.0/17")
TIMES: dict[str, float] = {}
STARTED = time.time()

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def sh(argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    assert p.returncode == 0, f"{' '.join(argv)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def timed(key: str, argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    t = time.monotonic()
    p = sh(argv, timeout)
    TIMES[key] = time.monotonic() - t
    print(f"\n[time] {key}: {TIMES[key]:.1f} s", flush=True)
    return p


def alive(pid: int) -> bool:
    """Running and not a zombie (the daemons' reaper is init or a subreaper, not us)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def netns_of(name: str) -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=False).stdout
    return [ln.split()[0] for ln in out.splitlines() if ln.split() and ln.split()[0].startswith(f"{name}-")]


def mounts_of(name: str) -> list[str]:
    return [ln for ln in Path("/proc/self/mountinfo").read_text().splitlines()
            if f"/{name}-" in ln or f"/metallb-lab/{name}" in ln]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    inv = tmp_path_factory.mktemp("kc-inventory")
    try:
        # stamp hit when the cache is warm (make lab-up builds it; a cold build takes ~15 min)
        timed("build (cached)", [*CLUSTERCTL, "build"], timeout=3600)
        timed("labctl up", [*LABCTL, "up", "--name", NAME, "--nodes", str(NODES), "--inventory", str(inv)])
        timed("clusterctl up", [*CLUSTERCTL, "up", "--name", NAME, "--inventory", str(inv)])
        st = json.loads(subprocess.run([*CLUSTERCTL, "status", "--name", NAME, "--json"],
                                       capture_output=True, text=True, check=False).stdout)
        yield {"inventory": inv, "kubeconfig": inv / "kubeconfig.yaml", "status": st}
    finally:
        # also when a test failed; no-ops after test_down
        subprocess.run([*CLUSTERCTL, "down", "--name", NAME], capture_output=True, check=False)
        subprocess.run([*LABCTL, "down", "--name", NAME], capture_output=True, check=False)
        print("\n[times] " + ", ".join(f"{k} {v:.1f} s" for k, v in TIMES.items()), flush=True)


@pytest.fixture(scope="module")
def api(cluster):
    kc = cluster["kubeconfig"]
    assert kc.stat().st_mode & 0o777 == 0o600
    return k8s_config.new_client_from_config(config_file=str(kc))


def test_kubeconfig_is_root_reachable(cluster):
    text = cluster["kubeconfig"].read_text()
    assert "server: https://127.0.0.1:" in text            # current context: the relay
    assert "server: https://198.51.100.2:6443" in text     # in-lab context
    # the key stays in the lab's state dir; the inventory only refers to it
    assert "client-key-data" not in text and f"/run/metallb-lab/{NAME}/cluster/pki/admin.key" in text


def test_version_is_real(api):
    v = k8s.VersionApi(api).get_code()
    assert v.git_version == "v1.37.1", v
    assert (v.major, v.minor) == ("1", "37") and v.git_tree_state == "clean" and len(v.git_commit) == 40


def test_nodes_ready_with_lab_addresses(api):
    nodes = {n.metadata.name: n for n in k8s.CoreV1Api(api).list_node().items}
    assert sorted(nodes) == [f"node{k}" for k in range(1, NODES + 1)]
    for k in range(1, NODES + 1):
        n = nodes[f"node{k}"]
        ready = [c.status for c in n.status.conditions if c.type == "Ready"]
        assert ready == ["True"], n.status.conditions
        internal = [a.address for a in n.status.addresses if a.type == "InternalIP"]
        assert internal == [f"198.51.100.{10 + k}"]
        assert not n.spec.taints
        assert ipaddress.ip_network(n.spec.pod_cidr).subnet_of(POD_CIDR)


def test_spread_deployment_one_pod_per_node(api):
    core, apps, disc = k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.DiscoveryV1Api(api)
    labels = {"app": "spread"}
    dep = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "spread"},
        "spec": {"replicas": NODES, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            "spec": {
                "topologySpreadConstraints": [{"maxSkew": 1, "topologyKey": "kubernetes.io/hostname",
                                               "whenUnsatisfiable": "DoNotSchedule",
                                               "labelSelector": {"matchLabels": labels}}],
                # kwok runs no containers: the image is never pulled (.invalid cannot resolve)
                "containers": [{"name": "web", "image": "registry.invalid/web:lab",
                                "ports": [{"containerPort": 8080}]}]}}}}
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "spread"},
           "spec": {"selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}}
    t = time.monotonic()
    apps.create_namespaced_deployment("default", dep)
    core.create_namespaced_service("default", svc)
    pods = []
    while time.monotonic() - t < 60:
        pods = [p for p in core.list_namespaced_pod("default", label_selector="app=spread").items
                if p.status.phase == "Running" and p.status.pod_ip
                and any(c.type == "Ready" and c.status == "True" for c in p.status.conditions or [])]
        if len(pods) == NODES:
            break
        time.sleep(0.2)
    print(f"\n[time] deployment {NODES}/{NODES} Running+Ready: {time.monotonic() - t:.1f} s")
    assert len(pods) == NODES, [(p.metadata.name, p.status.phase) for p in pods]
    assert sorted(p.spec.node_name for p in pods) == [f"node{k}" for k in range(1, NODES + 1)]
    for p in pods:
        assert ipaddress.ip_address(p.status.pod_ip) in POD_CIDR, p.status.pod_ip
    cluster_ip = core.read_namespaced_service("spread", "default").spec.cluster_ip
    assert ipaddress.ip_address(cluster_ip) in SVC_CIDR

    eps = []
    while time.monotonic() - t < 60:
        slices = disc.list_namespaced_endpoint_slice("default", label_selector="kubernetes.io/service-name=spread").items
        eps = [e for s in slices for e in s.endpoints or [] if e.conditions.ready]
        if len(eps) == NODES:
            break
        time.sleep(0.2)
    assert sorted(e.node_name for e in eps) == [f"node{k}" for k in range(1, NODES + 1)]
    assert sorted(a for e in eps for a in e.addresses) == sorted(p.status.pod_ip for p in pods)


def test_nodes_reach_the_api_on_the_segment(cluster):
    p = sh([*LABCTL, "exec", "--name", NAME, "node1", "--", "curl", "-sk", "--max-time", "5",
            "https://198.51.100.2:6443/version"])
    assert json.loads(p.stdout)["gitVersion"] == "v1.37.1"


def test_metallb_l2_on_demand(cluster, api):
    """`clusterctl metallb`: real controller (its webhook called by the API server) and real
    speakers in the node hosts; an L2 VIP answered on the segment by the announcing node."""
    timed("clusterctl metallb", [*CLUSTERCTL, "metallb", "--name", NAME])
    co = k8s.CustomObjectsApi(api)
    grp, ver, ns = "metallb.io", "v1beta1", "metallb-system"
    co.create_namespaced_custom_object(grp, ver, ns, "ipaddresspools", {
        "apiVersion": f"{grp}/{ver}", "kind": "IPAddressPool", "metadata": {"name": "l2"},
        "spec": {"addresses": ["198.51.100.200-198.51.100.209"]}})
    co.create_namespaced_custom_object(grp, ver, ns, "l2advertisements", {
        "apiVersion": f"{grp}/{ver}", "kind": "L2Advertisement", "metadata": {"name": "l2"},
        "spec": {"ipAddressPools": ["l2"]}})
    with pytest.raises(k8s.exceptions.ApiException) as denied:  # the webhook really runs
        co.create_namespaced_custom_object(grp, ver, ns, "ipaddresspools", {
            "apiVersion": f"{grp}/{ver}", "kind": "IPAddressPool", "metadata": {"name": "overlap"},
            "spec": {"addresses": ["198.51.100.204/32"]}})
    assert "overlaps" in denied.value.body
    core = k8s.CoreV1Api(api)
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "spread-lb"},
        "spec": {"type": "LoadBalancer", "selector": {"app": "spread"}, "ports": [{"port": 80, "targetPort": 8080}]}})
    t = time.monotonic()
    vip = None
    while time.monotonic() - t < 30 and not vip:
        ing = core.read_namespaced_service("spread-lb", "default").status.load_balancer.ingress
        vip = ing[0].ip if ing else None
        time.sleep(0.2)
    assert vip == "198.51.100.200"
    mac = None
    while time.monotonic() - t < 30 and not mac:
        p = subprocess.run([*LABCTL, "exec", "--name", NAME, "client", "--", "arping", "-c", "1", "-w", "2",
                            "-I", "eth0", vip], capture_output=True, text=True, check=False)
        mac = next((ln.split("[")[1].split("]")[0].lower() for ln in p.stdout.splitlines() if "reply from" in ln), None)
    print(f"\n[time] LB VIP allocated and answering ARP: {time.monotonic() - t:.1f} s (MAC {mac})")
    assert mac in {f"02:00:c6:33:64:{10 + k:02x}" for k in range(1, NODES + 1)}
    # ...and it is the MAC of the node MetalLB itself names as the leader (ServiceL2Status)
    selector = "metallb.io/service-name=spread-lb,metallb.io/service-namespace=default"
    leaders: set = set()
    while time.monotonic() - t < 30 and len(leaders) != 1:
        items = co.list_namespaced_custom_object(grp, ver, ns, "servicel2statuses", label_selector=selector)["items"]
        leaders = {(item.get("status") or {}).get("node") for item in items} - {None, ""}
        time.sleep(0.2)
    assert len(leaders) == 1, leaders
    hosts = json.loads(sh([*LABCTL, "status", "--name", NAME, "--json"]).stdout)["hosts"]
    assert mac == hosts[leaders.pop()]["mac"].lower()


def test_down_leaves_nothing(cluster):
    st = json.loads(sh([*CLUSTERCTL, "status", "--name", NAME, "--json"]).stdout)
    pids = [p for p in cluster["status"]["services"].values() if p]
    assert len(pids) == 6
    pids += [int(f.read_text().split()[0]) for f in Path(st["state_dir"], "pids").glob("metallb-*.pid")]
    state = Path(f"/run/metallb-lab/{NAME}/cluster")
    assert state.is_dir() and f"{NAME}-control" in netns_of(NAME)
    timed("clusterctl down", [*CLUSTERCTL, "down", "--name", NAME])
    assert not [p for p in pids if alive(p)]
    assert f"{NAME}-control" not in netns_of(NAME)
    assert not state.exists()
    assert not cluster["kubeconfig"].exists()
    # nothing written outside the state dir: the components' default places stay untouched
    # (kube-apiserver's cert dir, kubectl's cache, controller-runtime's /tmp certs)
    for p in ("/var/run/kubernetes", "/tmp/k8s-webhook-server"):
        assert not Path(p).exists(), p
    for d in (Path("/tmp"), Path("/var/tmp"), Path.home()):
        new = [f for f in d.iterdir() if f.stat().st_mtime >= STARTED and
               any(w in f.name for w in ("etcd", "kube", "kwok", NAME))]
        assert not new, new
    # idempotent
    assert "nothing to do" in sh([*CLUSTERCTL, "down", "--name", NAME]).stdout
    timed("labctl down", [*LABCTL, "down", "--name", NAME])
    assert netns_of(NAME) == [] and mounts_of(NAME) == []
    assert not Path(f"/run/metallb-lab/{NAME}").exists()
