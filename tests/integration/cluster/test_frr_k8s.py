# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB in frr-k8s mode (v0.16's default), installed from its release manifest, on the lab.

One lab and cluster for the module (conftest ``kube_lab``). The supervisor runs every pod of
``metallb-frr-k8s.yaml``: MetalLB's controller and speakers, frr-k8s's daemon pods (frr-k8s
controller, Debian's FRR daemons per node, the reloader script applying the rendered config
with frr-reload.py, frr-status, frr-metrics) and its status cleaner (the FRRConfiguration
webhook). The speakers write FRRConfiguration objects; frr-k8s turns them into BGP sessions
with the lab router, configured by the collection's bgp_router role (IPv6 too: a BGPPeer to the
router's IPv6 address, an IPv6 and a dual-stack Service, verify.yml in both families). Everything is asserted on
the router's FRR (vtysh): sessions Established from every node, the VIP over all of them
(ECMP), withdrawn when the BGPAdvertisement goes. Last, the manifests' install goes and
site.yml installs MetalLB's Helm chart with its defaults (frr-k8s as its subchart) on the same
cluster: ready, sessions Established, verify.yml passes, a second run changes nothing. Times are
printed (pytest -s).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from cluster_commands import sh  # noqa: E402  (this folder is on sys.path: pytest rootdir-less import)

REPO = Path(__file__).resolve().parents[3]
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
KUBE_LAB = {"base": "fk", "nodes": 3}
NODE_ADDR = {f"node{k}": f"198.51.100.{10 + k}" for k in range(1, 4)}
ROUTER, ROUTER_ASN, NODE_ASN = "198.51.100.1", 64501, 64500  # the lab inventory's (metallb_lab/plan.py)
GRP, MLNS = "metallb.io", "metallb-system"
POOL = "203.0.113.40-203.0.113.49"
SEEN: dict = {}


def manifest() -> Path:
    from cluster import metallb  # noqa: PLC0415 (lab/ on sys.path: conftest.py)
    return metallb.manifest_path().with_name("metallb-frr-k8s.yaml")


def supervisor(name: str) -> dict:
    return json.loads(sh([*CLUSTERCTL, "status", "--name", name, "--json"]).stdout).get("metallb") or {}


def wait(what: str, fn, timeout: float, interval: float = 0.2):
    t = time.monotonic()
    last = None
    while time.monotonic() - t < timeout:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timeout ({timeout} s) waiting for {what}; last: {last!r}")


def all_up(name: str) -> list[dict] | None:
    """Every pod of the manifest running with every container up, or None."""
    pods = supervisor(name).get("pods", [])
    comps = sorted(p["component"] for p in pods)
    want = sorted(["controller", "statuscleaner"] + ["speaker", "frr-k8s"] * len(NODE_ADDR))
    if comps != want:
        return None
    if not all(p.get("containers") and all(c.get("pid") for c in p["containers"]) for p in pods):
        return None
    return pods


def router_sessions(lab) -> dict[str, str]:
    summary = lab.vtysh_json("router", "show bgp ipv4 unicast summary")
    return {a: p.get("state") for a, p in (summary.get("peers") or {}).items() if a in NODE_ADDR.values()}


def router_route(lab, vip: str) -> list[str]:
    """Next hops of the VIP's BGP route in the router's zebra (selected, installed)."""
    routes = lab.vtysh_json("router", f"show ip route {vip}/32").get(f"{vip}/32") or []
    return sorted(nh["ip"] for r in routes if r.get("protocol") == "bgp" and r.get("selected")
                  for nh in r.get("nexthops", []) if nh.get("fib") and nh.get("ip"))


def all_established(lab) -> dict[str, str] | None:
    """The router's sessions with the nodes when every node's is Established, else None (to wait on)."""
    sessions = router_sessions(lab)
    return sessions if sorted(sessions) == sorted(NODE_ADDR.values()) and set(sessions.values()) == {"Established"} else None


def over_every_node(lab, vip: str) -> list[str] | None:
    """The VIP's next hops when they are every node, else None (to wait on)."""
    hops = router_route(lab, vip)
    return hops if hops == sorted(NODE_ADDR.values()) else None


