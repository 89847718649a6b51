# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: bgp_router_inputs
short_description: The input problems of the bgp_router role and its resolved neighbor list
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - The C(bgp_router) role's checks of its inputs, on the controller before anything touches the router, and the
    neighbors it configures, the hosts of C(neighbor_group) (their addresses from the host variables named by
    C(neighbor_address_var) and C(neighbor_address6_var), their AS numbers from
    C(neighbor_asn_var) or C(node_asn)) followed by the entries of C(neighbors).
  - Checked are the AS numbers (1 to 4294967295, the nodes' different from the router's, eBGP only), an IPv4
    router-id, the timers (hold time 0 or 3 to 65535, keepalive below it), MD5 passwords, BFD settings when BFD is on,
    names and paths, neighbor addresses (IPv4 or IPv6, parsed as IP addresses), duplicate neighbors (the same address
    written twice counts), a neighbor at the router's own address (its router-id or C(ansible_host)), and that every
    address family of the BGP pools has a session of that family. Pool syntax is C(baremetal.metallb.pool_validate)'s.
  - Every message names the variable (and the neighbor's host or C(bgp_router_neighbors) entry) and the fix.
  - Values are normalized first (an AWX survey's V("64500") and V("true")). No password appears in the result.
options:
  _input:
    description: The role's inputs converted by its argument spec (C(_bgp_router_opts)), without the C(bgp_router_) prefix.
    type: dict
    required: true
  groups:
    description: The inventory's groups (C(groups)).
    type: dict
    required: true
  hostvars:
    description: The inventory's host variables (C(hostvars)).
    type: dict
    required: true
  inventory_hostname:
    description: The router's inventory name; its C(ansible_host) (or the name) is one of its own addresses.
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Check the BGP settings and resolve the neighbor list
  ansible.builtin.set_fact:
    _bgp_router_inputs: "{{ _bgp_router_opts | baremetal.metallb.bgp_router_inputs(groups, hostvars, inventory_hostname) }}"

- name: Stop on the first bad input
  ansible.builtin.fail:
    msg: "{{ _bgp_router_inputs.errors | join(' | ') }}"
  when: _bgp_router_inputs.errors | length > 0
"""

RETURN = r"""
_value:
  description: The problems and the resolved inputs.
  type: dict
  contains:
    errors:
      description: One message per problem; empty when the inputs are usable.
      type: list
      elements: str
    neighbors:
      description: The neighbors with a valid address, in order, each once.
      type: list
      elements: dict
      contains:
        address:
          description: The address as given.
          type: str
        family:
          description: V(4) or V(6).
          type: int
        asn:
          description: The neighbor's AS number.
          type: int
        description:
          description: The host's name, or the entry's description.
          type: str
        password_index:
          description: The index of the C(bgp_router_neighbors) entry whose password it uses, V(-1) for none.
          type: int
    asns:
      description: The neighbors' distinct AS numbers, in order.
      type: list
      elements: int
    pools:
      description: The pools, with C(protocol) V(bgp) when they give none.
      type: list
      elements: dict
    router_id_ok:
      description: Whether the router-id is an IPv4 address.
      type: bool
    families:
      description: Whether there are IPv4 and IPv6 neighbors (C(ipv4), C(ipv6)) and BGP pool prefixes (C(ipv4_pools), C(ipv6_pools)).
      type: dict
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.inputs import resolve_router_inputs


def bgp_router_inputs(options, groups, hostvars, inventory_hostname):
    if not all(isinstance(value, Mapping) for value in (options, groups, hostvars)):
        raise AnsibleFilterError("bgp_router_inputs: give the role's inputs, groups and hostvars "
                                 "(_bgp_router_opts | baremetal.metallb.bgp_router_inputs(groups, hostvars, inventory_hostname))")
    return resolve_router_inputs(options, groups, hostvars, str(inventory_hostname))


class FilterModule:
    def filters(self):
        return {"bgp_router_inputs": bgp_router_inputs}
