# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""File operations for :class:`ConfigApplier`, done through AnsibleModule helpers.

The candidate is written next to its destination, already with its final
owner, group and mode, so the secret it may hold is never readable by others,
not even for the instant between a move and a chmod.
"""

from __future__ import annotations

import grp
import os
import pwd
import tempfile


class AnsibleFileOps:
    def __init__(self, module, directory: str, owner: str = "root", group: str = "frr", mode: int = 0o640):
        self.module = module
        self.directory = directory
        self.owner = owner
        self.group = group
        self.mode = mode

    def _ids(self) -> tuple[int, int]:
        try:
            uid = pwd.getpwnam(self.owner).pw_uid
        except KeyError:
            raise ValueError(f"owner '{self.owner}' does not exist on this host") from None
        try:
            gid = grp.getgrnam(self.group).gr_gid
        except KeyError:
            raise ValueError(f"group '{self.group}' does not exist on this host (is FRR installed?)") from None
        return uid, gid

    def read(self, path: str) -> str | None:
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read()
        except FileNotFoundError:
            return None

    def _secure_temp(self, directory: str, content: str) -> str:
        uid, gid = self._ids()
        fd, temp = tempfile.mkstemp(prefix=".frr_config.", suffix=".tmp", dir=directory)
        try:
            os.fchmod(fd, self.mode)
            os.fchown(fd, uid, gid)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        except BaseException:
            os.unlink(temp)
            raise
        return temp

    def write_temp(self, content: str) -> str:
        return self._secure_temp(self.directory, content)

    def backup(self, path: str) -> str:
        backup_path = self.module.backup_local(path)
        uid, gid = self._ids()
        # The backup holds the same secrets: same owner, group and mode as the live file.
        os.chown(backup_path, uid, gid)
        os.chmod(backup_path, self.mode)
        return backup_path

    def install(self, temp_path: str, path: str) -> None:
        # A plain rename within the directory: atomic, and the file keeps the mode and
        # owner set at creation (AnsibleModule.atomic_move would give a new file
        # 0666 & ~umask, readable by everyone until fixed).
        os.replace(temp_path, path)
        if self.module.selinux_enabled():
            self.module.set_default_selinux_context(path, False)

    def restore(self, previous: str, path: str) -> None:
        self.install(self._secure_temp(os.path.dirname(path), previous), path)

    def remove(self, path: str) -> None:
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
