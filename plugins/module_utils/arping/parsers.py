# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Read the output and exit code of the two Linux arping tools.

* iputils arping (Debian ``iputils-arping``, RHEL ``iputils``):
  ``Unicast reply from 198.51.100.200 [3A:2C:6C:3F:09:4E]  0.551ms`` and a
  ``Sent N probes`` / ``Received N response(s)`` trailer. Exit code (20221126):
  0 when every probe got exactly one reply, 1 otherwise (a lost reply and a
  second responder look the same), 2 on errors. The replies themselves are the
  only trustworthy account of who answered.
* Thomas Habets' arping (Debian ``arping``):
  ``42 bytes from 3a:2c:6c:3f:09:4e (198.51.100.200): index=0 time=12.483 usec``,
  ``Timeout`` per unanswered probe and a ``--- statistics ---`` block. Exit code:
  0 when anything answered, 1 when nothing did or on errors; with ``-d`` it is 1
  exactly when two different MACs answered (and 0 when nothing did).

* ndisc6 (Debian ``ndisc6``), the tool for IPv6 VIPs, run as ``ndisc6 -m -n -r 1``:
  ``Soliciting VIP (VIP) on IF...``, then per neighbor advertisement
  ``Target link-layer address: 3A:2C:6C:3F:09:4E`` and `` from VIP``, or
  ``Timed out.`` / ``No response.``. Exit code (1.0.5): 0 when anything
  answered, 2 when nothing did, 1 on errors (no such device, a source address
  not on this host, bad options). ``-m`` waits the whole ``-w`` and prints every
  answer; SIGINT kills it without output (stdout is block-buffered into a pipe),
  so it is never stopped early, and it prints no round-trip time.

Everything here is plain text in, plain data out, so the unit tests replay
recorded runs of the tools.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

IPUTILS = "iputils"
HABETS = "habets"
FLAVORS = (IPUTILS, HABETS)
NDISC6 = "ndisc6"


class ArpingError(Exception):
    """arping could not probe, or printed something this module does not understand."""


@dataclass
class Reply:
    """One ARP answer as printed by the tool."""

    mac: str
    rtt_ms: float | None
    ip: str


@dataclass
class ArpingRun:
    """A parsed arping run: who answered, and the tool's own counters."""

    flavor: str
    target: str
    replies: list[Reply] = field(default_factory=list)
    sent: int = 0
    received: int = 0
    rc: int = 0

    @property
    def macs(self) -> list[str]:
        """Distinct MACs in the order they first answered."""
        return list(dict.fromkeys(reply.mac for reply in self.replies))


def normalize_mac(value: str) -> str:
    """``3A-2C-6C-3F-09-4E`` / ``3a2c.6c3f.094e`` / ``3A:2C:...`` -> ``3a:2c:6c:3f:09:4e``."""
    digits = re.sub(r"[^0-9a-fA-F]", "", str(value))
    separators = re.sub(r"[0-9a-fA-F]", "", str(value))
    if len(digits) != 12 or (separators and set(separators) - set(":-.")):
        raise ValueError(f"{value!r} is not a MAC address (expected six hex octets such as 3a:2c:6c:3f:09:4e)")
    return ":".join(digits[i:i + 2] for i in range(0, 12, 2)).lower()


def _last_line(*texts: str) -> str:
    for text in texts:
        lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
        if lines:
            return lines[-1]
    return "no output"


def _error_text(stdout: str, stderr: str) -> str:
    """The tool's own complaint: stderr (usage errors, libnet errors), else stdout's last line."""
    complaint = []
    for line in (stderr or "").splitlines():
        if not line.strip() or line.strip().lower().startswith("usage:"):
            # A usage error prints the complaint first and the usage text after it.
            break
        complaint.append(line.strip())
    return "; ".join(complaint) if complaint else _last_line(stdout)


# ---------------------------------------------------------------- iputils

_IPUTILS_HEADER = re.compile(r"^ARPING (?P<target>\S+) from (?P<source>\S+) ?(?P<device>\S*)$")
_IPUTILS_REPLY = re.compile(
    r"^(?:Unicast|Broadcast) (?:reply|request) from (?P<ip>[0-9.]+) \[(?P<mac>[0-9A-Fa-f:]+)\]"
    r".*?\s(?:(?P<ms>\d+\.\d+)ms|UNSOLICITED\?)$"
)
_IPUTILS_SENT = re.compile(r"^Sent (?P<sent>\d+) probes? \((?P<broadcast>\d+) broadcast\(s\)\)$")
_IPUTILS_RECEIVED = re.compile(r"^Received (?P<received>\d+) response\(s\)(?: \(.*\))?$")


def parse_iputils_reply(line: str) -> Reply | None:
    """One reply line, or None: used while arping is still running."""
    match = _IPUTILS_REPLY.match(line.strip())
    if not match:
        return None
    rtt = float(match["ms"]) if match["ms"] else None
    return Reply(mac=normalize_mac(match["mac"]), rtt_ms=rtt, ip=match["ip"])


