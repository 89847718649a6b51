# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""rack_peering (and the metallb_rack_peering filter) against the cases in test_racks.yaml."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.racks import RackError, rack_peering
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)


def _run(case):
    return rack_peering(case.get("peer", DATA["peer"]), case["racks"], case.get("label", DATA["label"]))


@parametrize_cases(DATA["cases"])
def test_case(case):
    if "errors" in case:
        with pytest.raises(RackError) as caught:
            _run(case)
        for text in case["errors"]:
            assert text in str(caught.value), str(caught.value)
        assert str(caught.value).count("; metallb") + 1 >= len(case["errors"])
        return
    out = _run(case)
    assert out["bgp_peers"] == case["peers"]
    assert out["node_labels"] == case["node_labels"]
    assert out["router_nodes"] == case["router_nodes"]


def test_the_peers_pass_metallb_configs_own_checks():
    """What rack_peering renders is what metallb_config applies: BGPPeers with nodeSelectors."""
    peers = _run(DATA["cases"][0])["bgp_peers"]
    result = ConfigBuilder(bgp_peers=peers).run()
    assert not result.errors, result.errors
    specs = {o["metadata"]["name"]: o["spec"] for o in result.objects if o["kind"] == "BGPPeer"}
    assert specs["router-router1"]["nodeSelectors"] == [{"matchLabels": {"topology.kubernetes.io/zone": "rack1"}}]
    assert specs["router-router2"]["peerAddress"] == "198.51.100.252"


@pytest.mark.parametrize("peer, racks", [("x", []), ({}, {"rack1": {}})])
def test_wrong_types_are_named(peer, racks):
    with pytest.raises(RackError, match="metallb_bgp_peer|metallb_racks"):
        rack_peering(peer, racks, DATA["label"])
