# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the integration tests.

``lab``               one network-namespace lab for the whole pytest session (see lab/README.md)
``ansible_playbook``  run ansible-playbook from the repo's venv and read its PLAY RECAP

The lab is named ``t<pid>`` so a test session never touches the developer's own lab
(``mlb``) or another session's, and it is torn down at the end even when tests fail.
Environment:

  METALLB_LAB_REUSE=NAME   use (and, if needed, start) lab NAME and leave it running
                           afterwards: fast edit-test loops. ``1`` means the default lab.
  METALLB_LAB_NODES=N      node hosts in the session lab (default 3)
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
LABCTL = REPO_ROOT / "lab" / "labctl.py"
ANSIBLE_PLAYBOOK = REPO_ROOT / ".venv" / "bin" / "ansible-playbook"


# ---------------------------------------------------------------- the lab
def labctl(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run lab/labctl.py with this interpreter (stdlib only, so any python3 will do)."""
    cp = subprocess.run([sys.executable, str(LABCTL), *args], capture_output=True, text=True,
                        timeout=timeout, check=False)
    if check and cp.returncode != 0:
        raise AssertionError(f"labctl {' '.join(args)} failed (rc={cp.returncode}):\n{cp.stdout}{cp.stderr}")
    return cp


@dataclass(frozen=True)
class LabHost:
    name: str
    role: str  # router, node, client
    group: str  # routers, k8s_nodes, clients
    netns: str
    address: str
    address6: str
    mac: str
    interface: str
    asn: int | None
    enter: tuple[str, ...] = field(repr=False)  # nsenter prefix: net + mount + UTS namespaces


class Lab:
    """A running lab, as the tests see it. Every method goes through the real lab."""

    def __init__(self, name: str, inventory: Path | None = None):
        self.name = name
        st = self.status()
        if not st.get("hosts"):
            raise AssertionError(f"lab {name} is not up: {st}")
        self.state_dir = Path(st["state_dir"])
        self.inventory = Path(inventory) if inventory else Path(st["inventories"][0])
        self.hosts: dict[str, LabHost] = {
            n: LabHost(n, h["role"], h["group"], h["netns"], h["address"], h["address6"], h["mac"],
                       h["interface"], h["asn"], tuple(h["enter"]))
            for n, h in st["hosts"].items()
        }

    @property
    def nodes(self) -> list[str]:
        return [n for n, h in self.hosts.items() if h.role == "node"]

    def labctl(self, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return labctl(command, "--name", self.name, *args, check=check)

    def status(self) -> dict:
        return json.loads(labctl("status", "--name", self.name, "--json", check=False).stdout)

    def exec(self, host: str, *cmd: str, check: bool = True, timeout: float = 60,
             input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` on ``host`` (its net + mount + UTS namespaces); stdout/stderr as text."""
        cp = subprocess.run([*self.hosts[host].enter, *cmd], capture_output=True, text=True,
                            timeout=timeout, input=input, check=False)
        if check and cp.returncode != 0:
            raise AssertionError(f"{host}: {' '.join(cmd)} failed (rc={cp.returncode}):\n{cp.stdout}{cp.stderr}")
        return cp

    def vtysh_json(self, host: str, command: str):
        out = self.exec(host, "vtysh", "-c", command if command.endswith(" json") else f"{command} json").stdout
        return json.loads(out) if out.strip() else {}

    def speaker(self, host: str, action: str, prefix: str | None = None, *, asn: int | None = None,
                router_asn: int | None = None, bfd: bool | None = None, hold: int | None = None) -> str:
        """announce/withdraw PREFIX, or configure with the given options (stand-in speaker)."""
        args = [host, action]
        if prefix is not None:
            args.append(prefix)
        if asn is not None:
            args += ["--asn", str(asn)]
        if router_asn is not None:
            args += ["--router-asn", str(router_asn)]
        if bfd is not None:
            args.append("--bfd" if bfd else "--no-bfd")
        if hold is not None:
            args += ["--hold", str(hold)]
        return self.labctl("speaker", *args).stdout

    def link(self, host: str, state: str) -> str:
        """``down``: the host's segment link goes away silently (no FIN/RST); ``up``: back."""
        return self.labctl("link", host, state).stdout

    def vip(self, host: str, action: str, address: str) -> str:
        """``add`` an L2 VIP to the host's segment interface (with a gratuitous ARP/NA), or ``del`` it."""
        return self.labctl("vip", host, action, address).stdout


@pytest.fixture(scope="session")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the integration tests need root: the lab is built from network namespaces")
    reuse = os.environ.get("METALLB_LAB_REUSE", "")
    if reuse:
        name = os.environ.get("METALLB_LAB_NAME", "mlb") if reuse.lower() in ("1", "yes", "true") else reuse
        labctl("up", "--name", name)  # starts it if needed, repairs it if damaged
        yield Lab(name)
        return
    name = f"t{os.getpid()}"
    nodes = os.environ.get("METALLB_LAB_NODES", "3")
    try:
        labctl("up", "--name", name, "--nodes", nodes)
        yield Lab(name)
    finally:
        labctl("down", "--name", name, check=False)


# ---------------------------------------------------------------- ansible-playbook
_RECAP = re.compile(
    r"^(?P<host>\S+)\s+:\s+ok=(?P<ok>\d+)\s+changed=(?P<changed>\d+)\s+unreachable=(?P<unreachable>\d+)"
    r"\s+failed=(?P<failed>\d+)\s+skipped=(?P<skipped>\d+)\s+rescued=(?P<rescued>\d+)\s+ignored=(?P<ignored>\d+)",
    re.M,
)


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    recap: dict[str, dict[str, int]]  # host -> ok, changed, unreachable, failed, skipped, rescued, ignored

    def total(self, key: str) -> int:
        return sum(h[key] for h in self.recap.values())

    @property
    def changed(self) -> int:
        return self.total("changed")

    @property
    def failed(self) -> int:
        return self.total("failed") + self.total("unreachable")

    def __str__(self) -> str:
        return f"rc={self.rc}\n{self.stdout}\n{self.stderr}"


def parse_recap(stdout: str) -> dict[str, dict[str, int]]:
    recap = stdout.rpartition("PLAY RECAP")[2]
    return {m["host"]: {k: int(v) for k, v in m.groupdict().items() if k != "host"}
            for m in _RECAP.finditer(recap)}


@pytest.fixture(scope="session")
def ansible_playbook():
    """Returns ``run(playbook, inventory, extra_vars=None, check=False, diff=False,
    expect_failure=False, limit=None, args=()) -> PlaybookRun``.

    Fails the test when the run fails (or, with ``expect_failure``, when it succeeds).
    Task results are printed as JSON (``callback_result_format=json``); the recap counts
    are parsed, so a test asserts idempotence with ``run.changed == 0``.
    """
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO_ROOT / ".build" / "collections"))
    env.setdefault("ANSIBLE_CONFIG", str(REPO_ROOT / "ansible.cfg"))
    env.update(
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ANSIBLE_CALLBACK_RESULT_FORMAT="json",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )

    def run(playbook, inventory, extra_vars: dict | None = None, check: bool = False, diff: bool = False,
            expect_failure: bool = False, limit: str | None = None, args=(), timeout: float = 900) -> PlaybookRun:
        playbook = Path(playbook)
        if not playbook.is_absolute() and not playbook.exists():
            playbook = REPO_ROOT / playbook
        argv = [str(ANSIBLE_PLAYBOOK), "-i", str(inventory), str(playbook), *args]
        if check:
            argv.append("--check")
        if diff:
            argv.append("--diff")
        if limit:
            argv += ["--limit", limit]
        with tempfile.NamedTemporaryFile("w", suffix=".json", prefix="extra-vars-") as vars_file:
            if extra_vars:
                json.dump(extra_vars, vars_file)
                vars_file.flush()
                argv += ["-e", f"@{vars_file.name}"]
            cp = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True,
                                timeout=timeout, check=False)
        result = PlaybookRun(cp.returncode, cp.stdout, cp.stderr, parse_recap(cp.stdout))
        if expect_failure and cp.returncode == 0:
            pytest.fail(f"{playbook.name} was expected to fail but succeeded:\n{result}")
        if not expect_failure and cp.returncode != 0:
            pytest.fail(f"{playbook.name} failed:\n{result}")
        return result

    return run
