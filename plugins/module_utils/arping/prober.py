# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe many VIPs at once and record who answered.

The schedule is the same whatever sends the probes (a raw socket or an arping
process per probe): each VIP gets up to ``count`` broadcast probes. A probe
stays open for ``reply_window`` after its first answer, so a second holder of
the VIP has time to answer too, or for ``timeout / count`` when nobody answers.
Nothing runs past ``timeout``. All VIPs are probed concurrently.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

# While waiting for a change, how often a VIP that answers is probed again, and
# how long a poll nobody answers waits (at most): short, because the time of
# the move is what is measured.
CHANGE_POLL_INTERVAL = 0.05
CHANGE_SILENT_WAIT = 0.1


class ProbeTransportError(Exception):
    """The probing machinery itself failed (no permission, interface gone, tool error)."""


@dataclass
class Heard:
    """A reply as it arrives: used for timing; ``ProbeOutcome`` is the account."""

    address: str
    mac: str
    at: float
    rtt_ms: float | None


@dataclass
class Finished:
    """A probe stopped asynchronously (an arping process) has its account ready."""

    address: str
    outcome: ProbeOutcome | None = None
    error: str | None = None


@dataclass
class ProbeOutcome:
    """What one probe of one VIP produced: probes actually sent and (mac, rtt_ms) replies."""

    sent: int
    replies: list = field(default_factory=list)


@dataclass
class Change:
    """How a VIP moved away from ``from_macs`` (wait_for: change)."""

    detected_at: float | None = None  # monotonic time of the first reply from another MAC
    last_from_at: float | None = None  # monotonic time of the last reply from an old MAC
    polls: int = 0


@dataclass
class Observation:
    """Everything seen for one VIP; the verdict is made from this alone."""

    address: str
    started: float
    finished: float = 0.0
    probes: int = 0
    answered: int = 0
    replies: list = field(default_factory=list)  # (mac, rtt_ms) of the deciding probes
    error: str | None = None
    change: Change | None = None

    @property
    def elapsed_ms(self) -> float:
        return round((self.finished - self.started) * 1000.0, 1)


@dataclass
class Settings:
    count: int = 3
    timeout: float = 1.0
    reply_window: float = 0.02


class _Slot:
    """Schedule state of one VIP: idle -> open -> stopping -> idle ... -> done."""

    def __init__(self, address: str, now: float, deadline: float, watch_from=None) -> None:
        self.obs = Observation(address=address, started=now)
        # Probes never run past deadline; while watching for a change there is
        # no such cap, but no poll starts after watch_until.
        self.deadline = float("inf") if watch_from is not None else deadline
        self.watch_until = deadline
        self.next_send = now
        self.state = "idle"
        self.opened = 0.0
        self.heard: list[Heard] = []
        self.watch_from = watch_from  # set of old MACs while waiting for a change
        if watch_from is not None:
            self.obs.change = Change()

    def close_at(self, settings: Settings, min_time: float) -> float:
        if self.heard:
            at = self.heard[0].at + settings.reply_window
        elif self.watch_from is not None:
            at = self.opened + min(settings.timeout / settings.count, CHANGE_SILENT_WAIT)
        else:
            at = self.opened + settings.timeout / settings.count
        return min(max(at, self.opened + min_time), self.deadline)

    def fail(self, error: str, now: float) -> None:
        self.obs.error, self.obs.finished, self.state = error, now, "done"


def probe(transport, addresses, settings: Settings, clock=time.monotonic, from_macs=None, deadline=None):
    """Probe ``addresses`` through an opened ``transport``; returns {address: Observation}.

    With ``from_macs`` (a set of MACs) this waits, up to ``deadline`` seconds, for a
    probe answered only by other MACs, then confirms the new holder with a normal
    ``count``-probe check. Without it, it is that normal check alone.
    """
    start = clock()
    # A tool needs some time before it can be stopped cleanly (see installed.py).
    min_time = getattr(transport, "min_probe_time", 0.0)
    watching = from_macs is not None
    slots = {
        address: _Slot(address, start, start + (deadline if watching else settings.timeout), set(from_macs) if watching else None)
        for address in addresses
    }
    while True:
        now = clock()
        wake = None
        busy = False
        for slot in slots.values():
            if slot.state == "idle" and now >= slot.next_send:
                try:
                    transport.start_probe(slot.obs.address)
                except ProbeTransportError as exc:
                    slot.fail(str(exc), now)
                    continue
                slot.state, slot.opened, slot.heard = "open", now, []
            if slot.state == "open" and now >= slot.close_at(settings, min_time):
                try:
                    outcome = transport.stop_probe(slot.obs.address)
                except ProbeTransportError as exc:
                    slot.fail(str(exc), now)
                    continue
                slot.state = "stopping"
                if outcome is not None:
                    _account(slot, outcome, settings, clock())
            if slot.state == "open":
                due = slot.close_at(settings, min_time)
            elif slot.state == "idle":
                due = slot.next_send
            else:
                busy = busy or slot.state == "stopping"
                continue
            wake = due if wake is None else min(wake, due)
        if wake is None and not busy:
            return {address: slot.obs for address, slot in slots.items()}
        # Stopping tools report through poll(); wake up now and then regardless.
        wait = 0.05 if wake is None else max(0.0, wake - clock())
        for event in transport.poll(wait):
            slot = slots.get(event.address)
            if slot is None:
                continue
            if isinstance(event, Finished):
                if slot.state == "stopping":
                    if event.error:
                        slot.fail(event.error, clock())
                    else:
                        _account(slot, event.outcome, settings, clock())
            elif slot.state == "open":
                slot.heard.append(event)


def _account(slot: _Slot, outcome: ProbeOutcome, settings: Settings, now: float) -> None:
    """A probe of ``slot`` is over: record it and schedule the next one."""
    obs, opened, heard = slot.obs, slot.opened, slot.heard
    slot.state, slot.heard = "idle", []
    if slot.watch_from is not None:
        _account_watch(slot, outcome, opened, heard, settings, now)
        return
    obs.probes += outcome.sent
    obs.answered += 1 if outcome.replies else 0
    obs.replies.extend(outcome.replies)
    if obs.probes >= settings.count or now >= slot.deadline:
        obs.finished, slot.state = now, "done"
    else:
        slot.next_send = now


def _account_watch(slot: _Slot, outcome: ProbeOutcome, opened: float, heard: list, settings: Settings, now: float) -> None:
    obs, change = slot.obs, slot.obs.change
    change.polls += 1
    macs = {reply[0] for reply in outcome.replies}
    old = [event.at for event in heard if event.mac in slot.watch_from]
    if old or macs & slot.watch_from:
        change.last_from_at = max(old) if old else now
    if macs and not macs & slot.watch_from:
        # Only other MACs answered: the VIP moved. Confirm the new holder with a
        # normal check that starts now and is bounded by timeout.
        new = [event.at for event in heard if event.mac not in slot.watch_from]
        change.detected_at = min(new) if new else now
        slot.watch_from = None
        obs.probes, obs.answered, obs.replies = outcome.sent, 1, list(outcome.replies)
        if obs.probes >= settings.count:
            obs.finished, slot.state = now, "done"
        else:
            slot.deadline, slot.next_send = now + settings.timeout, now
        return
    # The last poll is the account if the deadline ends the wait.
    obs.probes, obs.answered, obs.replies = outcome.sent, 1 if macs else 0, list(outcome.replies)
    slot.next_send = max(now, opened + CHANGE_POLL_INTERVAL)
    if slot.next_send >= slot.watch_until:
        obs.finished, slot.state = now, "done"
