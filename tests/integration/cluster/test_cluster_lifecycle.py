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
import re
import shutil
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
NAME = os.environ.get("CLUSTER_TEST_LAB") or f"kc{os.getpid()}"  # a fixed name only for a dev session of its own
NODES = 3
POD_CIDR = ipaddress.ip_network("198.18.0.0/17")
SVC_CIDR = ipaddress.ip_network("198.18.128.0/17")
TIMES: dict[str, float] = {}
METALLB = "v0.16.1"  # lab/cluster/versions.py METALLB_VERSION
GRP, MLNS = "metallb.io", "metallb-system"
STARTED = time.time()

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


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
        timed("build (cached)", [*CLUSTERCTL, "build"], timeout=3600, times=TIMES)
        timed("labctl up", [*LABCTL, "up", "--name", NAME, "--nodes", str(NODES), "--inventory", str(inv)], times=TIMES)
        timed("clusterctl up", [*CLUSTERCTL, "up", "--name", NAME, "--inventory", str(inv)], times=TIMES)
        st = json.loads(subprocess.run([*CLUSTERCTL, "status", "--name", NAME, "--json"],
                                       capture_output=True, text=True, check=False).stdout)
        yield {"inventory": inv, "kubeconfig": inv / ".kubeconfig", "status": st}
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
    """The API server reports the build's version record, which claims only what the Go module
    proxy could tell: the tag, the release time, and the commit only when the proxy named one."""
    from cluster.build import k8s_version_recorded  # noqa: PLC0415  (lab/ on sys.path: conftest.py)

    record = k8s_version_recorded()
    v = k8s.VersionApi(api).get_code()
    assert v.git_version == "v1.37.1" == record["gitVersion"], v
    assert (v.major, v.minor) == ("1", "37")
    assert v.git_tree_state == "archive", v
    assert v.build_date == record["buildDate"] and v.build_date.startswith("20"), v
    assert v.git_commit == record["gitCommit"], (v, record)
    assert v.git_commit == "" or re.fullmatch(r"[0-9a-f]{40}", v.git_commit), v  # never "unknown"
    assert record["moduleSum"].startswith("h1:"), record


def test_nodes_ready_with_lab_addresses(api):
    nodes = {n.metadata.name: n for n in k8s.CoreV1Api(api).list_node().items}
    assert sorted(nodes) == [f"node{k}" for k in range(1, NODES + 1)]
    for k in range(1, NODES + 1):
        n = nodes[f"node{k}"]
        ready = [c.status for c in n.status.conditions if c.type == "Ready"]
        assert ready == ["True"], n.status.conditions
        internal = [a.address for a in n.status.addresses if a.type == "InternalIP"]
        # dual-stack, IPv4 first (the primary family): the node host's two segment addresses
        assert internal == [f"198.51.100.{10 + k}", f"2001:db8:100::{10 + k}"]
        assert not n.spec.taints
        assert ipaddress.ip_network(n.spec.pod_cidr).subnet_of(POD_CIDR)
        v4, v6 = (ipaddress.ip_network(c) for c in n.spec.pod_cidrs)
        assert v4 == ipaddress.ip_network(n.spec.pod_cidr) and v6.prefixlen == 64
        assert v6.subnet_of(ipaddress.ip_network("2001:db8:18::/56"))


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


def metallb_pods(name: str = NAME) -> list[dict]:
    """What the supervisor reports (clusterctl status --json): one entry per MetalLB pod."""
    st = json.loads(subprocess.run([*CLUSTERCTL, "status", "--name", name, "--json"],
                                   capture_output=True, text=True, check=False).stdout)
    return (st.get("metallb") or {}).get("pods", [])


def running(pods: list[dict], component: str) -> list[dict]:
    return [p for p in pods if p["component"] == component and p.get("pid") and alive(p["pid"])]


def netns_inode(path: str) -> int:
    return os.stat(path).st_ino


