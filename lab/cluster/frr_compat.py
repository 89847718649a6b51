# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Can the lab's FRR load what frr-k8s renders? FRR's own parser and daemons answer.

frr-k8s (the BGP backend MetalLB v0.16 installs by default) renders frr.conf from Go
templates and targets FRR 10.4; the lab has Debian's FRR (8.4.4 on bookworm). Its unit tests
keep the rendered config of each test case as a golden file (internal/frr/testdata/*.golden in
the module MetalLB's go.mod pins). This tool feeds every golden file to the machine's FRR the
way frr-k8s's pod does, each in a throw-away FRR of its own:

1. private network, mount, UTS and PID namespaces (``unshare``); /etc/frr, /run/frr,
   /var/log/frr and /var/tmp are bind mounts of a temporary directory, so the machine's FRR
   files are never read or written. When the namespace's first process exits the kernel ends
   every daemon in it: nothing outlives a run. The network namespace has only ``lo``: the
   golden files' neighbours (192.168.x, 10.x) are unreachable, no packet leaves.
2. /etc/frr gets the pod's startup files (daemons, frr.conf, vtysh.conf) from frr-k8s's own
   manifest (config/all-in-one/frr-k8s.yaml, ConfigMap frr-k8s-frr-startup), and FRR starts
   through Debian's ``frrinit.sh start`` as the container's docker-start does (watchfrr,
   zebra, bgpd, staticd, bfdd, then ``vtysh -b``).
3. ``apply``: ``vtysh -f FILE`` sends every line to the running daemons, which answer each with
   their own handlers. A refusal is a ``% ...`` answer or a failed northbound transaction
   (``% Configuration failed.``: every line vtysh grouped into it is dropped, and vtysh's exit
   code stays 0).
4. ``parse``: the reloader's gate, ``frr-reload.py --test --stdout FILE`` (frr-k8s's
   frr-reloader.sh; upstream's docker test runs the same against FRR 10.4). It parses FILE with
   ``vtysh -m -f``: a line vtysh does not know fails the whole file and the reloader applies
   nothing. When it passes, its ``Lines To Add`` are the file's lines the daemons do not run
   after step 3 (``not_running``): refused lines, and lines FRR prints in another form.
5. The daemons are ended (SIGKILL inside the PID namespace), the next file starts afresh.
   ``WORKERS`` namespaces run side by side, each taking its share of the files.

Standalone below ``# --- inside`` (the part that runs in the namespaces uses only the standard
library and is started as ``python3 frr_compat.py --inside DIR``).

Command line: ``python3 lab/cluster/frr_compat.py [--json]`` (root: it makes namespaces).
"""
from __future__ import annotations

import argparse
import ast
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FRR_K8S_MODULE = "github.com/metallb/frr-k8s"
GOLDEN_GLOB = "internal/frr/testdata/*.golden"
STARTUP_MANIFEST = "config/all-in-one/frr-k8s.yaml"
STARTUP_CONFIGMAP = "frr-k8s-frr-startup"
STARTUP_FILES = ("daemons", "frr.conf", "vtysh.conf")
# bind-mounted over the machine's paths inside the namespace (source: a subdir of the workdir)
PRIVATE_DIRS = {"etc": "/etc/frr", "run": "/run/frr", "log": "/var/log/frr", "vartmp": "/var/tmp"}
JOBS = "jobs.json"
RESULT = "result.json"
KNOWN_BAD = "TestDockerTestfails.golden"  # upstream's check that a broken file fails
WORKERS = 2  # namespaces side by side, each running its share of the files in turn
RUN_TIMEOUT = 300.0


# ---------------------------------------------------------------- outside: inputs
def frr_k8s_version(metallb_version: str | None = None) -> str:
    """The frr-k8s version MetalLB's go.mod requires (MetalLB v0.16.1 pins v0.0.25)."""
    from cluster import build, versions as V  # noqa: PLC0415 (the inside part runs without the package)
    mv = metallb_version or V.METALLB_VERSION
    gomod = build.gomod_json(build.mod_download("go.universe.tf/metallb", mv)["GoMod"])
    for req in gomod.get("Require") or []:
        if req["Path"] == FRR_K8S_MODULE:
            return req["Version"]
    raise build.BuildError(f"go.universe.tf/metallb@{mv} go.mod does not require {FRR_K8S_MODULE}")


def frr_k8s_dir(version: str) -> Path:
    """The frr-k8s module's source in the Go module cache (downloaded from the proxy if missing)."""
    from cluster import build  # noqa: PLC0415
    return Path(build.mod_download(FRR_K8S_MODULE, version)["Dir"])


def golden_files(module_dir: Path) -> list[Path]:
    found = sorted(module_dir.glob(GOLDEN_GLOB))
    if not found:
        raise RuntimeError(f"no {GOLDEN_GLOB} in {module_dir}: has frr-k8s moved its golden files?")
    return found


def startup_files(module_dir: Path) -> dict[str, str]:
    """The FRR container's startup files, from frr-k8s's own all-in-one manifest."""
    import yaml  # noqa: PLC0415
    for doc in yaml.safe_load_all((module_dir / STARTUP_MANIFEST).read_text()):
        if doc and doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] == STARTUP_CONFIGMAP:
            missing = [n for n in STARTUP_FILES if n not in doc.get("data", {})]
            if missing:
                raise RuntimeError(f"ConfigMap {STARTUP_CONFIGMAP} in {STARTUP_MANIFEST} lacks {missing}")
            return {n: doc["data"][n] for n in STARTUP_FILES}
    raise RuntimeError(f"no ConfigMap {STARTUP_CONFIGMAP} in {module_dir / STARTUP_MANIFEST}")


def installed_frr() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "frr"],
                         capture_output=True, text=True, check=False).stdout.strip()
    if not out:
        raise RuntimeError("the frr package is not installed (tools/setup-system.sh installs it)")
    return out


# ---------------------------------------------------------------- outside: the throw-away FRRs
def _python() -> str:
    return "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


def run_worker(confs: list[Path], startup: dict[str, str], base: Path) -> list[dict]:
    """Run ``confs`` one after the other through fresh FRR daemons in one set of namespaces."""
    work = Path(tempfile.mkdtemp(prefix="worker.", dir=base))
    for sub in [*PRIVATE_DIRS, "inputs"]:
        (work / sub).mkdir()
    for name, text in startup.items():
        (work / "etc" / name).write_text(text)
    for conf in confs:
        shutil.copyfile(conf, work / "inputs" / conf.name)
    for path in [work / sub for sub in PRIVATE_DIRS] + list((work / "etc").iterdir()):
        shutil.chown(path, "frr", "frr")
    os.chmod(work / "etc", 0o755)
    (work / JOBS).write_text(json.dumps([{"file": c.name} for c in confs]))
    argv = ["unshare", "--net", "--mount", "--uts", "--pid", "--fork", "--mount-proc",
            "--propagation", "private", "--", _python(), str(Path(__file__).resolve()), "--inside", str(work)]
    cp = subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    try:
        results = json.loads((work / RESULT).read_text())
    except (OSError, ValueError):
        results = None
    if cp.returncode != 0 or results is None or len(results) != len(confs):
        raise RuntimeError(f"the throw-away FRR run failed (rc {cp.returncode}):\n"
                           f"{cp.stdout[-2000:]}{cp.stderr[-2000:]}")
    return results


def check(version: str | None = None, files: list[str] | None = None) -> dict:
    """Every golden file of frr-k8s ``version`` (default: MetalLB's pin) against the machine's FRR."""
    if os.geteuid() != 0:
        raise RuntimeError("frr_compat needs root (it makes namespaces and bind mounts)")
    t = time.monotonic()
    version = version or frr_k8s_version()
    mdir = frr_k8s_dir(version)
    confs = golden_files(mdir)
    if files:
        unknown = set(files) - {c.name for c in confs} - {c.stem for c in confs}
        if unknown:
            raise RuntimeError(f"no golden file {sorted(unknown)} in {mdir / GOLDEN_GLOB}")
        confs = [c for c in confs if c.name in files or c.stem in files]
    startup = startup_files(mdir)
    base = Path(tempfile.mkdtemp(prefix="frr-compat."))
    os.chmod(base, 0o755)  # the daemons (user frr) reach their dirs through it
    try:
        with ThreadPoolExecutor(WORKERS) as pool:
            parts = list(pool.map(lambda i: run_worker(confs[i::WORKERS], startup, base),
                                  range(min(WORKERS, len(confs)))))
    finally:
        shutil.rmtree(base, ignore_errors=True)
    results = sorted((r for part in parts for r in part), key=lambda r: r["file"])
    return {"frr": installed_frr(), "frr_k8s": version, "module_dir": str(mdir),
            "seconds": round(time.monotonic() - t, 1), "files": results}


# ---------------------------------------------------------------- findings
_ADDR = re.compile(r"(?<![\w:.])(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:]+)(?:/\d+)?")
_NUM = re.compile(r"(?<![\w-])\d+(?![\w.])")


def line_kind(line: str) -> str:
    """A refused line without its values: addresses/prefixes become A, plain numbers N."""
    return _NUM.sub("N", _ADDR.sub("A", line.strip()))


def refused(report: dict) -> dict[str, set[str]]:
    """{file: what FRR refused in it, without values}, only files with a refusal. An entry is
    ``parse: ERROR: LINE-KIND`` (the reloader's gate: nothing of the file is applied) or
    ``apply: ERROR`` (a daemon refused lines of the file; vtysh's rc may still be 0)."""
    out: dict[str, set[str]] = {}
    for r in report["files"]:
        kinds = {f"parse: {e['error']}: {line_kind(e['line'])}" for e in r["parse_errors"]}
        kinds |= {f"apply: {line_kind(e['error'])}" for e in r["apply_errors"]}
        if not r["parse_ok"] and not r["parse_errors"]:
            kinds.add(f"parse: rc {r['parse_rc']} without a line named")
        if kinds:
            out[r["file"]] = kinds
    return out


def format_report(report: dict) -> str:
    lines = [f"FRR {report['frr']} vs frr-k8s {report['frr_k8s']} golden files "
             f"({len(report['files'])} files, {report['seconds']} s; {report['module_dir']})"]
    for r in report["files"]:
        verdict = "loads" if r["parse_ok"] and r["apply_ok"] else "REFUSED"
        lines.append(f"{r['file']}: {verdict} (parse rc {r['parse_rc']}, apply rc {r['apply_rc']})")
        for e in r["parse_errors"]:
            lines.append(f"  parse: line {e.get('lineno', '?')}: {e['line']!r}: {e['error']}")
        for e in r["apply_errors"]:
            lines.append(f"  apply: {e['line']!r}: {e['error']}")
        if r["not_running"]:
            lines.append(f"  not running after apply (refused or printed otherwise): {r['not_running']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--inside", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--version", help="frr-k8s version (default: the one MetalLB's go.mod pins)")
    ap.add_argument("--json", action="store_true", help="print the full report as JSON")
    ap.add_argument("files", nargs="*", help="only these golden files (name or stem)")
    a = ap.parse_args(argv)
    if a.inside:
        return inside(a.inside)
    report = check(a.version, a.files)
    print(json.dumps(report, indent=1) if a.json else format_report(report))
    return 0


# --- inside: runs as PID 1 of fresh net+mount+UTS+PID namespaces (standard library only)
_VTYSH_ERR = re.compile(r"^line (\d+): (.*?)(?:\[\d+\])?: (.*)$")


def _mount(*args: str) -> None:
    # -n: no /run/mount/utab bookkeeping in the shared root filesystem
    subprocess.run(["mount", "-n", *args], check=True)


def _unquote_bytes(output: str) -> str:
    """frr-reload.py logs vtysh's stderr as a Python bytes literal (``b'line 18: ...\\n'``)."""
    def one(m: re.Match) -> str:
        try:
            return "\n" + ast.literal_eval(m.group(0)).decode("utf-8", "replace")
        except (ValueError, SyntaxError):
            return m.group(0)
    return re.sub(r"b'(?:[^'\\]|\\.)*'|b\"(?:[^\"\\]|\\.)*\"", one, output)


def parse_errors(output: str, conf_lines: list[str]) -> list[dict]:
    """vtysh's complaints ``line N: % Unknown command[N]: TEXT`` (from -m or -f) as records."""
    found = []
    for raw in _unquote_bytes(output).splitlines():
        m = _VTYSH_ERR.match(raw.strip())
        if not m:
            continue
        lineno, error, text = int(m.group(1)), m.group(2).lstrip("% ").strip(), m.group(3)
        found.append({"lineno": lineno, "line": text.strip() or (conf_lines[lineno - 1].strip()
                                                                 if 0 < lineno <= len(conf_lines) else ""),
                      "error": error})
    return found


def apply_errors(output: str) -> list[dict]:
    """Complaints of the daemons to ``vtysh -f``: a ``% ...`` message, then the line in question.

    vtysh -f prints what a daemon answered (``% ...``) and, for a refused command,
    ``line N: Failure to communicate[rc] to DAEMON, line: TEXT`` or the parse form above."""
    found, pending = [], []
    lines = output.splitlines()
    for i, raw in enumerate(lines):
        s = raw.strip()
        if s == "% Configuration failed.":
            # a northbound transaction refused: every line of the group is dropped, rc stays 0
            desc = next((x.split(":", 1)[1].strip() for x in lines[i:] if x.startswith("Error description:")), "")
            k = next((j for j in range(i, len(lines)) if lines[j].startswith("The following commands")), None)
            group = []
            for x in lines[k + 1:] if k is not None else []:
                if not x.startswith("- "):
                    break
                group.append(x[2:].strip())
            for e in [{"line": x, "error": f"configuration failed: {desc} (rejected with its transaction)"}
                      for x in group] or [{"line": "", "error": f"configuration failed: {desc}"}]:
                if e not in found:  # zebra and bgpd both refuse a prefix-list transaction
                    found.append(e)
            continue
        m = re.match(r"^line (\d+): Failure to communicate\[\d+\] to (\S+), line: (.*)$", s)
        if m:
            found.append({"lineno": int(m.group(1)), "line": m.group(3).strip(),
                          "error": "; ".join(pending) or f"refused by {m.group(2)}"})
            pending = []
            continue
        m = _VTYSH_ERR.match(s)
        if m:
            found.append({"lineno": int(m.group(1)), "line": m.group(3).strip(),
                          "error": m.group(2).lstrip("% ").strip()})
            pending = []
        elif s.startswith("%"):
            pending.append(s.lstrip("% ").strip())
    return found


def _end_daemons() -> None:
    """SIGKILL every other process of this PID namespace (the FRR daemons: PID 1 is this
    script, nothing else runs here) and reap them; then forget their pid files and sockets."""
    for _ in range(100):
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit() and int(d) != os.getpid()]
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            while os.waitpid(-1, os.WNOHANG)[0] > 0:
                pass
        except ChildProcessError:
            pass
        time.sleep(0.02)
    else:
        raise SystemExit("frr_compat: FRR daemons did not end")
    for p in Path("/run/frr").iterdir():
        shutil.rmtree(p) if p.is_dir() else p.unlink()


def _run(argv: list[str], env: dict) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=60)


def lines_to_add(output: str) -> list[str]:
    """The ``Lines To Add`` of ``frr-reload.py --test``: what the file has and the daemons
    do not run. Right after ``vtysh -f FILE`` these are lines the daemons did not take."""
    found: list[str] = []
    section = False
    for raw in output.splitlines():
        if raw.startswith("Lines To "):
            section = raw.startswith("Lines To Add")
            continue
        if not section or not raw.strip() or set(raw.strip()) == {"="}:
            continue
        if re.match(r"^\d{4}-\d\d-\d\d \d\d:", raw):  # frr-reload.py's own log lines
            section = False
            continue
        if raw.strip() not in found:
            found.append(raw.strip())
    return found


def check_one(conf: str, env: dict) -> dict:
    """Fresh daemons with the pod's startup config; the file applied; the reloader's verdict."""
    conf_lines = Path(conf).read_text().splitlines()
    t = time.monotonic()
    start = _run(["/usr/lib/frr/frrinit.sh", "start"], env)
    if start.returncode != 0:
        raise SystemExit(f"frr_compat: frrinit.sh start failed: {start.stdout}{start.stderr}")
    apply = _run(["vtysh", "-f", conf], env)
    # the reloader's gate: parses the file with `vtysh -m -f` (rc 1 and nothing applied when a
    # line is unknown) and diffs it against the running config
    gate = _run(["python3", "/usr/lib/frr/frr-reload.py", "--test", "--stdout", conf], env)
    _end_daemons()
    return {"parse_rc": gate.returncode, "parse_ok": gate.returncode == 0,
            "parse_errors": parse_errors(gate.stdout + gate.stderr, conf_lines),
            "apply_rc": apply.returncode, "apply_ok": apply.returncode == 0 and not apply_errors(apply.stdout),
            "apply_errors": apply_errors(apply.stdout + apply.stderr),
            "not_running": lines_to_add(gate.stdout) if gate.returncode == 0 else [],
            "raw_apply": (apply.stdout + apply.stderr)[-4000:], "seconds": round(time.monotonic() - t, 2)}


def inside(work: Path) -> int:
    env = dict(os.environ, HOME=str(work), PATH="/usr/sbin:/usr/bin:/sbin:/bin")
    for sub, target in PRIVATE_DIRS.items():
        if not Path(target).is_dir():
            raise SystemExit(f"frr_compat: {target} missing (is the frr package installed?)")
        _mount("--bind", str(work / sub), target)
    socket.sethostname("frr-compat")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    results = []
    for job in json.loads((work / JOBS).read_text()):
        r = check_one(str(work / "inputs" / job["file"]), env)
        results.append({"file": job["file"], **r})
    (work / RESULT).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    if "--inside" not in sys.argv:
        sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # lab/: the cluster package
    sys.exit(main())
