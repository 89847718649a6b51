# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""AnsibleFileOps (frr/files.py): the candidate and its backup never readable by others, on a real directory."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import stat
from pathlib import Path

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr import files
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.files import AnsibleFileOps

OWNER = pwd.getpwuid(os.getuid()).pw_name
GROUP = grp.getgrgid(os.getgid()).gr_name
SECRET = "neighbor 192.0.2.1 password Pw-in-unit-test\n"


class FakeModule:
    """The three AnsibleModule helpers AnsibleFileOps uses."""

    def __init__(self, selinux: bool = False) -> None:
        self.selinux = selinux
        self.contexts = []

    def backup_local(self, path: str) -> str:
        backup = f"{path}.2026-12-07@17:00:00~"
        shutil.copy(path, backup)  # 0644 by the umask, as a plain copy would be
        os.chmod(backup, 0o644)
        return backup

    def selinux_enabled(self) -> bool:
        return self.selinux

    def set_default_selinux_context(self, path: str, changed: bool) -> None:
        self.contexts.append(path)


def _ops(tmp_path, selinux=False, **kwargs) -> AnsibleFileOps:
    return AnsibleFileOps(FakeModule(selinux), str(tmp_path), **dict({"owner": OWNER, "group": GROUP}, **kwargs))


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_candidate_is_written_beside_with_its_final_mode_and_owner(tmp_path):
    temp = _ops(tmp_path).write_temp(SECRET)
    assert os.path.dirname(temp) == str(tmp_path) and os.path.basename(temp).startswith(".frr_config.")
    assert _mode(temp) == 0o640
    assert (os.stat(temp).st_uid, os.stat(temp).st_gid) == (os.getuid(), os.getgid())
    assert Path(temp).read_text(encoding="utf-8") == SECRET


@pytest.mark.parametrize("kwargs, message", [
    ({"owner": "no-such-user-mlb"}, "owner 'no-such-user-mlb' does not exist on this host"),
    ({"group": "no-such-group-mlb"}, "group 'no-such-group-mlb' does not exist on this host (is FRR installed?)"),
])
def test_an_unknown_owner_or_group_is_named_and_nothing_is_written(tmp_path, kwargs, message):
    with pytest.raises(ValueError) as info:
        _ops(tmp_path, **kwargs).write_temp(SECRET)
    assert str(info.value) == message
    assert list(tmp_path.iterdir()) == []


def test_a_failed_write_leaves_no_temporary_file(tmp_path, monkeypatch):
    def refuse(fd, uid, gid):
        raise PermissionError("fchown refused")

    monkeypatch.setattr(files.os, "fchown", refuse)
    with pytest.raises(PermissionError):
        _ops(tmp_path).write_temp(SECRET)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("selinux", [False, True])
def test_install_replaces_the_file_keeping_the_private_mode(tmp_path, selinux):
    live = tmp_path / "frr.conf"
    live.write_text("old\n")
    live.chmod(0o644)
    ops = _ops(tmp_path, selinux=selinux)
    ops.install(ops.write_temp(SECRET), str(live))
    assert live.read_text() == SECRET and _mode(live) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["frr.conf"]
    assert ops.module.contexts == ([str(live)] if selinux else [])


def test_backup_gets_the_live_files_owner_and_mode(tmp_path):
    live = tmp_path / "frr.conf"
    live.write_text(SECRET)
    backup = _ops(tmp_path, mode=0o600).backup(str(live))
    assert Path(backup).read_text(encoding="utf-8") == SECRET and _mode(backup) == 0o600


def test_restore_puts_the_previous_content_back_privately(tmp_path):
    live = tmp_path / "frr.conf"
    live.write_text("candidate that failed\n")
    _ops(tmp_path).restore(SECRET, str(live))
    assert live.read_text() == SECRET and _mode(live) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["frr.conf"]


def test_read_and_remove_of_a_missing_file(tmp_path):
    ops = _ops(tmp_path)
    assert ops.read(str(tmp_path / "frr.conf")) is None
    ops.remove(str(tmp_path / "frr.conf"))  # nothing to remove is not an error
    (tmp_path / "frr.conf").write_text(SECRET)
    assert ops.read(str(tmp_path / "frr.conf")) == SECRET
    ops.remove(str(tmp_path / "frr.conf"))
    assert list(tmp_path.iterdir()) == []
