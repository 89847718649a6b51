# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""API objects into cluster facts, and stated facts over them."""

from __future__ import annotations

import ipaddress

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import ClusterInput, cluster_from_objects
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workloads import InputErrors
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data

OBJECTS = load_data(__file__)


def test_nodes_from_objects():
    nodes = {node.name: node for node in cluster_from_objects(OBJECTS).nodes}
    assert sorted(nodes) == ["cp1", "n1", "n2"]
    cp1, n1, n2 = nodes["cp1"], nodes["n1"], nodes["n2"]
    # NoSchedule taint and cordon keep our (toleration-less) pods off; PreferNoSchedule does not.
    assert (cp1.schedulable, n1.schedulable, n2.schedulable) == (False, True, False)
    assert cp1.excluded and not n1.excluded
    assert (cp1.network_unavailable, n2.network_unavailable) == (False, True)
    # Speakers: running pods labelled either way; the pending one and the controller do not count.
    assert (cp1.speaker, n1.speaker, n2.speaker) == (True, True, False)
    assert [str(address) for address, network in n1.addresses] == ["198.51.100.11", "2001:db8:100::11"]
    assert all(network is None for dummy, network in n1.addresses)


def test_without_speaker_pods_every_node_is_taken_to_run_one():
    nodes = cluster_from_objects({"nodes": OBJECTS["nodes"]}).nodes
    assert all(node.speaker for node in nodes)


def test_advertisements_peers_and_pools_from_objects():
    cluster = cluster_from_objects(OBJECTS)
    (l2,) = cluster.l2_advertisements
    assert (l2.kind, l2.name, l2.pools) == ("layer2", "edge", ["lan-vips"])
    assert l2.selects_pool("lan-vips", {}) and not l2.selects_pool("prod", {"tier": "prod"})
    (bgp,) = cluster.bgp_advertisements
    assert bgp.peers == ["upstream"]
    assert bgp.selects_pool("prod", {"tier": "prod"}) and not bgp.selects_pool("lan-vips", {})
    (peer,) = cluster.peers
    assert (peer.name, str(peer.address), peer.my_asn, peer.peer_asn, peer.ebgp_multihop) == ("upstream", "198.51.100.1", 64512, 64500, False)
    pools = cluster.pools
    assert pools["prod"].labels == {"tier": "prod"} and pools["prod"].protocol is None
    assert (pools["prod"].auto_assign, pools["prod"].avoid_buggy_ips) == (False, True)
    assert pools["lan-vips"].auto_assign is True
    assert pools["prod"].holds(ipaddress.ip_address("203.0.113.5"))
    assert not pools["prod"].holds(ipaddress.ip_address("203.0.113.0"))  # avoided as buggy


def test_endpoint_slices_give_the_nodes_with_a_serving_pod():
    endpoints = cluster_from_objects(OBJECTS).endpoints
    # n1 ready, n2 terminating but serving (MetalLB counts it), cp1 neither.
    assert endpoints == {"shop/web": ["n1", "n2"], "shop/api": ["n1"]}


def test_kube_proxy_empty_mode_is_iptables():
    proxy = cluster_from_objects(OBJECTS).kube_proxy
    assert (proxy.mode, proxy.strict_arp) == ("iptables", True)


@pytest.mark.parametrize("kind", ["nodes", "l2_advertisements", "bgp_advertisements", "bgp_peers", "ip_address_pools", "endpoint_slices"])
def test_unknown_stays_unknown_and_empty_stays_empty(kind):
    attribute = {"bgp_peers": "peers", "ip_address_pools": "pools", "endpoint_slices": "endpoints"}.get(kind, kind)
    assert getattr(cluster_from_objects({}), attribute) is None
    assert getattr(cluster_from_objects({kind: []}), attribute) in ([], {})


def test_stated_facts_replace_the_objects_key_by_key():
    errors = InputErrors()
    cluster = ClusterInput(
        {"nodes": [{"name": "only", "addresses": ["198.51.100.50/24"]}], "kube_proxy": {"mode": "ipvs"}},
        OBJECTS,
        errors,
    ).run()
    assert not errors.items
    assert [node.name for node in cluster.nodes] == ["only"]
    assert cluster.nodes[0].addresses[0][1] == ipaddress.ip_network("198.51.100.0/24")
    assert (cluster.kube_proxy.mode, cluster.kube_proxy.strict_arp) == ("ipvs", False)
    # Not stated: still from the objects.
    assert [ad.name for ad in cluster.l2_advertisements] == ["edge"]
    assert cluster.endpoints["shop/web"] == ["n1", "n2"]