def create_retrying(fn, timeout: float = 60):
    """A create that the webhooks (MetalLB's controller, frr-k8s's status cleaner) may refuse
    while they start."""
    t = time.monotonic()
    while True:
        try:
            return fn()
        except ApiException as e:
            if e.status == 409:
                return None
            if time.monotonic() - t > timeout:
                raise
            time.sleep(0.5)


@pytest.fixture(scope="module")
def frr_k8s(kube_lab):
    lab, name, api = kube_lab["lab"], kube_lab["name"], kube_lab["api"]
    run = lab.playbook(REPO / "tests/integration/targets/bgp_router/apply.yml")
    assert not run.failed, run
    t = time.monotonic()
    sh([*CLUSTERCTL, "kubectl", "--name", name, "--", "apply", "--server-side", "-f", str(manifest())])
    pods = wait("every pod of metallb-frr-k8s.yaml running with all its containers", lambda: all_up(name), 180)
    SEEN["applied"], SEEN["up"] = t, time.monotonic() - t
    print(f"\n[time] metallb-frr-k8s.yaml applied -> {len(pods)} pods, every container up: {SEEN['up']:.1f} s")
    return {"lab": lab, "name": name, "core": k8s.CoreV1Api(api), "apps": k8s.AppsV1Api(api),
            "co": k8s.CustomObjectsApi(api), "pods": pods}


def test_every_pod_runs_nothing_unsupported(frr_k8s):
    """frr-k8s's daemon pods run the controller, Debian's FRR (watchfrr + daemons), the
    reloader, status and metrics; status shows the mode per node and every process up."""
    st = supervisor(frr_k8s["name"])
    assert not [p for p in st["pods"] if p["state"] == "unsupported"], st["pods"]
    daemons = [p for p in st["pods"] if p["component"] == "frr-k8s"]
    assert sorted(p["node"] for p in daemons) == sorted(NODE_ADDR)
    for p in daemons:
        kinds = {c["name"]: c["kind"] for c in p["containers"]}
        assert kinds == {"controller": "frr-k8s", "frr": "frr-daemons", "reloader": "frr-tool",
                         "frr-metrics": "frr-tool", "frr-status": "frr-tool"}, kinds
    assert {p["mode"] for p in st["pods"] if p["component"] == "speaker"} == {"frr-k8s"}
    text = subprocess.run([*CLUSTERCTL, "status", "--name", frr_k8s["name"]], capture_output=True,
                          text=True, check=False).stdout
    assert "UNSUPPORTED" not in text, text
    for node in NODE_ADDR:
        line = next(ln for ln in text.splitlines() if ln.startswith(f"  {node}: mode "))
        assert line.startswith(f"  {node}: mode frr-k8s; ") and "frr up" in line and "reloader up" in line, line
        assert not any(w in line for w in ("WAITING", "BACKOFF", "FAILED", "STOPPED")), line


def test_sessions_established_and_vip_ecmp_over_every_node(frr_k8s):
    lab, co, core, apps = frr_k8s["lab"], frr_k8s["co"], frr_k8s["core"], frr_k8s["apps"]
    t = time.monotonic()
    create_retrying(lambda: co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "ipaddresspools", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "frrk8s"},
        "spec": {"addresses": [POOL]}}))
    create_retrying(lambda: co.create_namespaced_custom_object(GRP, "v1beta2", MLNS, "bgppeers", {
        "apiVersion": f"{GRP}/v1beta2", "kind": "BGPPeer", "metadata": {"name": "router"},
        "spec": {"myASN": NODE_ASN, "peerASN": ROUTER_ASN, "peerAddress": ROUTER,
                 "holdTime": "9s", "keepaliveTime": "3s", "connectTime": "2s"}}))
    create_retrying(lambda: co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "BGPAdvertisement", "metadata": {"name": "frrk8s"},
        "spec": {"ipAddressPools": ["frrk8s"]}}))
    labels = {"app": "frrk8s-echo"}
    apps.create_namespaced_deployment("default", {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "frrk8s-echo"},
        "spec": {"replicas": 2, "selector": {"matchLabels": labels}, "template": {
            "metadata": {"labels": labels},
            # kwok runs no containers: the image is never pulled (.invalid cannot resolve)
            "spec": {"containers": [{"name": "echo", "image": "registry.invalid/echo:lab"}]}}}})
    core.create_namespaced_service("default", {
        "apiVersion": "v1", "kind": "Service", "metadata": {"name": "frrk8s-echo"},
        "spec": {"type": "LoadBalancer", "selector": labels, "ports": [{"port": 80, "targetPort": 8080}]}})
    vip = wait("a LoadBalancer IP", lambda: (core.read_namespaced_service("frrk8s-echo", "default")
                                             .status.load_balancer.ingress or [None])[0], 30).ip
    SEEN["vip"] = vip
    est = wait("every node's session Established on the router", lambda: all_established(lab), 90, 0.1)
    t_est = time.monotonic() - t
    hops = wait(f"{vip} over every node in the router's FIB", lambda: over_every_node(lab, vip), 60, 0.1)
    t_route = time.monotonic() - t
    print(f"\n[time] config created -> sessions Established {t_est:.1f} s (manifest applied "
          f"{time.monotonic() - SEEN['applied']:.1f} s ago), {vip} ECMP via {len(hops)} nodes {t_route:.1f} s")
    assert est == {a: "Established" for a in NODE_ADDR.values()}
    assert lab.kernel_nexthops("router", vip) == sorted(NODE_ADDR.values())
    # frr-k8s's FRRConfiguration objects came from the speakers, one per node
    frrcs = co.list_namespaced_custom_object("frrk8s.metallb.io", "v1beta1", MLNS, "frrconfigurations")["items"]
    assert len(frrcs) >= len(NODE_ADDR), [f["metadata"]["name"] for f in frrcs]


