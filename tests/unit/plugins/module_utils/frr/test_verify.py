# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""BgpVerifier polling, with recorded vtysh JSON and a fake clock."""

from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.state import InputError
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrError, FrrTools
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.verify import BgpVerifier

FIXTURES = pathlib.Path(__file__).parent / "fixtures"
NODES = ["198.51.100.11", "198.51.100.12", "198.51.100.13"]
NODES6 = ["2001:db8:100::11", "2001:db8:100::12", "2001:db8:100::13"]


class Clock:
    def __init__(self):
        self.now = 100.0
        self.sleeps: list[float] = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class Router:
    """vtysh answering from fixtures; ``script`` maps a command to fixtures served in turn."""

    def __init__(self, script: dict[str, list[str]]):
        self.script = {cmd: list(files) for cmd, files in script.items()}
        self.commands: list[str] = []
        self.processes = 0

    def __call__(self, argv):
        self.processes += 1
        outputs = []
        for command in argv[2::2]:  # vtysh -c C1 -c C2 ...: each in turn, its output after the last
            self.commands.append(command)
            files = self.script.get(command)
            if not files:
                return 1, "\n".join(outputs), f"% Unknown command: {command}"
            name = files.pop(0) if len(files) > 1 else files[0]
            outputs.append((FIXTURES / name).read_text())
        return 0, "\n".join(outputs), ""


def _verifier(script):
    clock = Clock()
    router = Router(script)
    return BgpVerifier(FrrTools(router, vtysh="/usr/bin/vtysh"), clock=clock, sleep=clock.sleep), router, clock


def test_waits_until_the_withdrawn_node_is_back():
    verifier, router, clock = _verifier({
        "show ip route 203.0.113.10/32 json": ["route_v4_single.json", "route_v4_ecmp2.json", "route_v4_ecmp3.json"],
    })
    peers, prefixes = BgpVerifier.normalize([], {"203.0.113.10": NODES})
    result = verifier.verify(peers, prefixes, timeout=10, poll_interval=0.5)
    assert result["ok"] is True
    assert result["attempts"] == 3
    assert clock.sleeps == [0.5, 0.5]
    assert result["elapsed"] == 1.0
    assert result["prefixes"]["203.0.113.10/32"]["nexthops"] == NODES


def test_gives_up_at_the_timeout_and_names_each_difference():
    verifier, _router, clock = _verifier({
        "show bgp neighbors json": ["neighbors_node3_down.json"],
        "show ip route 203.0.113.10/32 json": ["route_v4_single.json"],
    })
    peers, prefixes = BgpVerifier.normalize(NODES, {"203.0.113.10/32": NODES})
    result = verifier.verify(peers, prefixes, timeout=3, poll_interval=1)
    assert result["ok"] is False
    assert result["attempts"] == 4  # at 0, 1, 2 and 3 s
    assert sum(clock.sleeps) == 3
    assert result["differences"] == [
        "peer 198.51.100.13 is Connect, not Established",
        "203.0.113.10/32: missing next hop 198.51.100.12",
        "203.0.113.10/32: missing next hop 198.51.100.13",
    ]
    assert result["peers"]["198.51.100.11"]["established"] is True


def test_last_sleep_is_cut_to_the_deadline():
    verifier, _router, clock = _verifier({"show ip route 203.0.113.10/32 json": ["route_v4_ecmp2.json"]})
    peers, prefixes = BgpVerifier.normalize([], {"203.0.113.10": NODES})
    verifier.verify(peers, prefixes, timeout=1, poll_interval=0.4)
    assert clock.sleeps == pytest.approx([0.4, 0.4, 0.2])


def test_timeout_zero_checks_once():
    verifier, router, clock = _verifier({"show ip route 203.0.113.10/32 json": ["route_v4_ecmp2.json"]})
    peers, prefixes = BgpVerifier.normalize([], {"203.0.113.10": NODES})
    result = verifier.verify(peers, prefixes)
    assert result["attempts"] == 1 and clock.sleeps == [] and not result["ok"]


def test_bgp_table_read_only_for_link_local_next_hops():
    verifier, router, _clock = _verifier({
        "show ip route 203.0.113.10/32 json": ["route_v4_ecmp3.json"],
        "show ipv6 route 2001:db8:203::10/128 json": ["route_v6_ecmp3_linklocal.json"],
        "show bgp ipv6 unicast 2001:db8:203::10/128 json": ["bgp_v6_ecmp3.json"],
    })
    peers, prefixes = BgpVerifier.normalize([], {"203.0.113.10": NODES, "2001:db8:203::10": NODES6})
    result = verifier.verify(peers, prefixes)
    assert result["ok"], result["differences"]
    assert router.commands == [
        "show ip route 203.0.113.10/32 json",
        "show ipv6 route 2001:db8:203::10/128 json",
        "show bgp ipv6 unicast 2001:db8:203::10/128 json",
    ]


def test_one_vtysh_process_for_every_route_whatever_the_number_of_vips():
    vips = [f"203.0.113.{n}" for n in range(1, 151)]
    route = json.loads((FIXTURES / "route_v4_ecmp3.json").read_text())["203.0.113.10/32"]
    script = {f"show ip route {vip}/32 json": [f"route-{vip}.json"] for vip in vips}

    def run(argv):
        commands = argv[2::2]
        router.processes += 1
        router.commands += commands
        return 0, "\n".join(json.dumps({c.split()[3]: route}, indent=2) for c in commands), ""

    verifier, router, _clock = _verifier(script)
    verifier.tools = FrrTools(run, vtysh="/usr/bin/vtysh")
    result = verifier.verify(*BgpVerifier.normalize([], {vip: NODES for vip in vips}))
    assert result["ok"], result["differences"]
    assert router.processes == 2  # batches of 100 commands
    assert router.commands == [f"show ip route {vip}/32 json" for vip in vips]


def test_documents_that_do_not_match_the_commands_are_asked_again_one_at_a_time():
    calls = []

    def run(argv):
        calls.append(argv[2::2])
        return 0, "{}" if len(argv) > 3 else '{"a": 1}', ""

    assert FrrTools(run, vtysh="/usr/bin/vtysh").show_json_many(["show x", "show y"]) == [{"a": 1}, {"a": 1}]
    assert calls == [["show x json", "show y json"], ["show x json"], ["show y json"]]


def test_vtysh_failure_is_an_error():
    verifier, _router, _clock = _verifier({})
    with pytest.raises(FrrError, match="show bgp neighbors json"):
        verifier.verify(["198.51.100.11"], {})


def test_normalize_canonicalizes_and_dedups():
    peers, prefixes = BgpVerifier.normalize(
        ["198.51.100.11", "198.51.100.11", "2001:DB8:100::11"], {"2001:db8:203::10": ["2001:DB8:100::12", "2001:db8:100::12"], "203.0.113.9": None}
    )
    assert peers == ["198.51.100.11", "2001:db8:100::11"]
    assert prefixes == {"2001:db8:203::10/128": {"version": 6, "nexthops": ["2001:db8:100::12"]}, "203.0.113.9/32": {"version": 4, "nexthops": []}}


def test_normalize_rejects_a_bad_next_hop_naming_the_vip():
    with pytest.raises(InputError, match=r"prefixes\[203.0.113.10\]: 'node1'"):
        BgpVerifier.normalize([], {"203.0.113.10": ["node1"]})


def test_recorded_json_is_what_vtysh_prints():
    """Guard against edited fixtures: they must stay valid JSON."""
    for path in FIXTURES.glob("*.json"):
        json.loads(path.read_text())
