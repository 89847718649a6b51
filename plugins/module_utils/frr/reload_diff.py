# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Parse what ``frr-reload.py --test`` prints.

frr-reload.py exits 0 whether or not there is a difference, so the printed
delta is the only signal. Its shape (FRR 8.x)::

    <blank>
    Lines To Delete
    ===============
    router bgp 64501
     no neighbor 198.51.100.14 peer-group NODES
    ip forwarding
    <blank>
    Lines To Add
    ============
    router bgp 64501
     neighbor 198.51.100.15 peer-group NODES

Each command is printed with its context lines first (one more space of
indentation per level), so a command starts at every unindented line.
Logging goes to stderr (INFO lines, and ERROR lines when the candidate could
not be read, in which case the delta would be meaningless).
"""

from __future__ import annotations

import dataclasses
import re

from .redact import redact

DELETE_HEADER = "Lines To Delete"
ADD_HEADER = "Lines To Add"
_RULE = re.compile(r"^=+$")
_LOG_ERROR = re.compile(r"^\S+ \S+\s+(?:\x1b\[\d+m)?\s*(ERROR|CRITICAL)\b")
SEPARATOR = " > "
_PREFIX_LIST_REMOVALS = ("no ip prefix-list ", "no ipv6 prefix-list ")


class ReloadOutputError(ValueError):
    """frr-reload.py printed something that is not a delta we can trust."""


@dataclasses.dataclass
class ReloadDiff:
    """Commands (each a tuple of context lines ending with the command) to add and delete."""

    to_add: list[tuple[str, ...]] = dataclasses.field(default_factory=list)
    to_delete: list[tuple[str, ...]] = dataclasses.field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.to_add and not self.to_delete

    def add_lines(self, secrets=()) -> list[str]:
        return [flatten(cmd, secrets) for cmd in self.to_add]

    def delete_lines(self, secrets=()) -> list[str]:
        return [flatten(cmd, secrets) for cmd in self.to_delete]

    def prepared(self, target: str, secrets=()) -> str:
        """A unified-diff-like text for Ansible's ``diff.prepared``.

        Context lines (``router bgp 64501``) are printed once per run of
        commands sharing them, unprefixed like unchanged lines; ``-`` lines are
        the running-config lines that go away (frr-reload.py prints the
        command that removes them, ``no X`` for ``X`` and ``X`` for ``no X``),
        ``+`` lines the ones that come in.
        """
        out = ["--- running-config", f"+++ {target}"]
        for sign, commands in (("-", self.to_delete), ("+", self.to_add)):
            shown: tuple[str, ...] = ()
            for cmd in commands:
                context, line = cmd[:-1], cmd[-1]
                common = 0
                while common < min(len(context), len(shown)) and context[common] == shown[common]:
                    common += 1
                out.extend(f" {redact(c, secrets)}" for c in context[common:])
                shown = context
                shown_sign = sign
                if sign == "-":
                    line = _config_line(line)
                elif line.startswith(_PREFIX_LIST_REMOVALS):
                    # frr-reload.py removes replaced prefix-list entries by "adding" their "no" form.
                    line, shown_sign = _config_line(line), "-"
                out.append(f"{shown_sign}{redact(line, secrets)}")
        return "\n".join(out) + "\n"


def _config_line(command: str) -> str:
    """The running-config line that the delete ``command`` removes."""
    indent = command[: len(command) - len(command.lstrip())]
    body = command.lstrip()
    return indent + (body[3:] if body.startswith("no ") else "no " + body)


def flatten(command: tuple[str, ...], secrets=()) -> str:
    """``('router bgp 1', ' neighbor X peer-group P')`` -> ``'router bgp 1 > neighbor X peer-group P'``."""
    # Redact line by line: the password patterns are anchored at the start of a line.
    return SEPARATOR.join(redact(line.strip(), secrets) for line in command)


def parse_test_output(stdout: str, stderr: str = "") -> ReloadDiff:
    """Turn the stdout of ``frr-reload.py --test`` into a :class:`ReloadDiff`.

    Raises :class:`ReloadOutputError` when stderr carries an ERROR log line
    (for example "vtysh failed to process new configuration"): frr-reload.py
    then compares an empty candidate and its delta would delete everything.
    """
    errors = [line for line in (stderr or "").splitlines() if _LOG_ERROR.match(line)]
    if errors:
        raise ReloadOutputError("; ".join(errors))

    diff = ReloadDiff()
    section: list[tuple[str, ...]] | None = None
    current: list[str] | None = None

    def close():
        if current is not None and section is not None:
            section.append(tuple(current))

    for raw in (stdout or "").splitlines():
        line = raw.rstrip()
        if not line.strip() or _RULE.match(line):
            continue
        if line == DELETE_HEADER or line == ADD_HEADER:
            close()
            current = None
            section = diff.to_delete if line == DELETE_HEADER else diff.to_add
            continue
        if section is None:
            raise ReloadOutputError(f"unexpected output before any section header: {line!r}")
        if not line.startswith(" "):
            close()
            current = [line]
        elif current is None:
            raise ReloadOutputError(f"indented line without a context: {line!r}")
        else:
            current.append(line)
    close()
    return diff
