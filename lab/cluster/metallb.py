# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB on demand (`clusterctl metallb`): the release manifest, the real controller in
NAME-control and one real speaker per node host, as lab/k8s-prototype proved.

kwok "runs" the manifest's pods (controller pod with a pod IP, speaker DaemonSet pods with the
node IP: hostNetwork); the real binaries run outside pods, each with its own ServiceAccount
token (so the manifest's RBAC is exercised), and with the pod names kwok's pods have:

* controller: in NAME-control, its pod IP on `lo` there (the API server dials the webhook at
  the endpoint IP: --enable-aggregator-routing); in a private mount namespace whose /tmp is
  state/metallb/tmp (its webhook server always reads /tmp/k8s-webhook-server/serving-certs);
  projector.py copies the Secret metallb-webhook-cert there (no kubelet does).
* speakers: in each node host's network namespace, memberlist on (bind = the node's lab
  address = the kwok pod IP), as the manifest runs them. With memberlist off, L2 elections
  can run before the speaker knows all Nodes and never rerun (FINDINGS.md, step 5b).
"""
from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from pathlib import Path

from . import build
from . import versions as V
from .control import Api, Cluster, log, run

NS = "metallb-system"


def _kubectl(c: Cluster, kubectl: Path, kubeconfig: str, *args: str) -> str:
    p = subprocess.run([str(kubectl), f"--kubeconfig={kubeconfig}", f"--cache-dir={c.state / 'kubectl-cache'}",
                        *args], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"kubectl {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def _token_kubeconfig(c: Cluster, kubectl: Path, kc: str, sa: str) -> Path:
    token = _kubectl(c, kubectl, kc, "-n", NS, "create", "token", sa, "--duration=24h").strip()
    path = c.state / "metallb" / f"{sa}.kubeconfig"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {{server: "https://{V.CONTROL_ADDRESS}:{V.API_PORT}", certificate-authority: {c.pki / 'ca.crt'}}}
users:
- name: {sa}
  user: {{token: {token}}}
contexts:
- name: lab
  context: {{cluster: lab, user: {sa}, namespace: {NS}}}
current-context: lab
""")
    return path


def _wait(what: str, fn, timeout: float = 60.0):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        v = fn()
        if v:
            log(f"{what} ({time.monotonic() - t:.1f} s)")
            return v
        time.sleep(0.2)
    raise RuntimeError(f"timeout waiting for {what}")


def _pods(api: Api, selector: str) -> list[dict]:
    try:
        return api.get(f"/api/v1/namespaces/{NS}/pods?labelSelector={selector}")["items"]
    except (OSError, RuntimeError, ValueError):
        return []