def manifest() -> str:
    go = shutil.which("go") or "/usr/local/go/bin/go"
    cache = subprocess.run([go, "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    return f"{cache}/go.universe.tf/metallb@{METALLB}/config/manifests/metallb-native.yaml"


def lab_status() -> dict:
    return json.loads(sh([*LABCTL, "status", "--name", NAME, "--json"]).stdout)


def test_inventory_has_lab_kubeconfig(cluster):
    """Playbooks use `kubeconfig: "{{ lab_kubeconfig }}"`: clusterctl's own inventory file."""
    inv = REPO / ".venv" / "bin" / "ansible-inventory"
    out = sh([str(inv) if inv.exists() else "ansible-inventory", "-i", str(cluster["inventory"]), "--host", "node1"])
    hostvars = json.loads(out.stdout)
    assert hostvars["lab_kubeconfig"] == str(cluster["kubeconfig"]) and hostvars["lab_kube_context"] == "lab"
    assert hostvars["lab_name"] == NAME  # labctl's group_vars/all.yml still read beside it


def test_metallb_manifest_starts_real_processes(cluster, api):
    """Applying the release manifest (as the install role will) is all it takes: the supervisor
    runs the real controller in NAME-control and a real speaker in every node host, and the
    API server really calls the controller's webhook."""
    assert metallb_pods() == []  # nothing runs before MetalLB is installed
    t = time.monotonic()
    sh([*CLUSTERCTL, "kubectl", "--name", NAME, "--", "apply", "--server-side", "-f", manifest()])
    co = k8s.CustomObjectsApi(api)
    pool = {"apiVersion": f"{GRP}/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "l2"},
            "spec": {"addresses": ["198.51.100.200-198.51.100.209"]}}
    created, last = False, ""
    while time.monotonic() - t < 90 and not created:
        try:  # fails until the webhook serves ("failed calling webhook", then no CRD/ns yet)
            co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "ipaddresspools", pool)
            created = True
        except k8s.exceptions.ApiException as e:
            last = e.body
            time.sleep(0.2)
    TIMES["manifest -> webhook serving"] = time.monotonic() - t
    print(f"\n[time] manifest applied -> controller webhook serving: {TIMES['manifest -> webhook serving']:.1f} s")
    assert created, last
    pods = []
    while time.monotonic() - t < 60 and len(running(pods, "speaker")) < NODES:
        pods = metallb_pods()
        time.sleep(0.2)
    TIMES["manifest -> speakers running"] = time.monotonic() - t
    print(f"\n[time] manifest applied -> {NODES} speakers running: {TIMES['manifest -> speakers running']:.1f} s")
    ctl, spk = running(pods, "controller"), running(pods, "speaker")
    assert len(ctl) == 1 and len(spk) == NODES, pods
    # the real binaries, in the right namespaces, with the pods' own names
    k8s_pods = {p.metadata.name: p for p in k8s.CoreV1Api(api).list_namespaced_pod(MLNS).items}
    assert netns_inode(f"/proc/{ctl[0]['pid']}/ns/net") == netns_inode(f"/run/netns/{NAME}-control")
    assert Path(f"/proc/{ctl[0]['pid']}/exe").resolve().name == "controller"
    assert sorted(p["node"] for p in spk) == [f"node{k}" for k in range(1, NODES + 1)]
    for p in spk:
        assert Path(f"/proc/{p['pid']}/exe").resolve().name == "speaker"
        assert netns_inode(f"/proc/{p['pid']}/ns/net") == netns_inode(f"/run/netns/{NAME}-{p['node']}")
        assert k8s_pods[p["pod"]].spec.node_name == p["node"]
        environ = Path(f"/proc/{p['pid']}/environ").read_bytes().split(b"\0")
        assert f"METALLB_POD_NAME={p['pod']}".encode() in environ  # fieldRef metadata.name
        assert f"METALLB_ML_BIND_ADDR=198.51.100.{10 + int(p['node'][4:])}".encode() in environ  # status.podIP
    # the stand-in FRR speakers made room for the real ones, and the lab says so (not broken)
    st = lab_status()
    assert st["up"], st["problems"]
    for k in range(1, NODES + 1):
        h = st["hosts"][f"node{k}"]
        assert h["speaker"]["standin"].startswith("off: real MetalLB speaker"), h["speaker"]
        assert not any(h["frr"].values()), h["frr"]
    # a repair leaves them off, and driving one says why it cannot
    repair = sh([*LABCTL, "up", "--name", NAME]).stdout
    assert "FRR speaker" not in repair, repair
    assert not any(lab_status()["hosts"]["node1"]["frr"].values())
    refused = subprocess.run([*LABCTL, "speaker", "--name", NAME, "node1", "announce", "203.0.113.99/32"],
                             capture_output=True, text=True, check=False)
    assert refused.returncode != 0 and "is off: real MetalLB speaker" in refused.stderr + refused.stdout
    # MetalLB's own webhook refuses an overlapping pool
    with pytest.raises(k8s.exceptions.ApiException) as denied:
        co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "ipaddresspools", {
            "apiVersion": f"{GRP}/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "overlap"},
            "spec": {"addresses": ["198.51.100.204/32"]}})
    assert "overlaps" in denied.value.body


