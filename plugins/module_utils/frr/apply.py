# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Install an FRR configuration safely: validate, diff, back up, reload, re-check.

The order is what makes it safe:

1. ``vtysh -C -f candidate``: a candidate FRR cannot parse stops here, nothing changed.
2. ``frr-reload.py --test candidate``: the exact commands a reload would run
   (this is ``changed`` and the diff, in check mode too).
3. Back up the current file, install the candidate (owner/group/mode enforced).
4. ``frr-reload.py --reload``: incremental, never a daemon restart. If it
   fails, the previous file is put back and reloaded.
5. ``frr-reload.py --test`` again must be empty: otherwise the template is not
   in FRR's canonical form and every run would "change" (and possibly reset
   sessions), so we fail loudly.

When FRR is not running, only the file is compared and installed; the daemons
read it when they start.
"""

from __future__ import annotations

import difflib
import os
import typing as t

from .redact import find_secrets, redact
from .commands import FrrError, FrrTools, daemons_for


class FileOps(t.Protocol):
    def read(self, path: str) -> str | None: ...

    def write_temp(self, content: str) -> str: ...

    def backup(self, path: str) -> str: ...

    def install(self, temp_path: str, path: str) -> None: ...

    def restore(self, previous: str, path: str) -> None: ...

    def remove(self, path: str) -> None: ...


class ConfigApplier:
    def __init__(self, tools: FrrTools, files: FileOps):
        self.tools = tools
        self.files = files

    def apply(self, content: str, path: str, check_mode: bool = False, backup: bool = True, reload: bool = True) -> dict:
        secrets = find_secrets(content)
        self.tools.secrets = tuple(secrets)
        confdir = os.path.dirname(path) or None
        result: dict[str, t.Any] = {
            "changed": False,
            "file_changed": False,
            "running_changed": False,
            "daemons_running": False,
            "reloaded": False,
            "lines_to_add": [],
            "lines_to_delete": [],
            "warnings": [],
        }

        candidate = self.files.write_temp(content)
        try:
            self.tools.check_syntax(candidate)

            current = self.files.read(path)
            result["file_changed"] = current != content

            running = self.tools.running_daemons()
            result["daemons_running"] = running is not None
            diff = None
            if running is not None and reload:
                missing = sorted(daemons_for(content) - running)
                if missing:
                    message = (
                        f"FRR is running without {', '.join(missing)}, which this configuration needs: "
                        f"set {', '.join(d + '=yes' for d in missing)} in {confdir}/daemons and reload FRR "
                        "(frrinit.sh reload restarts only watchfrr) before applying it"
                    )
                    if not check_mode:
                        raise FrrError(message)
                    result["warnings"].append(message)
                diff = self.tools.reload_test(candidate, confdir)
                result["running_changed"] = not diff.empty
                result["lines_to_add"] = diff.add_lines(secrets)
                result["lines_to_delete"] = diff.delete_lines(secrets)
                result["diff"] = {"prepared": diff.prepared(path, secrets)}
            else:
                # A prepared text diff, not before/after: Ansible would mask an "after"
                # equal to the no_log content as a whole.
                result["diff"] = {"prepared": file_diff(current, content, path, secrets)}
                if running is None:
                    result["warnings"].append(
                        f"FRR is not running: only {path} was compared; the daemons read it when they start"
                    )

            result["changed"] = result["file_changed"] or result["running_changed"]
            if check_mode or not result["changed"]:
                return result

            if result["file_changed"]:
                if backup and current is not None:
                    result["backup_file"] = self.files.backup(path)
                self.files.install(candidate, path)

            if diff is not None and not diff.empty:
                try:
                    self.tools.reload(path, confdir)
                except FrrError as exc:
                    previous = current if result["file_changed"] else None
                    raise FrrError(self._rollback(str(exc), path, confdir, previous, result["file_changed"])) from None
                result["reloaded"] = True
                residue = self.tools.reload_test(path, confdir)
                if not residue.empty:
                    # FRR 8.4's frr-reload.py can order deletions so that a daemon refuses one (BFD switched off:
                    # the neighbors' "bfd" lines and the "bfd" node stay). A second pass starts from the half-applied
                    # state; what is left after it is a real difference.
                    self.tools.reload(path, confdir)
                    residue = self.tools.reload_test(path, confdir)
                if not residue.empty:
                    raise FrrError(
                        "the configuration was applied, but frr-reload.py --test still reports a difference, so "
                        "the rendered file is not in FRR's canonical form (every run would change it again). "
                        f"Lines to add: {residue.add_lines(secrets)}; lines to delete: {residue.delete_lines(secrets)}"
                    )
            return result
        finally:
            self.files.remove(candidate)

    def _rollback(self, failure: str, path: str, confdir: str | None, previous: str | None, file_changed: bool) -> str:
        """Put the previous file back and reload it, so the daemons run what they ran before."""
        if not file_changed:
            target = f"{path} was not changed"
        elif previous is None:
            return f"{failure}\nThere was no previous {path} to roll back to; the running configuration may be partly changed."
        else:
            try:
                self.files.restore(previous, path)
            except OSError as exc:
                return f"{failure}\nRestoring the previous {path} failed too ({exc}); the running configuration may be partly changed."
            target = f"the previous {path} was restored"
        try:
            self.tools.reload(path, confdir)
        except FrrError as exc:
            return f"{failure}\nRolling back failed too ({target}, but reloading it failed: {exc})."
        return f"{failure}\nRolled back: {target} and reloaded."


def file_diff(current: str | None, content: str, path: str, secrets=()) -> str:
    """Unified diff of the file, secrets masked."""
    before = redact(current or "", secrets).splitlines(keepends=True)
    after = redact(content, secrets).splitlines(keepends=True)
    lines = difflib.unified_diff(before, after, fromfile=path if current is not None else "/dev/null", tofile=f"{path} (candidate)")
    return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def failure_message(exc: Exception, content: str) -> str:
    """Redact any exception text against the candidate's secrets."""
    return redact(str(exc), find_secrets(content))
