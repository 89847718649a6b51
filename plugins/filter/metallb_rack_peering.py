# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: metallb_rack_peering
short_description: Per-rack BGP peering - one MetalLB BGPPeer per router with nodeSelectors, and the nodes' rack labels
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Turns a site's racks (each with its routers and its nodes) into one BGPPeer per router for
    C(metallb_config_bgp_peers), each selecting with C(node_selectors) the nodes of the router's rack (a router
    listed in several racks selects them all), so MetalLB's speaker on a node opens sessions only to its own
    rack's routers.
  - Also returns the label each node needs for those selectors (for C(edge_nodes_labels)) and, per router, the
    nodes that peer with it.
  - With no racks (an empty list), returns the input peer alone, so one inventory serves a single-router site too.
  - Every problem is reported at once, naming the variable and the fix; nothing is read from a cluster or router.
options:
  _input:
    description:
      - The fields every router's BGPPeer shares (C(my_asn), C(peer_asn), C(hold_time), ...), as
        C(metallb_config_bgp_peers) takes them. Its C(name), when given, prefixes each router's name.
      - Without racks, the one peer, with its C(peer_address).
    type: dict
    required: true
  racks:
    description:
      - The racks, each a dict with C(name) (the label value), C(routers) (a list of dicts with C(name) and
        C(address)) and C(nodes) (node names). A node may be in one rack only.
    type: list
    elements: dict
    required: true
  label:
    description: The node label key whose value names a node's rack, for example C(topology.kubernetes.io/zone).
    type: str
    required: true
  racks_var:
    description: How messages name O(racks).
    type: str
    default: metallb_racks
  label_var:
    description: How messages name O(label).
    type: str
    default: metallb_rack_label
  peer_var:
    description: How messages name the input peer.
    type: str
    default: metallb_bgp_peer
"""

EXAMPLES = r"""
- name: One BGPPeer per router, each for its own rack's nodes
  ansible.builtin.set_fact:
    metallb_config_bgp_peers: "{{ _racks.bgp_peers }}"
    edge_nodes_labels: "{{ _racks.node_labels }}"
  vars:
    _racks: >-
      {{ {'my_asn': 64500, 'peer_asn': 64501, 'hold_time': '9s'}
         | baremetal.metallb.metallb_rack_peering(
             [{'name': 'rack1', 'routers': [{'name': 'tor1', 'address': '198.51.100.251'}], 'nodes': ['node1', 'node3']},
              {'name': 'rack2', 'routers': [{'name': 'tor2', 'address': '198.51.100.252'}], 'nodes': ['node2', 'node4']}],
             'topology.kubernetes.io/zone') }}
"""

RETURN = r"""
_value:
  description: The peers, the nodes' labels and each router's nodes.
  type: dict
  contains:
    bgp_peers:
      description: One BGPPeer per router (C(name), C(peer_address), C(node_selectors) and the input's fields).
      type: list
      elements: dict
    node_labels:
      description: "Node name to C({label: rack name})."
      type: dict
    router_nodes:
      description: Router name to the nodes that peer with it.
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.racks import RackError, rack_peering


def metallb_rack_peering(peer, racks, label, racks_var="metallb_racks", label_var="metallb_rack_label",
                         peer_var="metallb_bgp_peer"):
    try:
        return rack_peering(peer, racks, label, racks_var=racks_var, label_var=label_var, peer_var=peer_var)
    except RackError as exc:
        raise AnsibleFilterError(f"metallb_rack_peering: {exc}") from None


class FilterModule:
    def filters(self):
        return {"metallb_rack_peering": metallb_rack_peering}
