# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Give a lab host its own files. Runs INSIDE the host's new mount + UTS namespace.

Started by ``network.make_host_namespaces`` as
``nsenter --net=/run/netns/NS -- unshare --mount=H.mnt --uts=H.uts --propagation private -- python3 hostinit.py ARGS``.
Everything here changes only this host's private mount table and hostname; the files it
mounts live in the host's directory under the lab's state dir. Standalone (no package
imports) because it runs as a script.

Result, as seen on the host:
  hostname            the host's name (UTS namespace)
  /sys                a fresh sysfs: /sys/class/net lists this host's interfaces only
  /run                a private tmpfs (sshd's /run/sshd, /run/lock, ...) that still
                      shows the lab's state dir at its usual path
  /run/frr            <host dir>/run-frr    (FRR sockets and pid files)
  /etc/frr            <host dir>/etc-frr
  /var/log            <host dir>/var-log    (FRR logs, sshd log, frr-reload.log)
  /var/tmp            <host dir>/var-tmp    (FRR's crash-log dirs /var/tmp/frr/*)
  /root               <host dir>/root       (root's home: ~/.history_frr, ~/.ansible/tmp)
  /etc/hosts, /etc/hostname, /etc/resolv.conf   per-host files (no DNS server: nothing
                      may leave the lab)
"""
from __future__ import annotations

import argparse
import os
import socket
import subprocess
from pathlib import Path


def mount(*args: str) -> None:
    # -n: no /run/mount/utab bookkeeping (it would land in the shared root filesystem)
    subprocess.run(["mount", "-n", *args], check=True)


def bind(src: Path, dst: str, staging_run: Path) -> None:
    """Bind ``src`` over ``dst``; if ``dst`` resolves into /run, over its twin in the new /run."""
    target = os.path.realpath(dst)
    if target.startswith("/run/"):
        twin = staging_run / target[len("/run/"):]
        twin.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            twin.mkdir(exist_ok=True)
        else:
            twin.touch()
        target = str(twin)
    mount("--bind", str(src), target)


def namespace_handle_mounts() -> list[str]:
    """Mount points of namespace handles copied from the root mount table.

    The copy would keep other hosts' and other labs' namespaces alive after they are
    deleted, so they are detached here.
    """
    found = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        left, _, right = line.partition(" - ")
        if right.split()[0] == "nsfs":
            found.append(left.split()[4].encode().decode("unicode_escape"))
    return found


def detach_namespace_handles(own: tuple[str, ...], handles: list[str] | None = None) -> list[str]:
    """Detach the copied handles (default: all listed now); returns the ones that vanished.

    Another lab may delete a namespace between the listing and its umount: removing the
    handle file in the root namespace detaches its copies here too (Linux >= 3.18), and
    umount then fails. Such a handle is gone, which is all this wanted. A handle whose
    path starts with one of ``own`` (this lab's) must not vanish, nor may any handle that
    is still mounted after a failed umount.
    """
    vanished = []
    for target in reversed(namespace_handle_mounts() if handles is None else handles):
        cp = subprocess.run(["umount", "-n", "-l", target], capture_output=True, text=True, check=False)
        if cp.returncode == 0:
            continue
        if target.startswith(own) or target in namespace_handle_mounts():
            raise SystemExit(f"hostinit: umount {target} failed (rc={cp.returncode}): {cp.stderr.strip()}")
        vanished.append(target)
    return vanished


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hostname", required=True)
    ap.add_argument("--lab", required=True, help="the lab's name: its netns handles are /run/netns/LAB-*")
    ap.add_argument("--state-dir", required=True, type=Path)
    ap.add_argument("--host-dir", required=True, type=Path)
    a = ap.parse_args()
    hd: Path = a.host_dir

    socket.sethostname(a.hostname)

    detach_namespace_handles((f"/run/netns/{a.lab}-", f"{a.state_dir}/"))

    mount("-t", "sysfs", "-o", "nosuid,nodev,noexec", "sysfs", "/sys")

    # Build the new /run in a staging tmpfs under the host dir, then move it over /run in
    # one step: the host dir is itself under /run and would be hidden by a direct mount.
    staging = hd / "run"
    mount("-t", "tmpfs", "-o", "mode=0755,nosuid,nodev", "tmpfs", str(staging))
    (staging / "lock").mkdir(mode=0o1777)
    os.chmod(staging / "lock", 0o1777)
    (staging / "sshd").mkdir(mode=0o755)  # sshd's privilege separation dir
    state_twin = staging / a.state_dir.relative_to("/run")
    state_twin.mkdir(parents=True)
    mount("--bind", str(a.state_dir), str(state_twin))  # not recursive: no ns handles
    (staging / "frr").mkdir()
    mount("--bind", str(hd / "run-frr"), str(staging / "frr"))

    bind(hd / "etc-frr", "/etc/frr", staging)
    bind(hd / "var-log", "/var/log", staging)
    bind(hd / "var-tmp", "/var/tmp", staging)
    bind(hd / "root", "/root", staging)  # root's home: vtysh history, Ansible's remote tmp
    for name in ("hosts", "hostname", "resolv.conf"):
        bind(hd / "etc" / name, f"/etc/{name}", staging)

    mount("--move", str(staging), "/run")


if __name__ == "__main__":
    main()
