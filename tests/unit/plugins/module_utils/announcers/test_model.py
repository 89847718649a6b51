# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The announcer model against MetalLB's rules, one case per rule (test_model.yaml)."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.announcers.model import REASONS, announce, announce_service, family, l2_leader
from ansible_collections.baremetal.metallb.plugins.module_utils.model.addresses import parse_address
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import cluster_from_objects
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.announcers.cluster_objects import (
    objects_from_case,
    speaker_pod,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


def _announced(case: dict) -> dict:
    cluster = cluster_from_objects(objects_from_case(case))
    service = case["service"]
    pool = cluster.pools.get(service["pool"])
    addresses = [parse_address(ip) for ip in service["ips"]]
    endpoints = None if case["endpoints"] == "unknown" else set(case["endpoints"])
    found = announce_service(cluster, service["pool"], pool.labels if pool else None, local=service["policy"] == "Local",
                             endpoint_nodes=endpoints, addresses=addresses, service_labels=service.get("labels", {}))
    families = sorted({family(a) for a in addresses})
    return {mode: announcement.as_dict(cluster, families) for mode, announcement in found.items()}


@parametrize_cases(CASES)
def test_announcers(case):
    found = _announced(case)
    assert sorted(found) == sorted(case["expect"]), f"modes: {sorted(found)}"
    for mode, want in case["expect"].items():
        got = dict(found[mode], excluded={node: entry["reason"] for node, entry in found[mode]["excluded"].items()})
        for key, value in want.items():
            assert got[key] == value, f"{mode}.{key}: {got[key]!r} != {value!r}"
        # every known node is either announcing (or eligible, endpoints unknown) or has one reason
        nodes = {node["metadata"]["name"] for node in objects_from_case(case)["nodes"]}
        announcing = set(got["announcing"] if got["announcing"] is not None else got["eligible"])
        assert announcing | set(got["excluded"]) == nodes and not announcing & set(got["excluded"])
        assert all(reason in REASONS for reason in got["excluded"].values())


def test_every_reason_has_a_case():
    seen = {entry["reason"] for case in CASES for section in _announced(case).values() for entry in section["excluded"].values()}
    assert seen == set(REASONS)


def test_leader_is_the_lowest_sha256_of_node_and_first_address():
    # sha256("node2#198.51.100.210") = 1c7a..., node3 74dd..., node1 dfff... (sha256sum)
    address = parse_address("198.51.100.210")
    assert l2_leader({"node1", "node2", "node3"}, address) == "node2"
    assert l2_leader({"node1", "node3"}, address) == "node3"
    assert l2_leader(set(), address) is None and l2_leader({"node1"}, None) is None
    digest = {n: hashlib.sha256(f"{n}#198.51.100.210".encode()).hexdigest()[:4] for n in ("node1", "node2", "node3")}
    assert digest == {"node1": "dfff", "node2": "1c7a", "node3": "74dd"}


def test_exclusion_can_be_asked_away():
    case = next(c for c in CASES if c["id"] == "exclude_from_external_load_balancers_label")
    cluster = cluster_from_objects(objects_from_case(case))
    assert announce(cluster, "layer2", "lan").eligible == {"node2", "node3"}
    assert announce(cluster, "layer2", "lan", honour_exclusion=False).eligible == {"node1", "node2", "node3"}


def test_nodes_unknown_is_none():
    cluster = cluster_from_objects({"l2_advertisements": []})
    assert announce(cluster, "layer2", "lan") is None


def test_advertisements_unknown_are_assumed_to_take_every_node():
    objects = objects_from_case({"pools": {}})
    objects["l2_advertisements"] = None
    announcement = announce(cluster_from_objects(objects), "layer2", "lan")
    assert announcement.assumed and announcement.eligible == {"node1", "node2", "node3"}


@pytest.mark.parametrize("args, ignores", [
    (["--ignore-exclude-lb"], True),
    (["-ignore-exclude-lb"], True),
    (["--ignore-exclude-lb=true"], True),
    (["--ignore-exclude-lb=1"], True),
    (["--ignore-exclude-lb=false"], False),
    (["--ignore-exclude-lb=0"], False),
    (["--port=7472"], False),
    (["--ignore-exclude-lb-not"], False),
    (["---ignore-exclude-lb"], False),
    (["ignore-exclude-lb"], False),
])
def test_speaker_flag_ignore_exclude_lb(args, ignores):
    pod = speaker_pod("node1")
    pod["spec"]["containers"][0]["args"] = args
    (node,) = cluster_from_objects({"nodes": objects_from_case({"nodes": {"node1": {}}})["nodes"], "speaker_pods": [pod]}).nodes
    assert node.ignore_exclude_lb is ignores
