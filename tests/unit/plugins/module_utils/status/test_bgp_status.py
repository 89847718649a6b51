# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""bgp_status (ServiceBGPStatus against the router's FIB) against test_bgp_status.yaml, and through wire.route_check."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.status.bgp_status import announced_by, attach, route_differences
from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import FAIL, OK, Nodes, route_check
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
NODES = Nodes(addresses=DATA["nodes"])


@parametrize_cases(DATA["announced_by"])
def test_announced_by(case):
    assert announced_by(case["statuses"]) == case["expected"]


@parametrize_cases(DATA["routes"])
def test_route_differences(case):
    found = route_differences(case["address"], case["hops"], case["announced"], NODES)
    assert len(found) == len(case["differences"]), found
    for difference, (kind, hop, *texts) in zip(found, case["differences"]):
        assert (difference["kind"], difference["next_hop"]) == (kind, hop)
        for text in texts:
            assert text in difference["text"], difference["text"]


def test_attach_sets_the_bgp_section_only():
    services = [{"namespace": "demo", "name": "api", "bgp": {"next_hops": []}, "layer2": None},
                {"namespace": "demo", "name": "web", "bgp": None}]
    attach(services, DATA["announced_by"][0]["statuses"])
    assert services[0]["bgp"]["announced_by"] == {"node1": ["router", "router-b"], "node3": ["router"]}
    assert services[1]["bgp"] is None
    attach(services, None)
    assert services[0]["bgp"]["announced_by"] is None


def test_route_check_fails_with_the_cause_when_the_fib_matches_the_model_but_not_the_speakers():
    """MetalLB's objects say node1 and node3, the FIB has both: without ServiceBGPStatus this is ok; node3's speaker
    reports no announcement, so the route via node3 is stale and the check fails naming why."""
    bgp = {"next_hops": ["198.51.100.11", "198.51.100.13"]}
    seen = {"present": True, "nexthops": ["198.51.100.11", "198.51.100.13"], "protocol": "bgp", "installed": True}
    assert route_check("203.0.113.10", seen, bgp, None, NODES)["status"] == OK
    check = route_check("203.0.113.10", seen, dict(bgp, announced_by={"node1": ["router"]}), None, NODES)
    assert check["status"] == FAIL
    assert [d["kind"] for d in check["differences"]] == ["not_announced"]
    assert "stale route" in check["text"] and "198.51.100.13 (node3)" in check["text"]
