# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/verify.yml against the lab: real MetalLB, real ARP from the `client` host.

Two layer 2 Services (Local and Cluster) applied with lb_workload; verify.yml must agree with
the wire (the MAC answering each VIP is the leader MetalLB recorded), write a report with a
Mermaid flowchart per Service, change nothing (also in check mode), fail naming both nodes and
their MACs when a second node answers ARP for a VIP (a rogue responder), and fail, naming the
Service and the fix, once no node may announce the pool any more.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KUBE_LAB = {"base": "vfy", "metallb": True}
NS = "metallb-system"
POOL = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "lan-vips", "namespace": NS},
        "spec": {"addresses": ["198.51.100.200-198.51.100.230"]}}
L2ADV = {"apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "lan", "namespace": NS},
         "spec": {"ipAddressPools": ["lan-vips"]}}
WORKLOADS = {
    "lb_workload_pools": [{"name": "lan-vips", "protocol": "layer2", "addresses": ["198.51.100.200-198.51.100.230"]}],
    "lb_workload_workloads": [
        {"name": "web-local", "namespace": "demo", "image": "registry.invalid/web:1", "replicas": 3,
         "ports": [{"name": "http", "port": 80, "target_port": 8080}], "external_traffic_policy": "Local",
         "address_pool": "lan-vips", "load_balancer_ips": ["198.51.100.210"]},
        {"name": "web-cluster", "namespace": "demo", "image": "registry.invalid/web:1", "replicas": 2,
         "ports": [{"name": "http", "port": 80, "target_port": 8080}], "address_pool": "lan-vips"},
    ],
}


@pytest.fixture(scope="module")
def applied(kube_lab):
    custom = k8s.CustomObjectsApi(kube_lab["api"])
    for obj, plural in ((POOL, "ipaddresspools"), (L2ADV, "l2advertisements")):
        custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, obj)
    run_playbook(REPO / "tests/integration/targets/lb_workload_apply/playbook.yml", kube_lab["lab"].inventory,
                 {**WORKLOADS, "lb_workload_kubeconfig": str(kube_lab["kubeconfig"])})
    return kube_lab


def verify(kube_lab, report: Path, **kwargs):
    return run_playbook("playbooks/verify.yml", kube_lab["lab"].inventory,
                        {"metallb_kubeconfig": str(kube_lab["kubeconfig"]), "lb_verify_report_path": str(report)}, **kwargs)


def leaders(kube_lab) -> dict:
    items = k8s.CustomObjectsApi(kube_lab["api"]).list_namespaced_custom_object(
        "metallb.io", "v1beta1", NS, "servicel2statuses")["items"]
    return {i["metadata"]["labels"]["metallb.io/service-name"]: i["status"]["node"] for i in items}


def test_verify_agrees_with_the_wire_and_writes_the_report(applied, tmp_path):
    report = tmp_path / "reports" / "metallb.md"
    run = verify(applied, report)
    assert run.changed == 0
    assert re.search(r"demo/web-cluster 198\.51\.100\.2[0-3]\d: ok", run.stdout), run.stdout
    assert "demo/web-local 198.51.100.210: ok" in run.stdout
    text = report.read_text()
    assert "2 of 2 Service(s) as expected." in text
    assert text.count("```mermaid") == 2
    # the leader in the report is the node MetalLB recorded, and ARP from the client agreed
    for name, node in leaders(applied).items():
        assert f"| demo/{name} |" in text and f"leader {node} | ARP ok |" in text, text


def test_verify_is_check_mode_safe(applied, tmp_path):
    run = verify(applied, tmp_path / "r.md", check=True)
    assert run.changed == 0 and "web-local 198.51.100.210: ok" in run.stdout


