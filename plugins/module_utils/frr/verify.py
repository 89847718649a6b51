# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wait until FRR shows the expected BGP peers and ECMP next hops, or say what differs."""

from __future__ import annotations

import ipaddress
import time
import typing as t

from .state import compare, fib_nexthops, link_local_aliases, normalize_address, normalize_prefix, peer_state, route_state
from .commands import FrrTools


class BgpVerifier:
    def __init__(self, tools: FrrTools, clock: t.Callable[[], float] = time.monotonic, sleep: t.Callable[[float], None] = time.sleep):
        self.tools = tools
        self.clock = clock
        self.sleep = sleep

    @staticmethod
    def normalize(peers: t.Iterable[str], prefixes: dict) -> tuple[list[str], dict[str, dict]]:
        """Validate and canonicalize the user's expectations (raises ``InputError``)."""
        wanted_peers = []
        for peer in peers:
            address = normalize_address(peer, "peers")
            if address not in wanted_peers:
                wanted_peers.append(address)
        wanted_prefixes: dict[str, dict] = {}
        for vip, nexthops in prefixes.items():
            prefix, version = normalize_prefix(vip, "prefixes")
            if nexthops is None:
                nexthops = []
            if isinstance(nexthops, str):
                nexthops = [nexthops]
            wanted_prefixes[prefix] = {
                "version": version,
                "nexthops": sorted({normalize_address(nh, f"prefixes[{vip}]") for nh in nexthops}),
            }
        return wanted_peers, wanted_prefixes

    def observe(self, peers: list[str], prefixes: dict[str, dict], link_local: bool = True) -> tuple[dict, dict, list[str]]:
        neighbors = self.tools.show_json("show bgp neighbors") if peers else {}
        peer_result = {address: peer_state(address, neighbors) for address in peers}
        # One vtysh process for every route lookup, another for the BGP tables of the prefixes
        # with link-local next hops: the time does not grow with the number of VIPs.
        routes = dict(zip(prefixes, self.tools.show_json_many(
            [f"show {'ip' if spec['version'] == 4 else 'ipv6'} route {prefix}" for prefix, spec in prefixes.items()])))
        via_link_local = [prefix for prefix, route_json in routes.items()
                          if any(ipaddress.ip_address(a).is_link_local for a in fib_nexthops(prefix, route_json)[1])]
        bgp_tables = dict(zip(via_link_local, self.tools.show_json_many(
            [f"show bgp ipv6 unicast {prefix}" for prefix in via_link_local])))
        route_result = {prefix: route_state(prefix, route_json, link_local_aliases(bgp_tables[prefix]) if prefix in bgp_tables else {})
                        for prefix, route_json in routes.items()}
        expected = {prefix: spec["nexthops"] for prefix, spec in prefixes.items()}
        for prefix, route in route_result.items():
            route["expected"] = expected[prefix]
        return peer_result, route_result, compare(peers, peer_result, expected, route_result, link_local)

    def verify(self, peers: list[str], prefixes: dict[str, dict], timeout: float = 0, poll_interval: float = 1.0,
               link_local: bool = True) -> dict:
        start = self.clock()
        deadline = start + max(timeout, 0)
        attempts = 0
        while True:
            attempts += 1
            peer_result, route_result, problems = self.observe(peers, prefixes, link_local)
            now = self.clock()
            if not problems or now >= deadline:
                break
            self.sleep(min(poll_interval, max(deadline - now, 0)))
        return {
            "ok": not problems,
            "peers": peer_result,
            "prefixes": route_result,
            "differences": problems,
            "attempts": attempts,
            "elapsed": round(self.clock() - start, 3),
        }
