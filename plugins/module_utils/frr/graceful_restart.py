# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Make a changed graceful restart setting take effect: which sessions predate it, and a rolling reset.

FRR 8.4 puts its graceful restart mode into a session's OPEN message only when the session
starts: after ``bgp graceful-restart`` is added or removed, bgpd logs "Graceful restart
configuration changed, reset all peers to take effect" and the running sessions keep what they
negotiated. The router's own JSON does not show what it advertised in a running session
(``gracefulRestartInfo.localGrMode`` is the configured mode, ``remoteGrMode`` what the peer sent),
so the moment of the change is kept in a small state file next to frr.conf
(``{"mode": "Restart", "since": <epoch>}``); a session Established before that moment still runs
the old mode. BFD has no such property: bfdd applies a changed profile or ``neighbor X bfd``
to the running sessions at once.

Inputs are the decoded ``show bgp neighbors json`` (FRR 8.4: ``bgpState``, ``bgpTimerUpMsec``,
``connectionsEstablished``, ``gracefulRestartInfo.{localGrMode,remoteGrMode}``,
``addressFamilyInfo.<af>.acceptedPrefixCounter``). Everything here is pure but ``RollingReset``,
which drives FrrTools with an injected clock.
"""

from __future__ import annotations

import time
import typing as t

from .state import neighbor_info
from .commands import FrrError, FrrTools


def configured_mode(neighbors: dict) -> str | None:
    """The router's configured graceful restart mode, ``Restart``/``Helper``/``Disable`` (FRR marks
    an inherited global mode with ``*``), or None when no neighbor shows it."""
    for info in neighbors.values():
        mode = (info.get("gracefulRestartInfo") or {}).get("localGrMode")
        if mode:
            return mode.rstrip("*")
    return None


def next_marker(marker: dict | None, mode: str | None, now: float) -> dict | None:
    """The state file's content after this run: the mode and since when it is configured.

    Without a file, FRR's default (Helper) counts as configured forever; any other mode as of
    now (its sessions' OPEN cannot be told, so they are renegotiated once). Unchanged mode: kept."""
    if mode is None:
        return marker
    if marker and marker.get("mode") == mode:
        return marker
    if not marker and mode == "Helper":
        return {"mode": mode, "since": 0}
    return {"mode": mode, "since": now}


def _info(address: str, neighbors: dict) -> dict:
    return neighbor_info(address, neighbors) or {}


def accepted_prefixes(info: dict) -> int:
    return sum(int(af.get("acceptedPrefixCounter") or 0) for af in (info.get("addressFamilyInfo") or {}).values()
               if isinstance(af, dict))


def plan(peers: t.Iterable[str], neighbors: dict, marker: dict | None, now: float, mode: str | None = None) -> dict:
    """Per peer of ``peers``: whether its running session predates the configured mode.

    ``now`` is when ``neighbors`` was read (epoch seconds); a session is from before the change when
    it was Established ``bgpTimerUpMsec`` before ``now`` and that is before ``marker['since']``.
    Returns ``{"mode", "reset": [addresses, in the given order], "peers": {address: {...}},
    "not_restarting": [Established peers that do not advertise Restart although the router asks for it]}``.
    ``mode`` overrides the running mode (check mode: the one the new configuration asks for)."""
    mode = mode or configured_mode(neighbors)
    since = float((marker or {}).get("since") or 0)
    result: dict = {"mode": mode, "since": since, "reset": [], "peers": {}, "not_restarting": []}
    for address in peers:
        info = _info(address, neighbors)
        established = info.get("bgpState") == "Established"
        gr = info.get("gracefulRestartInfo") or {}
        started = round(now - info.get("bgpTimerUpMsec", 0) / 1000.0, 3) if established else None
        stale = established and started < since
        result["peers"][address] = {
            "state": info.get("bgpState", "NotConfigured"), "session_started": started,
            "local_mode": gr.get("localGrMode"), "remote_mode": gr.get("remoteGrMode"), "predates_change": stale}
        if stale:
            result["reset"].append(address)
        elif established and mode == "Restart" and gr.get("remoteGrMode") != "Restart":
            result["not_restarting"].append(address)
    return result


def warning(reset: list[str], mode: str | None) -> str:
    return (f"graceful restart mode {mode} is configured but NOT in effect for {', '.join(reset)}: FRR applies a "
            "changed graceful restart setting only to sessions that start after it. Reset them one at a time "
            "('vtysh -c \"clear bgp ADDRESS\"', waiting for each to be Established with its routes back) or run "
            "the bgp_router role with bgp_router_graceful_restart_reset: true, which does exactly that.")


def not_restarting_warning(peers: list[str]) -> str:
    return (f"graceful restart: {', '.join(peers)} do(es) not advertise Restart mode, so the router withdraws their "
            "routes when their BGP daemon restarts: set enableGracefulRestart on MetalLB's BGPPeer toward this router "
            "(metallb_config_bgp_peers[].enable_graceful_restart).")


class RollingReset:
    """``clear bgp ADDRESS`` one peer at a time; the next only once the previous is Established
    again (a new connection) with at least as many accepted prefixes as before."""

    def __init__(self, tools: FrrTools, clock: t.Callable[[], float] = time.monotonic,
                 sleep: t.Callable[[float], None] = time.sleep, timeout: float = 120, poll_interval: float = 0.5):
        self.tools, self.clock, self.sleep = tools, clock, sleep
        self.timeout, self.poll_interval = timeout, poll_interval

    def reset(self, addresses: list[str]) -> list[dict]:
        done = []
        for address in addresses:
            before = _info(address, self.tools.show_json(f"show bgp neighbors {address}"))
            connections, prefixes = before.get("connectionsEstablished", 0), accepted_prefixes(before)
            start = self.clock()
            self.tools.clear_bgp(address)
            while True:
                now = _info(address, self.tools.show_json(f"show bgp neighbors {address}"))
                if (now.get("bgpState") == "Established" and now.get("connectionsEstablished", 0) > connections
                        and accepted_prefixes(now) >= prefixes):
                    break
                if self.clock() - start >= self.timeout:
                    raise FrrError(
                        f"graceful restart: {address} was reset to renegotiate it but is not back after {self.timeout:g} s "
                        f"(state {now.get('bgpState', 'NotConfigured')}, {accepted_prefixes(now)} of {prefixes} prefixes); "
                        f"the other peers were not reset{' (done: ' + ', '.join(d['address'] for d in done) + ')' if done else ''}")
                self.sleep(self.poll_interval)
            gr = now.get("gracefulRestartInfo") or {}
            done.append({"address": address, "seconds": round(self.clock() - start, 2), "prefixes": accepted_prefixes(now),
                         "remote_mode": gr.get("remoteGrMode")})
        return done