def test_verify_names_both_responders_when_a_second_node_holds_the_vip(applied, tmp_path):
    """A rogue responder: web-local's VIP added to another node's interface, whose kernel then
    answers ARP for it beside MetalLB's leader. verify.yml fails and says so - a duplicate, both
    nodes with their MACs, what it likely means - never "no answer"."""
    lab, vip = applied["lab"], "198.51.100.210"
    leader = leaders(applied)["web-local"]
    rogue = next(node for node in lab.nodes if node != leader)
    report = tmp_path / "rogue.md"
    lab.vip(rogue, "add", vip)
    try:
        run = verify(applied, report, expect_failure=True)
    finally:
        lab.vip(rogue, "del", vip)
    text = report.read_text()
    mac = {node: lab.hosts[node].mac.lower() for node in (leader, rogue)}
    both = f"answered by 2 responders: {leader} ({mac[leader]}) and {rogue} ({mac[rogue]})"
    swapped = f"answered by 2 responders: {rogue} ({mac[rogue]}) and {leader} ({mac[leader]})"
    for said in (run.stdout, text):
        assert f"ARP for {vip} (duplicate)" in said, said
        assert both in said or swapped in said, said
        assert f"expected {leader} ({mac[leader]}) alone, MetalLB's leader" in said
        assert "rogue responder" in said and "answered by nobody" not in said
    assert "MetalLB does not announce every Service as expected" in run.stdout
    assert f"| demo/web-local | {vip} |" in text and "ARP FAIL (duplicate: " in text and "no answer (FAIL)" not in text
    assert "1 of 2 Service(s) as expected." in text
    # the chart draws both responders, the second one failing
    assert f'-->|"answers ARP too"| n_{rogue}' in text and f"n_{rogue}" in next(
        line for line in text.splitlines() if line.startswith("  class ") and line.endswith(" fail"))


def test_verify_fails_naming_the_service_when_no_node_may_announce(applied, tmp_path):
    custom = k8s.CustomObjectsApi(applied["api"])
    custom.patch_namespaced_custom_object("metallb.io", "v1beta1", NS, "l2advertisements", "lan",
                                          {"spec": {"nodeSelectors": [{"matchLabels": {"no-such-label": "x"}}]}})
    report = tmp_path / "broken.md"
    run = verify(applied, report, expect_failure=True)
    assert "MetalLB does not announce every Service as expected" in run.stdout
    assert "layer2_no_announcing_node" in run.stdout and "demo/web-local" in run.stdout
    text = report.read_text()
    assert "0 of 2 Service(s) as expected." in text and "PROBLEMS" in text
    assert "Fix: run a pod on an advertising node" in text


def test_verify_passes_with_the_read_only_identity_and_its_writes_are_refused(applied, tmp_path):
    """playbooks/verify_access.yml (run as the admin) creates the read-only ServiceAccount of
    docs/access.md and writes a kubeconfig with its token; verify.yml passes with that identity,
    and the API server refuses it every write (403)."""
    import time  # noqa: PLC0415 (imports of this test only: the module's header is shared)

    import yaml  # noqa: PLC0415
    from kubernetes import config as k8s_config  # noqa: PLC0415
    from kubernetes.client.rest import ApiException  # noqa: PLC0415

    custom = k8s.CustomObjectsApi(applied["api"])
    # a test before may have taken every node away from the advertisement: the pool as the fixture made it
    custom.patch_namespaced_custom_object("metallb.io", "v1beta1", NS, "l2advertisements", "lan",
                                          {"spec": {"nodeSelectors": None}})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if {"web-local", "web-cluster"} <= set(leaders(applied)):
                break
        except (KeyError, TypeError):  # a status without its node yet
            pass
        time.sleep(0.5)
    inventory = applied["lab"].inventory
    out = tmp_path / "verify.kubeconfig"
    access = {"metallb_kubeconfig": str(applied["kubeconfig"]), "verify_access_output": str(out)}
    run = run_playbook("playbooks/verify_access.yml", inventory, access)
    assert run.changed > 0
    assert out.stat().st_mode & 0o777 == 0o600
    kubeconfig = yaml.safe_load(out.read_text())
    token = kubeconfig["users"][0]["user"]["token"]
    assert token and token not in run.stdout + run.stderr
    assert set(kubeconfig["users"][0]["user"]) == {"token"}  # nothing of the admin's credentials
    assert run_playbook("playbooks/verify_access.yml", inventory, access).changed == 0

    report = tmp_path / "read-only.md"
    run = run_playbook("playbooks/verify.yml", inventory,
                       {"metallb_kubeconfig": str(out), "lb_verify_report_path": str(report)})
    assert run.changed == 0
    assert "demo/web-local 198.51.100.210: ok" in run.stdout, run.stdout
    assert re.search(r"demo/web-cluster 198\.51\.100\.2[0-3]\d: ok", run.stdout), run.stdout
    assert "2 of 2 Service(s) as expected." in report.read_text()

    api = k8s_config.new_client_from_config(config_file=str(out))
    core, ro_custom = k8s.CoreV1Api(api), k8s.CustomObjectsApi(api)
    assert core.list_service_for_all_namespaces().items  # it reads ...
    writes = {
        "create a ConfigMap": lambda: core.create_namespaced_config_map(
            "demo", {"metadata": {"name": "written-by-verify"}, "data": {"a": "b"}}),
        "patch the L2Advertisement": lambda: ro_custom.patch_namespaced_custom_object(
            "metallb.io", "v1beta1", NS, "l2advertisements", "lan", {"spec": {"nodeSelectors": None}}),
        "delete a Service": lambda: core.delete_namespaced_service("web-local", "demo"),
        "label a Node": lambda: core.patch_node("node1", {"metadata": {"labels": {"written": "x"}}}),
        "read a Secret": lambda: core.list_namespaced_secret(NS),
    }
    for what, attempt in writes.items():  # ... and nothing else
        with pytest.raises(ApiException) as refused:
            attempt()
        assert refused.value.status == 403, (what, refused.value)
        assert "system:serviceaccount:metallb-system:baremetal-metallb-verify" in refused.value.body, what


