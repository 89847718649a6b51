# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: bgp_router_frr_conf
short_description: The frr.conf of the bgp_router role
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - The whole C(frr.conf) the C(bgp_router) role applies, in FRR 8's canonical C(show running-config) form (a line
    FRR would show differently, or not at all, would be a change on every run).
  - IPv4 neighbors go into the peer-group named by C(peer_group), IPv6 neighbors into C(<peer_group>-V6); the AS
    number goes on the group when every neighbor has the same one, else on each neighbor (with
    C(bgp bestpath as-path multipath-relax)); BFD, the password and the timers go on the groups, a neighbor's own
    password on the neighbor; each family accepts only its pool prefixes (a prefix-list with C(le 32)/C(le 128)),
    or nothing when it has none, and sends nothing (or a default route with C(outbound=default_route)).
  - The passwords are in the text it returns; give it straight to C(baremetal.metallb.frr_config), whose content is
    never logged, and do not store it in a fact.
options:
  _input:
    description: The role's inputs converted by its argument spec (C(_bgp_router_opts)).
    type: dict
    required: true
  inputs:
    description: What C(baremetal.metallb.bgp_router_inputs) resolved (its neighbors and AS numbers).
    type: dict
    required: true
  cidrs:
    description: The pool prefixes the router accepts, C(ipv4) and C(ipv6) lists.
    type: dict
    required: true
  hostname:
    description: The router's host name in FRR.
    type: str
    required: true
  ipv6_forwarding:
    description: Whether IPv6 forwarding is on (else C(no ipv6 forwarding) is written, as FRR shows it).
    type: bool
    required: true
"""

EXAMPLES = r"""
- name: Validate and apply frr.conf
  baremetal.metallb.frr_config:
    content: >-
      {{ _bgp_router_opts | baremetal.metallb.bgp_router_frr_conf(_bgp_router_inputs, _bgp_router_cidrs,
                                                                  _bgp_router_hostname, _bgp_router_ipv6_forwarding) }}
    path: /etc/frr/frr.conf
"""

RETURN = r"""
_value:
  description: The text of frr.conf, ending in a newline.
  type: str
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.inputs import render_frr_conf


def bgp_router_frr_conf(options, inputs, cidrs, hostname, ipv6_forwarding):
    if not all(isinstance(value, Mapping) for value in (options, inputs, cidrs)):
        raise AnsibleFilterError("bgp_router_frr_conf: give the role's inputs, bgp_router_inputs' result and the pool "
                                 "prefixes ({'ipv4': [...], 'ipv6': [...]}) as dicts")
    return render_frr_conf(options, inputs, cidrs, str(hostname), ipv6_forwarding)


class FilterModule:
    def filters(self):
        return {"bgp_router_frr_conf": bgp_router_frr_conf}
