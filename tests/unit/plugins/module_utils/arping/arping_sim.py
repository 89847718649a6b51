# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A simulated segment for unit tests of the probe schedule: a fake clock and scripted responders.

Each VIP has responders ``{mac, delay_ms, from, until}``: a responder answers every
probe sent at ``from <= t < until`` (simulated seconds) after ``delay_ms``. The real
transports are exercised on the lab segment by the integration tests; this only
drives prober.probe() through time deterministically.
"""

from __future__ import annotations

import json

from ansible_collections.baremetal.metallb.plugins.module_utils.arping.prober import (
    Finished,
    Heard,
    ProbeOutcome,
    ProbeTransportError,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data


# `ip -j` answers recorded on the lab's client host (see test_arping_netinfo.yaml).
IP = load_data(__file__, "defaults", name="test_arping_netinfo.yaml")


def batch(answer):
    """Wrap ``answer(argv) -> (rc, out, err)`` so it also serves ``ip -j -batch -``.

    As ip does (recorded on the lab): answers in order, one JSON document per command,
    and at the first command that fails its error, ``Command failed -:N`` and exit 1.
    ``addr show`` (every link) is the links of every ``addr show dev X`` the fake knows.
    """

    def run(argv, data=None):
        if argv[1:] != ["-j", "-batch", "-"]:
            return answer(argv)
        out = []
        for number, line in enumerate((data or "").splitlines(), 1):
            if not line.strip():
                continue
            rc, stdout, stderr = answer([argv[0], "-j", *line.split()])
            if rc != 0:
                return 1, "".join(out), f"{stderr}Command failed -:{number}\n"
            out.append(stdout if stdout.endswith("\n") else stdout + "\n")
        return 0, "".join(out), ""

    return run


def every_link(answers: dict) -> tuple:
    """``ip -j addr show``: the links of the ``addr show dev X`` answers that succeed."""
    links = []
    for key, (rc, out, _err) in answers.items():
        if key.startswith("-j addr show dev ") and rc == 0:
            links.extend(json.loads(out))
    return 0, json.dumps(links), ""


def ip_runner(extra=None):
    """`ip -j` as the lab's client answers it (recorded), plus optional other commands."""

    def answer(argv):
        key = " ".join(argv[1:])
        if extra and key in extra:
            return extra[key]
        if key == "-j addr show":
            return every_link({"-j addr show dev eth0": IP["eth0"], "-j addr show dev lo": IP["lo"]})
        if argv[1:4] == ["-j", "route", "get"]:
            address = argv[4]
            if address.startswith("203.0.113."):
                return tuple(IP["route_gateway"])
            if ":" in address:
                rc, out, err = IP["route_onlink6"]
                return rc, out.replace("2001:db8:100::240", address), err
            rc, out, err = IP["route_onlink"]
            return rc, out.replace("198.51.100.200", address), err
        if key == "-j addr show dev eth0":
            return tuple(IP["eth0"])
        raise AssertionError(f"unexpected command {argv}")

    return batch(answer)


class SimSegment:
    name = "sim"

    def __init__(self, responders: dict, stop_delay: float | None = None, min_probe_time: float = 0.0,
                 fail_start: tuple = (), fail_stop: tuple = ()) -> None:
        self.now = 0.0
        self.responders = responders
        self.stop_delay = stop_delay  # None: stop_probe answers at once (raw); else like a tool
        self.min_probe_time = min_probe_time
        self.fail_start = set(fail_start)
        self.fail_stop = set(fail_stop)
        self.pending: list = []  # (at, address, mac, sent_at)
        self.open_probe: dict = {}
        self.late: dict = {}
        self.stopping: dict = {}  # address -> (ready_at, outcome)
        self.sent_at: dict = {}
        self.starts: list = []
        self.closed = False

    def clock(self) -> float:
        return self.now

    def open(self, bindings) -> None:
        self.bindings = list(bindings)

    def start_probe(self, address: str) -> None:
        if address in self.fail_start:
            raise ProbeTransportError("cannot send")
        self.starts.append((address, self.now))
        self.sent_at[address] = self.now
        self.open_probe[address] = self.late.pop(address, [])
        for responder in self.responders.get(address, []):
            if responder.get("from", 0.0) <= self.now < responder.get("until", float("inf")):
                self.pending.append((self.now + responder["delay_ms"] / 1000.0, address, responder["mac"], self.now))
        self.pending.sort()

    def poll(self, timeout: float) -> list:
        horizon = self.now + timeout
        ready = [entry[0] for entry in self.stopping.values() if entry[0] <= horizon]
        nxt = min([p[0] for p in self.pending if p[0] <= horizon] + ready, default=None)
        self.now = horizon if nxt is None else max(self.now, nxt)
        events = []
        while self.pending and self.pending[0][0] <= self.now:
            at, address, mac, sent = self.pending.pop(0)
            event = Heard(address=address, mac=mac, at=at, rtt_ms=round((at - sent) * 1000.0, 3))
            (self.open_probe[address] if address in self.open_probe else self.late.setdefault(address, [])).append(event)
            events.append(event)
        for address, (when, outcome) in list(self.stopping.items()):
            if when <= self.now:
                del self.stopping[address]
                events.append(Finished(address, outcome=outcome))
        return events

    def stop_probe(self, address: str):
        if address in self.fail_stop:
            raise ProbeTransportError("tool failed")
        heard = self.open_probe.pop(address, [])
        outcome = ProbeOutcome(sent=1, replies=[(event.mac, event.rtt_ms) for event in heard])
        if self.stop_delay is None:
            return outcome
        self.stopping[address] = (self.now + self.stop_delay, outcome)
        return None

    def close(self) -> None:
        self.closed = True