STATUS_PLAY = """
- name: lb_status as verify.yml runs it
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Read what should announce each Service
      baremetal.metallb.lb_status: {kubeconfig: "{{ kc }}", label_selector: "", namespaces: [demo]}
      register: status
    - name: Keep the result
      ansible.builtin.copy: {content: "{{ status | to_json }}", dest: "{{ out }}", mode: "0600"}
"""


def test_lb_status_reads_the_speakers_servicebgpstatus(applied, tmp_path):
    """A BGP Service on the native speakers (a BGPPeer toward the lab router, no session needed: the speakers record
    what they advertise to which peer): lb_status's announced_by is exactly what the real ServiceBGPStatus objects
    say, node by node, and covers the nodes MetalLB's objects make announce."""
    import json  # noqa: PLC0415 (imports of this test only: the module's header is shared)
    import time  # noqa: PLC0415

    custom, core = k8s.CustomObjectsApi(applied["api"]), k8s.CoreV1Api(applied["api"])
    created = [
        ("v1beta1", "ipaddresspools", {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
                                       "metadata": {"name": "bgp-vips", "namespace": NS}, "spec": {"addresses": ["203.0.113.0/28"]}}),
        ("v1beta2", "bgppeers", {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "router", "namespace": NS},
                                 "spec": {"myASN": 64500, "peerASN": 64501, "peerAddress": "198.51.100.1"}}),
        ("v1beta1", "bgpadvertisements", {"apiVersion": "metallb.io/v1beta1", "kind": "BGPAdvertisement",
                                          "metadata": {"name": "bgp", "namespace": NS}, "spec": {"ipAddressPools": ["bgp-vips"]}}),
    ]
    selector = core.read_namespaced_service("web-cluster", "demo").spec.selector
    try:
        for version, plural, obj in created:
            custom.create_namespaced_custom_object("metallb.io", version, NS, plural, obj)
        core.create_namespaced_service("demo", {
            "metadata": {"name": "bgp-api", "annotations": {"metallb.io/address-pool": "bgp-vips"}},
            "spec": {"type": "LoadBalancer", "selector": selector, "ports": [{"port": 80, "targetPort": 8080}]}})
        real, previous, deadline = {}, None, time.monotonic() + 30
        while time.monotonic() < deadline:  # until the speakers' records are there and stay the same for a second
            items = custom.list_namespaced_custom_object("metallb.io", "v1beta1", NS, "servicebgpstatuses")["items"]
            real = {i["status"]["node"]: sorted(i["status"]["peers"]) for i in items
                    if (i.get("status") or {}).get("serviceName") == "bgp-api" and i["status"].get("node")}
            if real and real == previous:
                break
            previous = real
            time.sleep(1)
        assert real and all(peers == ["router"] for peers in real.values()), real
        out = tmp_path / "status.json"
        play = tmp_path / "status.yml"
        play.write_text(STATUS_PLAY)
        run_playbook(play, None, {"kc": str(applied["kubeconfig"]), "out": str(out)})
        services = {s["name"]: s for s in json.loads(out.read_text())["services"]}
        bgp = services["bgp-api"]["bgp"]
        assert bgp["announced_by"] == real, (bgp, real)
        assert sorted(real) == sorted(bgp["candidate_nodes"]), (bgp, real)
        assert services["web-cluster"]["bgp"] is None
    finally:
        core.delete_namespaced_service("bgp-api", "demo")
        for version, plural, obj in reversed(created):
            custom.delete_namespaced_custom_object("metallb.io", version, NS, plural, obj["metadata"]["name"])
