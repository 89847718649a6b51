# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`up`, `down` and `status` of the lab's Kubernetes control plane.

Layout, for lab NAME (built by `labctl up --name NAME` first):

    NAME-control   a network namespace of its own (the lab has no PID namespace, so its
                   processes are found by this namespace, never by name); `eth0`
                   198.51.100.2/24 on the lab's bridge (veth `control` in NAME-sw), so nodes
                   reach the API server on the segment. etcd, KCM, the scheduler and kwok
                   listen on 127.0.0.1 *of this namespace* only; the API server on
                   198.51.100.2:6443.
    relay          forward.py: 127.0.0.1:<port> of the root namespace -> 198.51.100.2:6443,
                   for Ansible and the tests (see forward.py for why).

    /run/metallb-lab/NAME/cluster/     (the lab's state dir; tmpfs, gone with `down`)
        cluster.json   proof that NAME-control is ours, the relay port, kubeconfigs written
        pki/           certificates and keys (0700; keys 0600)
        pids/<svc>.pid "PID STARTTIME": a recycled PID is never signalled
        logs/<svc>.log
        etcd/          etcd data (--unsafe-no-fsync: a lab, on tmpfs)
        *.kubeconfig   per component, server https://198.51.100.2:6443

Every process is started as `nsenter --net=... -- setsid BINARY ...` through Popen: nsenter and
setsid both exec, so the PID we record is the daemon's own (a backgrounded shell function would
give a subshell's PID). The environment is a fixed minimal one: no HTTP(S)_PROXY, so webhook
calls of the API server never leave the namespace.
"""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

from . import build, pki
from . import versions as V

STATE_ROOT = Path("/run/metallb-lab")
HEADER = "# Written by lab/clusterctl.py for lab {name}; removed by `clusterctl down`.\n"
SERVICES = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "relay",
            "metallb-supervisor")
INVENTORY_VARS = "lab_cluster.yml"  # the inventory source clusterctl owns beside labctl's hosts.yml
ENV = {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG": "C.UTF-8"}
KWOK_ANNOTATION = "kwok.x-k8s.io/node"


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(argv: list[str], check: bool = True, **kw) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: rc {p.returncode}: {p.stderr.strip()}")
    return p


# ----------------------------------------------------------------------------- naming, state

class Cluster:
    def __init__(self, name: str):
        self.name = name
        self.lab_state = STATE_ROOT / name
        self.state = self.lab_state / "cluster"
        self.netns = f"{name}-control"
        self.netns_path = Path("/run/netns") / self.netns
        self.sw = f"{name}-sw"
        self.pki = self.state / "pki"
        self.meta_file = self.state / "cluster.json"

    # -- metadata
    def meta(self) -> dict:
        try:
            return json.loads(self.meta_file.read_text())
        except (OSError, ValueError):
            return {}

    def save_meta(self, meta: dict) -> None:
        tmp = self.meta_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=2))
        tmp.replace(self.meta_file)

    # -- processes
    def pidfile(self, svc: str) -> Path:
        return self.state / "pids" / f"{svc}.pid"

    def pid(self, svc: str) -> int | None:
        """The service's PID if that process is still the one we started (start time matches)."""
        try:
            pid, start = self.pidfile(svc).read_text().split()
        except (OSError, ValueError):
            return None
        return int(pid) if _starttime(int(pid)) == start else None

    def spawn(self, svc: str, argv: list[str], pass_fds: tuple[int, ...] = (),
              netns_path: Path | None = None, env: dict[str, str] | None = None) -> int:
        logf = self.state / "logs" / f"{svc}.log"
        with open(logf, "ab") as out:
            p = subprocess.Popen(["nsenter", f"--net={netns_path or self.netns_path}", "--", *argv],
                                 stdin=subprocess.DEVNULL, stdout=out, stderr=out, env={**ENV, **(env or {})},
                                 cwd=self.state, start_new_session=True, pass_fds=pass_fds)
        # start time read right away: nsenter has exec'd (or is about to); the PID is the same
        self.pidfile(svc).write_text(f"{p.pid} {_starttime(p.pid)}\n")
        log(f"started {svc} pid {p.pid}")
        return p.pid

    def log_tail(self, svc: str, n: int = 25) -> str:
        try:
            lines = (self.state / "logs" / f"{svc}.log").read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join("    " + ln for ln in lines[-n:])

    # -- in-namespace helpers
    def ns_http_ok(self, url: str) -> bool:
        return run(["nsenter", f"--net={self.netns_path}", "--", "curl", "-fsSk", "--max-time", "1",
                    "-o", "/dev/null", url], check=False).returncode == 0

    def kubeconfig_path(self, who: str) -> Path:
        return self.state / f"{who}.kubeconfig"


def _starttime(pid: int) -> str | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]  # field 22: starttime


