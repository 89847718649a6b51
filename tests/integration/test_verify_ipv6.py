# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""IPv6 and dual-stack end to end on the lab (issue 18): real MetalLB answering NDP, real
kube-proxy in both families, echo pods answering over both.

One dual-stack cluster (``clusterctl up``: pods 2001:db8:18::/56, ClusterIPs 2001:db8:19::/112,
Nodes with their 2001:db8:100:: address as a second InternalIP) with MetalLB and the lab's data
path. A dual-stack layer 2 pool on the segment; with lb_workload: an IPv6 Service with
externalTrafficPolicy Local, one with Cluster, and a RequireDualStack Service. verify.yml must
agree with the wire in both families (NDP leader, data path, the source address the pods saw),
fail naming both nodes when a second node really answers NDP for an IPv6 VIP, and leader_verify
``wait_for: change`` times the takeover of an IPv6 VIP whose leader loses its link (last: the
cluster is not put back together after it).
"""
from __future__ import annotations

import ipaddress
import json
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
ECHO = str(REPO / "lab" / "cluster" / "echo.py")
KUBE_LAB = {"base": "v6", "metallb": True}
NS = "metallb-system"
V4, V6 = "198.51.100.200-198.51.100.230", "2001:db8:100::200-2001:db8:100::230"
POOL = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "lan-ds", "namespace": NS},
        "spec": {"addresses": [V4, V6]}}
L2ADV = {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "lan", "namespace": NS},
         "spec": {"ipAddressPools": ["lan-ds"]}}
LOCAL6, CLUSTER6 = "2001:db8:100::210", "2001:db8:100::220"
ECHO_PODS = {"lab.baremetal.metallb/datapath": "echo"}
WEB = {"namespace": "demo", "image": "registry.invalid/web:1", "address_pool": "lan-ds", "pod_labels": ECHO_PODS,
       "ports": [{"name": "http", "port": 80, "target_port": 8080}]}
WORKLOADS = {
    "lb_workload_pools": [{"name": "lan-ds", "protocol": "layer2", "addresses": [V4, V6]}],
    "lb_workload_workloads": [
        {**WEB, "name": "web6-local", "replicas": 3, "external_traffic_policy": "Local", "ip_families": ["IPv6"],
         "load_balancer_ips": [LOCAL6]},
        {**WEB, "name": "web6-cluster", "replicas": 2, "ip_families": ["IPv6"], "load_balancer_ips": [CLUSTER6]},
        {**WEB, "name": "web-dual", "replicas": 2, "ip_families": ["IPv4", "IPv6"]},
    ],
}
SEEN: dict = {}  # numbers for the report (printed with pytest -s)


@pytest.fixture(scope="module")
def applied(kube_lab):
    t0 = time.monotonic()
    done = subprocess.run([*CLUSTERCTL, "datapath", "--name", kube_lab["name"]], capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, f"clusterctl datapath failed:\n{done.stdout}\n{done.stderr}"
    custom = k8s.CustomObjectsApi(kube_lab["api"])
    for obj, plural in ((POOL, "ipaddresspools"), (L2ADV, "l2advertisements")):
        custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, obj)
    run_playbook(REPO / "tests/integration/targets/lb_workload_apply/playbook.yml", kube_lab["lab"].inventory,
                 {**WORKLOADS, "lb_workload_kubeconfig": str(kube_lab["kubeconfig"])})
    wait_wired(kube_lab, 7)
    print(f"\n[time] datapath + pool + 3 workloads applied + 7 echo pods wired: {time.monotonic() - t0:.1f} s")
    return kube_lab


def wait_wired(kube_lab, n: int, timeout: float = 90) -> list[dict]:
    deadline = time.monotonic() + timeout
    while True:
        out = subprocess.run([*CLUSTERCTL, "datapath", "--name", kube_lab["name"], "--status"], capture_output=True,
                             text=True, check=False).stdout
        pods = [p for p in (json.loads(out or "{}").get("pods") or []) if p.get("state") == "running"]
        if len(pods) >= n:
            return pods
        assert time.monotonic() < deadline, f"only {len(pods)} of {n} echo pods wired: {out[-2000:]}"
        time.sleep(0.5)


def services(kube_lab) -> dict:
    items = k8s.CoreV1Api(kube_lab["api"]).list_namespaced_service("demo").items
    return {s.metadata.name: s for s in items}


def vips(kube_lab, name: str, n: int, timeout: float = 30) -> list[str]:
    deadline = time.monotonic() + timeout
    while True:
        ingress = services(kube_lab)[name].status.load_balancer.ingress or []
        if len(ingress) >= n:
            return [i.ip for i in ingress]
        assert time.monotonic() < deadline, f"{name}: {len(ingress)} of {n} addresses after {timeout} s"
        time.sleep(0.3)


def leaders(kube_lab) -> dict:
    items = k8s.CustomObjectsApi(kube_lab["api"]).list_namespaced_custom_object(
        "metallb.io", "v1beta1", NS, "servicel2statuses")["items"]
    return {i["metadata"]["labels"]["metallb.io/service-name"]: i["status"]["node"] for i in items}


def recorded(kube_lab, service: str) -> list[str]:
    """Every node with a ServiceL2Status for ``service``."""
    items = k8s.CustomObjectsApi(kube_lab["api"]).list_namespaced_custom_object(
        "metallb.io", "v1beta1", NS, "servicel2statuses")["items"]
    # a ServiceL2Status the speaker has just created has no status yet
    return [(i.get("status") or {}).get("node") for i in items
            if i["metadata"]["labels"]["metallb.io/service-name"] == service]


def ask(kube_lab, vip: str, count: int = 20) -> list[dict]:
    out = kube_lab["lab"].exec("client", "python3", ECHO, "get", vip, "80", "--count", str(count)).stdout
    return json.loads(out)


def verify(kube_lab, report: Path, **kwargs):
    return run_playbook("playbooks/verify.yml", kube_lab["lab"].inventory,
                        {"metallb_kubeconfig": str(kube_lab["kubeconfig"]), "lb_verify_report_path": str(report),
                         **kwargs.pop("extra", {})}, **kwargs)


def test_the_lab_cluster_is_dual_stack(applied):
    core = k8s.CoreV1Api(applied["api"])
    for node in core.list_node().items:
        k = int(node.metadata.name[4:])
        internal = [a.address for a in node.status.addresses if a.type == "InternalIP"]
        assert internal == [f"198.51.100.{10 + k}", f"2001:db8:100::{10 + k}"], internal
        v4, v6 = (ipaddress.ip_network(c) for c in node.spec.pod_cidrs)
        assert v4.subnet_of(ipaddress.ip_network("198.18.0.0/17")) and v6.prefixlen == 64
        assert v6.subnet_of(ipaddress.ip_network("2001:db8:18::/56"))
    svc = services(applied)
    dual = svc["web-dual"].spec
    assert dual.ip_family_policy == "RequireDualStack" and dual.ip_families == ["IPv4", "IPv6"]
    assert ipaddress.ip_address(dual.cluster_ips[1]) in ipaddress.ip_network("2001:db8:19::/112")
    assert svc["web6-local"].spec.ip_families == ["IPv6"]
    # kubernetes.default stays IPv4 (the primary family), so every IPv4-only Service is as before
    kubernetes_svc = core.read_namespaced_service("kubernetes", "default").spec
    assert kubernetes_svc.ip_families == ["IPv4"] and kubernetes_svc.cluster_ip == "198.18.128.1"
    # MetalLB gave each Service the family it asked for, from the dual-stack pool
    assert vips(applied, "web6-local", 1) == [LOCAL6] and vips(applied, "web6-cluster", 1) == [CLUSTER6]
    both = vips(applied, "web-dual", 2)
    assert sorted(ipaddress.ip_address(ip).version for ip in both) == [4, 6]
    SEEN["dual"] = both


def test_echo_pods_answer_over_ipv6_with_the_source_they_saw(applied):
    """Local keeps the client's own IPv6 address; Cluster SNATs it to the leader's IPv6 address."""
    lead = leaders(applied)
    local = ask(applied, LOCAL6)
    assert all("error" not in a for a in local), local
    assert {a["family"] for a in local} == {"IPv6"} and {a["source"] for a in local} == {"2001:db8:100::100"}
    assert {a["node"] for a in local} == {lead["web6-local"]}  # Local: only the leader's pods
    cluster = ask(applied, CLUSTER6, 30)
    assert all("error" not in a for a in cluster), cluster
    leader6 = f"2001:db8:100::{10 + int(lead['web6-cluster'][4:])}"
    assert {a["source"] for a in cluster} == {leader6}, cluster
    print(f"\n[ipv6 data path] Local: {len(local)} answers, all from {lead['web6-local']}, source 2001:db8:100::100; "
          f"Cluster: by node {sorted((n, sum(1 for a in cluster if a['node'] == n)) for n in {a['node'] for a in cluster})}, "
          f"source {leader6}")


def test_verify_agrees_with_the_wire_in_both_families(applied, tmp_path):
    report = tmp_path / "v6.md"
    t0 = time.monotonic()
    run = verify(applied, report, extra={"lb_verify_datapath": True})
    SEEN["verify_s"] = round(time.monotonic() - t0, 1)
    assert run.changed == 0
    text = report.read_text()
    assert "3 of 3 Service(s) as expected." in text, text
    lead = leaders(applied)
    macs = {node: applied["lab"].hosts[node].mac.lower() for node in applied["lab"].nodes}
    v4, v6 = sorted(SEEN["dual"], key=lambda ip: ":" in ip)
    for name, vip in (("web6-local", LOCAL6), ("web6-cluster", CLUSTER6), ("web-dual", v6)):
        node = lead[name]
        assert f"NDP for {vip}: answered by {node} ({macs[node]}), MetalLB's leader (ok)" in text, text
    assert f"ARP for {v4}: answered by {lead['web-dual']} ({macs[lead['web-dual']]}), MetalLB's leader (ok)" in text
    assert (f"- Per family: IPv6 ({LOCAL6}): NDP leader ok, data path ok, client address preserved") in text, text
    assert (f"- Per family: IPv6 ({CLUSTER6}): NDP leader ok, data path ok, client address not preserved (SNAT)") in text
    assert (f"- Per family (dual-stack): IPv4 ({v4}): ARP leader ok, data path ok, client address not preserved (SNAT); "
            f"IPv6 ({v6}): NDP leader ok, data path ok, client address not preserved (SNAT)") in text, text
    assert "| ARP ok; NDP ok; data path IPv4 ok; data path IPv6 ok |" in text
    assert f"- Data path (IPv6), 30/30 requests to [{LOCAL6}]:80" in text


def test_verify_finds_an_ndp_duplicate_with_two_real_responders(applied, tmp_path):
    """A rogue responder for an IPv6 VIP: the address added to another node's interface, whose
    kernel then answers neighbor solicitations for it beside MetalLB's leader."""
    lab = applied["lab"]
    leader = leaders(applied)["web6-local"]
    rogue = next(node for node in lab.nodes if node != leader)
    report = tmp_path / "rogue6.md"
    lab.vip(rogue, "add", LOCAL6)
    try:
        run = verify(applied, report, expect_failure=True)
    finally:
        lab.vip(rogue, "del", LOCAL6)
    text = report.read_text()
    mac = {node: lab.hosts[node].mac.lower() for node in (leader, rogue)}
    pair = {f"{leader} ({mac[leader]}) and {rogue} ({mac[rogue]})", f"{rogue} ({mac[rogue]}) and {leader} ({mac[leader]})"}
    for said in (run.stdout, text):
        assert f"NDP for {LOCAL6} (duplicate)" in said, said
        assert any(f"answered by 2 responders: {p}" in said for p in pair), said
        assert f"expected {leader} ({mac[leader]}) alone, MetalLB's leader" in said
    assert re.search(r"\| demo/web6-local \| 2001:db8:100::210 \|.*\| NDP FAIL \(duplicate: ", text), text
    assert "2 of 3 Service(s) as expected." in text


