# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/maintenance.yml against the lab, side by side with a plain drain, under client traffic.

One cluster (the kube_lab fixture: real MetalLB; plus `clusterctl datapath`: kube-proxy in every
node host, echo pods in namespaces of their own), the collection's router, and four Services on
pods pinned one per node (a Deployment per node, a PodDisruptionBudget over all): layer 2 and BGP,
externalTrafficPolicy Cluster and Local. node2 leads both layer 2 VIPs (their addresses are
chosen so MetalLB's election picks it) and is a next hop of both BGP VIPs. The Local Services
have node2's pod as a backend (so node2 announces them, and the drain evicts their only pod
there); the Cluster Services have the pods of node1 and node3 (node2 is only their way in):
the lab's pods stop serving the instant their deletion starts and are Ready a moment before
they serve (kwok: no graceful termination, no readiness probe), so a Cluster Service with a
backend on the drained node would lose connections that no node maintenance can keep; in a
real cluster the workload's readiness probe and graceful termination keep them.

From the client host, all the time: a new connection to every VIP each 50 ms, and 10 held
connections per VIP. Two maintenances of node2, each with the same "work" (node2's link down
for 6 s, as a reboot):

* plain: cordon, delete node2's pods (no eviction API, nothing about announcements), the work,
  uncordon;
* maintenance.yml: out (twice: the second run changes nothing), the work, in (twice).