def _alive(pid: int) -> bool:
    """Running, not a zombie: our daemons are reparented when clusterctl exits, and their
    reaper (init or a subreaper) may take a moment; a zombie has ended all the same."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _netns_inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def pids_in_netns(inode: int) -> list[int]:
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError):
                if os.stat(d / "ns" / "net").st_ino == inode:
                    pids.append(int(d.name))
    return pids


def end_processes(pids: list[int], grace: float = 5.0) -> None:
    """SIGTERM, wait up to `grace` s, then SIGKILL what is left."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    for pid in pids:
        if _alive(pid):
            log(f"pid {pid} ignored SIGTERM for {grace:.0f} s: SIGKILL")
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.05)


# ----------------------------------------------------------------------------- API access

class Api:
    """Minimal HTTPS client (stdlib) to the API server through the root-namespace relay."""

    def __init__(self, c: Cluster, port: int):
        self.port = port
        self.ctx = ssl.create_default_context(cafile=str(c.pki / "ca.crt"))
        self.ctx.load_cert_chain(str(c.pki / "admin.crt"), str(c.pki / "admin.key"))

    def request(self, method: str, path: str, body: dict | None = None, timeout: float = 5.0):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port, context=self.ctx, timeout=timeout)
        try:
            data = json.dumps(body).encode() if body is not None else None
            conn.request(method, path, body=data, headers={"Content-Type": "application/json"} if data else {})
            r = conn.getresponse()
            return r.status, r.read().decode(errors="replace")
        finally:
            conn.close()

    def ok(self, path: str) -> bool:
        try:
            return self.request("GET", path, timeout=2)[0] == 200
        except (OSError, http.client.HTTPException):
            return False

    def get(self, path: str) -> dict:
        status, text = self.request("GET", path)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status} {text[:300]}")
        return json.loads(text)


# ----------------------------------------------------------------------------- lab

def lab_info(name: str) -> dict:
    lab_json = STATE_ROOT / name / "lab.json"
    if not lab_json.exists() or not Path(f"/run/netns/{name}-sw").exists():
        raise RuntimeError(f"lab {name!r} is not up: run `python3 lab/labctl.py up --name {name}` first")
    return json.loads(lab_json.read_text())


def node_address(k: int) -> str:
    return f"198.51.100.{10 + k}"


def node_address6(k: int) -> str:
    """The node host's address on the lab's IPv6 segment (labctl's plan: the IPv4 octet's digits)."""
    return f"2001:db8:100::{10 + k}"


# dual-stack, IPv4 first (the primary family: Services without ipFamilies stay IPv4)
SERVICE_RANGES = f"{V.SERVICE_CIDR},{V.SERVICE_CIDR6}"
CLUSTER_RANGES = f"{V.CLUSTER_CIDR},{V.CLUSTER_CIDR6}"


# ----------------------------------------------------------------------------- network

def ensure_network(c: Cluster) -> None:
    if not c.netns_path.exists():
        run(["ip", "netns", "add", c.netns])
        log(f"netns {c.netns}")
    sw_links = {l["ifname"] for l in json.loads(run(["ip", "-n", c.sw, "-j", "link", "show"]).stdout)}
    ns_links = {l["ifname"] for l in json.loads(run(["ip", "-n", c.netns, "-j", "link", "show"]).stdout)}
    if "eth0" not in ns_links:
        if V.CONTROL_HOST in sw_links:
            run(["ip", "-n", c.sw, "link", "del", V.CONTROL_HOST])
        # like the lab's hosts: the veth is made in the switch namespace, its peer directly in
        # NAME-control; nothing appears in the root namespace
        run(["ip", "-n", c.sw, "link", "add", V.CONTROL_HOST, "type", "veth", "peer", "name", "eth0",
             "address", V.CONTROL_MAC, "netns", c.netns])
    run(["ip", "-n", c.sw, "link", "set", V.CONTROL_HOST, "master", "br0", "up"])
    run(["ip", "-n", c.netns, "link", "set", "lo", "up"])
    run(["ip", "-n", c.netns, "addr", "replace", f"{V.CONTROL_ADDRESS}/{V.CONTROL_PREFIXLEN}", "dev", "eth0"])
    run(["ip", "-n", c.netns, "link", "set", "eth0", "up"])