def up(name: str) -> list[str]:
    t0 = time.monotonic()
    c = Cluster(name)
    meta = c.meta()
    if not meta.get("relay_port") or not meta.get("kubeconfigs"):
        raise RuntimeError(f"cluster {name!r} is not up: run `clusterctl up --name {name}` first")
    bins = build.build_all(metallb=True)
    ctl_bin, spk_bin = bins["metallb"] / "controller", bins["metallb"] / "speaker"
    kubectl = bins["k8s"] / "kubectl"
    kc = meta["kubeconfigs"][0]
    api = Api(c, meta["relay_port"])
    (c.state / "metallb" / "tmp" / "k8s-webhook-server" / "serving-certs").mkdir(parents=True, exist_ok=True)
    (c.state / "metallb" / "ml").mkdir(exist_ok=True)

    mod = Path(build.mod_download("go.universe.tf/metallb", V.METALLB_VERSION)["Dir"])
    _kubectl(c, kubectl, kc, "apply", "--server-side", "-f", str(mod / "config/manifests/metallb-native.yaml"))

    def ready_controller():
        for p in _pods(api, "component%3Dcontroller"):
            if p["status"].get("podIP") and any(x["type"] == "Ready" and x["status"] == "True"
                                                 for x in p["status"].get("conditions", [])):
                return p
        return None
    pod = _wait("controller pod Ready (kwok)", ready_controller)
    pod_name, pod_ip = pod["metadata"]["name"], pod["status"]["podIP"]
    # the address the API server dials for the webhook, inside the lab
    run(["ip", "-n", c.netns, "addr", "replace", f"{pod_ip}/32", "dev", "lo"])

    if not c.pid("metallb-controller"):
        kcfg = _token_kubeconfig(c, kubectl, kc, "controller")
        c.spawn("metallb-controller", [
            "unshare", "--mount", "--propagation", "private", "--", "sh", "-c",
            'mount --bind "$0" /tmp && exec "$@"', str(c.state / "metallb" / "tmp"),
            str(ctl_bin), f"--kubeconfig={kcfg}", "--port=9120", "--log-level=info",
            "--cert-dir=/tmp/k8s-webhook-server/serving-certs"],
            env={"METALLB_NAMESPACE": NS, "METALLB_POD_NAME": pod_name,
                 "METALLB_ML_SECRET_NAME": "memberlist", "METALLB_DEPLOYMENT": "controller"})
    if not c.pid("metallb-projector"):
        P = c.pki
        c.spawn("metallb-projector", [
            "/usr/bin/python3", str(Path(__file__).with_name("projector.py")),
            f"--server=https://{V.CONTROL_ADDRESS}:{V.API_PORT}", f"--ca={P / 'ca.crt'}",
            f"--cert={P / 'admin.crt'}", f"--key={P / 'admin.key'}", f"--namespace={NS}",
            "--secret=metallb-webhook-cert",
            f"--dir={c.state / 'metallb' / 'tmp' / 'k8s-webhook-server' / 'serving-certs'}"])

    def webhook_ready():
        code = run(["nsenter", f"--net={c.netns_path}", "--", "curl", "-sk", "--max-time", "1", "-o", "/dev/null",
                    "-w", "%{http_code}", f"https://{pod_ip}:9443/"], check=False).stdout.strip()
        if code in ("", "000"):
            return False
        vwc = api.get("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/"
                      "metallb-webhook-configuration")
        return bool(vwc["webhooks"][0]["clientConfig"].get("caBundle"))
    _wait(f"controller webhook serving on {pod_ip}:9443, caBundle injected", webhook_ready, 90)

    secret = _wait("memberlist Secret", lambda: _secret_key(api))
    keyfile = c.state / "metallb" / "ml" / "secretkey"
    keyfile.write_bytes(secret)
    os.chmod(keyfile, 0o600)
    spk_kcfg = _token_kubeconfig(c, kubectl, kc, "speaker")
    lab = json.loads((c.lab_state / "lab.json").read_text())
    n = int(lab["nodes"])
    pods = _wait(f"{n} speaker pods Running (kwok)",
                 lambda: (lambda ps: ps if len(ps) >= n else None)(
                     [p for p in _pods(api, "component%3Dspeaker") if p["status"].get("podIP")]))
    by_node = {p["spec"]["nodeName"]: p["metadata"]["name"] for p in pods}
    for k in range(1, n + 1):
        node = f"node{k}"
        svc = f"metallb-speaker-{node}"
        if c.pid(svc):
            continue
        c.spawn(svc, [str(spk_bin), f"--kubeconfig={spk_kcfg}", "--port=9120", "--log-level=info"],
                netns_path=Path(f"/run/netns/{name}-{node}"),
                env={"METALLB_NODE_NAME": node, "METALLB_POD_NAME": by_node[node], "METALLB_NAMESPACE": NS,
                     "METALLB_ML_BIND_ADDR": f"198.51.100.{10 + k}",
                     "METALLB_ML_LABELS": "app=metallb,component=speaker",
                     "METALLB_ML_SECRET_KEY_PATH": str(keyfile.parent)})
    _wait("speakers alive", lambda: all(c.pid(f"metallb-speaker-node{k}") for k in range(1, n + 1)), 10)
    return [f"metallb {V.METALLB_VERSION} {name}: controller (webhook {pod_ip}:9443) + {n} speakers "
            f"in {time.monotonic() - t0:.1f} s"]


def _secret_key(api: Api) -> bytes | None:
    try:
        s = api.get(f"/api/v1/namespaces/{NS}/secrets/memberlist")
    except (OSError, RuntimeError, ValueError):
        return None
    v = (s.get("data") or {}).get("secretkey")
    return base64.b64decode(v) if v else None
