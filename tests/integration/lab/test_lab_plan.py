# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's address plan and inventory, pure (no lab: conftest.NO_LAB): the single-router
layout and the routed one (``labctl up --routers N``), per-rack peering and routes."""
from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from metallb_lab import frr, inventory  # on sys.path: ../conftest.py
from metallb_lab import plan as P
from metallb_lab.ssh import SshFiles

ALLOWED = [ipaddress.ip_network(n) for n in (
    "198.51.100.0/24", "203.0.113.0/24", "192.0.2.0/24", "2001:db8::/32", "198.18.0.0/15")]


def _allowed(address: str) -> bool:
    a = ipaddress.ip_address(address)
    return any(a.version == n.version and a in n for n in ALLOWED)


def test_single_router_layout_is_the_default_and_unchanged():
    plan = P.LabPlan("x", 3)
    assert not plan.routed and plan.rack_count == 0 and plan.bridges == ["br0"]
    assert [(h.name, h.address, h.mac) for h in plan.hosts] == [
        ("router", "198.51.100.1", "02:00:c6:33:64:01"), ("node1", "198.51.100.11", "02:00:c6:33:64:0b"),
        ("node2", "198.51.100.12", "02:00:c6:33:64:0c"), ("node3", "198.51.100.13", "02:00:c6:33:64:0d"),
        ("client", "198.51.100.100", "02:00:c6:33:64:64")]
    assert plan.routes(plan.host("node2")) == [
        ("-4", "default", ("198.51.100.1",)), ("-6", "default", ("2001:db8:100::1",))]
    assert plan.routes(plan.host("client")) == [
        ("-4", "203.0.113.0/24", ("198.51.100.1",)), ("-6", "2001:db8:203::/48", ("2001:db8:100::1",))]
    assert [link.port for h in plan.hosts for link in h.links] == [h.name for h in plan.hosts]
    hosts_yml = inventory.render_hosts(plan)
    assert "lab_rack" not in hosts_yml and "lab_neighbor_group" not in hosts_yml and "rack1_nodes" not in hosts_yml
    assert "lab_racks" not in inventory.render_group_vars(plan, SshFiles(Path("/tmp/x")))


@pytest.mark.parametrize("routers, racks, nodes, want", [
    (2, 0, 4, {"router1": "rack1", "router2": "rack2", "node1": "rack1", "node2": "rack2",
               "node3": "rack1", "node4": "rack2"}),
    (4, 2, 3, {"router1": "rack1", "router2": "rack2", "router3": "rack1", "router4": "rack2",
               "node1": "rack1", "node2": "rack2", "node3": "rack1"}),
    (3, 1, 2, {"router1": "rack1", "router2": "rack1", "router3": "rack1", "node1": "rack1", "node2": "rack1"}),
])
def test_routed_layout_deals_routers_and_nodes_into_racks(routers, racks, nodes, want):
    plan = P.LabPlan("x", nodes, routers=routers, racks=racks)
    assert {h.name: h.rack_name for h in plan.hosts if h.role != P.CLIENT} == want
    for h in plan.node_hosts:
        rack_routers = plan.rack_routers(h)
        assert rack_routers and {r.rack for r in rack_routers} == {h.rack}
        # replies to the upstream client leave through the node's own rack's routers, ECMP
        assert plan.routes(h) == [("-4", "default", tuple(r.address for r in rack_routers)),
                                  ("-6", "default", tuple(r.address6 for r in rack_routers))]


def test_routed_layout_puts_the_client_upstream_with_ecmp_over_every_router():
    plan = P.LabPlan("x", 4, routers=2)
    client = plan.host("client")
    assert (client.address, client.address6, client.mac) == ("192.0.2.100", "2001:db8:192::100", "02:00:c0:00:02:64")
    assert [(link.interface, link.bridge) for link in client.links] == [("eth0", "br1")]
    r1 = plan.host("router1")
    assert [(link.interface, link.bridge, link.port, link.address) for link in r1.links] == [
        ("eth0", "br0", "router1", "198.51.100.251"), ("eth1", "br1", "router1-up", "192.0.2.251")]
    assert plan.routes(client) == [
        ("-4", "203.0.113.0/24", ("192.0.2.251", "192.0.2.252")),
        ("-4", "198.51.100.0/24", ("192.0.2.251", "192.0.2.252")),
        ("-6", "2001:db8:203::/48", ("2001:db8:192::251", "2001:db8:192::252")),
        ("-6", "2001:db8:100::/64", ("2001:db8:192::251", "2001:db8:192::252"))]
    assert plan.routes(r1) == []  # no default route on a router: nothing leaves the lab
    # documentation ranges only, and every address and MAC unique
    links = [link for h in plan.hosts for link in h.links]
    assert all(_allowed(a) for link in links for a in (link.address, link.address6))
    assert len({link.address for link in links}) == len({link.mac for link in links}) == len(links)
    assert len({link.port for link in links}) == len(links) and all(len(link.port) <= 15 for link in links)


@pytest.mark.parametrize("kwargs, message", [
    ({"routers": 5}, "--routers must be between 1 and 4"),
    ({"routers": 0}, "--routers must be between 1 and 4"),
    ({"racks": 2}, "--racks needs the routed layout"),
    ({"routers": 2, "racks": 3}, "--racks must be between 1 and"),
    ({"routers": 3, "nodes": 2, "racks": 3}, "--racks must be between 1 and"),
])
def test_bad_layouts_are_refused_naming_the_option(kwargs, message):
    with pytest.raises(ValueError, match=message):
        P.LabPlan("x", **{"nodes": 4, **kwargs})


def test_plan_from_meta_of_a_lab_from_before_routers():
    assert P.LabPlan.from_meta("x", {"nodes": 2, "bfd": True}) == P.LabPlan("x", 2, True)
    assert P.LabPlan.from_meta("x", {"nodes": 4, "bfd": False, "routers": 2, "racks": 0}).routed


def test_routed_inventory_gives_each_router_only_its_rack():
    plan = P.LabPlan("x", 4, routers=2)
    hosts_yml = inventory.render_hosts(plan)
    r1 = hosts_yml[hosts_yml.index("        router1:"):hosts_yml.index("        router2:")]
    assert '          lab_neighbor_group: "rack1_nodes"' in r1 and '          lab_uplink_address: "192.0.2.251"' in r1
    tail = hosts_yml[hosts_yml.index("    rack1_nodes:"):]
    assert tail == ("    rack1_nodes:\n      hosts:\n        node1: {}\n        node3: {}\n"
                    "    rack2_nodes:\n      hosts:\n        node2: {}\n        node4: {}\n")
    gv = inventory.render_group_vars(plan, SshFiles(Path("/tmp/x")))
    assert 'lab_router_address: "198.51.100.251"' in gv and 'lab_upstream: "192.0.2.0/24"' in gv
    assert ('lab_racks: [{"name": "rack1", "group": "rack1_nodes", "routers": [{"name": "router1", '
            '"address": "198.51.100.251", "address6": "2001:db8:100::251"}], "nodes": ["node1", "node3"]}') in gv


def test_stand_in_speaker_peers_with_its_racks_routers_only():
    plan = P.LabPlan("x", 4, routers=4, racks=2)
    node3 = plan.host("node3")  # rack1: router1 and router3
    conf = frr.render_speaker(node3, frr.SpeakerConfig(), plan.rack_routers(node3))
    remote = [line.split()[1] for line in conf.splitlines() if line.endswith("remote-as 64501")]
    assert remote == ["198.51.100.251", "198.51.100.253", "2001:db8:100::251", "2001:db8:100::253"]
    assert "  no neighbor 2001:db8:100::253 activate" in conf and "  neighbor 2001:db8:100::251 activate" in conf
    single = P.LabPlan("x", 1)
    assert "neighbor 198.51.100.1 remote-as 64501" in frr.render_speaker(
        single.host("node1"), frr.SpeakerConfig(), single.rack_routers(single.host("node1")))