def parse_iputils(stdout: str, stderr: str, rc: int) -> ArpingRun:
    """Parse a complete iputils arping run (stdout, stderr, exit code).

    Raises ArpingError for tool errors (exit 2, a usage error, a killed run) and
    for output that contradicts the exit code.
    """
    lines = (stdout or "").splitlines()
    header = next((m for m in map(_IPUTILS_HEADER.match, lines) if m), None)
    if rc not in (0, 1) or header is None:
        # 2: interface missing/down/not ARPable or socket not permitted; 1 without
        # a header: bad option value (e.g. a fractional -w); <0: killed by a signal.
        raise ArpingError(f"iputils arping failed (exit {rc}): {_error_text(stdout, stderr)}")
    run = ArpingRun(flavor=IPUTILS, target=header["target"], rc=rc)
    have_sent = have_received = False
    for line in lines:
        reply = parse_iputils_reply(line)
        if reply is not None:
            run.replies.append(reply)
            continue
        sent = _IPUTILS_SENT.match(line.strip())
        if sent:
            run.sent, have_sent = int(sent["sent"]), True
            continue
        received = _IPUTILS_RECEIVED.match(line.strip())
        if received:
            run.received, have_received = int(received["received"]), True
    if not (have_sent and have_received):
        raise ArpingError(
            f"iputils arping output for {run.target} has no 'Sent/Received' summary (exit {rc}); "
            f"it was killed or its output format is not known: {_last_line(stdout, stderr)}"
        )
    if run.received != len(run.replies):
        raise ArpingError(
            f"iputils arping reports {run.received} response(s) for {run.target} but printed {len(run.replies)}; "
            "was it run with -q?"
        )
    if rc == 0 and run.received == 0 and run.sent > 0:
        raise ArpingError(f"iputils arping exited 0 for {run.target} without any reply; unknown exit code rules")
    return run


# ---------------------------------------------------------------- Habets

_HABETS_HEADER = re.compile(r"^ARPING (?P<target>\S+)$")
_HABETS_REPLY = re.compile(
    r"^\d+ bytes from (?P<mac>[0-9a-fA-F:]{17}) \((?P<ip>[0-9.]+)\): index=\S+"
    r"(?: time=(?P<time>\d+(?:\.\d+)?) (?P<unit>nsec|usec|msec|sec))?"
)
_HABETS_STATS = re.compile(
    r"^(?P<sent>\d+) packets transmitted, (?P<received>\d+) packets received,\s+"
    r"(?P<unanswered>\d+)% unanswered \((?P<extra>\d+) extra\)"
)
_UNIT_TO_MS = {"nsec": 1e-6, "usec": 1e-3, "msec": 1.0, "sec": 1000.0}


def parse_habets_reply(line: str) -> Reply | None:
    """One reply line, or None: used while arping is still running."""
    match = _HABETS_REPLY.match(line.strip())
    if not match:
        return None
    rtt = float(match["time"]) * _UNIT_TO_MS[match["unit"]] if match["time"] else None
    return Reply(mac=normalize_mac(match["mac"]), rtt_ms=rtt, ip=match["ip"])


def parse_habets(stdout: str, stderr: str, rc: int, find_duplicates: bool = False) -> ArpingRun:
    """Parse a complete Habets arping run. ``find_duplicates``: it was run with ``-d``."""
    lines = (stdout or "").splitlines()
    header = next((m for m in map(_HABETS_HEADER.match, lines) if m), None)
    if rc not in (0, 1) or header is None:
        # libnet/pcap errors (no such device, interface down, not root) exit 1
        # before the ARPING header; anything else is a crash or a signal.
        raise ArpingError(f"Habets arping failed (exit {rc}): {_error_text(stdout, stderr)}")
    run = ArpingRun(flavor=HABETS, target=header["target"], rc=rc)
    stats = None
    for line in lines:
        reply = parse_habets_reply(line)
        if reply is not None:
            run.replies.append(reply)
            continue
        stats = stats or _HABETS_STATS.match(line.strip())
    if stats is None:
        raise ArpingError(
            f"Habets arping output for {run.target} has no statistics block (exit {rc}); "
            f"it was killed or its output format is not known: {_last_line(stdout, stderr)}"
        )
    run.sent, run.received = int(stats["sent"]), int(stats["received"])
    if run.received != len(run.replies):
        raise ArpingError(
            f"Habets arping reports {run.received} packet(s) received for {run.target} but printed "
            f"{len(run.replies)}; was it run with -q or -r?"
        )
    if find_duplicates:
        expected_rc = 1 if len(run.macs) > 1 else 0
    else:
        expected_rc = 0 if run.replies else 1
    if rc != expected_rc:
        raise ArpingError(
            f"Habets arping exited {rc} for {run.target} but printed {len(run.replies)} repl(ies) from "
            f"{len(run.macs)} MAC(s); unknown exit code rules"
        )
    return run