def test_metallb_l2(cluster, api):
    """An L2 VIP answered on the segment by the node MetalLB names as the announcer."""
    co = k8s.CustomObjectsApi(api)
    grp, ver, ns = GRP, "v1beta1", MLNS
    co.create_namespaced_custom_object(grp, ver, ns, "l2advertisements", {
        "apiVersion": f"{grp}/{ver}", "kind": "L2Advertisement", "metadata": {"name": "l2"},
        "spec": {"ipAddressPools": ["l2"]}})
    core = k8s.CoreV1Api(api)
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "spread-lb", "annotations": {"metallb.io/address-pool": "l2"}},
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


def test_metallb_bgp_ecmp(cluster, api):
    """The lab router configured by the collection's bgp_router role (AS 64501) peers with the
    real speakers (AS 64500): ECMP over every node with externalTrafficPolicy Cluster, only
    the pod's node with Local."""
    lab = LabClient(NAME, cluster["inventory"])
    lab.playbook("tests/integration/targets/bgp_router/apply.yml")
    co, core, apps = k8s.CustomObjectsApi(api), k8s.CoreV1Api(api), k8s.AppsV1Api(api)
    co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "ipaddresspools", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "bgp"},
        "spec": {"addresses": ["203.0.113.10-203.0.113.19"]}})
    t = time.monotonic()
    # native mode: no keepaliveTime (the webhook refuses it); hold time as the router's
    co.create_namespaced_custom_object(GRP, "v1beta2", MLNS, "bgppeers", {
        "apiVersion": f"{GRP}/v1beta2", "kind": "BGPPeer", "metadata": {"name": "router"},
        "spec": {"myASN": 64500, "peerASN": 64501, "peerAddress": "198.51.100.1", "holdTime": "9s"}})
    states: dict = {}
    while time.monotonic() - t < 60:
        states = {a: s["state"] for a, s in lab.bgp_sessions("router").items() if ":" not in a}
        if list(states.values()) == ["Established"] * NODES:
            break
        time.sleep(0.1)
    TIMES["BGPPeer -> sessions Established"] = time.monotonic() - t
    print(f"\n[time] BGPPeer created -> {NODES} sessions Established: {TIMES['BGPPeer -> sessions Established']:.1f} s")
    assert sorted(states) == lab.node4 and set(states.values()) == {"Established"}, states
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": "spread-bgp", "annotations": {"metallb.io/address-pool": "bgp"}},
        "spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Cluster", "selector": {"app": "spread"},
                 "ports": [{"port": 80, "targetPort": 8080}]}})
    vip = None
    while time.monotonic() - t < 60 and not vip:
        ing = core.read_namespaced_service("spread-bgp", "default").status.load_balancer.ingress
        vip = ing[0].ip if ing else None
        time.sleep(0.1)
    assert vip == "203.0.113.10"
    assert lab.kernel_nexthops("router", vip) == []  # no BGPAdvertisement yet: not announced
    start = time.monotonic()
    co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "BGPAdvertisement", "metadata": {"name": "bgp"},
        "spec": {"ipAddressPools": ["bgp"]}})
    took = lab.wait_for_nexthops("router", vip, lab.node4, start, timeout=30, interval=0.02)
    print(f"\n[time] BGPAdvertisement created -> router FIB ECMP via {NODES} nodes: {took}")
    assert took is not None, lab.kernel_nexthops("router", vip)
    TIMES["BGPAdvertisement -> ECMP"] = took

    core.patch_namespaced_service("spread-bgp", "default", {"spec": {"externalTrafficPolicy": "Local"}})
    apps.patch_namespaced_deployment_scale("spread", "default", {"spec": {"replicas": 1}})
    start = time.monotonic()
    pods: list = []
    while time.monotonic() - start < 30:
        pods = core.list_namespaced_pod("default", label_selector="app=spread").items
        if len(pods) == 1 and pods[0].status.phase == "Running":
            break
        time.sleep(0.1)
    assert len(pods) == 1, [p.metadata.name for p in pods]
    only = lab.hosts[pods[0].spec.node_name].address
    took = lab.wait_for_nexthops("router", vip, [only], start, timeout=30, interval=0.02)
    print(f"\n[time] Local + 1 replica -> route only via {pods[0].spec.node_name}: {took}")
    assert took is not None, lab.kernel_nexthops("router", vip)


