# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SSH access to the hosts: generated keys and one sshd per host.

The keys are the lab's own, made at the first ``up`` and removed with the state dir.
sshd's StrictModes stays on: it is satisfied because the state dir is root-owned 0755
all the way up (which is why the state dir is under /run and not /tmp).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

from .system import LabError, run


class SshFiles:
    def __init__(self, state_dir: Path):
        self.dir = state_dir / "ssh"
        self.client_key = self.dir / "id_ed25519"
        self.host_key = self.dir / "ssh_host_ed25519_key"
        self.authorized_keys = self.dir / "authorized_keys"
        self.sshd_config = self.dir / "sshd_config"
        self.control_dir = self.dir / "cp"  # Ansible's ControlPath sockets, per lab

    def ensure(self) -> list[str]:
        changes = []
        self.dir.mkdir(mode=0o700, exist_ok=True)
        self.control_dir.mkdir(mode=0o700, exist_ok=True)
        for key, comment in ((self.client_key, "metallb-lab client"), (self.host_key, "metallb-lab host")):
            if not key.exists():
                run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", str(key)])
                changes.append(f"ssh key {key.name}")
        pub = Path(f"{self.client_key}.pub").read_text()
        if not self.authorized_keys.exists() or self.authorized_keys.read_text() != pub:
            self.authorized_keys.write_text(pub)
            os.chmod(self.authorized_keys, 0o600)
        config = self.render_config()
        if not self.sshd_config.exists() or self.sshd_config.read_text() != config:
            self.sshd_config.write_text(config)
        return changes

    def render_config(self) -> str:
        return f"""\
# sshd for the lab hosts. One sshd per host runs inside that host's namespaces with
# ListenAddress given on its command line; labctl keeps its pid in the state dir.
HostKey {self.host_key}
AuthorizedKeysFile {self.authorized_keys}
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes yes
PrintMotd no
PrintLastLog no
PidFile none
UseDNS no
# Ansible opens many connections at once (forks)
MaxStartups 100:30:200
MaxSessions 50
AcceptEnv LANG LC_*
Subsystem sftp /usr/lib/openssh/sftp-server
"""

    def sshd_argv(self, address: str, address6: str) -> list[str]:
        # -D: stay in the foreground, so the pid labctl records is sshd's; -e: log to the
        # host's /var/log/sshd.log (stderr), there is no syslog in a lab host
        return ["/usr/sbin/sshd", "-D", "-e", "-f", str(self.sshd_config),
                "-o", f"ListenAddress={address}", "-o", f"ListenAddress={address6}"]


def wait_listening(pid: int, port: int = 22, timeout: float = 5.0) -> None:
    """Wait until the process's network namespace has a TCP listener on ``port``.

    /proc/PID/net/tcp* shows the namespace of PID, so no need to enter it.
    """
    hexport = f":{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for table in ("tcp", "tcp6"):
            try:
                lines = Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]
            except OSError:
                raise LabError(f"sshd (pid {pid}) exited at start; see the host's /var/log/sshd.log")
            if any(l.split()[1].endswith(hexport) and l.split()[3] == "0A" for l in lines):
                return
        time.sleep(0.02)
    raise LabError(f"sshd (pid {pid}) is not listening on port {port} after {timeout} s")
