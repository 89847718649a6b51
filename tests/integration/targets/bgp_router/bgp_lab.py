# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A lab of our own for the BGP tests and the bench: up, down, and the few things they do in it.

Everything goes through lab/labctl.py under a lab name of our own, so no other lab is
touched; ``down`` ends only what that lab started.
"""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[4]
HERE = pathlib.Path(__file__).resolve().parent
LABCTL = ROOT / "lab" / "labctl.py"
BIN = pathlib.Path(sys.executable).parent


class BgpLab:
    def __init__(self, name: str, nodes: int = 3, bfd: bool = False):
        self.name = name
        self.nodes = nodes
        self.bfd = bfd
        self.workdir = pathlib.Path(tempfile.mkdtemp(prefix=f"bgp-{name}-"))
        self.inventory = self.workdir / "inventory"
        self.node_names = [f"node{i}" for i in range(1, nodes + 1)]
        self.node4 = [f"198.51.100.{10 + i}" for i in range(1, nodes + 1)]
        self.node6 = [f"2001:db8:100::{10 + i}" for i in range(1, nodes + 1)]

    # ------------------------------------------------------------ lifecycle
    def labctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        run = subprocess.run([sys.executable, str(LABCTL), *args[:1], "--name", self.name, *args[1:]],
                             capture_output=True, text=True, check=False)
        if check and run.returncode != 0:
            raise RuntimeError(f"labctl {' '.join(args)}: {run.stdout}{run.stderr}")
        return run

    def up(self, attempts: int = 3) -> None:
        args = ("up", "--nodes", str(self.nodes), "--bfd" if self.bfd else "--no-bfd", "--inventory", str(self.inventory))
        for attempt in range(1, attempts + 1):
            try:
                self.labctl(*args)
                return
            except RuntimeError as exc:
                # labctl up can trip over another lab being built or removed at the same
                # moment (a namespace handle vanishing under it); start over from nothing.
                if attempt == attempts:
                    raise
                print(f"lab {self.name}: up failed (attempt {attempt}), retrying: {exc}", file=sys.stderr)
                self.down()
                time.sleep(1)

    def down(self) -> None:
        self.labctl("down", check=False)

    def close(self) -> None:
        """Lab down, and our scratch files (extra-vars, results) gone."""
        self.down()
        shutil.rmtree(self.workdir, ignore_errors=True)

    # ------------------------------------------------------------ inside the lab
    def exec(self, host: str, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        return self.labctl("exec", host, "--", *cmd, check=check)

    def vtysh_json(self, command: str, host: str = "router"):
        out = self.exec(host, "vtysh", "-c", f"{command} json").stdout
        return json.loads(out) if out.strip() else {}

    def running_config(self) -> str:
        return self.exec("router", "vtysh", "-c", "show running-config").stdout

    def router_file(self, path: str = "/etc/frr/frr.conf") -> str:
        return self.exec("router", "cat", path).stdout

    def reload_test(self) -> str:
        """``frr-reload.py --test`` of the installed file: empty when the running config matches it."""
        out = self.exec("router", "/usr/lib/frr/frr-reload.py", "--test", "/etc/frr/frr.conf").stdout
        return out.strip()

    def sessions(self) -> dict:
        """Per neighbor: state, uptime and reset counters."""
        return {
            address: {
                "state": info.get("bgpState"),
                "uptime_msec": info.get("bgpTimerUpMsec", 0),
                "established": info.get("connectionsEstablished", 0),
                "dropped": info.get("connectionsDropped", 0),
            }
            for address, info in self.vtysh_json("show bgp neighbors").items()
        }

    def kernel_nexthops(self, vip: str) -> list[str]:
        """Next hops of ``vip`` in the router's kernel FIB (``ip -j route show``)."""
        family = "-6" if ":" in vip else "-4"
        out = subprocess.run(["ip", "-n", f"{self.name}-router", "-j", family, "route", "show", vip],
                             capture_output=True, text=True, check=True).stdout
        hops = []
        for route in json.loads(out or "[]"):
            if "gateway" in route:
                hops.append(route["gateway"])
            hops += [nh["gateway"] for nh in route.get("nexthops", []) if "gateway" in nh]
        return sorted(hops)

    def speaker(self, host: str, *args: str) -> str:
        return self.labctl("speaker", host, *args).stdout

    def announce(self, prefix: str, hosts: list[str] | None = None) -> None:
        for host in hosts or self.node_names:
            self.speaker(host, "announce", prefix)

    def withdraw(self, prefix: str, hosts: list[str] | None = None) -> None:
        for host in hosts or self.node_names:
            self.speaker(host, "withdraw", prefix)

    def link(self, host: str, state: str) -> None:
        self.labctl("link", host, state)

    # ------------------------------------------------------------ timed events
    # Through the lab's Python API in this process: no interpreter start-up between the
    # clock and the event, so a measurement starts right before the event itself.
    def _lab_api(self):
        if str(ROOT / "lab") not in sys.path:
            sys.path.insert(0, str(ROOT / "lab"))
        from metallb_lab.lab import Lab  # pylint: disable=import-outside-toplevel
        return Lab(self.name)

    def timed_speaker(self, host: str, action: str, prefix: str) -> float:
        """announce/withdraw ``prefix`` on ``host`` (vtysh on the node); returns the monotonic start time."""
        api = self._lab_api()
        start = time.monotonic()
        api.speaker(host, action, prefix)
        return start

    def timed_link(self, host: str, state: str) -> float:
        """Take ``host``'s switch port down or up (no FIN/RST); returns the monotonic start time."""
        api = self._lab_api()
        start = time.monotonic()
        api.link(host, state)
        return start

    # ------------------------------------------------------------ Ansible
    def playbook(self, playbook: str, *args: str, extra_vars: dict | None = None) -> subprocess.CompletedProcess:
        env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
                   ANSIBLE_FORCE_COLOR="0")
        env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
        argv = [str(BIN / "ansible-playbook"), "-i", str(self.inventory), str(HERE / playbook), *args]
        if extra_vars:
            vars_file = self.workdir / f"vars-{time.monotonic_ns()}.json"
            vars_file.write_text(json.dumps(extra_vars))
            argv += ["-e", f"@{vars_file}"]
        return subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False)

    def apply(self, *args: str, **extra_vars) -> tuple[subprocess.CompletedProcess, dict | None]:
        """Run the role; returns the run and frr_config's result (None when it did not get that far)."""
        result_file = self.workdir / "apply-result.json"
        result_file.unlink(missing_ok=True)
        run = self.playbook("apply.yml", *args, extra_vars=dict(extra_vars, bgp_result_file=str(result_file)))
        return run, (json.loads(result_file.read_text()) if result_file.exists() else None)

    def verify(self, peers=(), prefixes=None, timeout: float = 0, poll_interval: float = 0.1) -> dict:
        result_file = self.workdir / "verify-result.json"
        result_file.unlink(missing_ok=True)
        expect = {"peers": list(peers), "prefixes": prefixes or {}, "timeout": timeout, "poll_interval": poll_interval}
        run = self.playbook("verify.yml", extra_vars={"bgp_expect": expect, "bgp_result_file": str(result_file)})
        if not result_file.exists():
            raise RuntimeError(f"verify.yml did not run: {run.stdout}{run.stderr}")
        return json.loads(result_file.read_text())


def recap(run: subprocess.CompletedProcess) -> str:
    """The PLAY RECAP line of the router."""
    for line in run.stdout.splitlines():
        if line.startswith("router ") and "ok=" in line:
            return line
    return ""


def changed(run: subprocess.CompletedProcess) -> int:
    line = recap(run)
    return int(line.split("changed=")[1].split()[0]) if line else -1