def test_metallb_pods_the_lab_cannot_run_are_reported(cluster, api):
    """Another version, or a container whose image the lab has nothing for, is shown by
    `clusterctl status`, never run (the FRR flavours do run: test_frr_k8s.py)."""
    core = k8s.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": "other-mlb"}})
    labels = {"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": "speaker"}  # Helm style
    for name, containers in (
            ("old", [{"name": "speaker", "image": "quay.io/metallb/speaker:v0.14.9"}]),
            ("sidecar", [{"name": "speaker", "image": f"quay.io/metallb/speaker:{METALLB}"},
                         {"name": "sidecar", "image": "docker.io/library/busybox:1.37"}])):
        core.create_namespaced_pod("other-mlb", {
            "metadata": {"name": name, "labels": labels},
            "spec": {"nodeName": "node1", "hostNetwork": True, "containers": containers}})
    t = time.monotonic()
    found: dict = {}
    while time.monotonic() - t < 30 and len(found) < 2:
        found = {p["pod"]: p for p in metallb_pods() if p["namespace"] == "other-mlb" and p["state"] == "unsupported"}
        time.sleep(0.2)
    assert set(found) == {"old", "sidecar"}, metallb_pods()
    assert "v0.14.9" in found["old"]["reason"] and METALLB in found["old"]["reason"]
    assert "busybox:1.37 is none the lab runs" in found["sidecar"]["reason"]
    assert not any(p.get("pid") for p in found.values())
    text = subprocess.run([*CLUSTERCTL, "status", "--name", NAME], capture_output=True, text=True, check=False).stdout
    assert "other-mlb/old on node1: UNSUPPORTED" in text and "busybox:1.37 is none the lab runs" in text
    core.delete_namespace("other-mlb")
    while time.monotonic() - t < 60 and any(p["namespace"] == "other-mlb" for p in metallb_pods()):
        time.sleep(0.2)
    assert not any(p["namespace"] == "other-mlb" for p in metallb_pods())


