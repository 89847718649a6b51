# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: own_address_neighbors
short_description: BGP neighbors whose address is one of the router's own, as error messages
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - The C(bgp_router) role's check that the router is not told to peer with itself, for example when the router is
    also in the node group, or a neighbor was given the router's address by mistake. FRR would accept such a
    neighbor and the session would never come up.
  - Addresses are compared as IP addresses (V(2001:db8::1) and V(2001:DB8:0::1) are the same); an entry that is not
    an IP address is left to the role's other checks.
  - Each message names where the neighbor came from (the variable), which of the router's addresses it is, and the fix.
options:
  _input:
    description: The neighbors, each a dict with C(address) and C(source) (the variable or host it came from).
    type: list
    elements: dict
    required: true
  own:
    description: The router's own addresses, each a dict with C(name) (the variable it comes from) and C(address).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Refuse a neighbor at the router's own address
  ansible.builtin.assert:
    that: _problems | length == 0
    fail_msg: "{{ _problems }}"
  vars:
    _problems: >-
      {{ [{'address': '198.51.100.1', 'source': 'bgp_router_neighbors[0]'}]
         | baremetal.metallb.own_address_neighbors([{'name': 'bgp_router_router_id', 'address': '198.51.100.1'}]) }}
"""

RETURN = r"""
_value:
  description: One message per neighbor at one of the router's addresses; empty when there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.inputs import own_address_problems


def own_address_neighbors(neighbors, own):
    if not isinstance(neighbors, list) or not isinstance(own, list):
        raise AnsibleFilterError("own_address_neighbors: give a list of neighbors and a list of the router's addresses")
    return own_address_problems(neighbors, own)


class FilterModule:
    def filters(self):
        return {"own_address_neighbors": own_address_neighbors}
