# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab as tests and benches drive it: through labctl.py, the hosts' nsenter prefixes
and ansible-playbook, as a user would. Stdlib only; import it with the repo's ``lab/``
directory on ``sys.path``::

    sys.path.insert(0, str(REPO_ROOT / "lab"))
    from metallb_lab.client import LabClient, unique_name

    with LabClient.fresh(unique_name("bgprt"), nodes=3) as lab:   # down at the end
        lab.announce("203.0.113.10/32")
        run = lab.playbook("tests/integration/lab/playbooks/probe.yml", {"probe": "p1"})
        assert run.recap["node1"]["changed"] == 1

Failures raise ``LabCommandError`` (an AssertionError: in a test it is a failed
expectation about the lab) with the command's output.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from . import plan as P
from .lab import Lab

REPO_ROOT = Path(__file__).resolve().parents[2]
LABCTL = REPO_ROOT / "lab" / "labctl.py"


class LabCommandError(AssertionError):
    """A labctl, host or ansible-playbook command did not do what was asked."""


def labctl(*args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run labctl.py with this interpreter (any python3 will do: it needs the stdlib only)."""
    cp = subprocess.run([sys.executable, str(LABCTL), *args], capture_output=True, text=True,
                        timeout=timeout, check=False)
    if check and cp.returncode != 0:
        raise LabCommandError(f"labctl {' '.join(args)} failed (rc={cp.returncode}):\n{cp.stdout}{cp.stderr}")
    return cp


def _options(**options) -> list[str]:
    """labctl options from keyword arguments: None left out, a bool as --NAME or --no-NAME."""
    args = []
    for key, value in options.items():
        name = key.replace("_", "-")
        if isinstance(value, bool):
            args.append(f"--{name}" if value else f"--no-{name}")
        elif value is not None:
            args += [f"--{name}", str(value)]
    return args


def unique_name(base: str) -> str:
    """``base`` + this process's pid: no other live process has that pid, so runs in
    parallel (other sessions, benches, CI) never share or tear down each other's lab."""
    return P.validate_name(f"{base}{os.getpid()}")


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


def ansible_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(REPO_ROOT / ".build" / "collections"))
    env.update(
        # the tests are written against this repo's settings (forks, pipelining, ssh args)
        ANSIBLE_CONFIG=str(REPO_ROOT / "ansible.cfg"),
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        # YAML prints strings as they are; JSON would escape quotes and newlines, and a
        # test looking for a leaked secret in the output could then miss it
        ANSIBLE_CALLBACK_RESULT_FORMAT="yaml",
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _ansible_playbook() -> str:
    # the repo's venv, also when a bench runs under the system python3 (sudo python3 ...)
    venv = REPO_ROOT / ".venv" / "bin" / "ansible-playbook"
    return str(venv) if venv.exists() else shutil.which("ansible-playbook") or "ansible-playbook"


def run_playbook(playbook: Path | str, inventory: Path | str | None, extra_vars: dict | None = None, *,
                 check: bool = False, diff: bool = False, limit: str | None = None, args=(),
                 expect_failure: bool | None = False, timeout: float = 900,
                 cwd: Path | str | None = None, env: dict | None = None) -> PlaybookRun:
    """ansible-playbook from the repo root (or ``cwd``); ``check``/``diff`` are its --check/--diff;
    no ``-i`` when ``inventory`` is None; ``env`` is added to the environment.

    Raises LabCommandError when the run fails, or with ``expect_failure`` when it
    succeeds; ``expect_failure=None`` returns any outcome for the caller to judge.
    A relative ``playbook`` that does not exist from here is taken from the repo root.
    """
    playbook = Path(playbook)
    if not playbook.is_absolute() and not playbook.exists():
        playbook = REPO_ROOT / playbook
    argv = [_ansible_playbook(), *(["-i", str(inventory)] if inventory is not None else []), str(playbook), *args]
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
        cp = subprocess.run(argv, cwd=cwd or REPO_ROOT, env={**ansible_env(), **(env or {})}, capture_output=True,
                            text=True, timeout=timeout, check=False)
    result = PlaybookRun(cp.returncode, cp.stdout, cp.stderr, parse_recap(cp.stdout))
    if expect_failure and cp.returncode == 0:
        raise LabCommandError(f"{playbook.name} was expected to fail but succeeded:\n{result}")
    if expect_failure is False and cp.returncode != 0:
        raise LabCommandError(f"{playbook.name} failed:\n{result}")
    return result


# ---------------------------------------------------------------- the lab
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
    rack: str | None = None  # the routed layout's rack (labctl up --routers N)


class LabClient:
    """A running lab. Its hosts and inventory are read once, from ``labctl status``, when it
    is attached (they do not change while a lab runs); everything else asks the lab itself."""

    def __init__(self, name: str, inventory: Path | str | None = None):
        self.name = name
        st = self.status()
        if not st.get("hosts"):
            raise LabCommandError(f"lab {name} is not up: {st}")
        self.state_dir = Path(st["state_dir"])
        self.inventory = Path(inventory) if inventory else Path(st["inventories"][0])
        self.hosts: dict[str, LabHost] = {
            n: LabHost(n, h["role"], h["group"], h["netns"], h["address"], h["address6"], h["mac"],
                       h["interface"], h["asn"], tuple(h["enter"]), h.get("rack"))
            for n, h in st["hosts"].items()
        }
        self._lab: Lab | None = None

    # ------------------------------------------------------------ lifecycle
    @classmethod
    def up(cls, name: str, *, nodes: int | None = None, bfd: bool | None = None,
           inventory: Path | str | None = None, routers: int | None = None) -> LabClient:
        """``labctl up``: builds the lab, or repairs a running one, and returns its client."""
        labctl("up", "--name", name, *_options(nodes=nodes, bfd=bfd, inventory=inventory, routers=routers))
        return cls(name, inventory)

    @classmethod
    def fresh(cls, name: str, *, nodes: int | None = None, bfd: bool | None = None,
              routers: int | None = None) -> LabClient:
        """A newly built lab ``name`` (use ``unique_name``); a lab left under that name by
        an interrupted run goes first. A failed build is torn down before the error."""
        labctl("down", "--name", name)
        try:
            return cls.up(name, nodes=nodes, bfd=bfd, routers=routers)
        except BaseException:
            labctl("down", "--name", name, check=False)
            raise

    def down(self) -> None:
        self.labctl("down")

    def __enter__(self) -> LabClient:
        return self

    def __exit__(self, *exc) -> None:
        self.down()

    # ------------------------------------------------------------ looking at it
    @property
    def nodes(self) -> list[str]:
        return [n for n, h in self.hosts.items() if h.role == P.NODE]

    @property
    def routers(self) -> list[str]:
        return [n for n, h in self.hosts.items() if h.role == P.ROUTER]

    @property
    def node4(self) -> list[str]:
        """The nodes' IPv4 addresses, in node order."""
        return [self.hosts[n].address for n in self.nodes]

    @property
    def node6(self) -> list[str]:
        return [self.hosts[n].address6 for n in self.nodes]

    def labctl(self, command: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return labctl(command, "--name", self.name, *args, check=check)

    def status(self) -> dict:
        return json.loads(labctl("status", "--name", self.name, "--json", check=False).stdout)

    def exec(self, host: str, *cmd: str, check: bool = True, timeout: float | None = 60,
             input: str | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` on ``host`` (its net + mount + UTS namespaces); stdout/stderr as text."""
        cp = subprocess.run([*self.hosts[host].enter, *cmd], capture_output=True, text=True,
                            timeout=timeout, input=input, env=env, check=False)
        if check and cp.returncode != 0:
            raise LabCommandError(f"{host}: {' '.join(cmd)} failed (rc={cp.returncode}):\n{cp.stdout}{cp.stderr}")
        return cp

    def vtysh_json(self, host: str, command: str):
        out = self.exec(host, "vtysh", "-c", command if command.endswith(" json") else f"{command} json").stdout
        return json.loads(out) if out.strip() else {}

    def bgp_sessions(self, host: str) -> dict[str, dict]:
        """``host``'s BGP neighbors: state, uptime and how often each was established and dropped."""
        return {
            address: {
                "state": info.get("bgpState"),
                "uptime_msec": info.get("bgpTimerUpMsec", 0),
                "established": info.get("connectionsEstablished", 0),
                "dropped": info.get("connectionsDropped", 0),
            }
            for address, info in self.vtysh_json(host, "show bgp neighbors").items()
        }

    def frr_reload_test(self, host: str) -> str:
        """``frr-reload.py --test`` of ``host``'s frr.conf: empty when FRR runs what the file says."""
        return self.exec(host, "/usr/lib/frr/frr-reload.py", "--test", "/etc/frr/frr.conf").stdout.strip()

    def kernel_nexthops(self, host: str, destination: str) -> list[str]:
        """Gateways of ``destination`` in ``host``'s kernel FIB, sorted: one per ECMP path."""
        family = "-6" if ":" in destination else "-4"
        # only the network namespace (ip -n): cheap enough to poll every few milliseconds
        out = subprocess.run(["ip", "-n", self.hosts[host].netns, "-j", family, "route", "show", destination],
                             capture_output=True, text=True, check=True).stdout
        hops = []
        for route in json.loads(out or "[]"):
            if "gateway" in route:
                hops.append(route["gateway"])
            hops += [nh["gateway"] for nh in route.get("nexthops", []) if "gateway" in nh]
        return sorted(hops)

    def wait_for_nexthops(self, host: str, destination: str, want: list[str], start: float, timeout: float,
                          interval: float = 0.005) -> float | None:
        """Poll until ``destination``'s next hops on ``host`` are ``want``: seconds from ``start``
        (a time.monotonic()) until seen, or None once ``timeout`` seconds have passed since it."""
        want = sorted(want)
        while True:
            now = time.monotonic()
            if self.kernel_nexthops(host, destination) == want:
                return now - start
            if now - start > timeout:
                return None
            time.sleep(interval)

    # ------------------------------------------------------------ changing it
    def speaker(self, host: str, action: str, prefix: str | None = None, *, asn: int | None = None,
                router_asn: int | None = None, bfd: bool | None = None, hold: int | None = None) -> str:
        """announce/withdraw PREFIX, or configure with the given options (stand-in speaker)."""
        args = [host, action, *([prefix] if prefix is not None else [])]
        return self.labctl("speaker", *args, *_options(asn=asn, router_asn=router_asn, bfd=bfd, hold=hold)).stdout

    def announce(self, prefix: str, hosts: list[str] | None = None) -> None:
        """``prefix`` from the speakers of ``hosts`` (default: every node)."""
        for host in hosts or self.nodes:
            self.speaker(host, "announce", prefix)

    def withdraw(self, prefix: str, hosts: list[str] | None = None) -> None:
        for host in hosts or self.nodes:
            self.speaker(host, "withdraw", prefix)

    def link(self, host: str, state: str) -> str:
        """``down``: the host's segment link goes away silently (no FIN/RST); ``up``: back."""
        return self.labctl("link", host, state).stdout

    def vip(self, host: str, action: str, address: str) -> str:
        """``add`` an L2 VIP to the host's segment interface (with a gratuitous ARP/NA), or ``del`` it."""
        return self.labctl("vip", host, action, address).stdout

    # Timed events go through the lab's Python API in this process: no interpreter
    # start-up between the clock and the event, so a measurement starts right at it.
    def _in_process(self) -> Lab:
        if self._lab is None:
            self._lab = Lab(self.name)
        return self._lab

    def timed_speaker(self, host: str, action: str, prefix: str) -> float:
        """announce/withdraw ``prefix`` on ``host``; returns the time.monotonic() it started at."""
        lab = self._in_process()
        start = time.monotonic()
        lab.speaker(host, action, prefix)
        return start

    def timed_link(self, host: str, state: str) -> float:
        """Take ``host``'s switch port down or up; returns the time.monotonic() it started at."""
        lab = self._in_process()
        start = time.monotonic()
        lab.link(host, state)
        return start

    # ------------------------------------------------------------ Ansible
    def playbook(self, playbook: Path | str, extra_vars: dict | None = None, **kwargs) -> PlaybookRun:
        """``run_playbook`` on this lab's inventory."""
        return run_playbook(playbook, self.inventory, extra_vars, **kwargs)

    def playbook_result(self, playbook: Path | str, result_var: str, extra_vars: dict | None = None,
                        **kwargs) -> tuple[PlaybookRun, dict | None]:
        """Run a playbook that saves a result as JSON to the file named by its variable
        ``result_var``: the run, and that result (None if the playbook did not get that far)."""
        with tempfile.TemporaryDirectory(prefix=f"lab-{self.name}-") as tmp:
            result_file = Path(tmp) / "result.json"
            run = self.playbook(playbook, {**(extra_vars or {}), result_var: str(result_file)}, **kwargs)
            return run, (json.loads(result_file.read_text()) if result_file.exists() else None)
