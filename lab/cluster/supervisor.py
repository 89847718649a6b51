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

Only what the lab has binaries for runs: images tagged versions.METALLB_VERSION (or another of
METALLB_VERSIONS when built, for upgrades), native BGP mode. Another version, or the FRR /
frr-k8s flavour, is reported (log and `state/metallb/supervisor.json`, shown by `clusterctl
status`), never run. Binaries are looked
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
from . import frr_pods as fp
from . import versions as V
from .control import ENV, Cluster, _starttime, end_processes, log

POLL = 0.5
COMPONENTS = ("controller", "speaker")
# (label with the app name, its value, label with the component): manifest and Helm chart
LABEL_STYLES = (("app", "metallb", "component"),
                ("app.kubernetes.io/name", "metallb", "app.kubernetes.io/component"))
# pods that peer with the router from their node's address (the stand-in FRR must be off)
BGP_COMPONENTS = ("speaker", "frr-k8s")
TOKEN_SECONDS = 86400
_VAR_REF = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


# ----------------------------------------------------------------------------- pure helpers

def component_of(pod: dict) -> str | None:
    """controller, speaker (MetalLB's pods, both label styles), frr-k8s or statuscleaner."""
    labels = pod.get("metadata", {}).get("labels") or {}
    for app_key, app, comp_key in LABEL_STYLES:
        if labels.get(app_key) == app and labels.get(comp_key) in COMPONENTS:
            return labels[comp_key]
    return fp.frr_k8s_component(pod)


def pod_plan(pod: dict, versions: dict[str, str], files: dict[str, str]) -> list[fp.Launch]:
    """The pod's containers as the lab runs them, main one (MetalLB's, else the first) first.
    Raises fp.Unsupported naming the container the lab cannot run."""
    kinds = {v["name"]: next((k for k in ("secret", "configMap", "emptyDir", "projected", "hostPath")
                              if k in v), "other") for v in pod["spec"].get("volumes", [])}
    containers = pod["spec"].get("containers", [])
    if not containers:
        raise fp.Unsupported("no containers in the pod")
    launches = [fp.plan_container(c, versions, files, kinds) for c in containers]
    return sorted(launches, key=lambda x: x.kind != "metallb")


def unsupported_reason(pod: dict, versions: dict[str, str], files: dict[str, str]) -> str | None:
    """Why the lab cannot run this pod, or None."""
    try:
        pod_plan(pod, versions, files)
        for ic in pod["spec"].get("initContainers", []):
            fp.init_copies(ic, {vm["mountPath"]: vm["mountPath"] for vm in ic.get("volumeMounts", [])},
                           fp.image_files(ic.get("image", ""), files))
    except fp.Unsupported as e:
        return str(e)
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

class ContainerRun:
    """One container's process (restarted with a backoff when it exits, as a kubelet would)."""

    def __init__(self, launch: fp.Launch, svc: str):
        self.launch = launch
        self.svc = svc
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.next_start = 0.0
        self.state = "waiting"
        self.reason = ""
        self.started_at: float | None = None

    def pid(self) -> int | None:
        return self.proc.pid if self.proc and self.proc.poll() is None else None

    def info(self) -> dict:
        return {"name": self.launch.name, "kind": self.launch.kind, "image": self.launch.image,
                "state": self.state, "reason": self.reason, "pid": self.pid(), "restarts": self.restarts,
                "started": self.started_at, "svc": self.svc}


