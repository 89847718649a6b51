# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_preflight against a real kube-apiserver (the lab's), and its place in site.yml and verify.yml.

The cluster runs MetalLB (the release the lab built) and gets minimal CRDs of the same group, version and
kind as Cilium's and Calico's (built here: an open schema, so the objects are stored as written). Then the things
users meet: k3s servicelb's svclb DaemonSet, kube-vip serving Services, kube-vip-cloud-provider's ConfigMap, Cilium
LB IPAM, L2 announcements and BGP peering the router, a Calico BGPPeer on the router, a node an advertisement
selects that carries the exclusion label, a layer 2 pool without an L2Advertisement, a BGP pool without a peer.
Each must be found with its severity; none of them once removed; site.yml must stop before any change on an error
unless it is accepted by id; verify.yml's report must carry the findings.

On the same cluster (MetalLB running, so no second cluster): the migration from the legacy ConfigMap
(playbooks/migrate_legacy_config.yml) in check mode, failing verification (the ConfigMap stays), then for real
(objects applied, a Service announced and verified on the wire, the ConfigMap removed, a second run changing
nothing); and the converter against the golden files of MetalLB's own configmaptocrs tool.
"""
from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

# the collection under test, in-process: the first of ANSIBLE_COLLECTIONS_PATH, as ansible takes it
sys.path.insert(0, next((p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p), str(REPO / ".build" / "collections")))
from ansible_collections.baremetal.metallb.plugins.module_utils.legacy_config.convert import (  # noqa: E402
    convert,
    go_duration_seconds,
    parse_config,
    yaml_loader,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder  # noqa: E402
from metallb_lab.client import run_playbook  # noqa: E402

KUBE_LAB = {"base": "pfl", "nodes": 2, "metallb": True}
DESIRED = REPO / "inventories/lab/metallb.yml"
TARGET = REPO / "tests/integration/targets/metallb_preflight/playbook.yml"
NS = "metallb-system"
ROUTER = "203.0.113.1"
EXCLUDE = "node.kubernetes.io/exclude-from-external-load-balancers"
# (group, version, kind, plural) of the foreign kinds, as their projects define them (cluster-scoped)
FOREIGN = [("cilium.io", "v2alpha1", "CiliumLoadBalancerIPPool", "ciliumloadbalancerippools"),
           ("cilium.io", "v2alpha1", "CiliumL2AnnouncementPolicy", "ciliuml2announcementpolicies"),
           ("cilium.io", "v2alpha1", "CiliumBGPPeeringPolicy", "ciliumbgppeeringpolicies"),
           ("crd.projectcalico.org", "v1", "BGPPeer", "bgppeers"),
           ("crd.projectcalico.org", "v1", "BGPConfiguration", "bgpconfigurations")]


def minimal_crd(group: str, version: str, kind: str, plural: str) -> dict:
    return {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": {"name": f"{plural}.{group}"},
            "spec": {"group": group, "scope": "Cluster",
                     "names": {"kind": kind, "plural": plural, "singular": kind.lower(), "listKind": f"{kind}List"},
                     "versions": [{"name": version, "served": True, "storage": True,
                                   "schema": {"openAPIV3Schema": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}}}]}}


@pytest.fixture(scope="module")
def cluster(kube_lab):
    ext = k8s.ApiextensionsV1Api(kube_lab["api"])
    crds = [minimal_crd(*kind) for kind in FOREIGN]
    for crd in crds:
        ext.create_custom_resource_definition(crd)
    deadline = time.monotonic() + 60
    for crd in crds:
        while not any(c.type == "Established" and c.status == "True"
                      for c in ext.read_custom_resource_definition(crd["metadata"]["name"]).status.conditions or []):
            assert time.monotonic() < deadline, f"CRD {crd['metadata']['name']} not Established in 60 s"
            time.sleep(0.5)
    return kube_lab


def preflight(cluster, tmp_path, **params) -> dict:
    out = tmp_path / "preflight.json"
    run_playbook(TARGET, cluster["lab"].inventory,
                 {"preflight_kubeconfig": str(cluster["kubeconfig"]), "preflight_out": str(out),
                  **{f"preflight_{k}": v for k, v in params.items()}})
    return json.loads(out.read_text())


def svclb_daemonset() -> dict:
    return {"metadata": {"name": "svclb-web-3f2c1a7b", "namespace": "kube-system",
                         "labels": {"svccontroller.k3s.cattle.io/svcname": "web", "svccontroller.k3s.cattle.io/svcnamespace": "demo"}},
            "spec": {"selector": {"matchLabels": {"app": "svclb-web-3f2c1a7b"}},
                     "template": {"metadata": {"labels": {"app": "svclb-web-3f2c1a7b"}},
                                  "spec": {"containers": [{"name": "lb-tcp-80", "image": "rancher/klipper-lb:v0.4.9"}]}}}}


def kube_vip_daemonset() -> dict:
    env = [{"name": "vip_arp", "value": "true"}, {"name": "svc_enable", "value": "true"}, {"name": "cp_enable", "value": "false"}]
    return {"metadata": {"name": "kube-vip-ds", "namespace": "kube-system"},
            "spec": {"selector": {"matchLabels": {"app": "kube-vip"}},
                     "template": {"metadata": {"labels": {"app": "kube-vip"}},
                                  "spec": {"containers": [{"name": "kube-vip", "image": "ghcr.io/kube-vip/kube-vip:v0.8.9", "env": env}]}}}}


FOREIGN_OBJECTS = [
    ("cilium.io", "v2alpha1", "ciliumloadbalancerippools",
     {"kind": "CiliumLoadBalancerIPPool", "metadata": {"name": "cilium-lan"}, "spec": {"blocks": [{"cidr": "198.51.100.224/28"}]}}),
    ("cilium.io", "v2alpha1", "ciliuml2announcementpolicies",
     {"kind": "CiliumL2AnnouncementPolicy", "metadata": {"name": "lan"}, "spec": {"loadBalancerIPs": True, "interfaces": ["^eth[0-9]+"]}}),
    ("cilium.io", "v2alpha1", "ciliumbgppeeringpolicies",
     {"kind": "CiliumBGPPeeringPolicy", "metadata": {"name": "rack1"},
      "spec": {"virtualRouters": [{"localASN": 64500, "neighbors": [{"peerAddress": f"{ROUTER}/32", "peerASN": 64501}]}]}}),
    ("crd.projectcalico.org", "v1", "bgppeers",
     {"kind": "BGPPeer", "metadata": {"name": "tor"}, "spec": {"peerIP": f"{ROUTER}:179", "asNumber": 64501}}),
    ("crd.projectcalico.org", "v1", "bgpconfigurations",
     {"kind": "BGPConfiguration", "metadata": {"name": "default"}, "spec": {"serviceLoadBalancerIPs": [{"cidr": "203.0.113.0/24"}]}}),
]
METALLB_OBJECTS = [
    ("ipaddresspools", {"kind": "IPAddressPool", "metadata": {"name": "lan-vips"}, "spec": {"addresses": ["198.51.100.200-198.51.100.230"]}}),
    ("ipaddresspools", {"kind": "IPAddressPool", "metadata": {"name": "production-pool"}, "spec": {"addresses": ["203.0.113.0/24"]}}),
    ("ipaddresspools", {"kind": "IPAddressPool", "metadata": {"name": "edge-vips"}, "spec": {"addresses": ["198.51.100.240/29"]}}),
    ("l2advertisements", {"kind": "L2Advertisement", "metadata": {"name": "edge"},
                          "spec": {"ipAddressPools": ["edge-vips"], "nodeSelectors": [{"matchLabels": {"preflight": "edge"}}]}}),
    ("bgpadvertisements", {"kind": "BGPAdvertisement", "metadata": {"name": "all"}, "spec": {"ipAddressPools": ["production-pool"]}}),
]
POOLS = [{"name": "lan-vips", "protocol": "layer2"}, {"name": "production-pool", "protocol": "bgp"},
         {"name": "edge-vips", "protocol": "layer2"}]
EXPECTED = {
    ("k3s_servicelb", "error"), ("kube_vip_services", "error"), ("kube_vip_cloud_provider", "error"),
    ("cilium_lb_ipam", "error"), ("cilium_l2_announcements", "error"), ("cilium_bgp_control_plane", "error"),
    ("calico_bgp_same_router", "error"), ("calico_advertises_pool", "warning"),
    ("excluded_node_selected", "error"), ("pool_not_advertised", "error"), ("bgp_pool_no_peer", "error"),
}


@pytest.fixture
def conflicts(cluster):
    """Every conflict in the cluster for one test, removed afterwards (also when the test fails)."""
    api = cluster["api"]
    apps, core, custom = k8s.AppsV1Api(api), k8s.CoreV1Api(api), k8s.CustomObjectsApi(api)
    node = sorted(n.metadata.name for n in core.list_node().items)[0]
    apps.create_namespaced_daemon_set("kube-system", svclb_daemonset())
    apps.create_namespaced_daemon_set("kube-system", kube_vip_daemonset())
    core.create_namespaced_config_map("kube-system", {"metadata": {"name": "kubevip"}, "data": {"range-global": "198.51.100.240-198.51.100.250"}})
    for group, version, plural, obj in FOREIGN_OBJECTS:
        custom.create_cluster_custom_object(group, version, plural, dict(obj, apiVersion=f"{group}/{version}"))
    for plural, obj in METALLB_OBJECTS:
        custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, dict(obj, apiVersion="metallb.io/v1beta1"))
    core.patch_node(node, {"metadata": {"labels": {"preflight": "edge", EXCLUDE: ""}}})
    try:
        yield node
    finally:
        for name in ("svclb-web-3f2c1a7b", "kube-vip-ds"):
            apps.delete_namespaced_daemon_set(name, "kube-system")
        core.delete_namespaced_config_map("kubevip", "kube-system")
        for group, version, plural, obj in FOREIGN_OBJECTS:
            custom.delete_cluster_custom_object(group, version, plural, obj["metadata"]["name"])
        for plural, obj in METALLB_OBJECTS:
            custom.delete_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, obj["metadata"]["name"])
        core.patch_node(node, {"metadata": {"labels": {"preflight": None, EXCLUDE: None}}})


def test_a_clean_cluster_has_no_finding(cluster, tmp_path):
    result = preflight(cluster, tmp_path, pools=POOLS, router_addresses=[ROUTER])
    assert result["findings"] == [] and result["errors"] == [], result


def test_every_conflict_is_found_on_the_api_server_with_its_severity(cluster, conflicts, tmp_path):
    result = preflight(cluster, tmp_path, pools=POOLS, router_addresses=[ROUTER])
    assert {(f["id"], f["severity"]) for f in result["findings"]} == EXPECTED, json.dumps(result["findings"], indent=1)
    by_id = {f["id"]: f for f in result["findings"]}
    assert "demo/web" in by_id["k3s_servicelb"]["message"] and "--disable=servicelb" in by_id["k3s_servicelb"]["fix"]
    assert by_id["excluded_node_selected"]["objects"] == [f"node/{conflicts}"]
    assert "--ignore-exclude-lb" in by_id["excluded_node_selected"]["fix"]
    assert by_id["pool_not_advertised"]["objects"] == ["IPAddressPool/lan-vips"]
    assert by_id["cilium_lb_ipam"]["message"].endswith("overlapping MetalLB's pools: cilium-lan with lan-vips.")
    assert by_id["calico_bgp_same_router"]["objects"] == ["BGPPeer/tor"]


def test_fail_on_error_stops_unless_accepted_by_id(cluster, conflicts, tmp_path):
    stopped = preflight(cluster, tmp_path, pools=POOLS, router_addresses=[ROUTER], fail_on=["error"])
    assert stopped.get("failed") and "accept one by its id" in stopped["msg"], stopped
    accepted = sorted({i for i, s in EXPECTED if s == "error"})
    passed = preflight(cluster, tmp_path, pools=POOLS, router_addresses=[ROUTER], fail_on=["error"], accept=accepted)
    assert not passed.get("failed") and passed["errors"] == [], passed
    assert all(f["accepted"] for f in passed["findings"] if f["severity"] == "error")


def test_site_stops_before_any_change_and_goes_on_once_accepted(cluster, tmp_path):
    apps = k8s.AppsV1Api(cluster["api"])
    apps.create_namespaced_daemon_set("kube-system", svclb_daemonset())
    inventory = ["-i", str(cluster["lab"].inventory), "-i", str(DESIRED)]
    try:
        run = run_playbook("playbooks/site.yml", None, args=inventory, expect_failure=True)
        assert "error k3s_servicelb: k3s servicelb" in run.stdout, run.stdout
        # stopped in the validation stage: no router play, nothing configured
        assert "PLAY [Configure the upstream router" not in run.stdout
        assert "PLAY [Install and configure MetalLB" not in run.stdout
        pools = k8s.CustomObjectsApi(cluster["api"]).list_namespaced_custom_object("metallb.io", "v1beta1", NS, "ipaddresspools")
        assert pools["items"] == []
        accepted = run_playbook("playbooks/site.yml", None, {"metallb_preflight_accept": ["k3s_servicelb"]},
                                args=[*inventory, "--tags", "validate"])
        assert "error k3s_servicelb (accepted): k3s servicelb" in accepted.stdout and accepted.changed == 0
    finally:
        apps.delete_namespaced_daemon_set("svclb-web-3f2c1a7b", "kube-system")


def test_verify_report_carries_the_findings_with_their_severity(cluster, conflicts, tmp_path):
    report = tmp_path / "report.md"
    run = run_playbook("playbooks/verify.yml", cluster["lab"].inventory,
                       {"metallb_kubeconfig": str(cluster["kubeconfig"]), "lb_verify_report_path": str(report),
                        "metallb_pools": POOLS, "metallb_router_address": ROUTER})
    assert run.changed == 0 and "error k3s_servicelb: k3s servicelb" in run.stdout
    text = report.read_text()
    assert "## Preflight" in text and "- **error** `k3s_servicelb`" in text and "- **warning** `calico_advertises_pool`" in text, text


# ---------------------------------------------------------------- migration from the legacy ConfigMap
# Last in this module: it leaves MetalLB configured. MetalLB v0.16 ignores the ConfigMap, so the Service stays without
# an address until the migration applies the pool.
LEGACY = """\
peers:
- peer-address: 203.0.113.1
  peer-asn: 64501
  my-asn: 64500
  hold-time: 9s
  password: legacy-md5-{secret}
