# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real data path for the lab (issue 8): kube-proxy per node host + echo pods.

Started by `clusterctl datapath --name NAME` as lab service `datapath` (in NAME-control, where
it reaches the API server with the admin certificate, like the MetalLB supervisor); ended by
`clusterctl down` (down() here). Every POLL seconds it makes the node hosts look like this:

* **kube-proxy** v1.37.1 (the cluster's own build) in every node host's namespaces (net +
  mount + UTS of NAME-nodeK), `--hostname-override=nodeK --proxy-mode=nftables
  --cluster-cidr=198.18.0.0/17,2001:db8:18::/56` (dual-stack: its ip and ip6 tables), healthz on the node's lab address :10256, metrics on
  127.0.0.1:10249 of that host; authenticated with a TokenRequest token of ServiceAccount
  kube-system/kube-proxy bound to ClusterRole system:node-proxier (as kubeadm does).
* node sysctls: ip_forward=1 and IPv6 forwarding=1 (a node forwards to pods and to other nodes), send_redirects=0
  (it forwards DNATed packets out of the interface they came in on: no ICMP redirects to the
  client), rp_filter never strict. The previous values are restored when the data path stops.
* routes: on every node, each other Node's podCIDRs via that node's lab address of the same
  family (proto ROUTE_PROTO, so a cleanup finds them). The router and the client have no pod routes.
* **pods that opt in** (label `lab.baremetal.metallb/datapath=echo`, on the pod template) and
  run on a lab node: a network namespace NAME-p<uid8> with `eth0` (veth; peer dp<uid8> in the
  node host) carrying the pod IPs kwok assigned (/32, and /128 for the IPv6 one), on-link default
  route via the node's own lab address (the node answers ARP for it on the veth: no extra address
  anywhere); IPv6: default via fe80::1, a link-local address on the node's side of the veth (a
  Linux node answers neighbour solicitations only for addresses on the asking interface), the
  usual CNI way; on the node a /32 (/128) route to the pod over the veth. In it runs echo.py on every TCP containerPort of the
  pod (8080 if it declares none). Every other pod stays simulated (kwok only).

A pod that goes away, moves or changes IP is unwired (echo ended by PID, namespace deleted: the
veth and the node's route go with it) before its replacement is wired (kwok reuses IPs). The
echo server is restarted if it exits. Status: state/datapath/status.json (`clusterctl datapath
--status`). Children's pid files are pids/datapath-*.pid (Cluster.spawn's format).
"""
from __future__ import annotations

import argparse
import contextlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from . import build
from . import versions as V
from .control import (CLUSTER_RANGES, ENV, Cluster, _alive, _starttime, end_processes, log, node_address,
                      node_address6, pids_in_netns)

POLL = 0.5
LABEL = "lab.baremetal.metallb/datapath"
LABEL_VALUE = "echo"
DEFAULT_PORT = 8080
ECHO_READY_TIMEOUT = 10.0  # seconds for a started echo server to listen
ROUTE_PROTO = "200"  # marks the inter-node pod routes this service adds
KUBE_PROXY_SA = ("kube-system", "kube-proxy")
BINDING = "lab-datapath-kube-proxy"
TOKEN_SECONDS = 86400
HEALTHZ_PORT = 10256
NODE_SYSCTLS = {"net.ipv4.ip_forward": "1", "net.ipv6.conf.all.forwarding": "1",
                "net.ipv4.conf.all.send_redirects": "0",
                "net.ipv4.conf.default.send_redirects": "0",
                "net.ipv4.conf.eth0.send_redirects": "0"}
STRICT_RPF = ("net.ipv4.conf.all.rp_filter", "net.ipv4.conf.default.rp_filter", "net.ipv4.conf.eth0.rp_filter")
POD_NETNS = re.compile(r"^(?P<lab>.+)-p(?P<uid>[0-9a-f]{8})$")
POD_VETH = re.compile(r"^dp[0-9a-f]{8}$")  # node side of a pod's veth pair
POD_GW6 = "fe80::1"  # the node's side of every pod veth: the pods' IPv6 gateway (link-local, per veth)


def run(argv: list[str], check: bool = True) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, check=False)
    if check and p.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)}: {p.stderr.strip()}")
    return p


def _python() -> str:
    return "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def state_dir(c: Cluster) -> Path:
    return c.state / "datapath"


def read_status(c: Cluster) -> dict:
    try:
        return json.loads((state_dir(c) / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def lab_nodes(c: Cluster) -> list[str]:
    try:
        n = int(json.loads((c.lab_state / "lab.json").read_text())["nodes"])
    except (OSError, ValueError, KeyError):
        return []
    return [f"node{k}" for k in range(1, n + 1)]


def node_netns(c: Cluster, node: str) -> Path:
    return Path(f"/run/netns/{c.name}-{node}")


def pod_ports(pod: dict) -> list[int]:
    ports = sorted({p["containerPort"] for ct in pod["spec"].get("containers", [])
                    for p in ct.get("ports", []) if p.get("protocol", "TCP") == "TCP"})
    return ports or [DEFAULT_PORT]


def sysctl_key_path(key: str) -> str:
    return "/proc/sys/" + key.replace(".", "/")


def _write_sysctls(c: Cluster, node: str, values: dict[str, str]) -> None:
    if values:
        run(["ip", "netns", "exec", f"{c.name}-{node}", "sysctl", "-q", "-w",
             *(f"{k}={v}" for k, v in values.items())])


def _read_sysctls(c: Cluster, node: str, keys: list[str]) -> dict[str, str]:
    out = run(["ip", "netns", "exec", f"{c.name}-{node}", "sysctl", "-n", *keys]).stdout.split("\n")
    return dict(zip(keys, (v.strip() for v in out)))


# ----------------------------------------------------------------------------- one echo pod

class EchoPod:
    def __init__(self, dp: Datapath, pod: dict):
        meta = pod["metadata"]
        self.dp = dp
        self.uid = meta["uid"]
        self.uid8 = self.uid.replace("-", "")[:8]
        self.ns, self.name = meta["namespace"], meta["name"]
        self.node = pod["spec"]["nodeName"]
        self.ip = pod["status"]["podIP"]
        # every family's address, the primary (podIP) first; kwok fills podIPs from the Node's podCIDRs
        self.ips = list(dict.fromkeys([self.ip, *(i["ip"] for i in pod["status"].get("podIPs") or [])]))
        self.ip6 = next((ip for ip in self.ips if ":" in ip), None)
        self.ports = pod_ports(pod)
        self.netns = f"{dp.c.name}-p{self.uid8}"
        self.veth = f"dp{self.uid8}"
        self.svc = f"datapath-echo-{self.uid8}"
        self.ready_file = state_dir(dp.c) / f"{self.svc}.ready"
        self.proc: subprocess.Popen | None = None
        self.restarts = 0
        self.state, self.reason = "waiting", ""

    def key(self) -> tuple:
        return (self.node, tuple(self.ips), tuple(self.ports))

    def wire(self) -> None:
        c = self.dp.c
        gw = node_address(int(self.node[4:]))
        node_ns = f"{c.name}-{self.node}"
        if Path(f"/run/netns/{self.netns}").exists():  # left by a killed run: start clean
            run(["ip", "netns", "del", self.netns], check=False)
        run(["ip", "netns", "add", self.netns])
        if self.ip6:  # the pod's IPv6 address usable at once: no duplicate address detection in it
            run(["ip", "netns", "exec", self.netns, "sysctl", "-q", "-w", "net.ipv6.conf.default.accept_dad=0",
                 "net.ipv6.conf.all.accept_dad=0"])
        run(["ip", "-n", self.netns, "link", "set", "lo", "up"])
        run(["ip", "-n", self.netns, "link", "add", "eth0", "type", "veth", "peer", "name", self.veth,
             "netns", node_ns])
        run(["ip", "-n", self.netns, "addr", "add", f"{self.ip}/32", "dev", "eth0"])
        run(["ip", "-n", self.netns, "link", "set", "eth0", "up"])
        # the node's own lab address is the pod's on-link gateway (no extra address needed)
        run(["ip", "-n", self.netns, "route", "add", gw, "dev", "eth0", "scope", "link"])
        run(["ip", "-n", self.netns, "route", "add", "default", "via", gw, "dev", "eth0"])
        run(["ip", "-n", node_ns, "link", "set", self.veth, "up"])
        run(["ip", "-n", node_ns, "route", "replace", f"{self.ip}/32", "dev", self.veth, "scope", "link",
             "src", gw])
        if self.ip6:
            gw6 = node_address6(int(self.node[4:]))
            run(["ip", "-n", node_ns, "addr", "add", f"{POD_GW6}/64", "dev", self.veth, "nodad"])
            run(["ip", "-n", self.netns, "addr", "add", f"{self.ip6}/128", "dev", "eth0", "nodad"])
            run(["ip", "-n", self.netns, "-6", "route", "add", "default", "via", POD_GW6, "dev", "eth0"])
            run(["ip", "-n", node_ns, "-6", "route", "replace", f"{self.ip6}/128", "dev", self.veth, "src", gw6])
        self.start_echo()

    def start_echo(self) -> None:
        c = self.dp.c
        argv = ["nsenter", f"--net=/run/netns/{self.netns}", "--", _python(), str(Path(__file__).with_name("echo.py")),
                "serve", "--pod", f"{self.ns}/{self.name}", "--node", self.node,
                *(a for ip in self.ips for a in ("--pod-ip", ip)),
                *(a for p in self.ports for a in ("--port", str(p))), "--ready-file", str(self.ready_file)]
        self.ready_file.unlink(missing_ok=True)
        with open(c.state / "logs" / f"{self.svc}.log", "ab") as out:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=ENV,
                                         cwd=state_dir(c), start_new_session=True)
        c.pidfile(self.svc).write_text(f"{self.proc.pid} {_starttime(self.proc.pid)}\n")
        # "running" only once the ports listen: a test (or verify.yml) that sees the pod wired may
        # connect at once; Python's start-up alone takes ~0.3 s on a loaded machine
        deadline = time.monotonic() + ECHO_READY_TIMEOUT
        while not self.ready_file.exists() and self.proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.ready_file.exists():
            self.state, self.reason = "starting", f"echo not listening after {ECHO_READY_TIMEOUT:.0f} s"
            log(f"{self.svc}: {self.reason}")
            return
        self.state, self.reason = "running", ""
        log(f"pod {self.ns}/{self.name} on {self.node}: {', '.join(self.ips)} in {self.netns}, echo on {self.ports} "
            f"(pid {self.proc.pid})")

    def check(self) -> None:
        if self.state == "starting" and self.ready_file.exists():
            self.state, self.reason = "running", ""
        if self.proc is not None and self.proc.poll() is not None:
            self.restarts += 1
            log(f"{self.svc} exited rc {self.proc.returncode}: restart {self.restarts}")
            self.start_echo()

    def unwire(self, why: str) -> None:
        if self.proc is not None and self.proc.poll() is None:
            end_processes([self.proc.pid], grace=3.0)
            with contextlib.suppress(Exception):
                self.proc.wait(timeout=1)
        self.dp.c.pidfile(self.svc).unlink(missing_ok=True)
        self.ready_file.unlink(missing_ok=True)
        # the pair (and the node's /32 route over it) goes at once; with the namespace alone
        # it would go only when the kernel's asynchronous netns cleanup gets to it
        run(["ip", "-n", f"{self.dp.c.name}-{self.node}", "link", "del", self.veth], check=False)
        run(["ip", "netns", "del", self.netns], check=False)
        log(f"pod {self.ns}/{self.name}: unwired ({why})")
        self.proc, self.state = None, "stopped"

    def info(self) -> dict:
        return {"namespace": self.ns, "pod": self.name, "node": self.node, "pod_ip": self.ip, "pod_ips": self.ips,
                "ports": self.ports,
                "netns": self.netns, "veth": self.veth, "state": self.state, "reason": self.reason,
                "pid": self.proc.pid if self.proc and self.proc.poll() is None else None, "restarts": self.restarts}


# ----------------------------------------------------------------------------- the loop

class Datapath:
    def __init__(self, name: str):
        from .supervisor import Kube  # the same kept-alive stdlib client
        self.c = Cluster(name)
        self.kube = Kube(self.c)
        self.dir = state_dir(self.c)
        self.nodes = lab_nodes(self.c)
        self.pods: dict[str, EchoPod] = {}
        self.skipped: list[dict] = []
        self.proxies: dict[str, subprocess.Popen] = {}
        self.proxy_restarts: dict[str, int] = {}
        self.proxy_next: dict[str, float] = {}
        self.routes: dict[str, dict[str, str]] = {}  # node -> {cidr: via}
        self.stopping = False
        self.kubeconfig = self.dir / "kube-proxy.kubeconfig"
        self.lab = None

    # -- node setup
    def _enter(self, node: str) -> list[str]:
        if self.lab is None:
            sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
            from metallb_lab.lab import Lab
            self.lab = Lab(self.c.name)
        plan = self.lab.plan()
        hns = self.lab.hostns(plan, plan.host(node))
        # net + UTS of the node host, not its mount namespace: the host's /root is its own,
        # and the binary is in root's cache
        return ["nsenter", f"--net={node_netns(self.c, node)}", f"--uts={hns.uts}", "--"]

    def node_sysctls(self) -> None:
        restore_file = self.dir / "sysctl-restore.json"
        restore = json.loads(restore_file.read_text()) if restore_file.exists() else {}
        for node in self.nodes:
            if node in restore:
                continue
            before = _read_sysctls(self.c, node, [*NODE_SYSCTLS, *STRICT_RPF])
            restore[node] = before
            restore_file.write_text(json.dumps(restore, indent=1))  # before changing anything
            wanted = dict(NODE_SYSCTLS)
            wanted.update({k: "2" for k in STRICT_RPF if before.get(k) == "1"})  # loose, never strict
            _write_sysctls(self.c, node, {k: v for k, v in wanted.items() if before.get(k) != v})

    def kube_proxy_identity(self) -> None:
        ns, sa = KUBE_PROXY_SA
        for path, body in (
                (f"/api/v1/namespaces/{ns}/serviceaccounts",
                 {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": sa, "namespace": ns}}),
                ("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                 {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
                  "metadata": {"name": BINDING},
                  "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                              "name": "system:node-proxier"},
                  "subjects": [{"kind": "ServiceAccount", "name": sa, "namespace": ns}]})):
            status, obj = self.kube.request("POST", path, body)
            if status not in (201, 409):
                raise RuntimeError(f"POST {path}: {status} {str(obj)[:200]}")
        status, tr = self.kube.request("POST", f"/api/v1/namespaces/{ns}/serviceaccounts/{sa}/token",
                                       {"apiVersion": "authentication.k8s.io/v1", "kind": "TokenRequest",
                                        "spec": {"expirationSeconds": TOKEN_SECONDS}})
        if status != 201:
            raise RuntimeError(f"TokenRequest for {ns}/{sa}: {status} {str(tr)[:200]}")
        from .supervisor import write_private
        write_private(self.dir / "kube-proxy.token", tr["status"]["token"])
        write_private(self.kubeconfig, f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster: {{server: "https://{V.CONTROL_ADDRESS}:{V.API_PORT}", certificate-authority: "{self.c.pki / 'ca.crt'}"}}
users:
- name: kube-proxy
  user: {{tokenFile: "{self.dir / 'kube-proxy.token'}"}}
contexts:
- name: lab
  context: {{cluster: lab, user: kube-proxy}}
current-context: lab
""")

    def ensure_kube_proxy(self, node: str, binary: Path) -> None:
        p = self.proxies.get(node)
        if p is not None and p.poll() is None:
            return
        if p is not None:
            n = self.proxy_restarts.get(node, 0) + 1
            delay = min(2 ** (n - 1), 30)  # a kubelet's back-off, roughly
            if node not in self.proxy_next:
                self.proxy_next[node] = time.monotonic() + delay
                log(f"kube-proxy on {node} exited rc {p.returncode}: restart {n} in {delay} s")
            if time.monotonic() < self.proxy_next[node]:
                return
            del self.proxy_next[node]
            self.proxy_restarts[node] = n
        svc = f"datapath-kube-proxy-{node}"
        addr = node_address(int(node[4:]))
        argv = [*self._enter(node), str(binary), f"--kubeconfig={self.kubeconfig}", f"--hostname-override={node}",
                "--proxy-mode=nftables", f"--cluster-cidr={CLUSTER_RANGES}",
                f"--healthz-bind-address={addr}:{HEALTHZ_PORT}", "--metrics-bind-address=127.0.0.1:10249",
                "--conntrack-max-per-core=0"]  # no global nf_conntrack_max change (shared kernel)
        with open(self.c.state / "logs" / f"{svc}.log", "ab") as out:
            p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=ENV,
                                 cwd="/", start_new_session=True)
        self.c.pidfile(svc).write_text(f"{p.pid} {_starttime(p.pid)}\n")
        self.proxies[node] = p
        log(f"started kube-proxy on {node} (nftables, healthz {addr}:{HEALTHZ_PORT}), pid {p.pid}")

    def healthz(self, node: str) -> bool:
        conn = http.client.HTTPConnection(node_address(int(node[4:])), HEALTHZ_PORT, timeout=1)
        try:
            conn.request("GET", "/healthz")
            return conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            return False
        finally:
            conn.close()

    def ensure_routes(self, nodes: list[dict]) -> None:
        cidrs = {n["metadata"]["name"]: n["spec"].get("podCIDRs") or [] for n in nodes}
        gateway = {4: node_address, 6: node_address6}
        for node in self.nodes:
            want = {cidr: gateway[ipaddress.ip_network(cidr).version](int(other[4:])) for other, ranges in cidrs.items()
                    if other != node and other in self.nodes for cidr in ranges}
            have = self.routes.get(node, {})
            if want == have:
                continue
            for cidr in set(have) - set(want):
                run(["ip", "-n", f"{self.c.name}-{node}", "route", "del", cidr, "proto", ROUTE_PROTO], check=False)
            for cidr, via in want.items():
                run(["ip", "-n", f"{self.c.name}-{node}", "route", "replace", cidr, "via", via, "dev", "eth0",
                     "proto", ROUTE_PROTO])
            self.routes[node] = want
            log(f"{node}: pod routes {', '.join(f'{k} via {v}' for k, v in sorted(want.items())) or '-'}")

    # -- one round
    def step(self, binary: Path) -> None:
        for node in self.nodes:
            self.ensure_kube_proxy(node, binary)
        nodes = (self.kube.get("/api/v1/nodes") or {}).get("items", [])
        self.ensure_routes(nodes)
        sel = quote(f"{LABEL}={LABEL_VALUE}")
        pods = (self.kube.get(f"/api/v1/pods?labelSelector={sel}") or {}).get("items", [])
        wanted: dict[str, dict] = {}
        skipped = []
        for p in pods:
            meta, st = p["metadata"], p.get("status", {})
            info = {"namespace": meta["namespace"], "pod": meta["name"], "node": p["spec"].get("nodeName", ""),
                    "pod_ip": st.get("podIP", ""), "pid": None}
            why = ("being deleted" if meta.get("deletionTimestamp")
                   else "hostNetwork pod: it has the node's own namespace" if p["spec"].get("hostNetwork")
                   else f"pod {st.get('phase', 'Pending')}" if st.get("phase") != "Running"
                   else "no pod IP yet" if not st.get("podIP")
                   else f"node {info['node']!r} is not a lab node" if info["node"] not in self.nodes
                   else "")
            if why:
                skipped.append({**info, "state": "waiting", "reason": why})
            else:
                wanted[meta["uid"]] = p
        self.skipped = skipped
        # unwire first: a replacement may get the same IP (kwok reuses them)
        for uid in list(self.pods):
            ep = self.pods[uid]
            p = wanted.get(uid)
            if p is None or EchoPod(self, p).key() != ep.key():
                self.pods.pop(uid).unwire("pod gone" if p is None else "pod moved or changed")
        for uid, p in wanted.items():
            ep = self.pods.get(uid)
            if ep is None:
                ep = EchoPod(self, p)
                try:
                    ep.wire()
                except RuntimeError as e:
                    ep.state, ep.reason = "failed", str(e)
                    log(f"pod {ep.ns}/{ep.name}: wiring failed: {e}")
                    with contextlib.suppress(Exception):
                        ep.unwire("wiring failed")
                    ep.state, ep.reason = "failed", str(e)
                    self.skipped.append(ep.info())
                    continue
                self.pods[uid] = ep
            else:
                ep.check()

    def write_status(self, problem: str = "") -> None:
        st = {"pid": os.getpid(), "updated": time.time(), "problem": problem, "label": f"{LABEL}={LABEL_VALUE}",
              "nodes": {n: {"kube_proxy_pid": self.proxies[n].pid if n in self.proxies
                            and self.proxies[n].poll() is None else None,
                            "kube_proxy_restarts": self.proxy_restarts.get(n, 0),
                            "healthz": self.healthz(n), "pod_routes": self.routes.get(n, {})}
                        for n in self.nodes},
              "pods": sorted([ep.info() for ep in self.pods.values()] + self.skipped,
                             key=lambda i: (i["namespace"], i["pod"]))}
        tmp = self.dir / "status.tmp"
        tmp.write_text(json.dumps(st, indent=1))
        tmp.replace(self.dir / "status.json")

    def shutdown(self) -> None:
        log("stopping: echo pods, kube-proxies, then the nodes' rules, routes and sysctls")
        for ep in list(self.pods.values()):
            ep.unwire("data path stopping")
        self.pods.clear()
        procs = [p for p in self.proxies.values() if p.poll() is None]
        end_processes([p.pid for p in procs], grace=5.0)
        for p in procs:
            with contextlib.suppress(Exception):
                p.wait(timeout=1)
        for node in self.nodes:
            self.c.pidfile(f"datapath-kube-proxy-{node}").unlink(missing_ok=True)
        clean_nodes(self.c)
        self.write_status("stopped")

    def run(self, binary: Path) -> int:
        self.dir.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, lambda *_: setattr(self, "stopping", True))
        signal.signal(signal.SIGINT, lambda *_: setattr(self, "stopping", True))
        end_leftovers(self.c)
        if not binary.exists():
            self.write_status(f"{binary} not built: run `clusterctl build`")
            log(f"{binary} missing")
            return 1
        log(f"data path of cluster {self.c.name}: kube-proxy on {', '.join(self.nodes)}; "
            f"echo pods labelled {LABEL}={LABEL_VALUE}")
        last = ""
        while not self.stopping:
            t = time.monotonic()
            problem = ""
            try:
                token = self.dir / "kube-proxy.token"
                # kube-proxy re-reads its tokenFile: a fresh token before this one expires
                if not token.exists() or time.time() - token.stat().st_mtime > TOKEN_SECONDS / 2:
                    self.kube_proxy_identity()
                self.node_sysctls()
                self.step(binary)
            except (OSError, http.client.HTTPException, RuntimeError, ValueError) as e:
                problem = f"{type(e).__name__}: {e}"
                if problem != last:
                    log(problem)
            last = problem
            self.write_status(problem)
            while not self.stopping and time.monotonic() - t < POLL:
                time.sleep(0.05)
        self.shutdown()
        return 0


# ----------------------------------------------------------------------------- cleanup (also for down)

def end_leftovers(c: Cluster) -> list[str]:
    """Processes, pod namespaces of a data path that was killed (or of this one at `down`)."""
    out = []
    for f in sorted((c.state / "pids").glob("datapath-*.pid")) if (c.state / "pids").exists() else []:
        pid = c.pid(f.stem)
        if pid:
            end_processes([pid], grace=5.0)
            out.append(f"stopped {f.stem} (pid {pid})")
        f.unlink(missing_ok=True)
    for ns in pod_namespaces(c):
        # found by namespace too: after `labctl down` removed the state dir, pid files are gone
        with contextlib.suppress(OSError):
            left = pids_in_netns(os.stat(f"/run/netns/{ns}").st_ino)
            if left:
                end_processes(left, grace=3.0)
                out.append(f"ended {len(left)} process(es) in {ns}")
        run(["ip", "netns", "del", ns], check=False)
        out.append(f"netns {ns}")
    return out


def pod_namespaces(c: Cluster) -> list[str]:
    with contextlib.suppress(OSError):
        return sorted(p.name for p in Path("/run/netns").iterdir()
                      if (m := POD_NETNS.match(p.name)) and m.group("lab") == c.name)
    return []


def clean_nodes(c: Cluster) -> list[str]:
    """kube-proxy's nftables tables (it leaves them on exit), our pod routes, the sysctls as they were."""
    out = []
    restore_file = state_dir(c) / "sysctl-restore.json"
    restore = {}
    with contextlib.suppress(OSError, ValueError):
        restore = json.loads(restore_file.read_text())
    for node in lab_nodes(c):
        ns = f"{c.name}-{node}"
        if not node_netns(c, node).exists():
            continue
        tables = run(["ip", "netns", "exec", ns, "nft", "list", "tables"], check=False).stdout.split("\n")
        for fam, table in (("ip", "kube-proxy"), ("ip6", "kube-proxy")):
            if f"table {fam} {table}" in tables:
                run(["ip", "netns", "exec", ns, "nft", "delete", "table", fam, table], check=False)
                out.append(f"{node}: nft table {fam} {table}")
        links = json.loads(run(["ip", "-n", ns, "-j", "link", "show", "type", "veth"], check=False).stdout or "[]")
        for link in links:
            if POD_VETH.match(link["ifname"]):
                run(["ip", "-n", ns, "link", "del", link["ifname"]], check=False)
                out.append(f"{node}: veth {link['ifname']}")
        for fam in ("-4", "-6"):
            if run(["ip", "-n", ns, fam, "route", "show", "proto", ROUTE_PROTO], check=False).stdout.strip():
                run(["ip", "-n", ns, fam, "route", "flush", "proto", ROUTE_PROTO], check=False)
                out.append(f"{node}: pod routes ({'IPv4' if fam == '-4' else 'IPv6'})")
        if node in restore:
            _write_sysctls(c, node, restore[node])
            out.append(f"{node}: sysctls restored")
    restore_file.unlink(missing_ok=True)
    return out


def down(c: Cluster) -> list[str]:
    """For `clusterctl down`: the service first (it cleans up after itself), then anything a
    killed one left. Idempotent."""
    out = []
    pid = c.pid("datapath")
    if pid:
        t = time.monotonic()
        end_processes([pid], grace=20.0)
        out.append(f"stopped datapath (pid {pid}, {time.monotonic() - t:.1f} s)")
    if c.state.exists():
        c.pidfile("datapath").unlink(missing_ok=True)
    out += end_leftovers(c)
    out += clean_nodes(c)
    if state_dir(c).exists():
        shutil.rmtree(state_dir(c))
    return out


# ----------------------------------------------------------------------------- start (clusterctl datapath)

def running(c: Cluster) -> int | None:
    """The service's PID if it runs; Cluster.pid alone also accepts a killed one not yet reaped."""
    pid = c.pid("datapath")
    return pid if pid and _alive(pid) else None


def spawn(c: Cluster) -> int:
    """Start the service unless it runs; its PID. Returns at once (the hook for `clusterctl up`)."""
    if not c.meta().get("relay_port"):
        raise RuntimeError(f"cluster {c.name!r} is not up: run `clusterctl up --name {c.name}` first")
    if not lab_nodes(c):
        raise RuntimeError(f"lab {c.name!r} is not up")
    if shutil.which("nft") is None:
        raise RuntimeError("kube-proxy's nftables mode needs the `nft` binary: apt-get install nftables")
    pid = running(c)
    if pid:
        return pid
    kp = build.binaries()["kube-proxy"]  # raises BuildError (run `clusterctl build`) if missing
    state_dir(c).mkdir(parents=True, exist_ok=True)
    # the binary's path resolved here: finding it calls `go env`, not on the service's PATH
    return c.spawn("datapath", [_python(), "-m", "cluster.datapath", "--name", c.name, "--kube-proxy", str(kp)],
                   env={"PYTHONPATH": str(Path(__file__).resolve().parents[1]),
                        "METALLB_LAB_CACHE": str(build.cache_root())})


