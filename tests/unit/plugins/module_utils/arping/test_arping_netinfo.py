# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""netinfo.Resolver against the recorded `ip -j` answers in test_arping_netinfo.yaml."""

from __future__ import annotations

import dataclasses

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import netinfo
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.arping.arping_sim import batch, every_link
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
CASES = DATA["cases"]


def _runner(answers: dict, calls=None):
    def answer(argv):
        assert argv[0] == "/sbin/ip"
        key = " ".join(argv[1:])
        if key == "-j addr show":
            return every_link(answers)
        assert key in answers, f"unexpected command: ip {key}"
        return tuple(answers[key])

    run = batch(answer)

    def logged(argv, data=None):
        if calls is not None:
            calls.append((" ".join(argv[1:]), data))
        return run(argv, data)

    return logged


@parametrize_cases(CASES)
def test_resolve(case):
    resolver = netinfo.Resolver(_runner(case["ip"]), "/sbin/ip")
    if "error" in case:
        with pytest.raises(netinfo.ResolveError) as info:
            resolver.resolve(case["address"], case.get("interface"))
        assert case["error"] in str(info.value)
    else:
        binding = resolver.resolve(case["address"], case.get("interface"))
        assert dataclasses.asdict(binding) == case["binding"]


def test_one_ip_process_for_every_vip():
    calls = []
    answers = dict(DATA["cases"][0]["ip"])
    answers["-j route get 198.51.100.201"] = answers["-j route get 198.51.100.200"]
    resolver = netinfo.Resolver(_runner(answers, calls), "/sbin/ip")
    resolver.lookup(["198.51.100.200", "198.51.100.201"])
    assert resolver.resolve("198.51.100.200").mac == "02:00:c6:33:64:64"
    assert resolver.resolve("198.51.100.201").source == "198.51.100.100"
    assert calls == [("-j -batch -", "route get 198.51.100.200\nroute get 198.51.100.201\naddr show\n")]


def test_a_failure_in_the_middle_of_the_batch():
    """A failing route ends ip's batch; the commands after it go into the next one."""
    calls = []
    defaults = DATA["defaults"]
    answers = {
        "-j route get 198.51.100.200": defaults["route_onlink"],
        "-j route get 192.0.2.1": defaults["route_unreachable"],
        "-j route get 198.51.100.202": defaults["route_onlink"],
        "-j addr show dev eth0": defaults["eth0"],
    }
    resolver = netinfo.Resolver(_runner(answers, calls), "/sbin/ip")
    resolver.lookup(["198.51.100.200", "192.0.2.1", "198.51.100.202"])
    assert [call[1] for call in calls] == [
        "route get 198.51.100.200\nroute get 192.0.2.1\nroute get 198.51.100.202\naddr show\n",
        "route get 198.51.100.202\naddr show\n",
    ]
    assert resolver.resolve("198.51.100.200").source == "198.51.100.100"
    with pytest.raises(netinfo.ResolveError, match=r"192.0.2.1: this host has no route to it \(RTNETLINK answers: Network is unreachable\)"):
        resolver.resolve("192.0.2.1")
    assert resolver.resolve("198.51.100.202").interface == "eth0"
    assert len(calls) == 2
