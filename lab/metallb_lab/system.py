# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands, /proc and signals: the lab's only contact with the machine."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


class LabError(Exception):
    """Something the user should read: printed without a traceback by the CLI."""


def run(
    argv: Sequence[str],
    *,
    input: str | None = None,
    check: bool = True,
    timeout: float = 60,
    stdout=None,
) -> subprocess.CompletedProcess:
    """Run a command; on failure raise LabError with the command and its stderr.

    Pass ``stdout`` (a file) for commands that start daemons: a daemon that keeps an
    inherited pipe open would make a captured run() wait forever.
    """
    kwargs = {"stdout": stdout, "stderr": subprocess.STDOUT} if stdout else {"capture_output": True}
    try:
        cp = subprocess.run(
            list(argv), input=input, text=True, timeout=timeout, check=False,
            stdin=None if input is not None else subprocess.DEVNULL, **kwargs,
        )
    except FileNotFoundError as exc:
        raise LabError(f"{argv[0]}: not installed (run `make setup`)") from exc
    if check and cp.returncode != 0:
        detail = (cp.stderr or cp.stdout or "").strip() if not stdout else f"see {stdout.name}"
        raise LabError(f"`{' '.join(argv)}` failed (rc={cp.returncode}): {detail}")
    return cp


def enter_argv(netns: str, mnt: Path | None = None, uts: Path | None = None, wd: str | None = None) -> list[str]:
    """nsenter prefix for a host: its network namespace plus, if given, its mount and UTS ones.

    nsenter and not ``ip netns exec``: the latter unshares a throw-away mount namespace of
    its own, which would hide the host's /etc/frr, /run and /sys.
    """
    argv = ["nsenter", f"--net=/run/netns/{netns}"]
    if mnt is not None:
        argv.append(f"--mount={mnt}")
    if uts is not None:
        argv.append(f"--uts={uts}")
    if wd is not None:
        argv.append(f"--wd={wd}")
    return [*argv, "--"]


# ---------------------------------------------------------------- namespaces and /proc
def ns_inode(path: Path | str) -> int | None:
    """Inode of a namespace handle (bind-mounted nsfs file or /proc/PID/ns/*), None if absent."""
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


@dataclass
class ProcInfo:
    pid: int
    comm: str
    state: str


def proc_info(pid: int) -> ProcInfo | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # comm is in parentheses and may contain spaces: split on the last ')'.
    head, _, tail = stat.rpartition(")")
    return ProcInfo(pid, head.partition("(")[2], tail.split()[0])


def alive(pid: int) -> bool:
    """True if pid runs. A zombie counts as gone: it holds no namespace, file or socket.

    (PID 1 of some VMs and containers never reaps orphans, so zombies of ended lab
    daemons can linger there; on a normal init they disappear at once.)
    """
    info = proc_info(pid)
    return info is not None and info.state not in ("Z", "X")


def pids_in_namespaces(inodes: Iterable[int]) -> list[int]:
    """Live processes whose net, mount or UTS namespace is one of ``inodes``.

    The same test as ``ip netns pids``, extended to the hosts' mount and UTS namespaces,
    so a process that left the host's network namespace (a future pod) is still found.
    """
    wanted = {i for i in inodes if i is not None}
    found = []
    me = os.getpid()
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit() or int(entry.name) == me:
            continue
        for kind in ("net", "mnt", "uts"):
            if ns_inode(f"/proc/{entry.name}/ns/{kind}") in wanted:
                if alive(int(entry.name)):
                    found.append(int(entry.name))
                break
    return sorted(found)


def end_processes(pids: Iterable[int], grace: float = 3.0) -> list[int]:
    """SIGTERM, wait up to ``grace`` seconds, then SIGKILL. Returns the pids signalled.

    Only ever called with pids proven to be inside the lab's namespaces.
    """
    pids = [p for p in pids if alive(p)]
    for pid in pids:
        _signal(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(alive(p) for p in pids):
        time.sleep(0.02)
    rest = [p for p in pids if alive(p)]
    for pid in rest:
        _signal(pid, signal.SIGKILL)
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline and any(alive(p) for p in rest):
        time.sleep(0.02)
    return pids


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


# ---------------------------------------------------------------- mounts
@dataclass
class Mount:
    target: str
    fstype: str


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo
    return field.encode().decode("unicode_escape") if "\\" in field else field


def mounts(pid: str = "self") -> list[Mount]:
    result = []
    for line in Path(f"/proc/{pid}/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        result.append(Mount(_unescape(left.split()[4]), right.split()[0]))
    return result


def is_mountpoint(path: Path | str) -> bool:
    path = str(path)
    return any(m.target == path for m in mounts())


def umount(path: Path | str, lazy: bool = False) -> None:
    # -n: never write /run/mount/utab, which would be a file outside the state dir
    run(["umount", "-n", *(["-l"] if lazy else []), str(path)])


def write_sysctls(netns: str, values: dict[str, str | int]) -> None:
    """Set net.* sysctls of one namespace (they are per network namespace)."""
    args = [f"{k}={v}" for k, v in values.items()]
    run([*enter_argv(netns), "sysctl", "-q", "-w", *args])
