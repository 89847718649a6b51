# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kubelet part for MetalLB's pods: kwok "runs" them, this process runs their binaries.

Started by `clusterctl up` as service `metallb-supervisor` (in NAME-control, where it reaches
the API server at 198.51.100.2:6443 with the admin certificate); ended by `clusterctl down`.
Every POLL seconds it lists the pods labelled as MetalLB's, in any namespace, in both label
styles (release manifest `app=metallb,component=...`, Helm chart
`app.kubernetes.io/name=metallb,app.kubernetes.io/component=...`). For each controller or
speaker pod that is Running with an IP it runs the real binary as a kubelet would:

* args and env from the pod's container spec (`value`, `fieldRef`, `secretKeyRef`,
  `configMapKeyRef`, `$(VAR)` in args), plus what the lab gives instead of the kubelet's
  ServiceAccount projection: `--kubeconfig` with a TokenRequest token of the pod's own
  `spec.serviceAccountName` bound to the pod (so the manifest's RBAC applies and the token dies
  with the pod) and METALLB_NAMESPACE (in a pod: the projected `namespace` file);
* Secret and ConfigMap volumes projected into `state/pods/<ns>.<pod>/vol/<volume>/` (kept in
  sync, files replaced by rename) and bind-mounted read-only at their mountPath in a private
  mount namespace of the process; a mountPath that does not exist on the machine (e.g.
  /etc/ml_secret_key) is created inside an overlay of its nearest existing parent whose upper
  dir is in the pod's state dir, so nothing is written outside the state dir;
* network: a hostNetwork pod (speaker) in its node's host namespace `/run/netns/NAME-<node>`;
  any other pod (controller) in NAME-control with its pod IP on `lo` (the API server dials the
  webhook at the endpoint IP).

