# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_config against the lab's real API server and real MetalLB v0.16.1 (webhook really called).

A lab of its own (the ``kube_lab`` fixture: a unique name, or ``KUBE_LAB_NAME``), in the pattern: check mode on a
cluster without MetalLB (lists what it would create) -> apply without MetalLB (clear error)
-> MetalLB installed while the role runs (webhook race: retried) -> repeat (changed=0) ->
check+diff (changed=0, quiet) -> password never in output -> password change -> update ->
prune (an unlabelled object is left alone) -> bad inputs (nothing changes) -> all empty.
Between runs the test reads what the API server holds.
"""
from __future__ import annotations

import base64
import copy
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from metallb_lab.client import _ansible_playbook, ansible_env, run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "tests" / "integration" / "targets" / "metallb_config" / "playbook.yml"
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
KUBE_LAB = {"base": "mcf"}
NS = "metallb-system"
PASSWORD = "Zq7-not-in-any-log"
PLURALS = {
    "IPAddressPool": ("v1beta1", "ipaddresspools"), "L2Advertisement": ("v1beta1", "l2advertisements"),
    "BGPPeer": ("v1beta2", "bgppeers"), "BGPAdvertisement": ("v1beta1", "bgpadvertisements"),
    "BFDProfile": ("v1beta1", "bfdprofiles"), "Community": ("v1beta1", "communities"),
}
CONFIG = {
    "metallb_config_pools": [
        {"name": "bgp-pool", "addresses": ["203.0.113.0/28"], "avoid_buggy_ips": True},
        {"name": "l2-pool", "addresses": ["198.51.100.200-198.51.100.209"], "auto_assign": False},
    ],
    "metallb_config_l2_advertisements": [{"name": "l2", "ip_address_pools": ["l2-pool"], "interfaces": ["eth0"]}],
    "metallb_config_bgp_peers": [
        {"name": "router", "my_asn": 64500, "peer_asn": 64501, "peer_address": "198.51.100.1", "hold_time": 9,
         "password": PASSWORD},
    ],
    "metallb_config_bgp_advertisements": [
        {"name": "edge", "ip_address_pools": ["bgp-pool"], "peers": ["router"], "aggregation_length": 32, "local_pref": 100,
         "communities": ["65535:65282", "no-export"],
         "node_selectors": [{"match_labels": {"kubernetes.io/hostname": "node1"}}]},
    ],
    "metallb_config_communities": [{"name": "well-known", "communities": [{"name": "no-export", "value": "65535:65281"}]}],
}


@pytest.fixture(scope="module")
def kube(kube_lab):
    return kube_lab


def play(kube, config: dict | None = None, **kwargs):
    extra = {"metallb_config_kubeconfig": str(kube["kubeconfig"]), "metallb_config_webhook_retry_delay": 2,
             **(CONFIG if config is None else config)}
    return run_playbook(PLAYBOOK, kube["lab"].inventory / "hosts.yml", extra, **kwargs)


def config_with(**changes) -> dict:
    out = copy.deepcopy(CONFIG)
    out.update(changes)
    return out


def objects(kube, kind: str) -> dict:
    version, plural = PLURALS[kind]
    listing = k8s.CustomObjectsApi(kube["api"]).list_namespaced_custom_object("metallb.io", version, NS, plural)
    return {item["metadata"]["name"]: item for item in listing["items"]}


def versions(kube) -> dict:
    """What was written to every MetalLB object and Secret in the namespace: generation (spec
    writes; MetalLB's own status updates do not count) and labels, resourceVersion for Secrets."""
    out = {(kind, n): (o["metadata"]["generation"], o["metadata"].get("labels"))
           for kind in PLURALS for n, o in objects(kube, kind).items()}
    for secret in k8s.CoreV1Api(kube["api"]).list_namespaced_secret(NS).items:
        out[("Secret", secret.metadata.name)] = secret.metadata.resource_version
    return out


def secret_password(kube, name: str) -> str:
    secret = k8s.CoreV1Api(kube["api"]).read_namespaced_secret(name, NS)
    return base64.b64decode(secret.data["password"]).decode()


def test_check_mode_without_metallb_lists_what_it_would_create(kube):
    run = play(kube, check=True, diff=True)
    assert run.changed > 0
    for line in ("IPAddressPool metallb-system/bgp-pool", "BGPPeer metallb-system/router",
                 "BGPAdvertisement metallb-system/edge", "Secret metallb-system/router-bgp-password"):
        assert line in run.stdout, run.stdout


def test_apply_without_metallb_fails_clearly(kube):
    run = play(kube, expect_failure=True)
    assert "install MetalLB first" in run.stdout, run.stdout


def test_apply_while_metallb_starts_retries_on_the_webhook(kube):
    """MetalLB installed in the background; the role starts once the CRDs are there, before the
    webhook may answer: the apply must succeed (retried on the webhook's errors only)."""
    install = subprocess.Popen([*CLUSTERCTL, "metallb", "--name", kube["name"]], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)
    try:
        ext = k8s.ApiextensionsV1Api(kube["api"])
        deadline = time.monotonic() + 300
        wanted = {f"{plural}.metallb.io" for dummy, plural in PLURALS.values()}
        while time.monotonic() < deadline:
            established = {crd.metadata.name for crd in ext.list_custom_resource_definition().items
                           if any(c.type == "Established" and c.status == "True" for c in (crd.status.conditions or []))}
            if wanted <= established:
                break
            time.sleep(0.2)
        run = play(kube, args=("-v",))
    finally:
        out, dummy = install.communicate(timeout=600)
    assert install.returncode == 0, out
    assert run.changed > 0
    print("webhook retries:", run.stdout.count("FAILED - RETRYING"))
    pools = objects(kube, "IPAddressPool")
    assert pools["bgp-pool"]["spec"] == {"addresses": ["203.0.113.0/28"], "autoAssign": True, "avoidBuggyIPs": True}
    assert pools["l2-pool"]["spec"]["autoAssign"] is False
    assert pools["bgp-pool"]["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "baremetal.metallb"
    assert pools["bgp-pool"]["metadata"]["labels"]["baremetal.metallb/config-instance"] == "default"
    peer = objects(kube, "BGPPeer")["router"]["spec"]
    assert (peer["myASN"], peer["peerASN"], peer["peerAddress"], peer["holdTime"]) == (64500, 64501, "198.51.100.1", "9s")
    assert peer["passwordSecret"] == {"name": "router-bgp-password", "namespace": NS}
    assert "password" not in peer
    assert secret_password(kube, "router-bgp-password") == PASSWORD
    assert k8s.CoreV1Api(kube["api"]).read_namespaced_secret("router-bgp-password", NS).type == "kubernetes.io/basic-auth"
    adv = objects(kube, "BGPAdvertisement")["edge"]["spec"]
    assert adv["nodeSelectors"] == [{"matchLabels": {"kubernetes.io/hostname": "node1"}}]
    assert adv["communities"] == ["65535:65282", "no-export"] and adv["peers"] == ["router"] and adv["localPref"] == 100
    assert objects(kube, "L2Advertisement")["l2"]["spec"] == {"ipAddressPools": ["l2-pool"], "interfaces": ["eth0"]}
    assert objects(kube, "Community")["well-known"]["spec"]["communities"] == [{"name": "no-export", "value": "65535:65281"}]


def test_metallb_accepts_the_configuration(kube):
    """MetalLB's own verdict: every ConfigurationState (controller, speakers) says Valid."""
    deadline = time.monotonic() + 60
    while True:
        states = k8s.CustomObjectsApi(kube["api"]).list_namespaced_custom_object("metallb.io", "v1beta1", NS, "configurationstates")
        results = {s["metadata"]["name"]: (s.get("status") or {}).get("result") for s in states["items"]}
        if results and all(r == "Valid" for r in results.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert results and all(r == "Valid" for r in results.values()), results


def test_second_run_changes_nothing(kube):
    before = versions(kube)
    assert play(kube).changed == 0
    assert versions(kube) == before


def test_check_diff_on_the_converged_cluster_is_quiet(kube):
    run = play(kube, check=True, diff=True)
    assert run.changed == 0
    assert "--- before" not in run.stdout and "+++ after" not in run.stdout, run.stdout


def test_a_configuration_the_speakers_refuse_fails_with_their_error(kube):
    """A BGPPeer whose passwordSecret is a basic-auth Secret without a password: MetalLB's webhook leaves
    passwordSecret out of its check (internal/config/validator.go) and accepts it, the role cannot see a
    Secret's keys, and every speaker refuses the whole configuration and keeps its previous one. The role
    must fail with the speakers' own error (ConfigurationState); back to a good configuration it passes,
    which needs it to wait for the speakers' new verdict instead of reading their old Invalid one."""
    core = k8s.CoreV1Api(kube["api"])
    core.create_namespaced_secret(NS, k8s.V1Secret(metadata=k8s.V1ObjectMeta(name="half-auth"), type="kubernetes.io/basic-auth",
                                                   string_data={"username": "metallb"}))
    try:
        peer = {k: v for k, v in CONFIG["metallb_config_bgp_peers"][0].items() if k != "password"}
        started = time.monotonic()
        run = play(kube, config_with(metallb_config_bgp_peers=[dict(peer, password_secret="half-auth")]),
                   expect_failure=True)
        refused_after = time.monotonic() - started
        assert objects(kube, "BGPPeer")["router"]["spec"]["passwordSecret"]["name"] == "half-auth"  # the webhook accepted it
        assert "MetalLB refused the configuration" in run.stdout, run.stdout
        assert "password not specified in the secret" in run.stdout, run.stdout
        assert "(speaker on node node1)" in run.stdout, run.stdout
        started = time.monotonic()
        play(kube)
        print(f"refused configuration reported after {refused_after:.1f} s (whole run); "
              f"good configuration back and verified in {time.monotonic() - started:.1f} s")
    finally:
        core.delete_namespaced_secret("half-auth", NS)
    states = k8s.CustomObjectsApi(kube["api"]).list_namespaced_custom_object("metallb.io", "v1beta1", NS, "configurationstates")
    assert all((s.get("status") or {}).get("result") == "Valid" for s in states["items"]), states


def test_k8s_batch_info_reads_what_the_api_server_holds(kube, tmp_path):
    """The roles' one-task gather: every read answered from the real API server, Secrets without data."""
    out = tmp_path / "batch.json"
    run = run_playbook(REPO / "tests" / "integration" / "targets" / "k8s_batch_info" / "playbook.yml",
                       kube["lab"].inventory / "hosts.yml",
                       {"kubeconfig": str(kube["kubeconfig"]), "result_file": str(out),
                        "managed": "app.kubernetes.io/managed-by=baremetal.metallb"}, args=("-vvv",))
    assert run.changed == 1  # the copy; the read itself is never changed
    batch = json.loads(out.read_text())
    assert batch["changed"] is False
    assert batch["api_found"] == {"nodes": True, "pools": True, "peers": True, "secrets": True, "unserved": False, "missing": True}
    names = {key: sorted(o["metadata"]["name"] for o in items) for key, items in batch["resources"].items()}
    assert names["nodes"] == sorted(n.metadata.name for n in k8s.CoreV1Api(kube["api"]).list_node().items)
    assert names["pools"] == sorted(objects(kube, "IPAddressPool")) and names["peers"] == sorted(objects(kube, "BGPPeer"))
    assert names["secrets"] == ["router-bgp-password"] and names["unserved"] == [] and names["missing"] == []
    secret = batch["resources"]["secrets"][0]
    assert secret["type"] == "kubernetes.io/basic-auth" and set(secret) == {"apiVersion", "kind", "metadata", "type"}
    assert all(o["apiVersion"] == "v1" and o["kind"] == "Node" for o in batch["resources"]["nodes"])
    for text in (run.stdout + run.stderr, out.read_text()):
        assert PASSWORD not in text and base64.b64encode(PASSWORD.encode()).decode() not in text


def test_password_is_never_in_the_output(kube):
    new = config_with(metallb_config_bgp_peers=[dict(CONFIG["metallb_config_bgp_peers"][0], password="Other-pw-42")])
    encoded = [base64.b64encode(p.encode()).decode() for p in (PASSWORD, "Other-pw-42")]
    for run in (play(kube, new, check=True, diff=True, args=("-vvv",)), play(kube, new, diff=True, args=("-vvv",)),
                play(kube, diff=True, args=("-vvv",))):
        text = run.stdout + run.stderr
        for secret in (PASSWORD, "Other-pw-42", *encoded):
            assert secret not in text
        assert run.changed > 0  # the password changed (each way): the Secret was updated
    assert secret_password(kube, "router-bgp-password") == PASSWORD


def test_update_changes_the_pool_and_adds_an_advertisement(kube):
    before = versions(kube)
    pools = copy.deepcopy(CONFIG["metallb_config_pools"])
    pools[0]["addresses"] = ["203.0.113.0/27"]
    l2 = CONFIG["metallb_config_l2_advertisements"] + [
        {"name": "l2-edge", "ip_address_pools": ["l2-pool"], "node_selectors": [{"match_labels": {"kubernetes.io/hostname": "node2"}}]}]
    run = play(kube, config_with(metallb_config_pools=pools, metallb_config_l2_advertisements=l2))
    assert run.changed > 0
    assert objects(kube, "IPAddressPool")["bgp-pool"]["spec"]["addresses"] == ["203.0.113.0/27"]
    assert objects(kube, "L2Advertisement")["l2-edge"]["spec"]["nodeSelectors"] == [{"matchLabels": {"kubernetes.io/hostname": "node2"}}]
    after = versions(kube)
    changed = {k for k in after if before.get(k) != after[k]}
    assert changed == {("IPAddressPool", "bgp-pool"), ("L2Advertisement", "l2-edge")}, changed


def test_prune_removes_only_owned_objects(kube):
    custom = k8s.CustomObjectsApi(kube["api"])
    custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, "l2advertisements", {
        "apiVersion": "metallb.io/v1beta1", "kind": "L2Advertisement", "metadata": {"name": "hand-made"}, "spec": {}})
    run = play(kube, config_with(metallb_config_l2_advertisements=[]))
    assert run.changed > 0
    assert set(objects(kube, "L2Advertisement")) == {"hand-made"}
    assert play(kube, config_with(metallb_config_l2_advertisements=[])).changed == 0


@pytest.mark.parametrize("config, message", [
    (config_with(metallb_config_pools=[{"name": "bgp-pool", "addresses": ["203.0.113.0/28", "203.0.113.8/29"]}]),
     "metallb_config_pools[0].addresses: pool 'bgp-pool' entries '203.0.113.0/28' and '203.0.113.8/29' overlap"),
    (config_with(metallb_config_pools=[{"name": "bgp-pool", "addresses": ["203.0.113.6"]}]),
     "metallb_config_pools[0].addresses: pool 'bgp-pool' entry '203.0.113.6': MetalLB refuses an address without a prefix "
     "length (invalid CIDR): write 203.0.113.6/32"),
    (config_with(metallb_config_bgp_peers=[dict(CONFIG["metallb_config_bgp_peers"][0], peer_port=70000)]),
     "metallb_config_bgp_peers[0].peer_port: 70000 is not a valid BGP port"),
    (config_with(metallb_config_bgp_peers=[dict(CONFIG["metallb_config_bgp_peers"][0], peer_asn=4294967296)]),
     "metallb_config_bgp_peers[0].peer_asn: 4294967296 is not a valid ASN (1-4294967295)"),
    (config_with(metallb_config_bgp_peers=[dict(CONFIG["metallb_config_bgp_peers"][0], password_secret="other")]),
     "metallb_config_bgp_peers[0]: has both password and password_secret"),
    (config_with(metallb_config_bgp_peers=[dict(CONFIG["metallb_config_bgp_peers"][0], keepalive_time=3)]),
     "metallb_config_bgp_peers[0].keepalive_time: is not supported by MetalLB's native BGP mode"),
    (config_with(metallb_config_l2_advertisements=[{"name": "l2"}, {"name": "l2"}]),
     "metallb_config_l2_advertisements[1].name: 'l2' is also the name"),
    (config_with(metallb_config_pools=[dict(CONFIG["metallb_config_pools"][0], labels={"bad key!": "x"})]),
     "metallb_config_pools[0].labels: label key 'bad key!'"),
    (config_with(metallb_config_bgp_advertisements=[dict(CONFIG["metallb_config_bgp_advertisements"][0], peers=["nobody"])]),
     "metallb_config_bgp_advertisements[0].peers: BGP peer 'nobody'"),
    (config_with(metallb_config_bgp_mode="quagga"), "metallb_config_bgp_mode"),
    (config_with(metallb_config_pools=[{"name": "hand-made-pool", "addresses": ["203.0.113.64/28"]}] + CONFIG["metallb_config_pools"]),
     "IPAddressPool 'hand-made-pool' already exists"),
], ids=["pool_overlap", "bare_address", "port", "asn", "password_and_secret", "keepalive_native", "duplicate", "label_key",
        "unknown_peer", "bgp_mode", "not_owned"])
def test_bad_input_fails_before_any_change(kube, config, message):
    hand_made_pool(kube)
    before = versions(kube)
    run = play(kube, config, expect_failure=True)
    assert message in run.stdout, run.stdout
    assert PASSWORD not in run.stdout + run.stderr
    assert versions(kube) == before


def hand_made_pool(kube) -> None:
    """An IPAddressPool made by hand (without the role's labels): the role must leave it alone."""
    try:
        k8s.CustomObjectsApi(kube["api"]).create_namespaced_custom_object("metallb.io", "v1beta1", NS, "ipaddresspools", {
            "apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool", "metadata": {"name": "hand-made-pool"},
            "spec": {"addresses": ["203.0.113.64/28"]}})
    except ApiException as exc:
        assert exc.status == 409  # made by an earlier test


def _point_pool_webhook_at(kube, service: str) -> None:
    adm = k8s.AdmissionregistrationV1Api(kube["api"])
    config = adm.read_validating_webhook_configuration("metallb-webhook-configuration")
    for hook in config.webhooks:
        if hook.name == "ipaddresspoolvalidationwebhook.metallb.io":
            hook.client_config.service.name = service
    adm.replace_validating_webhook_configuration("metallb-webhook-configuration", config)


def test_a_webhook_that_does_not_answer_is_retried(kube):
    """The API server really fails calling MetalLB's pool webhook (its Service is gone) until the
    role has retried once: the apply is retried on that error and succeeds once the webhook answers."""
    pools = copy.deepcopy(CONFIG["metallb_config_pools"])
    pools[1]["addresses"] = ["198.51.100.200-198.51.100.219"]
    extra = {"metallb_config_kubeconfig": str(kube["kubeconfig"]), "metallb_config_webhook_retry_delay": 2,
             "metallb_config_webhook_retries": 30, **config_with(metallb_config_pools=pools)}
    _point_pool_webhook_at(kube, "metallb-webhook-gone")
    lines = []
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json") as vars_file:
            json.dump(extra, vars_file)
            vars_file.flush()
            # read the output as it comes, to restore the webhook only once the role is retrying
            proc = subprocess.Popen([_ansible_playbook(), "-i", str(kube["lab"].inventory / "hosts.yml"), str(PLAYBOOK),
                                     "-e", f"@{vars_file.name}"], cwd=REPO, env=ansible_env(), stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            for line in proc.stdout:
                lines.append(line)
                if line.startswith("FAILED - RETRYING"):
                    _point_pool_webhook_at(kube, "metallb-webhook-service")
            proc.wait(timeout=300)
    finally:
        _point_pool_webhook_at(kube, "metallb-webhook-service")
    out = "".join(lines)
    assert proc.returncode == 0, out
    assert "FAILED - RETRYING" in out and "failed calling webhook" not in out.rsplit("PLAY RECAP", maxsplit=1)[-1], out
    assert objects(kube, "IPAddressPool")["l2-pool"]["spec"]["addresses"] == ["198.51.100.200-198.51.100.219"]


FOREIGN_CLASH = {"name": "clash", "addresses": ["203.0.113.60-203.0.113.70"]}
FOREIGN_MESSAGE = ("metallb_config_pools[2].addresses: pool 'clash' entry '203.0.113.60-203.0.113.70' overlaps IPAddressPool "
                   "'hand-made-pool' (entry '203.0.113.64/28') on 203.0.113.64-203.0.113.70 (7 address(es)); that pool is "
                   "already in the cluster and not managed by this collection")


@pytest.mark.parametrize("check", [True, False], ids=["check_mode", "apply"])
def test_overlap_with_a_pool_the_role_does_not_own_is_refused_before_any_change(kube, check):
    """hand-made-pool (made above without the role's labels) stays; MetalLB's webhook would refuse a
    pool overlapping it mid-apply. The role reads the cluster's pools first and refuses, naming it and
    the span, before anything is applied, in check mode too."""
    hand_made_pool(kube)
    before = versions(kube)
    pools = CONFIG["metallb_config_pools"] + [FOREIGN_CLASH]
    # l2-pool changed too: a run that applied anything would change it first (pools are applied in one wave)
    pools[1] = dict(pools[1], addresses=["198.51.100.200-198.51.100.229"])
    run = play(kube, config_with(metallb_config_pools=pools), check=check, diff=check, expect_failure=True)
    assert FOREIGN_MESSAGE in run.stdout, run.stdout
    assert "invalid input; nothing was applied" in run.stdout, run.stdout
    assert "denied the request" not in run.stdout  # not the webhook's refusal: the role's, before it
    assert versions(kube) == before
    assert "clash" not in objects(kube, "IPAddressPool")


def test_pool_validate_reads_the_clusters_pools(kube, tmp_path):
    """site.yml's validation: pool_validate reads the IPAddressPools itself (read_cluster) and refuses the
    overlap with the hand-made one; the role's own pools (same instance) are not in the way; an
    unreachable cluster is a warning, and the input is still checked."""
    hand_made_pool(kube)
    target = REPO / "tests" / "integration" / "targets" / "pool_validate" / "cluster.yml"
    pools = [{"name": "bgp-pool", "addresses": ["203.0.113.0/28"]}, FOREIGN_CLASH]
    results = {}
    for case, kubeconfig in (("lab", str(kube["kubeconfig"])), ("unreachable", str(tmp_path / "no-such-kubeconfig"))):
        out = tmp_path / f"{case}.json"
        run_playbook(target, kube["lab"].inventory / "hosts.yml", {"pools": pools, "kubeconfig": kubeconfig, "result_file": str(out)})
        results[case] = json.loads(out.read_text())
    lab = results["lab"]
    assert [(e["code"], e["pool"], e["other_pool"], e["overlap"]) for e in lab["errors"]] == [
        ("overlaps_cluster_pool", "clash", "hand-made-pool", "203.0.113.64-203.0.113.70")], lab["errors"]
    assert "hand-made-pool" in lab["foreign_pools"] and "bgp-pool" not in lab["foreign_pools"]
    unreachable = results["unreachable"]
    assert unreachable["errors"] == [] and unreachable["foreign_pools"] is None
    assert any("the cluster's IPAddressPools were not read (kubeconfig:" in w for w in unreachable["warnings"]), unreachable


def test_a_webhook_refusal_fails_at_once(kube):
    """A BGPAdvertisement whose aggregation length is wider than its pool's CIDR is refused by MetalLB's
    webhook (the role does not check that): no retry."""
    advertisements = [dict(CONFIG["metallb_config_bgp_advertisements"][0], aggregation_length=24)]
    run = play(kube, config_with(metallb_config_bgp_advertisements=advertisements), expect_failure=True)
    assert "denied the request" in run.stdout and "invalid aggregation length 24" in run.stdout, run.stdout
    assert "FAILED - RETRYING" not in run.stdout
    assert objects(kube, "BGPAdvertisement")["edge"]["spec"]["aggregationLength"] == 32


def test_all_empty_removes_every_owned_object(kube):
    empty = {key: [] for key in CONFIG}
    run = play(kube, empty)
    assert run.changed > 0
    for kind in PLURALS:
        left = {n for n, o in objects(kube, kind).items()
                if (o["metadata"].get("labels") or {}).get("app.kubernetes.io/managed-by") == "baremetal.metallb"}
        assert not left, (kind, left)
    assert "hand-made" in objects(kube, "L2Advertisement")
    assert "hand-made-pool" in objects(kube, "IPAddressPool")
    secrets = {s.metadata.name for s in k8s.CoreV1Api(kube["api"]).list_namespaced_secret(NS).items}
    assert "router-bgp-password" not in secrets and "memberlist" in secrets
    assert play(kube, empty).changed == 0