Asserted for maintenance.yml: no new connection fails, to any of the four Services, at any time;
an established connection breaks only while the announcements move (node2 excluded until the
waits passed and it is cordoned; node2 included again until `in` returned): the layer 2 VIP
moving to another node, and for BGP the router's ECMP rehash (counted and printed, not hidden).
The plain drain, measured the same way, loses new connections while node2 is down but still
announces. The numbers are printed (pytest -s).
"""
from __future__ import annotations

import collections
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[1].parent
KUBE_LAB = {"base": "mnt", "metallb": True}
NS, GRP, MLNS = "demo", "metallb.io", "metallb-system"
NODE = "node2"
NODES = {f"node{k}": f"198.51.100.{10 + k}" for k in (1, 2, 3)}
OPT_IN = {"lab.baremetal.metallb/datapath": "echo"}
EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers"
# MetalLB's election (sha256 of node#VIP): node2 first for both, node1 next
SERVICES = {"l2-cluster": ("l2", "Cluster", "198.51.100.200"), "l2-local": ("l2", "Local", "198.51.100.204"),
            "bgp-cluster": ("bgp", "Cluster", "203.0.113.10"), "bgp-local": ("bgp", "Local", "203.0.113.11")}
TRAFFIC = REPO / "tests/integration/cluster/maintenance_traffic.py"
WORK = 6.0  # seconds node2's link is down
SETTLE = 3.0  # seconds after the link came back (or a pod stopped or started) still counted with it: a 3 s connect timeout
SLACK = 1.0  # seconds a held connection needs to notice its break (it asks every 0.2 s)
CLUSTER_BACKENDS = ("node1", "node3")


# MetalLB's objects: (plural, version, kind, name, spec)
METALLB = [
    ("ipaddresspools", "v1beta1", "IPAddressPool", "l2", {"addresses": ["198.51.100.200-198.51.100.230"]}),
    ("ipaddresspools", "v1beta1", "IPAddressPool", "bgp", {"addresses": ["203.0.113.10-203.0.113.19"]}),
    ("l2advertisements", "v1beta1", "L2Advertisement", "l2", {"ipAddressPools": ["l2"]}),
    ("bgppeers", "v1beta2", "BGPPeer", "router", {"myASN": 64500, "peerASN": 64501, "peerAddress": "198.51.100.1", "holdTime": "9s"}),
    ("bgpadvertisements", "v1beta1", "BGPAdvertisement", "bgp", {"ipAddressPools": ["bgp"]}),
]


def deployment(node: str) -> dict:
    labels = {"app": "echo", "pinned": node, "cluster-backend": "yes" if node in CLUSTER_BACKENDS else "no"}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": f"echo-{node}"},
            "spec": {"replicas": 1, "selector": {"matchLabels": labels}, "template": {
                "metadata": {"labels": {**labels, **OPT_IN}},
                "spec": {"nodeSelector": {"kubernetes.io/hostname": node}, "terminationGracePeriodSeconds": 1,
                         # kwok runs no containers: the image is never pulled
                         "containers": [{"name": "echo", "image": "registry.invalid/echo:lab", "ports": [{"containerPort": 8080}]}]}}}}


def service(name: str) -> dict:
    pool, policy, vip = SERVICES[name]
    return {"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": name, "annotations": {"metallb.io/address-pool": pool, "metallb.io/loadBalancerIPs": vip}},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": policy,
                     "selector": {"app": "echo", **({"cluster-backend": "yes"} if policy == "Cluster" else {})},
                     "ports": [{"port": 80, "targetPort": 8080}]}}


def wait(what: str, check, timeout: float = 60, interval: float = 0.2):
    start = time.monotonic()
    last = None
    while time.monotonic() - start < timeout:
        try:
            last = check()
        except (k8s.ApiException, KeyError, IndexError, TypeError, ValueError) as exc:
            last = exc
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not within {timeout} s (last: {last})")


@pytest.fixture(scope="module")
def site(kube_lab):
    lab, name, api = kube_lab["lab"], kube_lab["name"], kube_lab["api"]
    done = subprocess.run([sys.executable, str(REPO / "lab/clusterctl.py"), "datapath", "--name", name],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not lab.playbook(REPO / "tests/integration/targets/bgp_router/apply.yml").failed
    core, apps, co = k8s.CoreV1Api(api), k8s.AppsV1Api(api), k8s.CustomObjectsApi(api)
    for plural, version, kind, name, spec in METALLB:
        co.create_namespaced_custom_object(GRP, version, MLNS, plural, {
            "apiVersion": f"{GRP}/{version}", "kind": kind, "metadata": {"name": name}, "spec": spec})
    core.create_namespace({"metadata": {"name": NS}})
    for node in NODES:
        apps.create_namespaced_deployment(NS, deployment(node))
    k8s.PolicyV1Api(api).create_namespaced_pod_disruption_budget(NS, {
        "metadata": {"name": "echo"}, "spec": {"maxUnavailable": 1, "selector": {"matchLabels": {"app": "echo"}}}})
    for svc in SERVICES:
        core.create_namespaced_service(NS, service(svc))
    site = {"lab": lab, "name": name, "api": api, "core": core, "co": co, "kubeconfig": kube_lab["kubeconfig"]}
    steady(site)
    return site


def leaders(site) -> dict:
    items = site["co"].list_namespaced_custom_object(GRP, "v1beta1", MLNS, "servicel2statuses")["items"]
    return {i["metadata"]["labels"]["metallb.io/service-name"]: (i.get("status") or {}).get("node") for i in items}


def answers(site, vip: str) -> bool:
    out = site["lab"].exec("client", "curl", "-s", "--max-time", "1", f"http://{vip}/", check=False).stdout
    return '"node"' in out


def steady(site) -> None:
    """Every pod wired, node2 leads both L2 VIPs, the router has every node as next hop of both BGP VIPs."""
    lab = site["lab"]
    wait("node2 leads both layer 2 VIPs", lambda: all(leaders(site).get(s) == NODE for s in ("l2-cluster", "l2-local")))
    for svc in ("bgp-cluster", "bgp-local"):
        vip = SERVICES[svc][2]
        wait(f"{svc}: 3 next hops", lambda vip=vip: sorted(lab.kernel_nexthops("router", vip)) == sorted(NODES.values()))
    for svc, (dummy, dummy2, vip) in SERVICES.items():
        wait(f"{svc} answers", lambda vip=vip: all(answers(site, vip) for dummy in range(3)))


class NodeWatch(threading.Thread):
    """When (wall time) node2 was seen excluded, cordoned, without its echo pod, and with a new one."""

    def __init__(self, site) -> None:
        super().__init__(daemon=True)
        self.core, self.stop, self.events = site["core"], threading.Event(), []
        self.state: dict = {}

    def run(self) -> None:
        while not self.stop.is_set():
            now = time.time()
            try:
                node = self.core.read_node(NODE)
                pods = self.core.list_namespaced_pod(NS, label_selector=f"pinned={NODE}").items
            except Exception:  # noqa: BLE001 - the cluster going away at teardown ends the watch
                return
            running = [p for p in pods if p.spec.node_name == NODE and p.metadata.deletion_timestamp is None]
            state = {"excluded": EXCLUDE in (node.metadata.labels or {}), "cordoned": bool(node.spec.unschedulable),
                     "pod": running[0].metadata.uid if running else None}
            for key, value in state.items():
                if self.state.get(key, value) != value:
                    self.events.append((now, key, value))
            self.state = state
            self.stop.wait(0.1)

    def when(self, key: str, value) -> float:
        return next(t for t, k, v in self.events if k == key and bool(v) == bool(value))

    def pod_windows(self) -> list[tuple[float, float]]:
        """Where a pod of node2 stops or starts (seen, until SETTLE s later): printed, not excused."""
        return [(t - 0.2, t + SETTLE) for t, key, dummy in self.events if key == "pod"]


class Traffic:
    def __init__(self, site, tmp: Path) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.stop_file = tmp / "stop"
        targets = [f"{svc}={vip}:80" for svc, (dummy, dummy2, vip) in SERVICES.items()]
        self.proc = subprocess.Popen([*site["lab"].hosts["client"].enter, "/usr/bin/python3", str(TRAFFIC),
                                      "--stop-file", str(self.stop_file), *targets],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        assert first.startswith('{"started"'), first + self.proc.stderr.read()
        time.sleep(2.0)  # a steady state before anything happens

    def result(self) -> dict:
        time.sleep(2.0)
        self.stop_file.write_text("")
        out, err = self.proc.communicate(timeout=60)
        return json.loads(out.strip().splitlines()[-1])


def inside(t: float, windows: list[tuple[float, float]]) -> bool:
    return any(lo <= t <= hi for lo, hi in windows)


def tally(result: dict, marks: dict, pod_windows: list, moves: list) -> dict:
    """Per Service: new connections (all, failed, failed in a pod stop/start window, failed or delayed while node2
    was down) and held connections (all, broken, broken while the announcements moved)."""
    work = [(marks["link_down"], marks["link_up"] + SETTLE)]
    out = {}
    for svc, data in result.items():
        failed = [t for t, ok, dummy, dummy2 in data["new"] if not ok]
        # reset after it was accepted: a connection in the middle of its request when its path moved (a layer 2 VIP
        # moving, an ECMP rehash) breaks the way an established one does; any other failure is a failed new connection
        reset = [t for t, ok, what, dummy in data["new"] if not ok and what.startswith("ConnectionResetError")]
        # a lost SYN is sent again after 1 s: a connection that took longer than 0.5 s lost one
        delayed = [t for t, ok, dummy, took in data["new"] if ok and took > 0.5]
        broke = [h["broke"] for h in data["held"] if h["broke"] is not None]
        out[svc] = {"new": len(data["new"]), "failed": len(failed), "delayed": len(delayed),
                    "failed_in_pod_windows": sum(inside(t, pod_windows) for t in failed),
                    "reset": len(reset), "reset_by_moves": sum(inside(t, moves) for t in reset),
                    "failed_during_work": sum(inside(t, work) for t in failed),
                    "delayed_during_work": sum(inside(t, work) for t in delayed),
                    "errors": dict(collections.Counter(what.split(":")[0] for dummy, ok, what, dummy2 in data["new"] if not ok)),
                    "held": len(data["held"]), "held_broken": len(broke),
                    "held_broken_by_moves": sum(inside(t, moves) for t in broke),
                    "held_broken_via": dict(collections.Counter(h["first_node"] for h in data["held"] if h["broke"]))}
    return out


def pods_on_node2(core) -> list:
    return core.list_namespaced_pod(NS, field_selector=f"spec.nodeName={NODE}").items


def the_work(site, marks: dict) -> None:
    marks["link_down"] = time.time()
    site["lab"].link(NODE, "down")
    time.sleep(WORK)
    site["lab"].link(NODE, "up")
    marks["link_up"] = time.time()


def maintenance(site, state: str, **kwargs):
    return run_playbook("playbooks/maintenance.yml", site["lab"].inventory,
                        {"metallb_kubeconfig": str(site["kubeconfig"]), "node_maintenance_nodes": NODE,
                         "node_maintenance_state": state, "node_maintenance_drain_timeout": "120"}, **kwargs)


def flat(text: str) -> str:
    """The output with the YAML callback's line wrapping undone."""
    return " ".join(text.replace("'", " ").split())


