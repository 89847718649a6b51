# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an FRR host has before anything changes, read in one go.

The bgp_router role used to ask four times (the package database, the daemons file, vtysh,
the kernel's IPv6 forwarding), each a module run over SSH of about half a second.
``HostInfo`` reads them all with an injected runner and file reader, so the unit tests
replay recorded outputs.
"""

from __future__ import annotations

import re
import typing as t

from .commands import FrrTools

Runner = t.Callable[[list[str]], tuple[int, str, str]]
Reader = t.Callable[[str], "str | None"]
Finder = t.Callable[[str], "str | None"]

# The package database's own query tool, tried in this order; each prints one line per
# package it knows: "<name> <status>" (dpkg) or "<name>" (rpm: only installed ones).
PACKAGE_QUERIES = (
    ("dpkg-query", ["--show", "--showformat=${Package} ${db:Status-Status}\\n"]),
    ("rpm", ["--query", "--queryformat=%{NAME} installed\\n"]),
)
DAEMON_LINE = re.compile(r"^([A-Za-z0-9_]+)=(.*)$")
IPV6_FORWARDING = "/proc/sys/net/ipv6/conf/all/forwarding"


def parse_daemons_file(text: str) -> dict[str, str]:
    """``name=value`` settings of FRR's daemons file; the last one wins, as for the init script."""
    settings = {}
    for line in text.splitlines():
        match = DAEMON_LINE.match(line)
        if match:
            settings[match.group(1)] = match.group(2)
    return settings


def parse_package_lines(stdout: str, packages: list[str]) -> dict[str, bool]:
    """Which of ``packages`` the query's output says are installed."""
    installed = set()
    for line in stdout.splitlines():
        name, _space, status = line.strip().partition(" ")
        if status == "installed":
            installed.add(name)
    return {name: name in installed for name in packages}


class HostInfo:
    def __init__(self, run: Runner, read_file: Reader, find_binary: Finder, vtysh: str = "vtysh") -> None:
        self.run = run
        self.read_file = read_file
        self.find_binary = find_binary
        self.vtysh = vtysh

    def packages(self, names: list[str]) -> dict[str, bool] | None:
        """Installed or not, per package; ``None`` when the host has no package query tool this knows."""
        if not names:
            return {}
        for tool, args in PACKAGE_QUERIES:
            path = self.find_binary(tool)
            if path:
                # rc is 1 when a package is unknown; the lines say which.
                _rc, out, _err = self.run([path, *args, *names])
                return parse_package_lines(out, names)
        return None

    def daemons_file(self, path: str) -> dict:
        text = self.read_file(path)
        return {"exists": text is not None, "settings": parse_daemons_file(text or "")}

    def running_daemons(self) -> list[str] | None:
        if not self.find_binary(self.vtysh):
            return None
        running = FrrTools(self.run, vtysh=self.vtysh).running_daemons()
        return None if running is None else sorted(running)

    def ipv6_forwarding(self) -> bool | None:
        text = self.read_file(IPV6_FORWARDING)
        return None if text is None else text.strip() == "1"

    def read(self, packages: list[str], daemons_path: str) -> dict:
        running = self.running_daemons()
        return {
            "packages": self.packages(packages),
            "daemons_file": self.daemons_file(daemons_path),
            "running": running is not None,
            "running_daemons": running or [],
            "ipv6_forwarding": self.ipv6_forwarding(),
        }