def test_metallb_uninstall_stops_processes_and_standins_return(cluster, api):
    """Deleting the manifest (state: absent) stops every process; the stand-in speakers come
    back; `clusterctl metallb` (the convenience) installs it again and waits for it."""
    pids = [p["pid"] for p in metallb_pods() if p.get("pid")]
    assert len(pids) == NODES + 1
    t = time.monotonic()
    sh([*CLUSTERCTL, "kubectl", "--name", NAME, "--", "delete", "-f", manifest(), "--wait=false"])
    while time.monotonic() - t < 60 and (any(alive(p) for p in pids) or metallb_pods()):
        time.sleep(0.2)
    print(f"\n[time] manifest deleted -> MetalLB processes gone: {time.monotonic() - t:.1f} s")
    assert not [p for p in pids if alive(p)] and metallb_pods() == []
    st = {}
    while time.monotonic() - t < 60:
        st = lab_status()
        if st["up"] and all(st["hosts"][f"node{k}"]["speaker"]["standin"] == "on" for k in range(1, NODES + 1)):
            break
        time.sleep(0.3)
    assert st["up"], st["problems"]
    for k in range(1, NODES + 1):
        h = st["hosts"][f"node{k}"]
        assert h["speaker"]["standin"] == "on" and h["frr"] and all(h["frr"].values()), h
    state = Path(f"/run/metallb-lab/{NAME}/cluster")
    assert not list((state / "pids").glob("pod-*")) and not list((state / "pods").glob("*"))
    lo = subprocess.run(["ip", "-n", f"{NAME}-control", "-o", "addr", "show", "dev", "lo"],
                        capture_output=True, text=True, check=True).stdout
    assert "198.18." not in lo, lo  # the controller's pod IP left lo of NAME-control
    timed("clusterctl metallb (reinstall)", [*CLUSTERCTL, "metallb", "--name", NAME], times=TIMES)
    pods = metallb_pods()
    assert len(running(pods, "controller")) == 1 and len(running(pods, "speaker")) == NODES, pods


def test_down_leaves_nothing(cluster):
    st = json.loads(sh([*CLUSTERCTL, "status", "--name", NAME, "--json"]).stdout)
    pids = [p for p in cluster["status"]["services"].values() if p]
    assert len(pids) == 7  # etcd, API server, KCM, scheduler, kwok, relay, metallb-supervisor
    children = [int(f.read_text().split()[0]) for f in Path(st["state_dir"], "pids").glob("pod-*.pid")]
    assert len(children) == NODES + 1 and all(alive(p) for p in children)  # MetalLB runs at down
    pids += children
    state = Path(f"/run/metallb-lab/{NAME}/cluster")
    assert state.is_dir() and f"{NAME}-control" in netns_of(NAME)
    timed("clusterctl down", [*CLUSTERCTL, "down", "--name", NAME], times=TIMES)
    assert not [p for p in pids if alive(p)]
    assert f"{NAME}-control" not in netns_of(NAME)
    assert not (cluster["inventory"] / "lab_cluster.yml").exists()
    # the stand-in speakers are back: the lab is as `labctl up` left it
    lab = lab_status()
    assert lab["up"] and all(lab["hosts"][f"node{k}"]["speaker"]["standin"] == "on" for k in range(1, NODES + 1))
    assert not state.exists()
    assert not cluster["kubeconfig"].exists()
    # nothing written outside the state dir: the components' default places stay untouched
    # (kube-apiserver's cert dir, kubectl's cache, controller-runtime's /tmp certs)
    for p in ("/var/run/kubernetes", "/tmp/k8s-webhook-server"):
        assert not Path(p).exists(), p
    for d in (Path("/tmp"), Path("/var/tmp"), Path.home()):
        # (ansible_*: module payloads of any Ansible run on this machine, not the cluster's)
        new = [f for f in d.iterdir() if f.stat().st_mtime >= STARTED and not f.name.startswith("ansible_") and
               any(w in f.name for w in ("etcd", "kube", "kwok", NAME))]
        assert not new, new
    # idempotent
    assert "nothing to do" in sh([*CLUSTERCTL, "down", "--name", NAME]).stdout
    timed("labctl down", [*LABCTL, "down", "--name", NAME], times=TIMES)
    assert netns_of(NAME) == [] and mounts_of(NAME) == []
    assert not Path(f"/run/metallb-lab/{NAME}").exists()