# ----------------------------------------------------------------------------- components

def write_kubeconfigs(c: Cluster) -> None:
    server = f"https://{V.CONTROL_ADDRESS}:{V.API_PORT}"
    for who in ("admin", "controller-manager", "scheduler"):
        p = c.kubeconfig_path(who)
        p.write_text(pki.kubeconfig(c.pki, who, server))
        os.chmod(p, 0o600)


def start_components(c: Cluster, bins: dict[str, Path], api: Api, deadline: float) -> None:
    P = c.pki
    if not c.pid("etcd"):
        c.spawn("etcd", [str(bins["etcd"]), "--name", "lab", "--data-dir", str(c.state / "etcd"),
                         "--listen-client-urls", "http://127.0.0.1:2379",
                         "--advertise-client-urls", "http://127.0.0.1:2379",
                         "--listen-peer-urls", "http://127.0.0.1:2380",
                         "--initial-advertise-peer-urls", "http://127.0.0.1:2380",
                         "--initial-cluster", "lab=http://127.0.0.1:2380",
                         "--listen-metrics-urls", "http://127.0.0.1:2381",
                         "--unsafe-no-fsync=true", "--quota-backend-bytes=2147483648"])
    wait_until(c, "etcd", lambda: c.ns_http_ok("http://127.0.0.1:2379/health"), deadline)

    if not c.pid("kube-apiserver"):
        c.spawn("kube-apiserver", [
            str(bins["kube-apiserver"]), "--etcd-servers=http://127.0.0.1:2379",
            f"--bind-address={V.CONTROL_ADDRESS}", f"--secure-port={V.API_PORT}",
            f"--advertise-address={V.CONTROL_ADDRESS}",
            f"--tls-cert-file={P}/apiserver.crt", f"--tls-private-key-file={P}/apiserver.key",
            f"--client-ca-file={P}/ca.crt",
            f"--requestheader-client-ca-file={P}/front-proxy-ca.crt",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={P}/front-proxy-client.crt",
            f"--proxy-client-key-file={P}/front-proxy-client.key",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={P}/sa.pub", f"--service-account-signing-key-file={P}/sa.key",
            f"--service-cluster-ip-range={SERVICE_RANGES}",
            "--authorization-mode=Node,RBAC", "--allow-privileged=true",
            # webhooks and aggregated APIs are dialled at the endpoint (pod) IP, not the
            # ClusterIP: no kube-proxy needed in the control namespace
            "--enable-aggregator-routing=true", "--profiling=false"])
    wait_until(c, "kube-apiserver", lambda: api.ok("/readyz"), deadline)

    common = lambda who: [f"--kubeconfig={c.kubeconfig_path(who)}",  # noqa: E731
                          f"--authentication-kubeconfig={c.kubeconfig_path(who)}",
                          f"--authorization-kubeconfig={c.kubeconfig_path(who)}",
                          "--bind-address=127.0.0.1", "--leader-elect=false"]
    if not c.pid("kube-controller-manager"):
        c.spawn("kube-controller-manager", [
            str(bins["kube-controller-manager"]), *common("controller-manager"), "--secure-port=10257",
            f"--root-ca-file={P}/ca.crt", f"--service-account-private-key-file={P}/sa.key",
            "--use-service-account-credentials=true", "--controllers=*",
            # each Node gets a /24 and a /64 of the pod CIDRs; kwok hands pod IPs out of both
            # (dual-stack refuses the family-less --node-cidr-mask-size)
            f"--cluster-cidr={CLUSTER_RANGES}", "--allocate-node-cidrs=true",
            f"--node-cidr-mask-size-ipv4={V.NODE_CIDR_MASK}", f"--node-cidr-mask-size-ipv6={V.NODE_CIDR_MASK6}",
            f"--service-cluster-ip-range={SERVICE_RANGES}"])
    if not c.pid("kube-scheduler"):
        c.spawn("kube-scheduler", [str(bins["kube-scheduler"]), *common("scheduler"), "--secure-port=10259"])
    wait_until(c, "kube-controller-manager", lambda: c.ns_http_ok("https://127.0.0.1:10257/healthz"), deadline)
    wait_until(c, "kube-scheduler", lambda: c.ns_http_ok("https://127.0.0.1:10259/healthz"), deadline)

    if not c.pid("kwok"):
        stages = ",".join(str(p) for p in build.kwok_stage_files())
        c.spawn("kwok", [
            str(bins["kwok"]), f"--kubeconfig={c.kubeconfig_path('admin')}",
            # v0.8.0 has no built-in stages: upstream's files, in place in the module cache
            f"--config={stages}",
            "--manage-all-nodes=false", f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
            # fallback only (Nodes have podCIDRs from KCM); the default would be 10.0.0.0/24
            f"--cidr={V.KWOK_FALLBACK_CIDR}", f"--node-ip={V.CONTROL_ADDRESS}",
            "--node-lease-duration-seconds=40",
            "--server-address=127.0.0.1:10247"])  # without it kwok serves no healthz
    wait_until(c, "kwok", lambda: c.ns_http_ok("http://127.0.0.1:10247/healthz"), deadline)


