# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_install against the lab's real Kubernetes API server (lab/clusterctl.py).

A lab and cluster of its own (the ``kube_lab`` fixture). MetalLB v0.16.1's release manifest and Helm
chart come from the Go module cache (never copied into the repo), and the lab's supervisor
runs the real controller and speakers for the pods kwok "runs", so the webhook answers.

Pattern: bad input and the IPVS preflight on a fresh cluster (nothing written) -> check mode
(lists what it would create) -> install -> the webhook refuses an overlapping pool -> repeat
(changed=0) -> check+diff (changed=0, also with the CA bundles the controller injects) ->
update (speaker placement, image mirror) -> a wait that times out explains itself -> absent ->
absent again (changed=0) -> the same with the Helm chart -> the frr-k8s flavour (the wait covers
frr-k8s's daemon, status cleaner, webhook and CRDs) -> absent. Between runs the test reads what
the API server holds, with the kubernetes client kubernetes.core uses.
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KUBE_LAB = {"base": "mins"}
PLAYBOOK = REPO / "tests" / "integration" / "targets" / "metallb_install" / "playbook.yml"
CLUSTERCTL = [sys.executable, str(REPO / "lab" / "clusterctl.py")]
VERSION = "v0.16.1"  # lab/cluster/versions.py METALLB_VERSION: the binaries the supervisor runs
NS = "metallb-system"
CRDS = sorted(["bfdprofiles", "bgpadvertisements", "bgppeers", "communities", "configurationstates",
               "ipaddresspools", "l2advertisements", "servicebgpstatuses", "servicel2statuses"])
HELM = REPO / ".venv" / "bin" / "helm"
TIMES: dict[str, float] = {}

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (namespaces)")


def metallb_module_dir() -> Path:
    """go.universe.tf/metallb at VERSION in the Go module cache (downloaded through the proxy
    if it is not there yet; `clusterctl build --metallb` puts it there too)."""
    done = subprocess.run(["go", "mod", "download", "-json", f"go.universe.tf/metallb@{VERSION}"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"go mod download failed: {done.stdout}{done.stderr}"
    return Path(json.loads(done.stdout)["Dir"])


@pytest.fixture(scope="module")
def kube(kube_lab):
    module = metallb_module_dir()
    return {**kube_lab, "module": module, "manifest": module / "config" / "manifests" / "metallb-native.yaml"}


def play(kube, extra: dict | None = None, *, key: str | None = None, **kwargs):
    variables = {"metallb_install_kubeconfig": str(kube["kubeconfig"]),
                 "metallb_install_manifest_src": str(kube["manifest"]), **(extra or {})}
    t = time.monotonic()
    run = run_playbook(PLAYBOOK, kube["lab"].inventory, variables, **kwargs)
    if key:
        TIMES[key] = time.monotonic() - t
    return run


def core(kube):
    return k8s.CoreV1Api(kube["api"])


def apps(kube):
    return k8s.AppsV1Api(kube["api"])


def namespaces(kube) -> list[str]:
    return [n.metadata.name for n in core(kube).list_namespace().items]


def metallb_crds(kube) -> dict:
    crds = k8s.ApiextensionsV1Api(kube["api"]).list_custom_resource_definition().items
    return {c.spec.names.plural: c for c in crds if c.spec.group == "metallb.io"}


def snapshot(kube) -> dict:
    """resourceVersion of every object a MetalLB install has: unchanged = nothing written."""
    out = {("CRD", n): c.metadata.resource_version for n, c in metallb_crds(kube).items()}
    if NS in namespaces(kube):
        for kind, items in (("Deployment", apps(kube).list_namespaced_deployment(NS).items),
                            ("DaemonSet", apps(kube).list_namespaced_daemon_set(NS).items),
                            ("Service", core(kube).list_namespaced_service(NS).items),
                            ("ConfigMap", core(kube).list_namespaced_config_map(NS).items)):
            out.update({(kind, o.metadata.name): o.metadata.resource_version for o in items})
        out[("Namespace", NS)] = core(kube).read_namespace(NS).metadata.resource_version
    return out


def speaker(kube, name: str = "speaker"):
    return apps(kube).read_namespaced_daemon_set(name, NS)


def assert_installed(kube, controller: str = "controller", speaker_name: str = "speaker", speakers: int = 3):
    crds = metallb_crds(kube)
    assert sorted(crds) == CRDS
    for plural, crd in crds.items():
        established = [c.status for c in crd.status.conditions if c.type == "Established"]
        assert established == ["True"], plural
    labels = core(kube).read_namespace(NS).metadata.labels
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "privileged"
    deployment = apps(kube).read_namespaced_deployment(controller, NS)
    assert deployment.status.available_replicas == 1
    assert [c.status for c in deployment.status.conditions if c.type == "Available"] == ["True"]
    ds = speaker(kube, speaker_name)
    assert ds.status.desired_number_scheduled == speakers and ds.status.number_ready == speakers
    slices = k8s.DiscoveryV1Api(kube["api"]).list_namespaced_endpoint_slice(
        NS, label_selector="kubernetes.io/service-name=metallb-webhook-service").items
    ready = [a for s in slices for e in (s.endpoints or []) if e.conditions.ready is not False for a in e.addresses]
    assert ready, "the webhook Service has no ready endpoint"


# ------------------------------------------------------------------ before anything is installed
@pytest.mark.parametrize("extra, variable", [
    ({"metallb_install_version": "0.16.1"}, "metallb_install_version"),
    ({"metallb_install_version": "v0.12.1"}, "metallb_install_version"),
    ({"metallb_install_version": 0.16}, "metallb_install_version"),
    ({"metallb_install_manifest_src": "", "metallb_install_manifest_url": "ftp://mirror.example.com/metallb.yaml"},
     "metallb_install_manifest_url"),
    ({"metallb_install_flavour": "bird"}, "metallb_install_flavour"),
    ({"metallb_install_speaker_tolerations": [{"key": "edge", "operator": "Sometimes"}]}, "metallb_install_speaker_tolerations"),
    ({"metallb_install_speaker_tolerations": [{"key": "edge", "operator": "Exists", "value": "x"}]},
     "metallb_install_speaker_tolerations[0].value"),
    ({"metallb_install_speaker_node_selector": {"-bad": "x"}}, "metallb_install_speaker_node_selector"),
    ({"metallb_install_manifest_src": "/nonexistent/metallb-native.yaml"}, "metallb_install_manifest_src"),
    ({"metallb_install_namespace": "Metal_LB"}, "metallb_install_namespace"),
    ({"metallb_install_state": "gone"}, "metallb_install_state"),
    ({"metallb_install_method": "helm", "metallb_install_chart_repo_url": "https://metallb.github.io/metallb"},
     "metallb_install_chart_repo_url: helm would fetch the chart"),
    ({"metallb_install_manifest_sha256": "sha256:1234"}, "metallb_install_manifest_sha256"),
    ({"metallb_install_image_digests": {"quay.io/metallb/speaker:v0.16.1": "latest"}}, "metallb_install_image_digests"),
])
def test_bad_input_fails_before_any_change_naming_the_variable(kube, extra, variable):
    run = play(kube, extra, expect_failure=True)
    assert variable in run.stdout, run.stdout
    assert NS not in namespaces(kube) and not metallb_crds(kube)


def test_a_tampered_manifest_is_refused_before_anything_is_applied(kube, tmp_path):
    """The release manifest with one image changed: refused against the digest shipped for
    v0.16.1, in check mode and in a real run, naming the file and both digests; nothing reaches
    the cluster. With the user's digest of that very file it is accepted (check mode)."""
    import hashlib  # noqa: PLC0415 (only this test hashes)
    good = kube["manifest"].read_bytes()
    tampered = tmp_path / "metallb-native.yaml"
    tampered.write_bytes(good.replace(b"quay.io/metallb/speaker:v0.16.1", b"quay.io/attacker/speaker:v0.16.1", 1))
    actual = hashlib.sha256(tampered.read_bytes()).hexdigest()
    for check in (True, False):
        run = play(kube, {"metallb_install_manifest_src": str(tampered)}, check=check, expect_failure=True)
        said = " ".join(run.stdout.split())  # the callback folds long messages
        assert f"metallb-native.yaml of MetalLB {VERSION} from {tampered}: sha256 mismatch" in said, run.stdout
        assert f"Expected {hashlib.sha256(good).hexdigest()} (the digest shipped for MetalLB {VERSION})" in said
        assert f"actual {actual}" in said
        assert "Apply the release" not in run.stdout  # stopped while reading the release
        assert NS not in namespaces(kube) and not metallb_crds(kube)
    run = play(kube, {"metallb_install_manifest_src": str(tampered), "metallb_install_manifest_sha256": actual},
               check=True)
    assert run.changed > 0 and "sha256 mismatch" not in run.stdout
    assert NS not in namespaces(kube) and not metallb_crds(kube)


def test_preflight_refuses_ipvs_without_strict_arp(kube):
    def kube_proxy(strict: bool):
        config = {"apiVersion": "kubeproxy.config.k8s.io/v1alpha1", "kind": "KubeProxyConfiguration",
                  "mode": "ipvs", "ipvs": {"strictARP": strict}}
        body = {"metadata": {"name": "kube-proxy", "namespace": "kube-system"},
                "data": {"config.conf": yaml.safe_dump(config)}}
        try:
            core(kube).replace_namespaced_config_map("kube-proxy", "kube-system", body)
        except ApiException as exc:
            assert exc.status == 404
            core(kube).create_namespaced_config_map("kube-system", body)

    kube_proxy(strict=False)
    run = play(kube, expect_failure=True)
    assert "kube-proxy runs in IPVS mode without strictARP" in run.stdout, run.stdout
    assert "kube-system/kube-proxy" in run.stdout and "strictARP: true" in run.stdout
    assert NS not in namespaces(kube) and not metallb_crds(kube)
    # the switch to skip it works, in check mode (nothing written either way)
    assert play(kube, {"metallb_install_preflight": False}, check=True).changed > 0
    # fixed: strictARP on (the install below runs with this ConfigMap in place)
    kube_proxy(strict=True)
    run = play(kube, check=True)
    assert "kube-proxy runs in IPVS mode" not in run.stdout
    assert "No ConfigMap kube-system/kube-proxy" not in run.stdout


def test_check_mode_on_a_fresh_cluster_lists_what_it_would_create(kube):
    run = play(kube, check=True, diff=True, key="check (fresh)")
    assert run.changed > 0
    for obj in ("Deployment metallb-system/controller", "DaemonSet metallb-system/speaker",
                "Service metallb-system/metallb-webhook-service"):
        assert obj in run.stdout, run.stdout
    assert NS not in namespaces(kube), "check mode created the namespace"
    assert not metallb_crds(kube), "check mode created CRDs"


def test_the_manifest_from_a_url_of_the_users_choice(kube):
    """Air-gapped sites point metallb_install_manifest_url at their own copy (here file://)."""
    run = play(kube, {"metallb_install_manifest_src": "", "metallb_install_manifest_url": kube["manifest"].as_uri(),
                      "metallb_install_version": VERSION}, check=True, diff=True)
    assert run.changed > 0 and "CustomResourceDefinition ipaddresspools.metallb.io (created)" in run.stdout, run.stdout
    assert NS not in namespaces(kube) and not metallb_crds(kube)


# ------------------------------------------------------------------ install
def test_install_waits_until_metallb_serves(kube):
    run = play(kube, key="install")
    assert run.changed > 0
    assert_installed(kube)
    ds = speaker(kube)
    assert ds.spec.template.spec.node_selector == {"kubernetes.io/os": "linux"}
    assert ds.spec.template.spec.containers[0].image == f"quay.io/metallb/speaker:{VERSION}"
    # applied by this collection's field manager (server-side apply), not by an update
    managers = {m.manager: m.operation for m in ds.metadata.managed_fields}
    assert managers.get("baremetal.metallb") == "Apply"
    assert ds.metadata.labels["app.kubernetes.io/managed-by"] == "baremetal.metallb"


def test_the_webhook_refuses_an_overlapping_pool(kube):
    """The real controller (run by lab/cluster/supervisor.py for the pod kwok runs) answers
    the ValidatingWebhookConfiguration the manifest installed."""
    objects = k8s.CustomObjectsApi(kube["api"])

    def pool(name, address):
        return {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
                "metadata": {"name": name, "namespace": NS}, "spec": {"addresses": [address]}}
    # the webhook serves once the controller has its certificate: allow it a few seconds
    deadline = time.monotonic() + 60
    while True:
        try:
            objects.create_namespaced_custom_object("metallb.io", "v1beta1", NS, "ipaddresspools",
                                                    pool("h6i-a", "198.51.100.200-198.51.100.210"))
            break
        except ApiException as exc:
            if time.monotonic() > deadline or "failed calling webhook" not in (exc.body or ""):
                raise
            time.sleep(1)
    with pytest.raises(ApiException) as refused:
        objects.create_namespaced_custom_object("metallb.io", "v1beta1", NS, "ipaddresspools",
                                                pool("h6i-b", "198.51.100.205/32"))
    message = json.loads(refused.value.body)["message"]
    assert refused.value.status == 403, message
    assert 'admission webhook "ipaddresspoolvalidationwebhook.metallb.io" denied the request' in message
    assert "overlaps with already defined CIDR" in message
    objects.delete_namespaced_custom_object("metallb.io", "v1beta1", NS, "ipaddresspools", "h6i-a")


def test_second_run_changes_nothing(kube):
    before = snapshot(kube)
    assert play(kube, key="repeat").changed == 0
    assert snapshot(kube) == before


def test_check_diff_on_the_converged_cluster_is_quiet_with_injected_ca_bundles(kube):
    # The controller's certificate rotation writes the CA bundle into the webhook
    # configuration and the bgppeers conversion webhook: fields this role never sends.
    vwc = k8s.AdmissionregistrationV1Api(kube["api"]).read_validating_webhook_configuration("metallb-webhook-configuration")
    assert all(w.client_config.ca_bundle for w in vwc.webhooks), "the controller injected no CA bundle"
    crd = metallb_crds(kube)["bgppeers"]
    bundle = crd.spec.conversion.webhook.client_config.ca_bundle
    assert bundle and b"BEGIN CERTIFICATE" in base64.b64decode(bundle)
    run = play(kube, check=True, diff=True, args=("-v",), key="check+diff (converged)")
    assert run.changed == 0
    assert "--- before" not in run.stdout and "+++ after" not in run.stdout, run.stdout
    # the controller's keys in the webhook certificate Secret stay out of the (verbose) output
    secret = core(kube).read_namespaced_secret("metallb-webhook-cert", NS)
    assert secret.data and "tls.key" in secret.data
    assert "tls.key" not in run.stdout and secret.data["tls.key"] not in run.stdout
    # and a real run keeps them
    assert play(kube).changed == 0
    assert metallb_crds(kube)["bgppeers"].spec.conversion.webhook.client_config.ca_bundle == bundle


def test_an_inline_kubeconfig_stays_out_of_the_output(kube):
    config = yaml.safe_load(kube["kubeconfig"].read_text())
    key_path = config["users"][0]["user"]["client-key"]
    run = play(kube, {"metallb_install_kubeconfig": config}, check=True, args=("-vvv",))
    assert run.changed == 0
    assert key_path not in run.stdout + run.stderr
    assert "censored" in run.stdout  # no_log at work, not merely quiet


def test_update_places_the_speaker_and_pulls_from_a_mirror(kube):
    for node in ("node1", "node2"):
        core(kube).patch_node(node, {"metadata": {"labels": {"metallb.example.com/speaker": "true"}}})
    extra = {"metallb_install_speaker_node_selector": {"metallb.example.com/speaker": "true"},
             "metallb_install_speaker_tolerations": [{"key": "edge.example.com/dedicated", "operator": "Equal",
                                                     "value": "lb", "effect": "NoSchedule"}],
             "metallb_install_image_registry": "registry.example.com:5000/mirror"}
    before = snapshot(kube)
    run = play(kube, extra, diff=True, key="update")
    assert run.changed > 0
    assert "metallb.example.com/speaker" in run.stdout  # the diff shows the change
    ds = speaker(kube)
    spec = ds.spec.template.spec
    assert spec.node_selector == {"kubernetes.io/os": "linux", "metallb.example.com/speaker": "true"}
    assert [(t.key, t.operator, t.value, t.effect) for t in spec.tolerations] == [
        ("node-role.kubernetes.io/master", "Exists", None, "NoSchedule"),
        ("node-role.kubernetes.io/control-plane", "Exists", None, "NoSchedule"),
        ("edge.example.com/dedicated", "Equal", "lb", "NoSchedule")]
    assert spec.containers[0].image == f"registry.example.com:5000/mirror/metallb/speaker:{VERSION}"
    controller = apps(kube).read_namespaced_deployment("controller", NS)
    assert controller.spec.template.spec.containers[0].image == f"registry.example.com:5000/mirror/metallb/controller:{VERSION}"
    # the role waited for the new speaker pods: two nodes match
    assert ds.status.desired_number_scheduled == 2 and ds.status.number_ready == 2
    after = snapshot(kube)
    assert after[("CRD", "ipaddresspools")] == before[("CRD", "ipaddresspools")]
    assert play(kube, extra).changed == 0
    # back to the defaults: the fields this role applied are removed again
    assert play(kube).changed > 0
    assert speaker(kube).spec.template.spec.node_selector == {"kubernetes.io/os": "linux"}
    assert len(speaker(kube).spec.template.spec.tolerations) == 2


@pytest.mark.parametrize("extra, variable", [
    ({"metallb_install_speaker_tolerations": [{"operator": "Equal", "value": "x"}]}, "metallb_install_speaker_tolerations[0]"),
    ({"metallb_install_image_registry": "registry.example.com/mirror:latest"}, "metallb_install_image_registry"),
    ({"metallb_install_pod_security": {"audit": "strict"}}, "metallb_install_pod_security"),
])
def test_bad_input_on_an_installed_cluster_changes_nothing(kube, extra, variable):
    before = snapshot(kube)
    run = play(kube, extra, expect_failure=True)
    assert variable in run.stdout, run.stdout
    assert snapshot(kube) == before


def test_a_wait_that_times_out_explains_itself(kube):
    run = play(kube, {"metallb_install_speaker_node_selector": {"metallb.example.com/nowhere": "true"},
                      "metallb_install_wait_timeout": 4}, expect_failure=True, key="timeout diagnostic")
    assert "DaemonSet speaker: no node to run on" in run.stdout, run.stdout
    for section in (f"pods in {NS}:", "recent events:", "endpoints:", "metallb-webhook-service: 198.18."):
        assert section in run.stdout, run.stdout
    assert "rescued=1" in run.stdout


# ------------------------------------------------------------------ uninstall
def test_absent_deletes_everything_the_release_installed(kube):
    run = play(kube, {"metallb_install_state": "absent"}, key="absent")
    assert run.changed > 0
    assert NS not in namespaces(kube)
    assert not metallb_crds(kube)
    assert not [w for w in k8s.AdmissionregistrationV1Api(kube["api"]).list_validating_webhook_configuration().items
                if w.metadata.name == "metallb-webhook-configuration"]
    roles = [r.metadata.name for r in k8s.RbacAuthorizationV1Api(kube["api"]).list_cluster_role().items]
    assert not [r for r in roles if r.startswith("metallb-system:")]


def test_absent_again_changes_nothing(kube):
    assert play(kube, {"metallb_install_state": "absent"}, key="absent again").changed == 0


# ------------------------------------------------------------------ the Helm chart
def helm_vars(kube, **extra):
    assert HELM.exists(), f"{HELM} is missing: run `bash tools/install-helm.sh` (builds helm from the Go module proxy)"
    return {"metallb_install_method": "helm", "metallb_install_chart_ref": str(kube["module"] / "charts" / "metallb"),
            "metallb_install_chart_repo_url": "", "metallb_install_helm_binary": str(HELM), **extra}


def test_helm_check_install_repeat_and_absent(kube):
    extra = helm_vars(kube, metallb_install_speaker_node_selector={"metallb.example.com/speaker": "true"})
    run = play(kube, extra, check=True)
    assert run.changed > 0 and NS not in namespaces(kube)
    run = play(kube, extra, key="helm install")
    assert run.changed > 0
    assert_installed(kube, controller="metallb-controller", speaker_name="metallb-speaker", speakers=2)
    ds = speaker(kube, "metallb-speaker")
    assert ds.spec.template.spec.node_selector == {"kubernetes.io/os": "linux", "metallb.example.com/speaker": "true"}
    assert ds.metadata.labels["app.kubernetes.io/managed-by"] == "Helm"
    # native flavour: no FRR containers, no frr-k8s (the chart's default since v0.16)
    assert [c.name for c in ds.spec.template.spec.containers] == ["speaker"]
    assert not [d for d in apps(kube).list_namespaced_daemon_set(NS).items if "frr-k8s" in d.metadata.name]
    assert play(kube, extra, key="helm repeat").changed == 0
    assert play(kube, extra, check=True).changed == 0
    run = play(kube, {**extra, "metallb_install_state": "absent"}, key="helm absent")
    assert run.changed > 0
    assert NS not in namespaces(kube) and not metallb_crds(kube)
    assert play(kube, {**extra, "metallb_install_state": "absent"}).changed == 0


# ------------------------------------------------------------------ frr-k8s (v0.16's default mode)
def test_frr_k8s_flavour_waits_for_frr_k8s_too(kube):
    """metallb-frr-k8s.yaml: the lab's supervisor runs frr-k8s's daemon pods and its status cleaner.
    The role's wait, read from the manifest's objects, covers them: when the install returns, the
    frr-k8s DaemonSet is ready on every node, the status cleaner available, frr-k8s's webhook
    Service has a ready endpoint and its CRDs are Established. A repeat changes nothing; absent
    removes frr-k8s with MetalLB."""
    manifest = kube["module"] / "config" / "manifests" / "metallb-frr-k8s.yaml"
    extra = {"metallb_install_flavour": "frr-k8s", "metallb_install_manifest_src": str(manifest)}
    assert play(kube, extra, key="frr-k8s install").changed > 0
    assert_installed(kube)
    ds = apps(kube).read_namespaced_daemon_set("frr-k8s-daemon", NS)
    assert ds.status.desired_number_scheduled == 3 and ds.status.number_ready == 3, ds.status
    cleaner = apps(kube).read_namespaced_deployment("frr-k8s-statuscleaner", NS)
    assert cleaner.status.available_replicas == 1, cleaner.status
    slices = k8s.DiscoveryV1Api(kube["api"]).list_namespaced_endpoint_slice(
        NS, label_selector="kubernetes.io/service-name=frr-k8s-webhook-service").items
    assert [a for s in slices for e in (s.endpoints or []) if e.conditions.ready is not False for a in e.addresses]
    crds = [c for c in k8s.ApiextensionsV1Api(kube["api"]).list_custom_resource_definition().items
            if c.spec.group == "frrk8s.metallb.io"]
    assert sorted(c.spec.names.plural for c in crds) == ["bgpsessionstates", "frrconfigurations",
                                                         "frrk8sconfigurations", "frrnodestates"]
    assert all([x.status for x in c.status.conditions if x.type == "Established"] == ["True"] for c in crds)
    assert play(kube, extra, key="frr-k8s repeat").changed == 0
    assert play(kube, {**extra, "metallb_install_state": "absent"}, key="frr-k8s absent").changed > 0
    assert NS not in namespaces(kube) and not metallb_crds(kube)
    assert not [c for c in k8s.ApiextensionsV1Api(kube["api"]).list_custom_resource_definition().items
                if c.spec.group == "frrk8s.metallb.io"]
