# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""FRR's own command-line tools, driven through an injected runner.

``run(argv) -> (rc, stdout, stderr)`` is the only way out of this module, so
unit tests replay recorded outputs and the Ansible modules pass
``AnsibleModule.run_command``. Every message that may quote configuration text
is redacted before it leaves.
"""

from __future__ import annotations

import json
import os
import typing as t

from .redact import redact
from .reload_diff import ReloadDiff, ReloadOutputError, parse_test_output

Runner = t.Callable[[list[str]], tuple[int, str, str]]

DEFAULT_RELOAD_SCRIPT = "/usr/lib/frr/frr-reload.py"


class FrrError(Exception):
    """A failure worth showing to the user as is (already redacted)."""


def daemons_for(config_text: str) -> set[str]:
    """Daemons that must be running for ``config_text`` to be applied."""
    wanted = {"zebra"}
    for line in config_text.splitlines():
        if line.startswith("router bgp "):
            wanted.add("bgpd")
        elif line.rstrip() == "bfd" or (line.startswith(" neighbor ") and " bfd" in line):
            wanted.add("bfdd")
    return wanted


class FrrTools:
    def __init__(self, run: Runner, vtysh: str = "vtysh", reload_script: str = DEFAULT_RELOAD_SCRIPT, secrets=()):
        self._run = run
        self.vtysh = vtysh
        self.reload_script = reload_script
        self.secrets = tuple(secrets)

    def _clean(self, text: str) -> str:
        return redact((text or "").strip(), self.secrets)

    def running_daemons(self) -> set[str] | None:
        """Daemons vtysh can reach, or ``None`` when FRR is not running at all."""
        rc, out, _err = self._run([self.vtysh, "-c", "show daemons"])
        if rc != 0:
            return None
        return set(out.split())

    def check_syntax(self, path: str) -> None:
        """``vtysh -C -f``: parse the candidate without touching the daemons."""
        rc, out, err = self._run([self.vtysh, "-C", "-f", path])
        if rc != 0:
            detail = self._clean("\n".join(p for p in (out, err) if p and p.strip()))
            raise FrrError(f"vtysh rejected the candidate configuration (vtysh -C -f, rc={rc}):\n{detail}")

    def _reload_argv(self, mode: str, path: str, confdir: str | None) -> list[str]:
        argv = [self.reload_script, mode]
        if os.path.isabs(self.vtysh):
            # frr-reload.py runs "<bindir>/vtysh"; keep it on the same binary as we do.
            argv += ["--bindir", os.path.dirname(self.vtysh)]
        if confdir:
            argv += ["--confdir", confdir]
        if mode == "--reload":
            # --stdout keeps the applied commands (which may hold secrets) out of
            # /var/log/frr/frr-reload.log; we only ever show them redacted.
            argv.append("--stdout")
        return argv + [path]

    def reload_test(self, path: str, confdir: str | None = None) -> ReloadDiff:
        """What ``frr-reload.py --reload`` would change to make running == ``path``."""
        rc, out, err = self._run(self._reload_argv("--test", path, confdir))
        try:
            diff = parse_test_output(out, err)
        except ReloadOutputError as exc:
            raise FrrError(f"frr-reload.py --test could not compare the candidate: {self._clean(str(exc))}") from None
        if rc != 0:
            raise FrrError(f"frr-reload.py --test failed (rc={rc}): {self._clean(err or out)}")
        return diff

    def reload(self, path: str, confdir: str | None = None) -> str:
        """Apply ``path`` incrementally; returns the (redacted) log."""
        rc, out, err = self._run(self._reload_argv("--reload", path, confdir))
        log = self._clean("\n".join(p for p in (out, err) if p))
        if rc != 0:
            raise FrrError(f"frr-reload.py --reload failed (rc={rc}):\n{_tail(log)}")
        return log

    def clear_bgp(self, address: str) -> None:
        """``clear bgp ADDRESS``: a hard reset of that session (a new connection, a new OPEN)."""
        rc, out, err = self._run([self.vtysh, "-c", f"clear bgp {address}"])
        if rc != 0 or (out or "").lstrip().startswith("%"):
            raise FrrError(f"vtysh -c 'clear bgp {address}' failed (rc={rc}): {self._clean(err or out)}")

    def show_json_many(self, commands: list[str], batch: int = 100) -> list[t.Any]:
        """``show_json`` of each command, in order, ``batch`` commands to one vtysh process.

        vtysh runs its ``-c`` options in turn and prints each JSON document after the last, so
        a hundred route lookups cost one process instead of a hundred (bgp_verify at 100 VIPs).
        When the documents cannot be told apart one to one, the batch is asked again a command at a time.
        """
        out: list[t.Any] = []
        for start in range(0, len(commands), batch):
            chunk = commands[start:start + batch]
            if len(chunk) == 1:
                out.append(self.show_json(chunk[0]))
                continue
            argv = [self.vtysh]
            for command in chunk:
                argv += ["-c", f"{command} json"]
            rc, text, err = self._run(argv)
            documents = _json_documents(text) if rc == 0 else None
            out += documents if documents is not None and len(documents) == len(chunk) else [self.show_json(c) for c in chunk]
        return out

    def show_json(self, command: str) -> t.Any:
        """Run ``vtysh -c '<command> json'`` and decode it."""
        rc, out, err = self._run([self.vtysh, "-c", f"{command} json"])
        if rc != 0:
            raise FrrError(f"vtysh -c '{command} json' failed (rc={rc}): {self._clean(err or out)}")
        try:
            return json.loads(out) if out.strip() else {}
        except ValueError as exc:
            raise FrrError(f"vtysh -c '{command} json' did not print JSON: {exc}") from None


def _json_documents(text: str) -> list[t.Any] | None:
    """The JSON documents printed one after another in ``text``; None when it is not that."""
    decoder, documents, index = json.JSONDecoder(), [], 0
    while True:
        while index < len(text) and text[index].isspace():
            index += 1
        if index == len(text):
            return documents
        try:
            document, index = decoder.raw_decode(text, index)
        except ValueError:
            return None
        documents.append(document)


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.splitlines()[-lines:])