def wait_until(c: Cluster, svc: str, ready, deadline: float) -> None:
    t0 = time.monotonic()
    while True:
        if ready():
            log(f"{svc} ready ({time.monotonic() - t0:.1f} s)")
            return
        if svc in SERVICES and not c.pid(svc):
            raise RuntimeError(f"{svc} exited; last lines of {c.state}/logs/{svc}.log:\n{c.log_tail(svc)}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{svc} not ready before the timeout; last lines of its log:\n{c.log_tail(svc)}")
        time.sleep(0.1)


def node_manifest(k: int) -> dict:
    """A Node as a kubelet would register it: InternalIPs = the node host's lab addresses
    (IPv4 first, then IPv6: a dual-stack kubelet's --node-ip), no taint. The API server keeps status on create; kwok's node-initialize keeps the addresses."""
    name = f"node{k}"
    return {
        "apiVersion": "v1", "kind": "Node",
        "metadata": {"name": name,
                     "annotations": {KWOK_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                     "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                "kubernetes.io/arch": "amd64", "type": "kwok"}},
        "spec": {},
        "status": {"addresses": [{"type": "InternalIP", "address": node_address(k)},
                                 {"type": "InternalIP", "address": node_address6(k)},
                                 {"type": "Hostname", "address": name}]},
    }


def ensure_nodes(api: Api, n: int) -> None:
    for k in range(1, n + 1):
        status, text = api.request("POST", "/api/v1/nodes", node_manifest(k))
        if status not in (201, 409):  # 409: exists already (idempotent up)
            raise RuntimeError(f"creating node{k}: {status} {text[:300]}")


def ready_nodes(api: Api) -> list[str]:
    try:
        items = api.get("/api/v1/nodes")["items"]
    except (OSError, RuntimeError, http.client.HTTPException, ValueError):
        return []
    # Usable, not merely Ready: the API server's TaintNodesByCondition admission gives a new
    # Node node.kubernetes.io/not-ready:NoSchedule, which KCM's node lifecycle controller
    # removes only after kwok reports Ready; KCM's node IPAM sets podCIDRs (kwok's pod IPs).
    return sorted(i["metadata"]["name"] for i in items
                  if any(cd["type"] == "Ready" and cd["status"] == "True"
                         for cd in i.get("status", {}).get("conditions", []))
                  and not i["spec"].get("taints") and i["spec"].get("podCIDRs"))


# ----------------------------------------------------------------------------- relay

def ensure_relay(c: Cluster, meta: dict) -> int:
    if c.pid("relay") and meta.get("relay_port"):
        return meta["relay_port"]
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", meta.get("relay_port") or 0))  # the same port again after a repair
    lsock.listen(64)
    port = lsock.getsockname()[1]
    fd = lsock.fileno()
    os.set_inheritable(fd, True)
    c.spawn("relay", [_python(),
                      str(Path(__file__).with_name("forward.py")), "--fd", str(fd),
                      "--target", f"{V.CONTROL_ADDRESS}:{V.API_PORT}"], pass_fds=(fd,))
    lsock.close()  # the relay holds its own copy
    meta["relay_port"] = port
    return port


def inventory_kubeconfig(c: Cluster, port: int) -> str:
    """Two contexts: `lab` (current; root namespace, through the relay: what Ansible uses) and
    `lab-segment` (https://198.51.100.2:6443, for clients inside the lab's namespaces). Cert
    and key stay in the state dir; the file only refers to them."""
    P = c.pki
    return HEADER.format(name=c.name) + f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: https://127.0.0.1:{port}
    certificate-authority: {P / 'ca.crt'}
- name: lab-segment
  cluster:
    server: https://{V.CONTROL_ADDRESS}:{V.API_PORT}
    certificate-authority: {P / 'ca.crt'}
users:
- name: admin
  user:
    client-certificate: {P / 'admin.crt'}
    client-key: {P / 'admin.key'}
contexts:
- name: lab
  context: {{cluster: lab, user: admin}}
- name: lab-segment
  context: {{cluster: lab-segment, user: admin}}
current-context: lab
"""


# ----------------------------------------------------------------------------- commands

def up(name: str, inventory: Path | None = None, timeout: float = 180.0) -> list[str]:
    t0 = time.monotonic()
    lab = lab_info(name)
    c = Cluster(name)
    bins = build.binaries_or_build()  # a cold build takes minutes: not part of the timeout
    deadline = time.monotonic() + timeout
    for d in ("pids", "logs"):
        (c.state / d).mkdir(parents=True, exist_ok=True)
    meta = c.meta() or {"name": name, "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "kubeconfigs": []}
    c.save_meta(meta)  # before anything else exists: the proof that NAME-control is ours
    if inventory is None:
        invs = lab.get("inventories") or [str(c.lab_state / "inventory")]
        inventory = Path(invs[0])
    inventory = inventory.resolve()

    ensure_network(c)
    pki.ensure(c.pki)
    write_kubeconfigs(c)
    port = ensure_relay(c, meta)
    c.save_meta(meta)
    api = Api(c, port)
    start_components(c, bins, api, deadline)

    n = int(lab["nodes"])
    ensure_nodes(api, n)
    t = time.monotonic()
    while len(ready_nodes(api)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"only {ready_nodes(api)} of {n} nodes Ready, untainted and with a "
                               f"podCIDR before the timeout; kwok log:\n{c.log_tail('kwok')}\n"
                               f"kube-controller-manager log:\n{c.log_tail('kube-controller-manager')}")
        time.sleep(0.2)
    log(f"{n} nodes Ready ({time.monotonic() - t:.1f} s)")
    if not c.pid("metallb-supervisor"):
        # runs MetalLB's binaries for the MetalLB pods kwok runs (supervisor.py)
        c.spawn("metallb-supervisor", [_python(), "-m", "cluster.supervisor", "--name", name],
                env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                     "METALLB_LAB_CACHE": str(build.cache_root())})
    # kube-proxy per node and the echo pods' namespaces (datapath.py); returns at once
    from . import datapath
    datapath.spawn(c)

    inventory.mkdir(parents=True, exist_ok=True)
    kc = inventory / ".kubeconfig"
    fd = os.open(kc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(inventory_kubeconfig(c, port))
    os.chmod(kc, 0o600)
    if str(kc) not in meta["kubeconfigs"]:
        meta["kubeconfigs"].append(str(kc))
    # lab_kubeconfig/lab_kube_context for playbooks: a file of its own, since labctl owns
    # group_vars/all.yml (and a group_vars/all/ dir would hide that file from Ansible)
    iv = inventory / INVENTORY_VARS
    # MetalLB's release files as the Go module ships them, for installing it from the lab's
    # playbooks (the version the lab has binaries for; downloaded once, then cached)
    metallb_dir = Path(build.mod_download("go.universe.tf/metallb", V.METALLB_VERSION)["Dir"])
    iv.write_text(HEADER.format(name=name) + "all:\n  vars:\n"
                  f"    lab_kubeconfig: {json.dumps(str(kc))}\n    lab_kube_context: lab\n"
                  f"    lab_metallb_version: {V.METALLB_VERSION}\n"
                  f"    lab_metallb_manifests: {json.dumps(str(metallb_dir / 'config' / 'manifests'))}\n"
                  f"    lab_metallb_chart: {json.dumps(str(metallb_dir / 'charts' / 'metallb'))}\n")
    if str(iv) not in meta.setdefault("inventory_files", []):
        meta["inventory_files"].append(str(iv))
    c.save_meta(meta)
    return [f"cluster {name}: {n} nodes Ready, API https://{V.CONTROL_ADDRESS}:{V.API_PORT} "
            f"(root namespace: https://127.0.0.1:{port}), kubeconfig {kc}, "
            f"up in {time.monotonic() - t0:.1f} s"]


RESTARTABLE = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")


def restart(name: str, component: str, down_for: float = 0.0, timeout: float = 120.0) -> list[str]:
    """A crash and a restart of one control-plane process: SIGTERM to the PID the lab started
    (SIGKILL after a grace period), ``down_for`` seconds without it, then started again with the
    same arguments and data as ``up`` would (etcd keeps its data directory)."""
    if component not in RESTARTABLE:
        raise RuntimeError(f"restart: {component!r} is not one of {', '.join(RESTARTABLE)}")
    c = Cluster(name)
    meta = c.meta()
    if not meta or not meta.get("relay_port"):
        raise RuntimeError(f"cluster {name!r} is not up")
    pid = c.pid(component)
    t0 = time.monotonic()
    if pid:
        end_processes([pid])
    stopped = time.monotonic()
    time.sleep(down_for)
    start_components(c, build.binaries_or_build(), Api(c, meta["relay_port"]), time.monotonic() + timeout)
    return [f"cluster {name}: {component} pid {pid or '-'} ended in {stopped - t0:.1f} s, "
            f"pid {c.pid(component)} ready {time.monotonic() - stopped:.1f} s later"]


def down(name: str) -> list[str]:
    """Idempotent. Processes: those in our pid files (if still the same process) and anything
    left inside NAME-control (ours: the namespace is ours). Then the namespace (its veth pair
    goes with it, the switch side too), the kubeconfigs we wrote, the state dir."""
    c = Cluster(name)
    changes = []
    meta = c.meta()
    # Reverse dependency order: the API server's clients first, then the API server, then
    # etcd. Signalled all at once, etcd's graceful stop waits for the API server's watch
    # streams while the API server waits for etcd: both sat out the whole grace period.
    from . import datapath  # issue 8: kube-proxies, echo pods, their namespaces, node rules
    changes += datapath.down(c)
    # The MetalLB supervisor next: it stops the processes it runs and brings the stand-in
    # speakers back (~2 s); then whatever it left (it may have been killed), by PID.
    pid = c.pid("metallb-supervisor")
    if pid:
        t = time.monotonic()
        end_processes([pid], grace=20.0)
        changes.append(f"stopped metallb-supervisor (pid {pid}, {time.monotonic() - t:.1f} s)")
    pod_svcs = sorted(f.stem for f in (c.state / "pids").glob("pod-*.pid")) if c.state.exists() else []
    for svc in (*pod_svcs, "relay", "kwok", "kube-scheduler", "kube-controller-manager",
                "kube-apiserver", "etcd"):
        pid = c.pid(svc)
        if pid:
            t = time.monotonic()
            end_processes([pid])
            changes.append(f"stopped {svc} (pid {pid}, {time.monotonic() - t:.1f} s)")
    changes += _standins_back(c)
    pids: list[int] = []
    ino = _netns_inode(c.netns_path)
    for _ in range(5):
        found = sorted(set(pids + (pids_in_netns(ino) if ino else [])))
        if not found:
            break
        end_processes(found)
        changes.append(f"ended {len(found)} process(es)")
        pids = []
    if c.netns_path.exists():
        run(["ip", "netns", "del", c.netns])
        changes.append(f"netns {c.netns}")
    if Path(f"/run/netns/{c.sw}").exists():
        if run(["ip", "-n", c.sw, "link", "show", V.CONTROL_HOST], check=False).returncode == 0:
            run(["ip", "-n", c.sw, "link", "del", V.CONTROL_HOST], check=False)
            changes.append(f"{c.sw}: veth {V.CONTROL_HOST}")
    for kc in meta.get("kubeconfigs", []) + meta.get("inventory_files", []):
        p = Path(kc)
        with contextlib.suppress(OSError):
            if p.read_text().startswith(HEADER.format(name=name)):
                p.unlink()
                changes.append(f"removed {p}")
    if c.state.exists():
        shutil.rmtree(c.state)
        changes.append(f"state dir {c.state}")
    return changes or ["nothing to do"]


def _standins_back(c: Cluster) -> list[str]:
    """Stand-in speakers a killed supervisor left off (it restores them itself otherwise)."""
    markers = sorted(c.lab_state.glob("hosts/node*/standin-off.json"))
    if not markers:
        return []
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from metallb_lab.lab import Lab
    lab = Lab(c.name)
    out = []
    for m in markers:
        try:
            out.append(lab.standin_on(m.parent.name))
        except Exception as e:  # noqa: BLE001 - the lab may be half gone; down goes on
            m.unlink(missing_ok=True)
            out.append(f"{m.parent.name}: stand-in marker removed, speaker not restarted ({e})")
    return out


def status(name: str) -> dict:
    c = Cluster(name)
    meta = c.meta()
    st = {"name": name, "netns": c.netns, "present": c.state.exists() or c.netns_path.exists(),
          "state_dir": str(c.state), "services": {s: c.pid(s) for s in SERVICES},
          "relay_port": meta.get("relay_port"), "kubeconfigs": meta.get("kubeconfigs", []),
          "api": f"https://{V.CONTROL_ADDRESS}:{V.API_PORT}", "readyz": False, "ready_nodes": []}
    if meta.get("relay_port") and (c.pki / "admin.key").exists():
        api = Api(c, meta["relay_port"])
        st["readyz"] = api.ok("/readyz")
        if st["readyz"]:
            st["ready_nodes"] = ready_nodes(api)
            with contextlib.suppress(Exception):
                st["version"] = api.get("/version").get("gitVersion")
    st["healthy"] = bool(st["present"] and all(st["services"].values()) and st["readyz"])
    from .supervisor import read_status
    st["metallb"] = read_status(c)
    return st


def format_status(st: dict) -> str:
    if not st["present"]:
        return f"cluster {st['name']}: not up"
    lines = [f"cluster {st['name']}: {'healthy' if st['healthy'] else 'BROKEN'}"
             f" (version {st.get('version', '?')}, readyz {'ok' if st['readyz'] else 'failing'})"]
    for s, p in st["services"].items():
        lines.append(f"  {s:25} {'pid ' + str(p) if p else 'NOT RUNNING'}")
    lines.append(f"  API {st['api']} in {st['netns']}; root namespace https://127.0.0.1:{st['relay_port']}")
    lines.append(f"  Ready nodes: {' '.join(st['ready_nodes']) or '-'}")
    lines += [f"  kubeconfig {k}" for k in st["kubeconfigs"]]
    ml = st.get("metallb") or {}
    if ml:
        if ml.get("binaries", "ok") != "ok":
            lines.append(f"  MetalLB: {ml['binaries']}")
        if ml.get("problem"):
            lines.append(f"  MetalLB supervisor: {ml['problem']}")
        if not ml.get("pods"):
            lines.append("  MetalLB pods: none (the supervisor starts them when MetalLB is installed)")
        for p in ml.get("pods", []):
            what = f"pid {p['pid']} in {p.get('netns', '?')}" if p.get("pid") else p["state"].upper()
            why = f": {p['reason']}" if p.get("reason") else ""
            lines.append(f"  MetalLB {p['component']:10} {p['namespace']}/{p['pod']} on {p['node'] or '-'}: {what}{why}")
        if ml.get("standin_off"):
            lines.append(f"  stand-in FRR speakers off (real speakers): {' '.join(ml['standin_off'])}")
    return "\n".join(lines)


def _python() -> str:
    """The relay is stdlib only: the system interpreter if there is one (a venv may go away)."""
    return "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable
