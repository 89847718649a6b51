# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The containers of a pod, as the lab's supervisor (supervisor.py) runs them.

The supervisor is the kubelet of MetalLB's pods and of frr-k8s's (MetalLB v0.16's default BGP
backend). A pod here is a set of processes, one per container, sharing what the pod shares:

* **images -> programs** (``plan_container``): an image is never pulled; its command is mapped
  to what the lab has built or installed:

  ==========================================  =================================================
  quay.io/metallb/controller|speaker:<METALLB>  the built controller / speaker (``--kubeconfig``)
  quay.io/metallb/frr-k8s:<frr-k8s version>     ``/frr-k8s`` -> frr-k8s-controller,
                                                ``/statuscleaner`` -> statuscleaner (KUBECONFIG env);
                                                for init containers' ``cp``: ``/frr-metrics``,
                                                ``/frr-status`` (built), ``/frr-reloader.sh``
                                                (the module's cmd/reloader script, run unchanged)
  quay.io/frrouting/frr:<any>                   Debian's FRR (/usr/lib/frr): ``docker-start`` ->
                                                watchfrr in the foreground with the daemons the
                                                pod's /etc/frr/daemons enables (as the image's
                                                docker-start does); any other command is a file
                                                of the pod's volumes (the reloader script, the
                                                copied frr-metrics / frr-status) run as it is
  ==========================================  =================================================

  Programs of the FRR image run in the node's network, mount and UTS namespaces (its /etc/hosts,
  its /sys), the others in the machine's mount namespace; each in a private mount namespace of
  its own on top (``mount_script``).
* **volumes**: Secret/ConfigMap volumes are projected by the supervisor; an ``emptyDir`` is a
  directory of the pod's state dir (``empty/<volume>``), bind-mounted at its mountPath in every
  container that mounts it: the FRR daemons' sockets (/var/run/frr), /etc/frr, the reloader's
  /etc/frr_reloader are the same files for every container of the pod, as in a real pod. Every
  container also gets a /tmp of its own.
* **init containers**: only ``cp`` commands (what frr-k8s's and MetalLB's manifests use); the
  supervisor performs their effect (``init_copies``) before the first container starts.
* **shareProcessNamespace**: not needed. The processes share the machine's PID namespace, so
  the pid the reloader writes to /etc/frr_reloader/reloader.pid is one the frr-k8s controller
  (or the FRR-mode speaker) can signal (SIGHUP: apply frr.conf with frr-reload.py).