def test_check_mode_shows_the_plan_and_changes_nothing(site):
    run = maintenance(site, "out", check=True)
    text = flat(run.stdout)
    assert "stop announcing from node2: node2 label node.kubernetes.io/exclude-from-external-load-balancers=" in text
    assert "wait for 2 BGP prefix(es) on 1 router(s) and 2 layer 2 VIP(s) to leave node2" in text, text
    # node2's echo pod (and MetalLB's controller, when the scheduler put it there)
    assert re.search(rf"evict [12] pod\(s\) through the eviction API \(PodDisruptionBudgets hold\): .*{NS}/echo-node2-", text), text
    node = site["core"].read_node(NODE)
    assert EXCLUDE not in node.metadata.labels and not node.spec.unschedulable
    assert all(leaders(site).get(s) == NODE for s in ("l2-cluster", "l2-local"))


def test_maintenance_loses_no_new_connection_a_plain_drain_loses(site, tmp_path):
    core, numbers = site["core"], {}

    # --- plain: cordon, delete the pods, the work, uncordon
    watch, marks = NodeWatch(site), {}
    watch.start()
    traffic = Traffic(site, tmp_path / "a")
    core.patch_node(NODE, {"spec": {"unschedulable": True}})
    for pod in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={NODE}").items:
        if not any(ref.kind == "DaemonSet" for ref in pod.metadata.owner_references or []):  # --ignore-daemonsets
            core.delete_namespaced_pod(pod.metadata.name, pod.metadata.namespace)
    wait("node2's echo pod gone", lambda: not pods_on_node2(core))
    the_work(site, marks)
    core.patch_node(NODE, {"spec": {"unschedulable": None}})
    steady(site)
    numbers["plain drain"] = tally(traffic.result(), marks, watch.pod_windows(), [])
    watch.stop.set()

    # --- maintenance.yml: out, out again, the work, in, in again
    watch, marks = NodeWatch(site), {}
    watch.start()
    traffic = Traffic(site, tmp_path / "b")
    out = maintenance(site, "out", diff=True)
    assert out.changed > 0
    node = core.read_node(NODE)
    assert EXCLUDE in node.metadata.labels and node.spec.unschedulable
    assert not pods_on_node2(core)
    assert maintenance(site, "out").changed == 0
    the_work(site, marks)
    assert maintenance(site, "in").changed > 0
    back = time.time()
    node = core.read_node(NODE)
    assert EXCLUDE not in (node.metadata.labels or {}) and not node.spec.unschedulable
    assert maintenance(site, "in").changed == 0
    steady(site)
    result = traffic.result()
    watch.stop.set()
    watch.join(timeout=5)
    # the announcements move: from node2's exclusion until maintenance.yml cordons it (after every wait passed),
    # and from its inclusion until `in` returned (after the waits for its announcements)
    moves = [(watch.when("excluded", True) - 0.2, watch.when("cordoned", True) + SLACK),
             (watch.when("excluded", False) - 0.2, back + SLACK)]
    numbers["maintenance.yml"] = tally(result, marks, watch.pod_windows(), moves)

    for how, per in numbers.items():
        print(f"\n[maintenance] {how}:", flush=True)
        for svc, n in per.items():
            print(f"  {svc:12} new {n['failed']}/{n['new']} failed ({n['failed_during_work']} while node2 was down, "
                  f"{n['failed_in_pod_windows']} in a pod stop/start window; {n['errors']}), {n['delayed']} delayed > 0.5 s "
                  f"({n['delayed_during_work']} while node2 was down), {n['reset_by_moves']} reset after accepted while the "
                  f"announcements moved; held {n['held_broken']}/{n['held']} broken "
                  f"({n['held_broken_by_moves']} while the announcements moved; by first node: {n['held_broken_via']})",
                  flush=True)
    plain, ours = numbers["plain drain"], numbers["maintenance.yml"]
    for svc in SERVICES:
        assert ours[svc]["new"] > 200 and ours[svc]["held"] == 10, ours[svc]
        # maintenance.yml's guarantee: no new connection fails, at any time; one already accepted breaks only while
        # the announcements move, as the established ones
        assert ours[svc]["failed"] == ours[svc]["reset_by_moves"], (svc, ours[svc])
        # established connections break only while the announcements move (layer 2 VIP moved; BGP: the flows
        # through node2 and the router's ECMP rehash of the others), never in the drain or the work
        assert ours[svc]["held_broken"] == ours[svc]["held_broken_by_moves"], (svc, ours[svc])
    # the same measurement sees the plain drain's losses: node2 was down while it still announced
    lost = {how: sum(per[svc]["failed_during_work"] + per[svc]["delayed_during_work"] for svc in SERVICES)
            for how, per in numbers.items()}
    assert lost["plain drain"] > 0, numbers
    assert plain["l2-cluster"]["failed_during_work"] + plain["l2-cluster"]["delayed_during_work"] > 0, numbers