def test_advertisement_removed_route_withdrawn(frr_k8s):
    lab, co = frr_k8s["lab"], frr_k8s["co"]
    vip = SEEN["vip"]
    t = time.monotonic()
    co.delete_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", "frrk8s")
    # zebra's RIB first, the kernel's FIB a moment later: wait for both (CI once saw the FIB lag)
    wait(f"{vip} gone from the router (RIB and kernel)",
         lambda: (router_route(lab, vip) == [] and lab.kernel_nexthops("router", vip) == []) or None, 30, 0.1)
    took = time.monotonic() - t
    print(f"\n[time] BGPAdvertisement deleted -> {vip} withdrawn from the router after {took:.1f} s")
    assert router_route(lab, vip) == [] and lab.kernel_nexthops("router", vip) == []
    # the sessions stay up: only the announcement went
    assert set(router_sessions(lab).values()) == {"Established"}


ROUTER6 = "2001:db8:100::1"  # the lab router's IPv6 address on the segment (lab_router_address6)
NODE_ADDR6 = {f"node{k}": f"2001:db8:100::{10 + k}" for k in range(1, 4)}
NS6 = "v6bgp"
POOL6 = ["203.0.113.60-203.0.113.69", "2001:db8:203::60-2001:db8:203::69"]  # inside lab_vip_range(6)
ECHO = str(REPO / "lab" / "cluster" / "echo.py")
DATAPATH = {"lab.baremetal.metallb/datapath": "echo"}


def router_route6(lab, vip: str) -> list[str]:
    """Next hops of an IPv6 VIP's BGP route in the router's zebra (selected, in the FIB), as installed."""
    routes = lab.vtysh_json("router", f"show ipv6 route {vip}/128").get(f"{vip}/128") or []
    return sorted(nh["ip"] for r in routes if r.get("protocol") == "bgp" and r.get("selected")
                  for nh in r.get("nexthops", []) if nh.get("fib") and nh.get("ip"))


def sessions6(lab) -> dict[str, str] | None:
    """The router's IPv6 sessions with the nodes when every node's is Established, else None (to wait on)."""
    peers = lab.vtysh_json("router", "show bgp ipv6 unicast summary").get("peers") or {}
    got = {a: p.get("state") for a, p in peers.items() if a in NODE_ADDR6.values()}
    return got if sorted(got) == sorted(NODE_ADDR6.values()) and set(got.values()) == {"Established"} else None


def echo_deployment(name: str, replicas: int, nodes: list[str] | None = None) -> dict:
    labels = {"app": name, **DATAPATH}
    spec: dict = {"containers": [{"name": "echo", "image": "registry.invalid/echo:lab"}]}
    if nodes:  # one pod on each of these nodes, none elsewhere
        spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/hostname", "operator": "In", "values": nodes}]}]}},
            "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                {"labelSelector": {"matchLabels": {"app": name}}, "topologyKey": "kubernetes.io/hostname"}]}}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": spec}}}