def test_ipv6_l2_failover_is_timed_with_wait_for_change(applied, tmp_path):
    """The leader of web6-cluster loses its link; memberlist elects another node, which answers NDP."""
    lab = applied["lab"]
    leader = leaders(applied)["web6-cluster"]
    out = tmp_path / "failover.json"
    t0 = time.time()
    try:
        run_playbook(REPO / "tests/integration/targets/verify_ipv6/failover.yml", lab.inventory,
                     {"v6_vip": CLUSTER6, "v6_leader": leader, "v6_lab": applied["name"], "v6_keep_down": True,
                      "v6_labctl": str(REPO / "lab" / "labctl.py"), "v6_result_file": str(out),
                      "v6_macs": {node: lab.hosts[node].mac for node in lab.nodes}})
        seen = json.loads(out.read_text())
        result = seen["failover"]["addresses"][CLUSTER6]
        change = result["change"]
        assert result["status"] == "ok" and change["from_node"] == leader, result
        assert change["to_node"] not in (None, leader), result
        # the new node answered after the link went down, and it is the leader MetalLB now records
        assert change["detected_at"] >= seen["down_at"] - 0.05, (change, seen["down_at"])
        takeover = change["detected_at"] - seen["down_at"]
        # MetalLB records the new leader while the old one is still cut off (it cannot remove its
        # own ServiceL2Status; once its link is back, memberlist gives the VIP back to it)
        deadline = time.monotonic() + 20
        while change["to_node"] not in recorded(applied, "web6-cluster") and time.monotonic() < deadline:
            time.sleep(0.5)
        assert change["to_node"] in recorded(applied, "web6-cluster"), recorded(applied, "web6-cluster")
    finally:
        lab.link(leader, "up")
    print(f"\n[ipv6 failover] {CLUSTER6}: {leader} link down -> {change['to_node']} answers NDP after {takeover:.2f} s "
          f"(unanswered {change['gap_ms']} ms, {change['polls']} polls; watcher saw it {change['detected_ms']} ms after "
          f"it started); whole run {time.time() - t0:.1f} s; verify.yml with the data path {SEEN.get('verify_s')} s")