class PodProcess:
    """The processes of one pod: its containers, their shared volumes, its init containers' copies."""

    def __init__(self, sup: Supervisor, pod: dict, component: str, launches: list[fp.Launch] | None = None):
        self.sup = sup
        self.pod = pod
        self.component = component
        self.uid = pod["metadata"]["uid"]
        self.ns, self.name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        self.node = pod["spec"].get("nodeName", "")
        self.svc = f"pod-{self.ns}.{self.name}"
        self.dir = sup.c.state / "pods" / f"{self.ns}.{self.name}"
        self.host_network = bool(pod["spec"].get("hostNetwork"))
        self.pod_ip = pod["status"].get("podIP", "")
        self.volumes: list[tuple[str, str, str, bool]] = []  # (kind, object, dir, optional)
        self.reported_volumes = False
        self.initialized = False
        self.runs: list[ContainerRun] = [
            ContainerRun(lc, self.svc if i == 0 else f"{self.svc}.{lc.name}") for i, lc in enumerate(launches or [])]
        self.state, self.reason = "waiting", ""

    # -- what the pod needs
    def netns(self) -> Path:
        if self.host_network:
            return Path(f"/run/netns/{self.sup.c.name}-{self.node}")
        return self.sup.c.netns_path

    def node_mnt(self) -> Path:
        return self.sup.c.lab_state / "ns" / f"{self.node}.mnt"

    def volume_dirs(self) -> dict[str, tuple[Path, bool]]:
        """{volume name: (dir on this machine, read-only)} for Secret, ConfigMap and emptyDir
        volumes; registers the projected ones for `project`."""
        out: dict[str, tuple[Path, bool]] = {}
        self.volumes = []
        frr_pod = any(r.launch.node_mounts for r in self.runs)
        for v in self.pod["spec"].get("volumes", []):
            if "secret" in v or "configMap" in v:
                kind = "secrets" if "secret" in v else "configmaps"
                src = v.get("secret") or v.get("configMap")
                d = self.dir / "vol" / v["name"]
                d.mkdir(parents=True, exist_ok=True)
                self.volumes.append((kind, src.get("secretName") or src.get("name"), str(d), bool(src.get("optional"))))
                out[v["name"]] = (d, True)
            elif "emptyDir" in v:
                d = self.dir / "empty" / v["name"]
                if not d.exists():
                    d.mkdir(parents=True)
                    if frr_pod:  # FRR's daemons write there as user frr
                        shutil.chown(d, "frr", "frr")
                    os.chmod(d, 0o777 if not frr_pod else 0o775)
                out[v["name"]] = (d, False)
            elif "projected" in v and all(set(src) & {"serviceAccountToken", "configMap", "downwardAPI"}
                                          for src in v["projected"].get("sources", [])):
                # kube-api-access-*: the ServiceAccount token, the cluster CA, the namespace
                d = self.dir / "vol" / v["name"]
                d.mkdir(parents=True, exist_ok=True)
                self.volumes.append(("projected", v["name"], str(d), False))
                out[v["name"]] = (d, True)
            elif not self.reported_volumes:
                log(f"{self.svc}: volume {v['name']} ({', '.join(k for k in v if k != 'name')}) not provided")
        self.reported_volumes = True
        return out

    def _mounts(self, run: ContainerRun, vols: dict[str, tuple[Path, bool]]) -> list[tuple[str, str, bool]]:
        tmp = self.dir / "tmp" / run.launch.name  # a /tmp of the container's own
        tmp.mkdir(parents=True, exist_ok=True)
        os.chmod(tmp, 0o1777)
        out = [("/tmp", str(tmp), False)]
        # the binaries and scripts a container runs may sit under /tmp (METALLB_LAB_CACHE,
        # GOMODCACHE): the private /tmp would hide them, so they are bound into it
        out += [(str(d), str(d), True) for d in build.runtime_dirs() if str(d).startswith("/tmp/")]
        for mp, v in run.launch.mounts:
            if v not in vols:
                continue
            if not run.launch.node_mounts and os.path.realpath(mp).startswith("/run/"):
                # the machine's /run would need an overlay: the credentials come as a kubeconfig
                continue
            out.append((mp, str(vols[v][0]), vols[v][1]))
        return out

    def project(self) -> bool:
        """Write every Secret/ConfigMap volume; False if a required object does not exist yet
        (a kubelet does not start the container then either)."""
        ready = True
        for kind, obj, d, optional in self.volumes:
            if kind == "projected":
                ready = self.project_projected(obj, Path(d)) and ready
                continue
            data = self.sup.lookup(self.ns, kind, obj)
            if data is None:
                ready = ready and optional
                continue
            project_dir(Path(d), data)
        return ready

    def project_projected(self, volume: str, d: Path) -> bool:
        """A projected volume of ServiceAccount token, ConfigMap and downward API sources."""
        v = next(x for x in self.pod["spec"]["volumes"] if x["name"] == volume)
        data: dict[str, bytes] = {}
        for src in v["projected"].get("sources", []):
            if "serviceAccountToken" in src:
                if not (self.dir / "token").exists():
                    return False
                data[src["serviceAccountToken"].get("path", "token")] = (self.dir / "token").read_bytes()
            elif "configMap" in src:
                cm = self.sup.lookup(self.ns, "configmaps", src["configMap"]["name"])
                if cm is None:
                    return False
                for item in src["configMap"].get("items") or [{"key": k, "path": k} for k in cm]:
                    if item["key"] in cm:
                        data[item["path"]] = cm[item["key"]]
            else:
                for item in src["downwardAPI"].get("items", []):
                    if "fieldRef" in item:
                        data[item["path"]] = field_ref(self.pod, item["fieldRef"]["fieldPath"]).encode()
        project_dir(d, data)
        return True

    def run_init_containers(self, vols: dict[str, tuple[Path, bool]]) -> None:
        """What the pod's init containers do (cp from the image or a volume into a volume)."""
        vol_by_name = {n: str(d) for n, (d, ro) in vols.items()}
        for ic in self.pod["spec"].get("initContainers", []):
            img = fp.image_files(ic.get("image", ""), self.sup.files)
            dirs = {vm["mountPath"]: vol_by_name[vm["name"]] for vm in ic.get("volumeMounts", [])
                    if vm["name"] in vol_by_name}
            frr_owned = fp.image_kind(ic.get("image", "")) == "frr"
            for src, dest in fp.init_copies(ic, dirs, img):
                pairs = ([(s, Path(dest) / s.name) for s in sorted(Path(src[:-2]).iterdir())]
                         if src.endswith("/*") else [(Path(src), Path(dest))])
                for s, d in pairs:
                    if s.name.startswith(".") or not s.is_file():
                        continue  # the projection's temporary files
                    shutil.copyfile(s, d)
                    os.chmod(d, 0o755 if str(s) in img.values() else 0o640)
                    if frr_owned:
                        shutil.chown(d, "frr", "frr")
            log(f"{self.svc}: init container {ic.get('name')} done")
        self.initialized = True

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
    def prepare(self) -> dict[str, tuple[Path, bool]] | None:
        """Volumes projected, init containers run, pod IP and token in place; None if not yet."""
        self.dir.mkdir(parents=True, exist_ok=True)
        vols = self.volume_dirs()
        if not (self.dir / "kubeconfig").exists():
            self.token_kubeconfig()
        if not self.project():
            self.state, self.reason = "waiting", "volume Secret/ConfigMap does not exist yet"
            return None
        if not self.netns().exists():
            self.state, self.reason = "unsupported", f"no lab host for node {self.node!r} ({self.netns()} missing)"
            return None
        if not self.initialized:
            self.run_init_containers(vols)
            if not self.host_network:
                run(["ip", "-n", self.sup.c.netns, "addr", "replace", f"{self.pod_ip}/32", "dev", "lo"])
        self.state, self.reason = "starting", ""
        return vols

    def start_container(self, cr: ContainerRun, vols: dict[str, tuple[Path, bool]]) -> None:
        container = next(c for c in self.pod["spec"]["containers"] if c.get("name") == cr.launch.name)
        env = resolve_env(self.pod, container, lambda kind, obj: self.sup.lookup(self.ns, kind, obj))
        kc = self.dir / "kubeconfig"
        # what a kubelet gives every container (in-cluster config): the API server itself
        env.update({"KUBERNETES_SERVICE_HOST": V.CONTROL_ADDRESS, "KUBERNETES_SERVICE_PORT": str(V.API_PORT)})
        argv = [cr.launch.argv[0], *(expand(a, env) for a in cr.launch.argv[1:])]
        if cr.launch.kind == "metallb":
            env.setdefault("METALLB_NAMESPACE", self.ns)
            argv.append(f"--kubeconfig={kc}")
        elif cr.launch.kubeconfig == "env":
            env["KUBECONFIG"] = str(kc)
        enter = ["nsenter", f"--net={self.netns()}"]
        if cr.launch.node_mounts:
            if not self.node_mnt().exists():
                raise RuntimeError(f"no mount namespace of lab host {self.node} ({self.node_mnt()})")
            enter += [f"--mount={self.node_mnt()}", f"--uts={self.node_mnt().with_suffix('.uts')}"]
        overlay = self.dir / "overlay" / cr.launch.name
        overlay.mkdir(parents=True, exist_ok=True)
        script = fp.mount_script(self._mounts(cr, vols), str(overlay),
                                 fp.NODE_DIRECT if cr.launch.node_mounts else ())
        full = [*enter, "--", "unshare", "--mount", "--propagation", "private", "--",
                "sh", "-c", script, "sh", *argv]
        logf = self.sup.c.state / "logs" / f"{cr.svc}.log"
        with open(logf, "ab") as out:
            out.write(f"--- {time.strftime('%H:%M:%S')} start (restart {cr.restarts}): {shlex.join(argv)}\n".encode())
            out.flush()
            cr.proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                       env={**ENV, **env}, cwd=self.dir, start_new_session=True)
        self.sup.c.pidfile(cr.svc).write_text(f"{cr.proc.pid} {_starttime(cr.proc.pid)}\n")
        cr.state, cr.reason, cr.started_at = "running", "", time.time()
        log(f"started {cr.launch.name} ({cr.launch.kind}) of pod {self.ns}/{self.name} on {self.node} "
            f"({self.netns().name}), pid {cr.proc.pid}")

    def tick(self) -> None:
        """Start what is not running (after its backoff), notice exits, keep volumes in sync."""
        now = time.monotonic()
        for cr in self.runs:
            rc = cr.proc.poll() if cr.proc else None
            if cr.proc is not None and rc is not None:
                cr.restarts += 1
                delay = min(2 ** (cr.restarts - 1), 30)
                log(f"{cr.svc} exited rc {rc}; restart {cr.restarts} in {delay} s; log {cr.svc}.log")
                if cr.launch.kind == "frr-daemons":
                    self.end_daemons()
                cr.proc, cr.state, cr.reason = None, "backoff", f"exited rc {rc}"
                cr.next_start = now + delay
        due = [cr for cr in self.runs if cr.proc is None and now >= cr.next_start]
        if due:
            try:
                vols = self.prepare()
                for cr in due if vols is not None else []:
                    self.start_container(cr, vols)
            except Exception as e:  # noqa: BLE001 - reported in the status, retried
                for cr in due:
                    if cr.proc is None:
                        cr.state, cr.reason, cr.next_start = "failed", str(e), time.monotonic() + 5
                log(f"{self.svc}: start failed: {e}")
        elif self.initialized:
            self.project()
        up = [cr for cr in self.runs if cr.pid()]
        self.state = "running" if len(up) == len(self.runs) else "starting" if up else self.state

    def end_daemons(self) -> None:
        vols = {v["name"]: v for v in self.pod["spec"].get("volumes", [])}
        for cr in self.runs:
            if cr.launch.kind != "frr-daemons":
                continue
            for mp, v in cr.launch.mounts:
                if mp.rstrip("/") in ("/var/run/frr", "/run/frr") and "emptyDir" in vols.get(v, {}):
                    ended = fp.end_frr_daemons(self.dir / "empty" / v, self.netns())
                    if ended:
                        log(f"{self.svc}: FRR daemons ended: {' '.join(ended)}")

    def stop(self, why: str, forget: bool = False) -> None:
        """End the processes; `forget`: the pod is gone, so are its files (token, volumes)."""
        pids = [cr.proc.pid for cr in self.runs if cr.proc and cr.proc.poll() is None]
        if pids:
            end_processes(pids, grace=5.0)
        self.end_daemons()
        for cr in self.runs:
            if cr.proc:
                with contextlib.suppress(Exception):
                    cr.proc.wait(timeout=1)
            self.sup.c.pidfile(cr.svc).unlink(missing_ok=True)
            cr.proc, cr.state = None, "stopped"
        if not self.host_network and self.pod_ip:
            run(["ip", "-n", self.sup.c.netns, "addr", "del", f"{self.pod_ip}/32", "dev", "lo"], check=False)
        log(f"stopped {self.component} pod {self.ns}/{self.name} ({why})")
        self.state = "stopped"
        if forget:
            shutil.rmtree(self.dir, ignore_errors=True)

    def info(self) -> dict:
        main = self.runs[0] if self.runs else None
        bad = next((cr for cr in self.runs if not cr.pid()), None)
        return {"namespace": self.ns, "pod": self.name, "component": self.component, "node": self.node,
                "pod_ip": self.pod_ip, "mode": fp.bgp_mode(self.pod),
                "state": self.state if bad is None or self.state in ("waiting", "unsupported") else bad.state,
                "reason": self.reason or (f"{bad.launch.name}: {bad.reason}" if bad and bad.reason else ""),
                "pid": main.pid() if main else None,
                "restarts": sum(cr.restarts for cr in self.runs),
                "started": main.started_at if main else None,
                "netns": self.netns().name, "svc": self.svc,
                "containers": [cr.info() for cr in self.runs]}


