# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Per-host registry of lab-managed processes.

Each host has ``<state>/hosts/<host>/pids/<service>.pid``. Long-running processes that the
lab starts itself (sshd today; etcd, kube-apiserver or a MetalLB speaker later) are
spawned here in the foreground, so the pid is known without racing a daemon's own pid
file. Daemons that manage their own pid files (FRR through frrinit.sh) are found in the
host's /run/frr, which is a bind mount from the state dir.

The registry is an index for status and targeted restarts. Tear-down does not trust it
alone: it ends every process found inside the lab's namespaces, which covers the
registered ones and anything started over SSH.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from pathlib import Path

from . import system


class Registry:
    def __init__(self, host_dir: Path, namespace_inodes):
        self.dir = host_dir / "pids"
        # a callable returning the lab's namespace inodes: a pid is only ever trusted,
        # or signalled, if it is inside one of them (guards against pid reuse)
        self._inodes = namespace_inodes

    def pidfile(self, service: str) -> Path:
        return self.dir / f"{service}.pid"

    def pid(self, service: str) -> int | None:
        """The service's pid if it is running inside the lab, else None."""
        try:
            pid = int(self.pidfile(service).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return pid if self._ours(pid) else None

    def services(self) -> dict[str, int | None]:
        if not self.dir.is_dir():
            return {}
        return {p.stem: self.pid(p.stem) for p in sorted(self.dir.glob("*.pid"))}

    def spawn(self, service: str, argv: Sequence[str], log: Path) -> int:
        """Start ``argv`` (already wrapped in the host's nsenter) in its own session.

        nsenter execs the command without forking (no PID namespace is entered), so the
        Popen pid is the service's pid.
        """
        self.dir.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True, close_fds=True,
            )
        tmp = self.pidfile(service).with_suffix(".tmp")
        tmp.write_text(f"{proc.pid}\n")
        os.replace(tmp, self.pidfile(service))
        # Popen would otherwise warn that the child still runs when this object goes away.
        proc.returncode = 0
        return proc.pid

    def stop(self, service: str) -> None:
        pid = self.pid(service)
        if pid is not None:
            system.end_processes([pid])
        self.pidfile(service).unlink(missing_ok=True)

    def _ours(self, pid: int) -> bool:
        if not system.alive(pid):
            return False
        inodes = set(self._inodes())
        return any(system.ns_inode(f"/proc/{pid}/ns/{k}") in inodes for k in ("net", "mnt"))


def pids_from_pidfiles(directory: Path) -> dict[str, int]:
    """Read daemon-written pid files (e.g. FRR's /run/frr/*.pid) without trusting them."""
    result = {}
    if directory.is_dir():
        for f in sorted(directory.glob("*.pid")):
            try:
                result[f.stem] = int(f.read_text().split()[0])
            except (OSError, ValueError, IndexError):
                continue
    return result
