# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`clusterctl metallb`: a convenience = install MetalLB the way a user would and wait.

It builds (or finds cached) MetalLB's binaries, applies the release manifest
`config/manifests/metallb-native.yaml` from the Go module cache (server-side apply) and waits
until the supervisor (supervisor.py, running since `clusterctl up`) has done its part: the
controller's webhook answering on its pod IP with the caBundle injected, and a real speaker
running for every speaker pod. Nothing here starts a process: installing MetalLB any other way
(kubernetes.core, Helm) gets the same processes.
"""
from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from . import build
from . import versions as V
from .control import Api, Cluster, log, run
from .supervisor import read_status

NS = "metallb-system"


def manifest_path() -> Path:
    mod = Path(build.mod_download("go.universe.tf/metallb", V.METALLB_VERSION)["Dir"])
    return mod / "config" / "manifests" / "metallb-native.yaml"


def _wait(what: str, fn, timeout: float = 60.0, on_timeout=lambda: ""):
    t = time.monotonic()
    while time.monotonic() - t < timeout:
        v = fn()
        if v:
            log(f"{what} ({time.monotonic() - t:.1f} s)")
            return v
        time.sleep(0.2)
    raise RuntimeError(f"timeout waiting for {what}{on_timeout()}")


def webhook_serving(c: Cluster, api: Api, pod_ip: str) -> bool:
    """The controller answers on its pod IP:9443 inside the lab and the caBundle is injected."""
    code = run(["nsenter", f"--net={c.netns_path}", "--", "curl", "-sk", "--max-time", "1", "-o", "/dev/null",
                "-w", "%{http_code}", f"https://{pod_ip}:9443/"], check=False).stdout.strip()
    if code in ("", "000"):
        return False
    try:
        vwc = api.get("/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations/"
                      "metallb-webhook-configuration")
    except (OSError, RuntimeError, ValueError):
        return False
    return bool(vwc["webhooks"][0]["clientConfig"].get("caBundle"))


def ready(c: Cluster, api: Api, nodes: int) -> dict | None:
    """Supervisor status once the controller's webhook serves and `nodes` speakers run."""
    st = read_status(c)
    pods = st.get("pods", [])
    ctl = [p for p in pods if p["component"] == "controller" and p.get("pid")]
    spk = [p for p in pods if p["component"] == "speaker" and p.get("pid")]
    if len(ctl) != 1 or len(spk) < nodes or not webhook_serving(c, api, ctl[0]["pod_ip"]):
        return None
    return st


def _terminating(api: Api) -> bool:
    """The namespace or one of MetalLB's CRDs is still being deleted (an uninstall)."""
    try:
        status, text = api.request("GET", f"/api/v1/namespaces/{NS}")
        crds = api.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions")["items"]
    except (OSError, RuntimeError, ValueError):
        return True
    if status == 200 and json.loads(text)["metadata"].get("deletionTimestamp"):
        return True
    return any(c["metadata"]["name"].endswith(".metallb.io") and c["metadata"].get("deletionTimestamp")
               for c in crds)


def up(name: str) -> list[str]:
    t0 = time.monotonic()
    c = Cluster(name)
    meta = c.meta()
    if not meta.get("relay_port") or not meta.get("kubeconfigs"):
        raise RuntimeError(f"cluster {name!r} is not up: run `clusterctl up --name {name}` first")
    if not c.pid("metallb-supervisor"):
        raise RuntimeError(f"the MetalLB supervisor of cluster {name!r} is not running: "
                           f"`clusterctl up --name {name}` starts it")
    bins = build.build_all(metallb=True)
    kubectl = bins["k8s"] / "kubectl"
    api = Api(c, meta["relay_port"])
    # right after an uninstall the namespace may still be terminating: applying into it fails
    _wait(f"namespace {NS} and MetalLB's CRDs not terminating", lambda: not _terminating(api), 120)
    p = subprocess.run([str(kubectl), f"--kubeconfig={meta['kubeconfigs'][0]}",
                        f"--cache-dir={c.state / 'kubectl-cache'}", "apply", "--server-side",
                        "-f", str(manifest_path())], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"kubectl apply: {p.stderr.strip()}")
    t_applied = time.monotonic()
    n = int(json.loads((c.lab_state / "lab.json").read_text())["nodes"])
    st = _wait(f"supervisor: controller webhook serving and {n} speakers running", lambda: ready(c, api, n), 120,
               lambda: f"; supervisor status: {json.dumps(read_status(c).get('pods'), indent=1)}\n"
                       f"supervisor log:\n{c.log_tail('metallb-supervisor')}")
    ctl = next(p for p in st["pods"] if p["component"] == "controller")
    return [f"metallb {V.METALLB_VERSION} {name}: manifest applied, controller (webhook {ctl['pod_ip']}:9443) + "
            f"{n} speakers running {time.monotonic() - t_applied:.1f} s later; "
            f"{time.monotonic() - t0:.1f} s in all"]