address-pools:
- name: lan-vips
  protocol: {protocol}
  addresses:
  - 198.51.100.200-198.51.100.230
- name: production-pool
  protocol: bgp
  addresses:
  - 203.0.113.0/24
"""
MIGRATE_WORKLOADS = {
    "lb_workload_pools": [{"name": "lan-vips", "protocol": "layer2", "addresses": ["198.51.100.200-198.51.100.230"]}],
    "lb_workload_workloads": [{"name": "legacy-web", "namespace": "legacy", "image": "registry.invalid/web:1", "replicas": 2,
                               "ports": [{"name": "http", "port": 80, "target_port": 8080}], "address_pool": "lan-vips"}],
}


def legacy_configmap(core, protocol: str) -> None:
    body = {"metadata": {"name": "config", "namespace": NS}, "data": {"config": LEGACY.format(secret="s3cr3t", protocol=protocol)}}
    try:
        core.replace_namespaced_config_map("config", NS, body)
    except ApiException as exc:
        assert exc.status == 404
        core.create_namespaced_config_map(NS, body)


def migrate(cluster, **kwargs):
    return run_playbook("playbooks/migrate_legacy_config.yml", cluster["lab"].inventory,
                        {"metallb_kubeconfig": str(cluster["kubeconfig"]), "lb_verify_report_path": str(kwargs.pop("report"))}, **kwargs)


def metallb_names(cluster, plural: str, version: str = "v1beta1") -> list[str]:
    found = k8s.CustomObjectsApi(cluster["api"]).list_namespaced_custom_object("metallb.io", version, NS, plural)["items"]
    return sorted(o["metadata"]["name"] for o in found)


@pytest.fixture(scope="module")
def legacy(cluster):
    core = k8s.CoreV1Api(cluster["api"])
    run_playbook(REPO / "tests/integration/targets/lb_workload_apply/playbook.yml", cluster["lab"].inventory,
                 # before the migration no L2Advertisement exists: the workload policy's error is the point here
                 {**MIGRATE_WORKLOADS, "lb_workload_kubeconfig": str(cluster["kubeconfig"]), "lb_workload_fail_on": []})
    return core


def test_migrate_check_mode_shows_the_objects_and_changes_nothing(cluster, legacy, tmp_path):
    legacy_configmap(legacy, "layer2")
    run = migrate(cluster, report=tmp_path / "r.md", check=True, diff=True)
    for name in ("IPAddressPool metallb-system/lan-vips", "L2Advertisement metallb-system/l2advertisement1",
                 "BGPAdvertisement metallb-system/bgpadvertisement1", "BGPPeer metallb-system/peer1"):
        assert name in run.stdout, run.stdout
    assert "s3cr3t" not in run.stdout + run.stderr
    assert metallb_names(cluster, "ipaddresspools") == [] and legacy.read_namespaced_config_map("config", NS)


def test_migrate_keeps_the_configmap_when_verify_fails(cluster, legacy, tmp_path):
    # protocol "l2" (a typo MetalLB <= 0.12 would also have refused): configmaptocrs makes no L2Advertisement,
    # so the Service gets an address nobody announces, verify fails and the ConfigMap must stay
    legacy_configmap(legacy, "l2")
    run = migrate(cluster, report=tmp_path / "r.md", expect_failure=True)
    assert "is neither layer2 nor bgp" in run.stdout
    assert "Remove the legacy ConfigMap" not in run.stdout
    assert legacy.read_namespaced_config_map("config", NS).data["config"]
    assert "lan-vips" in metallb_names(cluster, "ipaddresspools")


def test_migrate_applies_verifies_then_removes_the_configmap_and_is_idempotent(cluster, legacy, tmp_path):
    legacy_configmap(legacy, "layer2")
    report = tmp_path / "r.md"
    run = migrate(cluster, report=report)
    assert "s3cr3t" not in run.stdout + run.stderr
    assert metallb_names(cluster, "ipaddresspools") == ["lan-vips", "production-pool"]
    assert metallb_names(cluster, "l2advertisements") == ["l2advertisement1"]
    assert metallb_names(cluster, "bgpadvertisements") == ["bgpadvertisement1"]
    assert metallb_names(cluster, "bgppeers", "v1beta2") == ["peer1"]
    assert "legacy/legacy-web 198.51.100.2" in run.stdout and "1 of 1 Service(s) as expected." in report.read_text()
    with pytest.raises(ApiException) as gone:
        legacy.read_namespaced_config_map("config", NS)
    assert gone.value.status == 404
    again = migrate(cluster, report=report)
    assert again.changed == 0 and "nothing to migrate" in again.stdout


def _spec(obj: dict) -> dict:
    """A spec as compared: no password (the tool inlines it, metallb_config puts it in a Secret), durations in seconds."""
    spec = {k: v for k, v in (obj.get("spec") or {}).items() if k not in ("password", "passwordSecret") and v not in ({}, [], None)}
    for key in ("holdTime", "keepaliveTime"):
        if key in spec:
            spec[key] = go_duration_seconds(spec[key], key)
    return spec


def test_converter_agrees_with_configmaptocrs_golden_files():
    """Oracle: MetalLB's own tool's test data (in the Go module the lab built MetalLB from), every object, every field."""
    testdata = sorted(Path.home().glob("go/pkg/mod/go.universe.tf/metallb@v0.16.1/configmaptocrs/testdata/configmap-data"))
    assert testdata, "MetalLB v0.16.1's Go module is not in the module cache (make lab-build downloads it)"
    cases = sorted(p for p in testdata[0].glob("*.yaml") if "bad" not in p.name)
    assert len(cases) >= 6
    for source in cases:
        variables = convert(parse_config(source.read_text()))["variables"]
        built = ConfigBuilder(bgp_mode="frr", **variables).run()
        assert built.errors == [], (source.name, built.errors)
        mine = {(o["kind"], o["metadata"]["name"]): _spec(o) for o in built.objects}
        golden = [d for d in yaml.load_all(source.with_suffix(".golden").read_text(), Loader=yaml_loader()) if d]
        theirs = {(d["kind"], d["metadata"]["name"]): _spec(d) for d in golden}
        assert mine == theirs, source.name
        if any(p.get("password") for p in variables["bgp_peers"]):
            assert built.secrets, source.name


# ---------------------------------------------------------------- memberlist between the nodes
# Last in this module: blocking memberlist splits the speakers' L2 election, and memberlist heals only when a speaker
# rejoins (MetalLB tries once a minute), so nothing after it may need one leader.
ML_VIP = "198.51.100.231"
ML_NS = "memberlist"
ML_OBJECTS = [
    ("ipaddresspools", {"kind": "IPAddressPool", "metadata": {"name": "ml-vips"}, "spec": {"addresses": [f"{ML_VIP}/32"], "autoAssign": False}}),
    ("l2advertisements", {"kind": "L2Advertisement", "metadata": {"name": "ml-l2"}, "spec": {"ipAddressPools": ["ml-vips"]}}),
]
# port 7946 blocked both ways at one node (the lab's own namespace, nothing else): what arrives for it, and what its
# peers' port 7946 answers. Dropping only what arrives is no split: memberlist's TCP fallback ping from that node gets
# its answer on its own ephemeral port, so that node keeps the other alive and leaves it the VIP (seen on the lab).
NFT_DROP = """table inet mltest {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport 7946 drop
    udp dport 7946 drop
    tcp sport 7946 drop
    udp sport 7946 drop
  }
}
"""


def ml_statuses(cluster) -> list[str]:
    items = k8s.CustomObjectsApi(cluster["api"]).list_namespaced_custom_object("metallb.io", "v1beta1", NS, "servicel2statuses")["items"]
    return sorted((i.get("status") or {}).get("node") for i in items
                  if i["metadata"]["labels"].get("metallb.io/service-name") == "ml-web" and (i.get("status") or {}).get("node"))


def wait_statuses(cluster, count: int, timeout: float) -> float:
    started = time.monotonic()
    while len(ml_statuses(cluster)) != count:
        assert time.monotonic() - started < timeout, f"{count} L2 leader(s) for ml-web not seen in {timeout} s: {ml_statuses(cluster)}"
        time.sleep(0.3)
    return time.monotonic() - started


def responders(lab, vip: str) -> set[str]:
    """The MACs that answer ARP for ``vip`` on the segment, seen from the client (iputils arping, 2 requests)."""
    out = lab.exec("client", "arping", "-c", "2", "-w", "2", "-I", "eth0", vip, check=False).stdout
    return set(re.findall(r"reply from \S+ \[([0-9A-Fa-f:]{17})\]", out))


def wait_responders(lab, vip: str, count: int, timeout: float) -> float:
    """Seconds until ``count`` nodes answer ARP for ``vip`` (MetalLB's ServiceL2Status records are no witness in a split:
    each speaker may drop the other's)."""
    started = time.monotonic()
    while len(responders(lab, vip)) < count:
        assert time.monotonic() - started < timeout, f"{count} ARP responders for {vip} not seen in {timeout} s"
    return time.monotonic() - started


@pytest.fixture
def ml_service(cluster):
    """An L2 Service with a ready endpoint (a Service without selector and its EndpointSlice), in a pool of one VIP."""
    api = cluster["api"]
    core, custom, discovery = k8s.CoreV1Api(api), k8s.CustomObjectsApi(api), k8s.DiscoveryV1Api(api)
    lab = cluster["lab"]
    for plural, obj in ML_OBJECTS:
        custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, dict(obj, apiVersion="metallb.io/v1beta1"))
    core.create_namespace({"metadata": {"name": ML_NS}})
    core.create_namespaced_service(ML_NS, {
        "metadata": {"name": "ml-web", "labels": {"app.kubernetes.io/managed-by": "baremetal.metallb"},
                     "annotations": {"metallb.io/address-pool": "ml-vips"}},
        "spec": {"type": "LoadBalancer", "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}})
    node = lab.nodes[0]
    discovery.create_namespaced_endpoint_slice(ML_NS, {
        "metadata": {"name": "ml-web-1", "labels": {"kubernetes.io/service-name": "ml-web"}},
        "addressType": "IPv4", "ports": [{"name": "http", "port": 8080, "protocol": "TCP"}],
        "endpoints": [{"addresses": [lab.hosts[node].address], "nodeName": node, "conditions": {"ready": True}}]})
    try:
        wait_statuses(cluster, 1, 60)
        yield ml_statuses(cluster)[0]
    finally:
        core.delete_namespace(ML_NS)
        for plural, obj in ML_OBJECTS:
            custom.delete_namespaced_custom_object("metallb.io", "v1beta1", NS, plural, obj["metadata"]["name"])


def test_memberlist_blocked_between_nodes_is_found_and_splits_the_l2_leader(cluster, ml_service, tmp_path):
    lab = cluster["lab"]
    inventory = ["-i", str(lab.inventory), "-i", str(DESIRED)]
    # open: every pair answers memberlist's ping (an ack decrypted with the cluster's key) and accepts TCP
    clean = run_playbook("playbooks/site.yml", None, args=[*inventory, "--tags", "validate"])
    pairs = len(lab.nodes) * (len(lab.nodes) - 1)
    assert f"memberlist: {pairs} of {pairs} node pair(s) open on TCP and UDP" in clean.stdout, clean.stdout
    assert "memberlist_blocked" not in clean.stdout and clean.changed == 0
    # blocked at the follower: both speakers declare the other dead and each leads the VIP
    blocked = next(node for node in lab.nodes if node != ml_service)
    lab.exec(blocked, "nft", "-f", "-", input=NFT_DROP)
    try:
        split = wait_responders(lab, ML_VIP, 2, 90)
        print(f"memberlist blocked on {blocked}: two nodes answer ARP for {ML_VIP} after {split:.1f} s")
        report = tmp_path / "report.md"
        run = run_playbook("playbooks/verify.yml", lab.inventory,
                           {"metallb_kubeconfig": str(cluster["kubeconfig"]), "lb_verify_report_path": str(report)}, expect_failure=True)
    finally:
        lab.exec(blocked, "nft", "delete", "table", "inet", "mltest")
    text = report.read_text()
    for said in (" ".join(run.stdout.split()), " ".join(text.split())):  # the output's YAML wraps long lines
        assert "memberlist_blocked" in said, said
        for node in (n for n in lab.nodes if n != blocked):  # both directions, both protocols
            assert f"{node} -> {blocked} ({lab.hosts[blocked].address}:7946) TCP and UDP" in said, said
            assert f"{blocked} -> {node} ({lab.hosts[node].address}:7946) TCP and UDP" in said, said
        assert f"ARP for {ML_VIP} (duplicate)" in said, said
        assert "answered by 2 responders" in said, said
    assert "- **error** `memberlist_blocked`" in text