def echo_pods_running(name: str) -> int:
    """How many pods the lab's data path has wired to an echo backend (clusterctl datapath --status)."""
    pods = json.loads(sh([*CLUSTERCTL, "datapath", "--name", name, "--status"]).stdout or "{}").get("pods") or []
    return sum(1 for p in pods if p.get("state") == "running")


def lb_service(name: str, families: list[str], policy: str) -> dict:
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "annotations": {"metallb.io/address-pool": NS6}},
            "spec": {"type": "LoadBalancer", "selector": {"app": name}, "externalTrafficPolicy": policy,
                     "ipFamilyPolicy": "RequireDualStack" if len(families) > 1 else "SingleStack",
                     "ipFamilies": families, "ports": [{"port": 80, "targetPort": 8080}]}}


def test_ipv6_sessions_global_next_hops_local_and_dual_stack_verified(frr_k8s, kube_lab, tmp_path):
    """Issue 18's BGP half in frr-k8s mode: a BGPPeer to the router's IPv6 address gives an IPv6
    session from every node; an IPv6 Cluster VIP is routed over all of them with the nodes' global
    addresses as next hops (bgp_router's prefer-global; FRR would install the link-local ones); a
    dual-stack Local Service is routed in both families via the nodes with a pod only; verify.yml
    checks both families and the data path; the client reaches the pods over IPv6."""
    lab, name, co, core, apps = frr_k8s["lab"], frr_k8s["name"], frr_k8s["co"], frr_k8s["core"], frr_k8s["apps"]
    t = time.monotonic()
    sh([*CLUSTERCTL, "datapath", "--name", name], timeout=300)
    core.create_namespace({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS6}})
    created = [("ipaddresspools", "v1beta1", {"kind": "IPAddressPool", "metadata": {"name": NS6},
                                              "spec": {"addresses": POOL6}}),
               ("bgppeers", "v1beta2", {"kind": "BGPPeer", "metadata": {"name": "router6"},
                                        "spec": {"myASN": NODE_ASN, "peerASN": ROUTER_ASN, "peerAddress": ROUTER6,
                                                 "holdTime": "9s", "keepaliveTime": "3s", "connectTime": "2s"}}),
               ("bgpadvertisements", "v1beta1", {"kind": "BGPAdvertisement", "metadata": {"name": NS6},
                                                 "spec": {"ipAddressPools": [NS6]}})]
    try:
        for plural, version, obj in created:
            create_retrying(lambda plural=plural, version=version, obj=obj: co.create_namespaced_custom_object(
                GRP, version, MLNS, plural, {"apiVersion": f"{GRP}/{version}", **obj}))
        apps.create_namespaced_deployment(NS6, echo_deployment("v6-cluster", 3))
        apps.create_namespaced_deployment(NS6, echo_deployment("dual-local", 2, ["node1", "node3"]))
        core.create_namespaced_service(NS6, lb_service("v6-cluster", ["IPv6"], "Cluster"))
        core.create_namespaced_service(NS6, lb_service("dual-local", ["IPv4", "IPv6"], "Local"))

        def ingress(svc: str, n: int):
            ips = [i.ip for i in core.read_namespaced_service(svc, NS6).status.load_balancer.ingress or []]
            return ips if len(ips) == n else None
        vip6 = wait("the IPv6 VIP", lambda: ingress("v6-cluster", 1), 30)[0]
        dual4, dual6 = sorted(wait("both VIPs of the dual-stack Service", lambda: ingress("dual-local", 2), 30),
                              key=lambda ip: ":" in ip)
        est = wait("every node's IPv6 session Established on the router", lambda: sessions6(lab), 90, 0.1)
        t_est = time.monotonic() - t
        every6, edge4, edge6 = (sorted(NODE_ADDR6.values()), sorted(NODE_ADDR[n] for n in ("node1", "node3")),
                                sorted(NODE_ADDR6[n] for n in ("node1", "node3")))
        wait(f"{vip6} over every node's global address", lambda: router_route6(lab, vip6) == every6 or None, 60, 0.1)
        t_route = time.monotonic() - t
        wait(f"{dual6} via node1 and node3 only (Local)", lambda: router_route6(lab, dual6) == edge6 or None, 60, 0.1)
        wait(f"{dual4} via node1 and node3 only (Local)", lambda: router_route(lab, dual4) == edge4 or None, 60, 0.1)
        print(f"\n[time] IPv6 BGPPeer etc. created -> {len(est)} IPv6 sessions Established {t_est:.1f} s, {vip6} ECMP "
              f"over {len(every6)} global next hops {t_route:.1f} s")
        # the kernel FIB: global next hops (the nodes sent their link-local address too, FRR's default would take it)
        assert lab.kernel_nexthops("router", vip6) == every6
        assert lab.kernel_nexthops("router", dual6) == edge6 and lab.kernel_nexthops("router", dual4) == edge4
        paths = lab.vtysh_json("router", f"show bgp ipv6 unicast {vip6}/128").get("paths") or []
        scopes = sorted({h.get("scope") for p in paths for h in p.get("nexthops", [])})
        assert len(paths) == 3 and scopes == ["global", "link-local"], paths
        print(f"[bgp] {vip6}: {len(paths)} paths, each with next hops of scope {scopes}; installed: {every6}")

        # the client over IPv6: Local keeps its address and reaches only node1's and node3's pods
        wait("5 echo pods wired", lambda: echo_pods_running(name) >= 5 or None, 90, 0.5)
        local = json.loads(lab.exec("client", "python3", ECHO, "get", dual6, "80", "--count", "20").stdout)
        assert all("error" not in a for a in local), local
        assert {a["source"] for a in local} == {"2001:db8:100::100"} and {a["node"] for a in local} <= {"node1", "node3"}
        cluster = json.loads(lab.exec("client", "python3", ECHO, "get", vip6, "80", "--count", "20").stdout)
        assert all("error" not in a for a in cluster) and {a["family"] for a in cluster} == {"IPv6"}, cluster
        print(f"[ipv6 data path] {dual6} (Local): 20/20 from {sorted({a['node'] for a in local})}, source kept; "
              f"{vip6} (Cluster): by node {sorted({a['node'] for a in cluster})}")

        # verify.yml: both families of the dual-stack Service, the IPv6 one, the data path
        report = tmp_path / "v6bgp.md"
        t = time.monotonic()
        run = lab.playbook("playbooks/verify.yml", {
            "metallb_kubeconfig": str(kube_lab["kubeconfig"]), "lb_verify_report_path": str(report),
            # these Services are not lb_workload's (no managed-by label): every one of this namespace
            "lb_verify_namespaces": [NS6], "lb_verify_label_selector": "", "lb_verify_datapath": True})
        took = time.monotonic() - t
        text = report.read_text()
        assert run.changed == 0 and "2 of 2 Service(s) as expected." in text, text
        assert (f"- Per family (dual-stack): IPv4 ({dual4}): routes ok, data path ok, client address preserved; "
                f"IPv6 ({dual6}): routes ok, data path ok, client address preserved") in text, text
        assert f"- Per family: IPv6 ({vip6}): routes ok, data path ok, client address not preserved (SNAT)" in text, text
        hops = ", ".join(f"{a} ({n})" for n, a in sorted(NODE_ADDR6.items()))
        assert f"BGP route for {vip6}: via {hops} (ok)" in text, text
        assert f"BGP route for {dual6}: via {NODE_ADDR6['node1']} (node1), {NODE_ADDR6['node3']} (node3) (ok)" in text
        assert f"BGP route for {dual4}: via {NODE_ADDR['node1']} (node1), {NODE_ADDR['node3']} (node3) (ok)" in text
        print(f"[time] verify.yml (2 Services, 3 VIPs, both families, data path): {took:.1f} s")
    finally:
        core.delete_namespace(NS6)
        for plural, version, obj in reversed(created):
            try:
                co.delete_namespaced_custom_object(GRP, version, MLNS, plural, obj["metadata"]["name"])
            except ApiException:
                pass