A pod that goes away (uninstall) or is replaced (new name/UID) has its process stopped (and a
replacement started). A process that exits is restarted with a backoff (1, 2, 4 ... 30 s), as
a kubelet would. Before a real speaker starts on nodeK the lab's stand-in FRR speaker there is
stopped and marked off (metallb_lab Lab.standin_off: both would peer with the router from the
node's address); once no real speaker runs on nodeK any more it is started again
(Lab.standin_on), also when the supervisor ends (`clusterctl down`).

Only what the lab has binaries for runs: images tagged versions.METALLB_VERSION, native BGP
mode. Another version, or the FRR / frr-k8s flavour, is reported (log and
`state/metallb/supervisor.json`, shown by `clusterctl status`), never run. Binaries are looked
up, never built (a cold build takes minutes): missing ones are reported the same way.

Children's pid files are `pids/pod-<ns>.<pod>.pid` (the format of Cluster.spawn), so `down`
ends them by PID even if this process was killed. On start, children left by a previous
supervisor are ended first and then started afresh.
"""
from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import re
import shlex
import shutil
import signal
import ssl
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import quote

from . import build
from . import versions as V
from .control import ENV, Cluster, _starttime, end_processes, log

POLL = 0.5
COMPONENTS = ("controller", "speaker")
# (label with the app name, its value, label with the component): manifest and Helm chart
LABEL_STYLES = (("app", "metallb", "component"),
                ("app.kubernetes.io/name", "metallb", "app.kubernetes.io/component"))
UNSUPPORTED_BGP_TYPES = ("frr", "frr-k8s")
TOKEN_SECONDS = 86400
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


# ----------------------------------------------------------------------------- pure helpers

def component_of(pod: dict) -> str | None:
    labels = pod.get("metadata", {}).get("labels") or {}
    for app_key, app, comp_key in LABEL_STYLES:
        if labels.get(app_key) == app and labels.get(comp_key) in COMPONENTS:
            return labels[comp_key]
    return None


def main_container(pod: dict, component: str) -> dict | None:
    """The container running MetalLB's `component` binary (by name, else by image)."""
    containers = pod["spec"].get("containers", [])
    for c in containers:
        if c.get("name") == component:
            return c
    for c in containers:
        if image_repo(c.get("image", "")).endswith("/" + component):
            return c
    return None


def image_repo(image: str) -> str:
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


def image_tag(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def unsupported_reason(pod: dict, component: str, version: str) -> str | None:
    """Why the lab cannot run this pod's binary, or None."""
    c = main_container(pod, component)
    if c is None:
        return f"no {component} container in the pod"
    tag = image_tag(c.get("image", ""))
    if tag != version:
        return (f"image {c.get('image')}: the lab has MetalLB {version} binaries only "
                f"(lab/cluster/versions.py METALLB_VERSION)")
    if component == "speaker":
        others = [x.get("name") for x in pod["spec"].get("containers", []) + pod["spec"].get("initContainers", [])
                  if x is not c]
        frr = [n for n in others if "frr" in (n or "") or n in ("reloader", "frr-metrics")]
        bgp_type = next((e.get("value") for e in c.get("env", []) if e.get("name") == "METALLB_BGP_TYPE"), None)
        if frr or bgp_type in UNSUPPORTED_BGP_TYPES:
            return (f"FRR flavour (METALLB_BGP_TYPE={bgp_type or '-'}, containers {', '.join(others) or '-'}): "
                    "the lab runs native-mode speakers only (Helm: speaker.frr.enabled=false; manifest: "
                    "metallb-native.yaml)")
    return None


def field_ref(pod: dict, path: str) -> str:
    fields = {
        "metadata.name": pod["metadata"]["name"],
        "metadata.namespace": pod["metadata"]["namespace"],
        "metadata.uid": pod["metadata"].get("uid", ""),
        "spec.nodeName": pod["spec"].get("nodeName", ""),
        "spec.serviceAccountName": pod["spec"].get("serviceAccountName", "default"),
        "status.podIP": pod.get("status", {}).get("podIP", ""),
        "status.hostIP": pod.get("status", {}).get("hostIP", ""),
    }
    m = re.fullmatch(r"metadata\.(labels|annotations)\['(.+)'\]", path)
    if m:
        return (pod["metadata"].get(m.group(1)) or {}).get(m.group(2), "")
    if path not in fields:
        raise ValueError(f"fieldRef {path} is not supported by the lab's supervisor")
    return fields[path]


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' $(VAR) expansion (unknown references stay as they are)."""
    return _VAR_REF.sub(lambda m: env.get(m.group(1), m.group(0)), text)


def resolve_env(pod: dict, container: dict, lookup) -> dict[str, str]:
    """The container's env as a kubelet resolves it. `lookup(kind, name)` returns the data of a
    Secret/ConfigMap in the pod's namespace (decoded), or None if it does not exist."""
    env: dict[str, str] = {}
    for e in container.get("env", []):
        name = e["name"]
        if "valueFrom" not in e:
            env[name] = expand(e.get("value", ""), env)
            continue
        src = e["valueFrom"]
        if "fieldRef" in src:
            env[name] = field_ref(pod, src["fieldRef"]["fieldPath"])
        elif "secretKeyRef" in src or "configMapKeyRef" in src:
            kind = "secrets" if "secretKeyRef" in src else "configmaps"
            ref = src.get("secretKeyRef") or src.get("configMapKeyRef")
            data = lookup(kind, ref["name"])
            if data is None or ref["key"] not in data:
                if ref.get("optional"):
                    continue
                raise LookupError(f"env {name}: {kind[:-1]} {ref['name']} key {ref['key']} not found")
            env[name] = data[ref["key"]].decode(errors="replace")
        else:
            raise ValueError(f"env {name}: {sorted(src)} is not supported by the lab's supervisor")
    return env


# ----------------------------------------------------------------------------- API

class Kube:
    """Stdlib HTTPS client with one kept-alive connection (polled twice a second)."""

    def __init__(self, c: Cluster):
        self.ctx = ssl.create_default_context(cafile=str(c.pki / "ca.crt"))
        self.ctx.load_cert_chain(str(c.pki / "admin.crt"), str(c.pki / "admin.key"))
        self.conn: http.client.HTTPSConnection | None = None

    def request(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPSConnection(V.CONTROL_ADDRESS, V.API_PORT, context=self.ctx, timeout=5)
            try:
                data = json.dumps(body).encode() if body is not None else None
                self.conn.request(method, path, body=data,
                                  headers={"Content-Type": "application/json"} if data else {})
                r = self.conn.getresponse()
                text = r.read()
                return r.status, (json.loads(text) if text else {})
            except (OSError, http.client.HTTPException, ValueError):
                with contextlib.suppress(Exception):
                    self.conn.close()
                self.conn = None
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def get(self, path: str) -> dict | None:
        status, obj = self.request("GET", path)
        if status == 404:
            return None
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {str(obj)[:200]}")
        return obj


# ----------------------------------------------------------------------------- one pod's process

class PodProcess:
    def __init__(self, sup: Supervisor, pod: dict, component: str):
        self.sup = sup
        self.pod = pod
        self.component = component
        self.uid = pod["metadata"]["uid"]
        self.ns, self.name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.node = pod["spec"].get("nodeName", "")
        self.svc = f"pod-{self.ns}.{self.name}"
        self.dir = sup.c.state / "pods" / f"{self.ns}.{self.name}"
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.next_start = 0.0
        self.state = "waiting"
        self.reason = ""
        self.started_at: float | None = None
        self.host_network = bool(pod["spec"].get("hostNetwork"))
        self.pod_ip = pod["status"].get("podIP", "")
        self.volumes: list[tuple[str, str, str, bool]] = []  # (kind, object, dir, optional)
        self.reported_volumes = False

    # -- what the pod needs
    def netns(self) -> Path:
        if self.host_network:
            return Path(f"/run/netns/{self.sup.c.name}-{self.node}")
        return self.sup.c.netns_path

    def _mounts(self, container: dict) -> list[tuple[str, Path]]:
        vols = {v["name"]: v for v in self.pod["spec"].get("volumes", [])}
        mounts = []
        self.volumes = []
        for vm in container.get("volumeMounts", []):
            v = vols.get(vm["name"], {})
            if "secret" in v or "configMap" in v:
                kind = "secrets" if "secret" in v else "configmaps"
                src = v.get("secret") or v.get("configMap")
                obj = src.get("secretName") or src.get("name")
                d = self.dir / "vol" / vm["name"]
                d.mkdir(parents=True, exist_ok=True)
                self.volumes.append((kind, obj, str(d), bool(src.get("optional"))))
                mounts.append((vm["mountPath"], d))
            elif not self.reported_volumes:
                # kube-api-access-* (projected token): the lab passes a token kubeconfig instead
                log(f"{self.svc}: volume {vm['name']} ({', '.join(k for k in v if k != 'name')}) not provided")
        self.reported_volumes = True
        return mounts

    def project(self) -> bool:
        """Write every Secret/ConfigMap volume; False if a required object does not exist yet
        (a kubelet does not start the container then either)."""
        ready = True
        for kind, obj, d, optional in self.volumes:
            data = self.sup.lookup(self.ns, kind, obj)
            if data is None:
                ready = ready and optional
                continue
            project_dir(Path(d), data)
        return ready

    def mount_script(self, mounts: list[tuple[str, Path]]) -> str:
        """sh commands, run in the private mount namespace, that put each volume at its path."""
        lines = ["set -e"]
        overlays: list[str] = []
        done: list[tuple[str, Path]] = []
        for target, src in sorted(mounts, key=lambda m: m[0].count("/")):
            inner = next((d for d in reversed(done) if target.startswith(d[0].rstrip("/") + "/")), None)
            if inner:  # nested inside a volume already mounted: its dir is ours
                (inner[1] / os.path.relpath(target, inner[0])).mkdir(parents=True, exist_ok=True)
            elif not os.path.lexists(target):
                anc = Path(target).parent
                while not anc.exists():
                    anc = anc.parent
                if str(anc) == "/":
                    raise RuntimeError(f"volume at {target}: would need an overlay on /")
                if not any(str(anc) == o or str(anc).startswith(o + "/") for o in overlays):
                    n = len(overlays)
                    up, work = self.dir / "overlay" / str(n) / "upper", self.dir / "overlay" / str(n) / "work"
                    up.mkdir(parents=True, exist_ok=True)
                    work.mkdir(parents=True, exist_ok=True)
                    lines.append(f"mount -t overlay overlay -o lowerdir={anc},upperdir={up},workdir={work} {anc}")
                    overlays.append(str(anc))
                lines.append(f"mkdir -p {shlex.quote(target)}")
            lines.append(f"mount --bind -o ro {shlex.quote(str(src))} {shlex.quote(target)}")
            done.append((target, src))
        lines.append('exec "$@"')
        return "\n".join(lines)

    def token_kubeconfig(self) -> Path:
        sa = self.pod["spec"].get("serviceAccountName") or "default"
        status, tr = self.sup.kube.request(
            "POST", f"/api/v1/namespaces/{self.ns}/serviceaccounts/{sa}/token",
            {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
             "spec": {"expirationSeconds": TOKEN_SECONDS,
                      "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": self.name, "uid": self.uid}}})
        if status != 201:
            raise RuntimeError(f"TokenRequest for {self.ns}/{sa}: {status} {str(tr)[:200]}")
        write_private(self.dir / "token", tr["status"]["token"])
        kc = self.dir / "kubeconfig"
        write_private(kc, f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {{server: "https://{V.CONTROL_ADDRESS}:{V.API_PORT}", certificate-authority: "{self.sup.c.pki / 'ca.crt'}"}}
users:
- name: {sa}
  user: {{tokenFile: "{self.dir / 'token'}"}}
contexts:
- name: lab
  context: {{cluster: lab, user: {sa}, namespace: {self.ns}}}
current-context: lab
""")
        return kc

    # -- lifecycle
    def start(self) -> None:
        container = main_container(self.pod, self.component)
        self.dir.mkdir(parents=True, exist_ok=True)
        mounts = self._mounts(container)
        if not self.project():
            self.state, self.reason = "waiting", "volume Secret/ConfigMap does not exist yet"
            return
        env = resolve_env(self.pod, container, lambda kind, obj: self.sup.lookup(self.ns, kind, obj))
        env.setdefault("METALLB_NAMESPACE", self.ns)
        args = [expand(a, env) for a in container.get("args", [])]
        if not self.netns().exists():
            self.state, self.reason = "unsupported", f"no lab host for node {self.node!r} ({self.netns()} missing)"
            return
        if not self.host_network:
            run(["ip", "-n", self.sup.c.netns, "addr", "replace", f"{self.pod_ip}/32", "dev", "lo"])
        if self.component == "speaker" and self.node not in self.sup.standin_off_nodes:
            self.sup.standin_off({self.node: f"real MetalLB speaker {self.ns}/{self.name}"})
        kc = self.token_kubeconfig()
        binary = self.sup.bins[self.component]
        argv = ["nsenter", f"--net={self.netns()}", "--", "unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", self.mount_script(mounts), "sh", str(binary), *args, f"--kubeconfig={kc}"]
        logf = self.sup.c.state / "logs" / f"{self.svc}.log"
        with open(logf, "ab") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} start (restart {self.restarts}): "
                      f"{shlex.join([str(binary), *args])}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         env={**ENV, **env}, cwd=self.dir, start_new_session=True)
        self.sup.c.pidfile(self.svc).write_text(f"{self.proc.pid} {_starttime(self.proc.pid)}\n")
        self.state, self.reason, self.started_at = "running", "", time.time()
        log(f"started {self.component} of pod {self.ns}/{self.name} on {self.node} ({self.netns().name}), "
            f"pid {self.proc.pid}")

    def exited(self) -> int | None:
        return self.proc.poll() if self.proc else None

    def stop(self, why: str, forget: bool = False) -> None:
        """End the process; `forget`: the pod is gone, so are its files (token, volumes)."""
        if self.proc and self.proc.poll() is None:
            end_processes([self.proc.pid], grace=5.0)
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=1)
        self.sup.c.pidfile(self.svc).unlink(missing_ok=True)
        if not self.host_network and self.pod_ip:
            run(["ip", "-n", self.sup.c.netns, "addr", "del", f"{self.pod_ip}/32", "dev", "lo"], check=False)
        log(f"stopped {self.component} of pod {self.ns}/{self.name} ({why})")
        self.proc = None
        self.state = "stopped"
        if forget:
            shutil.rmtree(self.dir, ignore_errors=True)

    def info(self) -> dict:
        return {"namespace": self.ns, "pod": self.name, "component": self.component, "node": self.node,
                "pod_ip": self.pod_ip, "state": self.state, "reason": self.reason,
                "pid": self.proc.pid if self.proc and self.proc.poll() is None else None,
                "restarts": self.restarts, "started": self.started_at,
                "netns": self.netns().name, "svc": self.svc}


# ----------------------------------------------------------------------------- the loop

class Supervisor:
    def __init__(self, name: str):
        self.c = Cluster(name)
        self.kube = Kube(self.c)
        self.procs: dict[str, PodProcess] = {}
        self.skipped: dict[str, dict] = {}  # uid -> info of pods not run (unsupported, not Running)
        self.bins: dict[str, Path] = {}
        self.bins_problem = ""
        self.bins_checked = 0.0
        self._lookup_cache: dict[tuple[str, str, str], dict | None] = {}
        self.status_file = self.c.state / "metallb" / "supervisor.json"
        self.stopping = False
        self.standin_off_nodes: set[str] = set()
        self.lab = None

    # -- helpers
    def find_binaries(self) -> None:
        if self.bins or time.monotonic() - self.bins_checked < 10:
            return
        self.bins_checked = time.monotonic()
        d = build.metallb_bin_dir()
        if d:
            self.bins = {"controller": d / "controller", "speaker": d / "speaker"}
            self.bins_problem = ""
            log(f"MetalLB {V.METALLB_VERSION} binaries: {d}")
        else:
            self.bins_problem = (f"MetalLB {V.METALLB_VERSION} binaries not built: run "
                                 f"`clusterctl build --metallb` (the supervisor never builds)")

    def lookup(self, ns: str, kind: str, name: str) -> dict[str, bytes] | None:
        key = (ns, kind, name)
        if key not in self._lookup_cache:
            obj = self.kube.get(f"/api/v1/namespaces/{ns}/{kind}/{name}")
            if obj is None:
                self._lookup_cache[key] = None
            else:
                data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()} if kind == "secrets" \
                    else {k: v.encode() for k, v in (obj.get("data") or {}).items()}
                if kind == "configmaps":
                    data.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
                self._lookup_cache[key] = data
        return self._lookup_cache[key]

    def _lab(self):
        if self.lab is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from metallb_lab.lab import Lab
            self.lab = Lab(self.c.name)
        return self.lab

    def standin_off(self, reasons: dict[str, str]) -> None:
        """Stop the stand-in speakers of these nodes, in parallel: {node: why}."""
        def one(node):
            t = time.monotonic()
            try:
                msg = self._lab().standin_off(node, reasons[node])
            except Exception as e:  # noqa: BLE001 - the lab may be half torn down; report and go on
                msg = f"{node}: stand-in speaker not stopped: {e}"
            return f"{msg} ({time.monotonic() - t:.1f} s)"
        if not reasons:
            return
        with ThreadPoolExecutor(max_workers=len(reasons)) as pool:
            for msg in pool.map(one, sorted(reasons)):
                log(msg)
        self.standin_off_nodes |= set(reasons)

    def standin_on(self, nodes: list[str]) -> None:
        def one(node):
            t = time.monotonic()
            try:
                msg = self._lab().standin_on(node)
            except Exception as e:  # noqa: BLE001
                msg = f"{node}: stand-in speaker not restarted: {e}"
            return f"{msg} ({time.monotonic() - t:.1f} s)"
        if not nodes:
            return
        with ThreadPoolExecutor(max_workers=len(nodes)) as pool:
            for msg in pool.map(one, nodes):
                log(msg)
        self.standin_off_nodes -= set(nodes)

    def list_pods(self) -> list[dict]:
        pods = {}
        for app_key, app, comp_key in LABEL_STYLES:
            sel = quote(f"{app_key}={app},{comp_key} in (controller,speaker)")
            for p in (self.kube.get(f"/api/v1/pods?labelSelector={sel}") or {}).get("items", []):
                pods[p["metadata"]["uid"]] = p
        return list(pods.values())

    # -- one round
    def step(self) -> None:
        self._lookup_cache = {}
        self.find_binaries()
        pods = self.list_pods()
        wanted: dict[str, tuple[dict, str]] = {}
        skipped: dict[str, dict] = {}
        for p in pods:
            comp = component_of(p)
            meta, st = p["metadata"], p.get("status", {})
            info = {"namespace": meta["namespace"], "pod": meta["name"], "component": comp,
                    "node": p["spec"].get("nodeName", ""), "pid": None}
            reason = unsupported_reason(p, comp, V.METALLB_VERSION)
            if reason:
                skipped[meta["uid"]] = {**info, "state": "unsupported", "reason": reason}
                if meta["uid"] not in self.skipped:
                    log(f"NOT running pod {meta['namespace']}/{meta['name']}: {reason}")
            elif meta.get("deletionTimestamp") or st.get("phase") != "Running" or not st.get("podIP"):
                skipped[meta["uid"]] = {**info, "state": "waiting",
                                        "reason": "being deleted" if meta.get("deletionTimestamp")
                                        else f"pod {st.get('phase', 'Pending')}, no IP yet" if not st.get("podIP")
                                        else f"pod {st.get('phase')}"}
            elif not self.bins:
                skipped[meta["uid"]] = {**info, "state": "waiting", "reason": self.bins_problem}
            else:
                wanted[meta["uid"]] = (p, comp)
        self.skipped = skipped

        # stops first: a replacing speaker binds the same node address and ports
        gone = [self.procs.pop(u) for u in list(self.procs) if u not in wanted]
        if gone:
            with ThreadPoolExecutor(max_workers=len(gone)) as pool:
                list(pool.map(lambda pp: pp.stop("pod gone or no longer runnable", forget=True), gone))
        # stand-ins off in parallel for every speaker about to start (one by one: ~1 s each)
        self.standin_off({p["spec"]["nodeName"]: f"real MetalLB speaker {p['metadata']['namespace']}/"
                          f"{p['metadata']['name']}" for uid, (p, comp) in wanted.items()
                          if comp == "speaker" and p["spec"].get("nodeName") not in self.standin_off_nodes})
        for uid, (p, comp) in wanted.items():
            pp = self.procs.get(uid)
            if pp is None:
                pp = self.procs[uid] = PodProcess(self, p, comp)
            else:
                pp.pod = p
            rc = pp.exited()
            if pp.proc is not None and rc is not None:
                pp.restarts += 1
                delay = min(2 ** (pp.restarts - 1), 30)
                log(f"{pp.svc} exited rc {rc}; restart {pp.restarts} in {delay} s; log {pp.svc}.log")
                pp.proc, pp.state, pp.reason = None, "backoff", f"exited rc {rc}"
                pp.next_start = time.monotonic() + delay
            if pp.proc is None and time.monotonic() >= pp.next_start:
                try:
                    pp.start()
                except Exception as e:  # noqa: BLE001 - reported in the status, retried
                    pp.state, pp.reason = "failed", str(e)
                    pp.next_start = time.monotonic() + 5
                    log(f"{pp.svc}: start failed: {e}")
            elif pp.proc is not None:
                pp.project()
        # off while a runnable speaker pod is on the node (also while it waits or restarts)
        speaker_nodes = {pp.node for pp in self.procs.values() if pp.component == "speaker"}
        self.standin_on(sorted(self.standin_off_nodes - speaker_nodes))

    def write_status(self, problem: str = "") -> None:
        st = {"pid": os.getpid(), "updated": time.time(), "version": V.METALLB_VERSION,
              "binaries": self.bins_problem or "ok", "problem": problem,
              "pods": sorted([pp.info() for pp in self.procs.values()] + list(self.skipped.values()),
                             key=lambda i: (i["component"] or "", i["node"], i["pod"])),
              "standin_off": sorted(self.standin_off_nodes)}
        tmp = self.status_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(st, indent=1))
        tmp.replace(self.status_file)

    def end_leftovers(self) -> None:
        """Children of a supervisor that was killed: end them, they are started afresh."""
        for f in (self.c.state / "pids").glob("pod-*.pid"):
            pid = self.c.pid(f.stem)
            if pid:
                log(f"ending {f.stem} (pid {pid}) left by a previous supervisor")
                end_processes([pid])
            f.unlink(missing_ok=True)
        self.standin_off_nodes |= {d.parent.name for d in self.c.lab_state.glob("hosts/node*/standin-off.json")}

    def shutdown(self) -> None:
        log("stopping: every MetalLB process, then the stand-in speakers come back")
        with ThreadPoolExecutor(max_workers=max(1, len(self.procs))) as pool:
            list(pool.map(lambda pp: pp.stop("supervisor stopping", forget=True), list(self.procs.values())))
        self.procs.clear()
        self.standin_on(sorted(self.standin_off_nodes))
        self.write_status("supervisor stopped")

    def run(self) -> int:
        (self.c.state / "metallb").mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stopping", True))
        self.end_leftovers()
        log(f"supervising MetalLB pods of cluster {self.c.name} (both label styles, any namespace)")
        last_err = ""
        while not self.stopping:
            t = time.monotonic()
            problem = ""
            try:
                self.step()
            except (OSError, http.client.HTTPException, RuntimeError, ValueError) as e:
                problem = f"API: {e}"
                if problem != last_err:
                    log(problem)
            last_err = problem
            self.write_status(problem)
            while not self.stopping and time.monotonic() - t < POLL:
                time.sleep(0.05)
        self.shutdown()
        return 0


# ----------------------------------------------------------------------------- small utilities

def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {p.stderr.strip()}")
    return p


def write_private(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def project_dir(d: Path, data: dict[str, bytes]) -> None:
    """d = data, like the kubelet's atomic writer: changed keys replaced by rename, removed
    keys deleted; subdirectories (nested mount points) left alone."""
    for k, v in data.items():
        p = d / k
        if p.is_file() and p.read_bytes() == v:
            continue
        tmp = d / f".{k}.tmp"
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(v)
        os.replace(tmp, p)
    for p in d.iterdir():
        if p.is_file() and not p.name.startswith(".") and p.name not in data:
            p.unlink()


def read_status(c: Cluster) -> dict:
    try:
        return json.loads((c.state / "metallb" / "supervisor.json").read_text())
    except (OSError, ValueError):
        return {}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="supervisor")
    ap.add_argument("--name", required=True)
    a = ap.parse_args(argv)
    return Supervisor(a.name).run()


if __name__ == "__main__":
    sys.exit(main())