def start(name: str, timeout: float = 60.0) -> list[str]:
    """`clusterctl datapath`: spawn() and wait until every node's kube-proxy is healthy."""
    t0 = time.monotonic()
    c = Cluster(name)
    spawn(c)
    nodes = lab_nodes(c)
    while True:
        st = read_status(c)
        if st.get("pid") != running(c):  # a status file left by a killed predecessor
            st = {}
        healthy = [n for n, v in (st.get("nodes") or {}).items() if v.get("healthz")]
        if len(healthy) == len(nodes):
            break
        if not running(c):
            raise RuntimeError(f"datapath exited; its log:\n{c.log_tail('datapath')}")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"kube-proxy healthy on {healthy} only, of {nodes}; status problem: "
                               f"{st.get('problem')!r}; log:\n{c.log_tail('datapath')}")
        time.sleep(0.2)
    return [f"datapath {name}: kube-proxy (nftables) healthy on {len(nodes)} nodes, "
            f"{len([p for p in st.get('pods', []) if p.get('pid')])} echo pod(s) wired "
            f"({time.monotonic() - t0:.1f} s); pods opt in with label {LABEL}={LABEL_VALUE}"]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="datapath")
    ap.add_argument("--name", required=True)
    ap.add_argument("--kube-proxy", type=Path, required=True, help="the kube-proxy binary")
    a = ap.parse_args(argv)
    return Datapath(a.name).run(a.kube_proxy)


if __name__ == "__main__":
    sys.exit(main())