def test_frr_mode_same_sessions_and_ecmp(frr_k8s):
    """FRR mode (metallb-frr.yaml, deprecated but shipped): FRR and upstream MetalLB's reloader in
    the speaker's pod, through the same runtime. frr-k8s's pods go first (both would peer with
    the router from the node's address), then the manifest is applied over the running install;
    the speakers are replaced, the pool and peer stay."""
    lab, name, co = frr_k8s["lab"], frr_k8s["name"], frr_k8s["co"]
    t = time.monotonic()
    sh([*CLUSTERCTL, "kubectl", "--name", name, "--", "delete", "-n", MLNS,
        "daemonset/frr-k8s-daemon", "deployment/frr-k8s-statuscleaner", "--wait=false"])
    sh([*CLUSTERCTL, "kubectl", "--name", name, "--", "apply", "--server-side", "--force-conflicts",
        "-f", str(manifest().with_name("metallb-frr.yaml"))])

    def frr_mode_up():
        pods = supervisor(name).get("pods", [])
        spk = [p for p in pods if p["component"] == "speaker" and p.get("mode") == "frr"
               and p.get("containers") and all(c.get("pid") for c in p["containers"])]
        others = [p for p in pods if p["component"] in ("frr-k8s", "statuscleaner")
                  or (p["component"] == "speaker" and p.get("mode") != "frr")]
        return spk if len(spk) == len(NODE_ADDR) and not others else None
    spk = wait("FRR-mode speakers (speaker, frr, reloader, frr-metrics) on every node, frr-k8s gone",
               frr_mode_up, 120)
    for p in spk:
        assert {c["name"]: c["kind"] for c in p["containers"]} == {
            "speaker": "metallb", "frr": "frr-daemons", "reloader": "frr-tool", "frr-metrics": "frr-tool"}
    t_up = time.monotonic() - t
    create_retrying(lambda: co.create_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", {
        "apiVersion": f"{GRP}/v1beta1", "kind": "BGPAdvertisement", "metadata": {"name": "frrk8s"},
        "spec": {"ipAddressPools": ["frrk8s"]}}))
    vip = SEEN["vip"]
    wait("every node's session Established on the router (FRR mode)", lambda: all_established(lab), 90, 0.1)
    t_est = time.monotonic() - t
    wait(f"{vip} over every node (FRR mode)", lambda: over_every_node(lab, vip), 60, 0.1)
    print(f"\n[time] FRR mode: speakers with FRR up {t_up:.1f} s, sessions Established {t_est:.1f} s, "
          f"{vip} ECMP {time.monotonic() - t:.1f} s after the switch began")
    text = subprocess.run([*CLUSTERCTL, "status", "--name", name], capture_output=True, text=True, check=False).stdout
    assert "UNSUPPORTED" not in text and all(f"  {n}: mode frr; " in text for n in NODE_ADDR), text
    co.delete_namespaced_custom_object(GRP, "v1beta1", MLNS, "bgpadvertisements", "frrk8s")
    wait(f"{vip} withdrawn (FRR mode)", lambda: router_route(lab, vip) == [] or None, 30, 0.1)