Pure functions (tested in tests/integration/cluster/test_frr_pods_logic.py) decide; the
supervisor acts. ``end_frr_daemons`` ends the daemons watchfrr started (watchfrr does not end
them when it exits; a container runtime would, with the pod's PID namespace).
"""
from __future__ import annotations

import os
import shlex
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

FRR_IMAGE = "frrouting/frr"
FRR_K8S_IMAGE = "metallb/frr-k8s"
METALLB_IMAGES = {"metallb/controller": "controller", "metallb/speaker": "speaker"}
# frr-k8s image: command -> built binary (lab/cluster/build.py frr_k8s_product)
FRR_K8S_PROGRAMS = {"/frr-k8s": "frr-k8s-controller", "/statuscleaner": "statuscleaner",
                    "/frr-metrics": "metrics", "/frr-status": "status"}
FRR_K8S_SCRIPTS = {"/frr-reloader.sh": "cmd/reloader/frr-reloader.sh"}  # in the frr-k8s module
# MetalLB's speaker image (FRR mode, metallb-frr.yaml): its /cp-tool copies these into volumes
SPEAKER_SCRIPTS = {"/frr-reloader.sh": "frr-tools/reloader/frr-reloader.sh"}  # in the MetalLB module
SPEAKER_PROGRAMS = {"/frr-metrics": "metallb-frr-metrics"}  # build.py metallb_frr_tools_product
FRR_LIB = "/usr/lib/frr"
FRR_DAEMON_START = "docker-start"
# watchfrr in the foreground with the daemons /etc/frr/daemons enables: the FRR image's
# docker-start, on Debian's frrcommon.sh
# (daemon_list's status is not its success: `;`, not `&&`)
WATCHFRR_SH = (f". {FRR_LIB}/frrcommon.sh; daemon_list daemons; "
               f"exec {FRR_LIB}/watchfrr $watchfrr_options $daemons")
FRR_PIDFILES = ("watchfrr", "zebra", "bgpd", "staticd", "bfdd", "ospfd", "ospf6d", "ripd", "ripngd",
                "isisd", "pimd", "ldpd", "nhrpd", "eigrpd", "babeld", "sharpd", "pbrd", "fabricd", "vrrpd")
# a lab host's /run is a tmpfs of its own mount namespace (metallb_lab/hostinit.py)
NODE_DIRECT = ("/run", "/var/run")
SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# frr-k8s's pods (manifest and Helm chart label them alike)
FRR_K8S_COMPONENT_LABEL = "app.kubernetes.io/component"
FRR_K8S_COMPONENTS = ("frr-k8s", "statuscleaner")


class Unsupported(Exception):
    """The lab cannot run this container; the message says why (shown in `clusterctl status`)."""


@dataclass
class Launch:
    """How one container runs: argv inside its namespaces, how it gets its API credentials."""
    name: str
    image: str
    kind: str                  # "metallb", "frr-k8s", "frr-daemons", "frr-tool"
    argv: list[str]
    kubeconfig: str = "none"   # "flag" (--kubeconfig=...), "env" (KUBECONFIG=...), "none"
    node_mounts: bool = False  # in the node's mount + UTS namespaces (FRR's files), else the machine's
    mounts: list[tuple[str, str]] = field(default_factory=list)  # (mountPath, volume name)


def image_repo(image: str) -> str:
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[0] if ":" in name.rsplit("/", 1)[-1] else name


def image_tag(image: str) -> str:
    name = image.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"


def image_kind(image: str) -> str | None:
    repo = image_repo(image)
    for suffix, comp in METALLB_IMAGES.items():
        if repo.endswith("/" + suffix) or repo == suffix:
            return f"metallb-{comp}"
    if repo.endswith("/" + FRR_K8S_IMAGE) or repo == FRR_K8S_IMAGE:
        return "frr-k8s"
    if repo.endswith("/" + FRR_IMAGE) or repo == FRR_IMAGE:
        return "frr"
    return None


def frr_k8s_component(pod: dict) -> str | None:
    labels = pod.get("metadata", {}).get("labels") or {}
    comp = labels.get(FRR_K8S_COMPONENT_LABEL)
    return comp if comp in FRR_K8S_COMPONENTS else None


def command_line(container: dict) -> list[str]:
    """command + args; ``sh -c "X"`` unwrapped to X's words (what the manifests use)."""
    cmd = list(container.get("command") or []) + list(container.get("args") or [])
    if len(cmd) >= 3 and cmd[0] in ("/bin/sh", "sh", "/bin/bash", "bash") and cmd[1] == "-c":
        return shlex.split(cmd[2]) + cmd[3:]
    return cmd


def plan_container(container: dict, versions: dict[str, str], files: dict[str, str],
                   volume_kinds: dict[str, str]) -> Launch:
    """The Launch of one (main) container. ``versions``: {"metallb": tag, "frr-k8s": tag} the
    lab has binaries for; ``files``: {"controller"|"speaker"|frr-k8s binary name: path};
    ``volume_kinds``: {volume name: "secret"|"configMap"|"emptyDir"|...}."""
    image, name = container.get("image", ""), container.get("name", "?")
    kind = image_kind(image)
    mounts = [(vm["mountPath"], vm["name"]) for vm in container.get("volumeMounts", [])
              if volume_kinds.get(vm["name"]) in ("secret", "configMap", "emptyDir", "projected")]
    if kind is None:
        raise Unsupported(f"container {name}: image {image} is none the lab runs "
                          f"(MetalLB, frr-k8s or FRR images)")
    if kind.startswith("metallb-"):
        comp, tag = kind.split("-", 1)[1], image_tag(image)
        # another built version (the previous minor, for upgrades) is in files as "speaker@v0.15.3"
        key = comp if tag == versions.get("metallb") else f"{comp}@{tag}"
        if key not in files:
            built = sorted({versions.get("metallb", "")} | {k.split("@", 1)[1] for k in files if "@" in k} - {""})
            raise Unsupported(f"container {name}: image {image}: the lab has MetalLB {comp} binaries of "
                              f"{', '.join(built) or 'no version'} only (lab/cluster/versions.py METALLB_VERSIONS; "
                              f"clusterctl build --metallb --metallb-previous)")
        return Launch(name, image, "metallb", [files[key], *container.get("args", [])], "flag", False, mounts)
    cmd = command_line(container)
    if kind == "frr-k8s":
        if image_tag(image) != versions.get("frr-k8s"):
            raise Unsupported(f"container {name}: image {image}: the lab has frr-k8s "
                              f"{versions.get('frr-k8s') or '(not built)'} binaries only")
        prog = FRR_K8S_PROGRAMS.get(cmd[0] if cmd else "")
        if prog is None or prog not in files:
            raise Unsupported(f"container {name}: command {cmd[:1]} of {image} is not one the lab has built")
        return Launch(name, image, "frr-k8s", [files[prog], *cmd[1:]], "env", False, mounts)
    # the FRR image: Debian's FRR stands in for it
    if any(FRR_DAEMON_START in c for c in cmd):
        return Launch(name, image, "frr-daemons", ["bash", "-c", WATCHFRR_SH], "none", True, mounts)
    prog = cmd[0] if cmd else ""
    if not any(prog == mp or prog.startswith(mp.rstrip("/") + "/") for mp, _ in mounts):
        raise Unsupported(f"container {name}: command {prog or '-'} of {image} is neither docker-start "
                          f"nor a file of the pod's volumes")
    return Launch(name, image, "frr-tool", cmd, "env", True, mounts)


def init_copies(container: dict, mount_dirs: dict[str, str], image_files: dict[str, str]) -> list[tuple[str, str]]:
    """What an init container's ``cp [-rLf] SRC... DEST`` does, as (source path on this machine,
    destination on this machine). ``mount_dirs``: {mountPath: dir} of the container's volumes;
    ``image_files``: {path in the image: path on this machine}. A source glob ``DIR/*`` stands
    for every file of DIR (destination: the dir); a file keeps its name in the image."""
    words = command_line(container)
    if not words or words[0] not in ("cp", "/cp-tool"):
        raise Unsupported(f"init container {container.get('name')}: {' '.join(words) or '-'}: "
                          f"only cp commands (and the speaker image's /cp-tool) are performed by the lab")
    if words[0] == "/cp-tool":  # cp-tool SRC DESTFILE
        words = ["cp", words[1] if len(words) > 1 else "", os.path.dirname(words[2]) + "/" if len(words) > 2 else ""]
    paths = [w for w in words[1:] if not w.startswith("-")]
    if len(paths) < 2:
        raise Unsupported(f"init container {container.get('name')}: cp needs a source and a destination")

    def on_machine(p: str) -> str | None:
        for mp, d in sorted(mount_dirs.items(), key=lambda m: -len(m[0])):
            if p == mp or p.startswith(mp.rstrip("/") + "/"):
                return os.path.join(d, os.path.relpath(p, mp)) if p != mp else d
        return image_files.get(p)

    dest = on_machine(paths[-1].rstrip("/") or "/")
    if dest is None or not any(paths[-1].rstrip("/") == mp.rstrip("/") for mp in mount_dirs):
        raise Unsupported(f"init container {container.get('name')}: destination {paths[-1]} is not a volume")
    out = []
    for src in paths[:-1]:
        if src.endswith("/*"):
            base = on_machine(src[:-2])
            if base is None:
                raise Unsupported(f"init container {container.get('name')}: {src} is not in a volume")
            out.append((base + "/*", dest))
            continue
        found = on_machine(src)
        if found is None:
            raise Unsupported(f"init container {container.get('name')}: {src} is no file the lab has for "
                              f"{container.get('image')}")
        out.append((found, os.path.join(dest, os.path.basename(src))))
    return out


def image_files(image: str, files: dict[str, str]) -> dict[str, str]:
    """Paths inside ``image`` -> files on this machine (built binaries, scripts of the Go
    module's source). ``files`` has the binaries and "frr-k8s-module" / "metallb-module"."""
    kind = image_kind(image)
    if kind == "frr-k8s":
        programs, scripts, module = FRR_K8S_PROGRAMS, FRR_K8S_SCRIPTS, files.get("frr-k8s-module")
    elif kind == "metallb-speaker":
        programs, scripts, module = SPEAKER_PROGRAMS, SPEAKER_SCRIPTS, files.get("metallb-module")
    else:
        return {}
    out = {p: files[b] for p, b in programs.items() if b in files}
    if module:
        out.update({p: os.path.join(module, rel) for p, rel in scripts.items()})
    return out


def bgp_mode(pod: dict) -> str | None:
    """The BGP mode a MetalLB speaker pod runs (its METALLB_BGP_TYPE; native when unset)."""
    for c in pod.get("spec", {}).get("containers", []):
        if image_kind(c.get("image", "")) == "metallb-speaker":
            v = next((e.get("value") for e in c.get("env", []) if e.get("name") == "METALLB_BGP_TYPE"), None)
            return v or "native"
    return None


MOUNT_FUNCS = r"""set -e
ov=" "
n=0
under_overlay() { p=$1; while :; do case "$ov" in *" $p "*) return 0;; esac; [ "$p" = / ] && return 1; p=$(dirname "$p"); done; }
ensure() {
  [ -e "$1" ] && return 0
  for d in $DIRECT; do case "$1" in "$d"/*) mkdir -p "$1"; return 0;; esac; done
  a=$(dirname "$1"); while [ ! -e "$a" ]; do a=$(dirname "$a"); done
  if ! under_overlay "$a"; then
    [ "$a" = / ] && { echo "volume at $1: would need an overlay on /" >&2; exit 1; }
    n=$((n+1)); mkdir -p "$W/$n/u" "$W/$n/w"
    mount -n -t overlay overlay -o "lowerdir=$a,upperdir=$W/$n/u,workdir=$W/$n/w" "$a"
    ov="$ov$a "
  fi
  mkdir -p "$1"
}
"""


def mount_script(mounts: list[tuple[str, str, bool]], overlay_dir: str, direct: tuple[str, ...] = ()) -> str:
    """sh commands, run in the container's private mount namespace, that put each
    (target, source dir or file, read-only) at its target. Missing targets are made inside an
    overlay (upper dir under ``overlay_dir``) of their nearest existing parent, decided in the
    namespace itself (the node's mount namespace differs from the machine's); all overlays come
    before the bind mounts (an overlay hides the mounts below its lower dir). A target inside
    another volume is made in that volume's directory. Under a ``direct`` prefix (a lab host's
    own /run, a tmpfs of its mount namespace) a missing target is made in place instead.
    A source that another target would hide (the lab cache under /tmp, which every container
    gets privately) is bound to a place under ``overlay_dir`` first and bound on from there."""
    lines = [f"W={shlex.quote(overlay_dir)}", f"DIRECT={shlex.quote(' '.join(direct))}", MOUNT_FUNCS.rstrip()]
    binds = []
    done: list[tuple[str, str]] = []
    ordered = sorted(mounts, key=lambda m: (m[0].rstrip("/").count("/"), m[0]))
    targets = [m[0].rstrip("/") or "/" for m in ordered]
    for i, (target, src, ro) in enumerate(ordered):
        bind_src = src
        if any(src == t or src.startswith(t.rstrip("/") + "/") for t in targets if t != targets[i]):
            bind_src = f"{overlay_dir.rstrip('/')}/keep{i}"
            q, k = shlex.quote(src), shlex.quote(bind_src)
            lines.append(f"if [ -d {q} ]; then mkdir -p {k}; else touch {k}; fi; mount -n --bind {q} {k}")
        inner = next((d for d in reversed(done) if target.startswith(d[0].rstrip("/") + "/")), None)
        if inner:
            os.makedirs(os.path.join(inner[1], os.path.relpath(target, inner[0])), exist_ok=True)
        else:
            lines.append(f"ensure {shlex.quote(target)}")
        binds.append(f"mount -n --bind {'-o ro ' if ro else ''}{shlex.quote(bind_src)} {shlex.quote(target)}")
        done.append((target, src))
    lines += binds
    lines.append('exec "$@"')
    return "\n".join(lines)


# ---------------------------------------------------------------- FRR daemons of a pod

def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def _netns_inode(path: str | Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def frr_daemon_pids(run_dir: Path, netns: Path) -> dict[str, int]:
    """The FRR daemons of a pod by their pid files in its /var/run/frr volume, believed only
    when the process has that name and runs in the node's network namespace."""
    want = _netns_inode(netns)
    out = {}
    for name in FRR_PIDFILES:
        try:
            pid = int((run_dir / f"{name}.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            continue
        if _comm(pid) == name[:15] and want is not None and _netns_inode(f"/proc/{pid}/ns/net") == want:
            out[name] = pid
    return out


def end_frr_daemons(run_dir: Path, netns: Path, grace: float = 3.0) -> list[str]:
    """SIGTERM (bgpd then sends its peers a Cease) and, after ``grace``, SIGKILL."""
    pids = frr_daemon_pids(run_dir, netns)
    for pid in pids.values():
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    t = time.monotonic()
    while time.monotonic() - t < grace and any(_comm(p) for p in pids.values()):
        time.sleep(0.05)
    for name, pid in pids.items():
        if _comm(pid) == name[:15]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return sorted(pids)


def kill_frr_daemon(pod_dir: Path, netns: Path, name: str) -> int:
    """SIGKILL one FRR daemon of a pod (a crash: it sends its peers nothing, the kernel closes its
    sessions' TCP connections); watchfrr starts it again. ``pod_dir``: the pod's state dir (its
    emptyDir volumes under ``empty/``, one of them FRR's /var/run/frr with the pid files). The pid."""
    found = {}
    for run_dir in sorted((pod_dir / "empty").glob("*")):
        found.update(frr_daemon_pids(run_dir, netns))
    if name not in found:
        raise LookupError(f"no {name} of the pod in {pod_dir} runs in {netns} (running: {sorted(found) or 'none'})")
    os.kill(found[name], signal.SIGKILL)
    return found[name]




def node_summary(pods: list[dict]) -> dict[str, dict]:
    """Per node: the BGP mode its speaker runs and the processes of each MetalLB / frr-k8s pod
    there, up or not (for `clusterctl status`)."""
    nodes: dict[str, dict] = {}
    for p in pods:
        n = nodes.setdefault(p.get("node") or "-", {"mode": None, "pods": []})
        if p.get("component") == "speaker":
            n["mode"] = p.get("mode") or n["mode"]
        n["pods"].append({"component": p.get("component"), "pod": p["pod"], "state": p.get("state"),
                          "processes": [{"container": c["name"], "up": bool(c.get("pid")), "state": c.get("state"),
                                         "restarts": c.get("restarts", 0)} for c in p.get("containers") or []]})
    return nodes


def format_nodes(pods: list[dict]) -> list[str]:
    """``node1: mode frr-k8s; speaker [speaker up]; frr-k8s [controller up, frr up, ...]``"""
    lines = []
    for node, n in sorted(node_summary(pods).items()):
        parts = []
        for p in sorted(n["pods"], key=lambda x: x["component"] or ""):
            procs = ", ".join(f"{x['container']} {'up' if x['up'] else (x['state'] or 'down').upper()}"
                              + (f" (restarts {x['restarts']})" if x["restarts"] else "") for x in p["processes"])
            parts.append(f"{p['component']} [{procs or (p['state'] or '-').upper()}]")
        lines.append(f"  {node}: mode {n['mode'] or '-'}; {'; '.join(parts)}")
    return lines
