# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""state.py over recorded FRR JSON, driven by test_state.yaml."""

from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.state import (
    InputError,
    compare,
    link_local_aliases,
    normalize_address,
    normalize_prefix,
    peer_state,
    route_state,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
CASES = load_data(__file__)


def _load(name: str | None) -> dict:
    return json.loads((HERE / "fixtures" / name).read_text()) if name else {}


def _route(prefix: str, spec: dict) -> dict:
    return route_state(prefix, _load(spec["fixture"]), link_local_aliases(_load(spec.get("bgp"))))


@parametrize_cases(CASES["peers"])
def test_peer_state(case):
    neighbors = _load(case["fixture"])
    for address, expected in case["expect"].items():
        state = peer_state(address, neighbors)
        for key, value in expected.items():
            assert state[key] == value, f"{address} {key}: {state[key]!r} != {value!r}"


@parametrize_cases(CASES["routes"])
def test_route_state(case):
    state = _route(case["prefix"], case)
    for key, value in case["expect"].items():
        assert state[key] == value, f"{key}: {state[key]!r} != {value!r}"


@parametrize_cases(CASES["compare"])
def test_compare(case):
    neighbors = _load(case["neighbors"])
    peers = {address: peer_state(address, neighbors) for address in case["peers"]}
    routes = {prefix: _route(prefix, spec) for prefix, spec in case["routes"].items()}
    expected = {prefix: spec["expect"] for prefix, spec in case["routes"].items()}
    assert compare(case["peers"], peers, expected, routes, case.get("link_local", True)) == case["differences"]


@pytest.mark.parametrize(
    "text, expected",
    [("203.0.113.10", ("203.0.113.10/32", 4)), ("2001:DB8:203::10", ("2001:db8:203::10/128", 6)), ("203.0.113.0/24", ("203.0.113.0/24", 4))],
)
def test_normalize_prefix(text, expected):
    assert normalize_prefix(text, "prefixes") == expected


@pytest.mark.parametrize("text", ["203.0.113.10/24", "vip", "203.0.113.300"])
def test_bad_prefix_names_the_option(text):
    with pytest.raises(InputError, match=r"^prefixes: "):
        normalize_prefix(text, "prefixes")


def test_bad_address_names_the_option():
    with pytest.raises(InputError, match=r"^peers: 'node1' is not an IP address"):
        normalize_address("node1", "peers")