# ------------------------------------------------------------------ the Helm chart with its defaults
HELM = REPO / ".venv" / "bin" / "helm"
LAB_METALLB_INVENTORY = REPO / "inventories" / "lab" / "metallb.yml"


def site(lab, report: Path, *args: str):
    """site.yml as `make demo` runs it (the lab's inventory and inventories/lab/metallb.yml), with
    MetalLB from its Helm chart: the chart of the Go module the lab built MetalLB from, with the
    chart's defaults (frr-k8s as the subchart; metallb_bgp_mode frr-k8s is what the role then
    passes: frrk8s.enabled true, speaker.frr.enabled false, as in the chart's values.yaml)."""
    from metallb_lab.client import run_playbook  # noqa: PLC0415 (lab/ on sys.path: conftest.py)
    assert HELM.exists(), f"{HELM} is missing: run `bash tools/install-helm.sh` (builds helm from the Go module proxy)"
    return run_playbook("playbooks/site.yml", lab.inventory, {
        "metallb_bgp_mode": "frr-k8s", "metallb_install_method": "helm",
        "metallb_install_chart_ref": "{{ lab_metallb_chart }}", "metallb_install_chart_repo_url": "",
        "metallb_install_helm_binary": str(HELM), "lb_verify_report_path": str(report)},
        args=("-i", str(LAB_METALLB_INVENTORY), *args))


def chart_pods_up(name: str) -> list[dict] | None:
    """The chart's pods (named after the release: metallb-controller, metallb-speaker-*,
    metallb-frr-k8s-*, metallb-frr-k8s-statuscleaner-*) all running with every container up."""
    pods = all_up(name)
    return pods if pods and all(p["pod"].startswith("metallb-") for p in pods) else None