# ----------------------------------------------------------------------------- the loop

class Supervisor:
    def __init__(self, name: str):
        self.c = Cluster(name)
        self.kube = Kube(self.c)
        self.procs: dict[str, PodProcess] = {}
        self.skipped: dict[str, dict] = {}  # uid -> info of pods not run (unsupported, not Running)
        self.bins: dict[str, Path] = {}
        self.files: dict[str, str] = {}  # what images' programs map to (frr_pods.plan_container)
        self.versions: dict[str, str] = {"metallb": V.METALLB_VERSION}
        self.bins_problem = ""
        self.bins_checked = 0.0
        self._lookup_cache: dict[tuple[str, str, str], dict | None] = {}
        self.status_file = self.c.state / "metallb" / "supervisor.json"
        self.stopping = False
        self.standin_off_nodes: set[str] = set()
        self.lab = None

    # -- helpers
    def find_binaries(self) -> None:
        if (self.bins and "frr-k8s" in self.versions) or time.monotonic() - self.bins_checked < 10:
            return
        self.bins_checked = time.monotonic()
        d = build.metallb_bin_dir()
        if d and not self.bins:
            self.bins = {"controller": d / "controller", "speaker": d / "speaker"}
            self.files.update({k: str(v) for k, v in self.bins.items()})
            module = build.module_cache_dir("go.universe.tf/metallb", V.METALLB_VERSION)
            if module:
                self.files["metallb-module"] = str(module)
            tools = build.metallb_frr_tools_bin_dir()
            if tools:
                self.files["metallb-frr-metrics"] = str(tools / "metrics")
            self.bins_problem = ""
            log(f"MetalLB {V.METALLB_VERSION} binaries: {d}")
        elif not d:
            self.bins_problem = (f"MetalLB {V.METALLB_VERSION} binaries not built: run "
                                 f"`clusterctl build --metallb` (the supervisor never builds)")
        for version in V.METALLB_VERSIONS[1:]:  # older versions a cluster may run before an upgrade
            older = build.metallb_bin_dir(version)
            if older and f"speaker@{version}" not in self.files:
                self.files.update({f"{b}@{version}": str(older / b) for b in ("controller", "speaker")})
                log(f"MetalLB {version} binaries: {older}")
        found = build.frr_k8s_bin_dir()
        if found and "frr-k8s" not in self.versions:
            version, fd = found
            self.versions["frr-k8s"] = version
            self.files.update({b: str(fd / b) for b in build.FRR_K8S_BINARIES})
            module = build.module_cache_dir("github.com/metallb/frr-k8s", version)
            if module:
                self.files["frr-k8s-module"] = str(module)
            log(f"frr-k8s {version} binaries: {fd}; module {module}")

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
        sels = [f"{app_key}={app},{comp_key} in (controller,speaker)" for app_key, app, comp_key in LABEL_STYLES]
        sels.append(f"{fp.FRR_K8S_COMPONENT_LABEL} in ({','.join(fp.FRR_K8S_COMPONENTS)})")
        for sel in sels:
            for p in (self.kube.get(f"/api/v1/pods?labelSelector={quote(sel)}") or {}).get("items", []):
                pods[p["metadata"]["uid"]] = p
        return list(pods.values())

    # -- one round
    def step(self) -> None:
        self._lookup_cache = {}
        self.find_binaries()
        pods = self.list_pods()
        wanted: dict[str, tuple[dict, str]] = {}  # uid -> (pod, component)
        skipped: dict[str, dict] = {}
        for p in pods:
            comp = component_of(p)
            meta, st = p["metadata"], p.get("status", {})
            info = {"namespace": meta["namespace"], "pod": meta["name"], "component": comp,
                    "node": p["spec"].get("nodeName", ""), "pid": None}
            reason = unsupported_reason(p, self.versions, self.files)
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
                          if comp in BGP_COMPONENTS and p["spec"].get("nodeName") not in self.standin_off_nodes})
        for uid, (p, comp) in wanted.items():
            pp = self.procs.get(uid)
            if pp is None:
                pp = self.procs[uid] = PodProcess(self, p, comp, pod_plan(p, self.versions, self.files))
            else:
                pp.pod = p
            pp.tick()
        # off while a runnable speaker pod is on the node (also while it waits or restarts)
        speaker_nodes = {pp.node for pp in self.procs.values() if pp.component in BGP_COMPONENTS}
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
        # FRR daemons of frr-k8s / FRR-mode pods: watchfrr's children outlive it
        for run_dir in self.c.state.glob("pods/*/empty/*"):
            for netns in Path("/run/netns").glob(f"{self.c.name}-node*"):
                ended = fp.end_frr_daemons(run_dir, netns)
                if ended:
                    log(f"ended FRR daemons {' '.join(ended)} left by a previous supervisor ({run_dir})")
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