# ---------------------------------------------------------------- ndisc6

_NDISC6_HEADER = re.compile(r"^Soliciting (?P<target>[0-9A-Fa-f:.]+) \((?P<resolved>[0-9A-Fa-f:.]+)\) on (?P<device>\S+)\.\.\.$")
_NDISC6_REPLY = re.compile(r"^Target link-layer address: (?P<mac>[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5})$")
_NDISC6_FROM = re.compile(r"^from (?P<ip>[0-9A-Fa-f:.]+)$")
_NDISC6_SILENT = ("Timed out.", "No response.")
_NDISC6_VERSION = re.compile(r"ndisc6: IPv6 Neighbor/Router Discovery userland tool (?P<version>\S+)")


def parse_ndisc6(stdout: str, stderr: str, rc: int) -> ArpingRun:
    """Parse a complete ``ndisc6 -m -n -r 1`` run: one solicitation, every advertisement.

    A reply's ``ip`` is the solicited target (what the advertisement is for); the
    `` from`` line is the advertisement's source, which a node may pick otherwise.
    """
    lines = [line.strip() for line in (stdout or "").splitlines()]
    header = next((m for m in map(_NDISC6_HEADER.match, lines) if m), None)
    if rc not in (0, 2) or header is None:
        # 1: no such device, a source address that is not this host's, usage errors;
        # <0: killed by a signal (before it printed anything into the pipe).
        raise ArpingError(f"ndisc6 failed (exit {rc}): {_error_text(stdout, stderr)}")
    target = header["resolved"]
    run = ArpingRun(flavor=NDISC6, target=target, rc=rc, sent=1)
    for line in lines:
        match = _NDISC6_REPLY.match(line)
        if match:
            run.replies.append(Reply(mac=normalize_mac(match["mac"]), rtt_ms=None, ip=target))
    run.received = len(run.replies)
    silent = all(text in lines for text in _NDISC6_SILENT)
    if rc == 0 and not run.replies:
        raise ArpingError(f"ndisc6 exited 0 for {target} without any reply; unknown exit code rules")
    if rc == 2 and (run.replies or not silent):
        raise ArpingError(
            f"ndisc6 exited 2 for {target} but printed {len(run.replies)} repl(ies) and not 'No response.'; "
            "unknown exit code rules"
        )
    return run


def detect_ndisc6(stdout: str, stderr: str) -> str:
    """ndisc6's version from its ``-V`` output; anything else is refused."""
    match = _NDISC6_VERSION.search(f"{stdout or ''}\n{stderr or ''}")
    if not match:
        raise ArpingError(f"not ndisc6 (its -V output was: {_last_line(stdout, stderr)!r})")
    return match["version"]


def parse_run(flavor: str, stdout: str, stderr: str, rc: int, find_duplicates: bool = False) -> ArpingRun:
    if flavor == NDISC6:
        return parse_ndisc6(stdout, stderr, rc)
    if flavor == IPUTILS:
        return parse_iputils(stdout, stderr, rc)
    if flavor == HABETS:
        return parse_habets(stdout, stderr, rc, find_duplicates=find_duplicates)
    raise ValueError(f"unknown arping flavor {flavor!r}")


def parse_reply_line(flavor: str, line: str) -> Reply | None:
    if flavor == NDISC6:
        return None  # its output reaches the pipe only when it exits: nothing to stream
    return parse_iputils_reply(line) if flavor == IPUTILS else parse_habets_reply(line)


# ---------------------------------------------------------------- which arping

_IPUTILS_VERSION = (
    re.compile(r"arping from iputils[- ](?P<version>\S+)"),  # 20210202 and later
    re.compile(r"iputils-(?P<version>s?\d+)"),  # s20180629 and earlier
)
_HABETS_VERSION = re.compile(r"ARPing (?P<version>\d[\w.]*), by Thomas Habets")


def detect_flavor(stdout: str, stderr: str) -> tuple[str, str]:
    """Which arping printed this answer to ``arping -V``: (flavor, version).

    iputils prints its version and exits 0; Habets' arping takes ``-V`` as the VLAN
    option, complains that it lacks an argument and prints its banner, so one call
    tells them apart. Anything else is refused rather than guessed.
    """
    text = f"{stdout or ''}\n{stderr or ''}"
    habets = _HABETS_VERSION.search(text)
    if habets:
        return HABETS, habets["version"]
    for pattern in _IPUTILS_VERSION:
        match = pattern.search(text)
        if match:
            return IPUTILS, match["version"]
    raise ArpingError(f"unrecognised arping (its -V output was: {_last_line(stdout, stderr)!r})")