def test_helm_chart_defaults_site_and_verify(frr_k8s, tmp_path):
    """MetalLB's Helm chart with its defaults (frr-k8s, the way MetalLB's docs install 0.16), through
    the collection's site.yml: the manifests' install goes first (helm adopts no object it did not
    create), then site.yml configures the router, installs the chart (the role's wait covers
    frr-k8s's daemon pods, its status cleaner and its webhook), configures MetalLB, labels the edge
    nodes, applies the workloads and runs verify.yml. The supervisor runs the chart's pods (names,
    labels and arguments of the chart's own), every speaker in frr-k8s mode; the router's sessions
    with every node are Established; a second site.yml run changes nothing."""
    lab, name, core, apps = frr_k8s["lab"], frr_k8s["name"], frr_k8s["core"], frr_k8s["apps"]
    t = time.monotonic()
    sh([*CLUSTERCTL, "kubectl", "--name", name, "--", "delete", "--ignore-not-found", "-n", "default",
        "service/frrk8s-echo", "deployment/frrk8s-echo"])
    sh([*CLUSTERCTL, "kubectl", "--name", name, "--", "delete", "--ignore-not-found", "--wait=true",
        "-f", str(manifest().with_name("metallb-frr.yaml")), "-f", str(manifest())], timeout=300)
    wait("every MetalLB and frr-k8s pod gone from the supervisor", lambda: not supervisor(name).get("pods"), 120)
    t_gone = time.monotonic() - t
    report = tmp_path / "metallb-verify.md"
    t = time.monotonic()
    run = site(lab, report)
    t_site = time.monotonic() - t
    assert run.changed > 0
    # installed from the chart, frr-k8s as its subchart, everything the role waited for ready
    ds = apps.read_namespaced_daemon_set("metallb-frr-k8s", MLNS)
    assert ds.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    assert ds.status.desired_number_scheduled == len(NODE_ADDR) and ds.status.number_ready == len(NODE_ADDR), ds.status
    assert apps.read_namespaced_deployment("metallb-frr-k8s-statuscleaner", MLNS).status.available_replicas == 1
    assert apps.read_namespaced_deployment("metallb-controller", MLNS).status.available_replicas == 1
    spk = apps.read_namespaced_daemon_set("metallb-speaker", MLNS).spec.template.spec.containers
    assert [c.name for c in spk] == ["speaker"]
    assert {e.name: e.value for e in spk[0].env}["METALLB_BGP_TYPE"] == "frr-k8s"
    # the lab runs what the chart rendered, nothing unsupported; the speakers peer through frr-k8s
    pods = wait("the chart's pods running with every container up", lambda: chart_pods_up(name), 60)
    assert {p["mode"] for p in pods if p["component"] == "speaker"} == {"frr-k8s"}
    for p in (p for p in pods if p["component"] == "frr-k8s"):
        assert {c["name"]: c["kind"] for c in p["containers"]} == {
            "controller": "frr-k8s", "frr": "frr-daemons", "reloader": "frr-tool",
            "frr-metrics": "frr-tool", "frr-status": "frr-tool"}, p
    text = sh([*CLUSTERCTL, "status", "--name", name]).stdout
    assert "UNSUPPORTED" not in text and all(f"  {n}: mode frr-k8s; " in text for n in NODE_ADDR), text
    assert all_established(lab) == {a: "Established" for a in NODE_ADDR.values()}
    # verify.yml (site.yml's last stage) found every Service as expected: BGP over the edge nodes
    text = report.read_text()
    assert "4 of 4 Service(s) as expected." in text, text
    edges = f"via {NODE_ADDR['node1']} (node1), {NODE_ADDR['node3']} (node3) (ok)"
    assert len([ln for ln in text.splitlines() if "router: BGP route for 203.0.113." in ln and edges in ln]) == 2, text
    # idempotent (verify.yml, read-only, is left out of the second run: it only repeats the wire checks)
    t = time.monotonic()
    again = site(lab, tmp_path / "metallb-verify-again.md", "--skip-tags", "verify")
    t_again = time.monotonic() - t
    assert again.changed == 0, again
    print(f"\n[time] manifests removed {t_gone:.1f} s; site.yml with the Helm chart's defaults (router, install, "
          f"config, workloads, verify) {t_site:.1f} s; again without verify, changed=0, {t_again:.1f} s")
