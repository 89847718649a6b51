# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: bgp_router_mode_problems
short_description: Router options MetalLB's speakers cannot speak in their BGP mode, as error messages
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - The C(bgp_router) role's check that BFD and graceful restart are configured on the router only when MetalLB runs in
    an FRR-based mode (V(frr) or V(frr-k8s)); MetalLB's native speakers speak neither, and BFD toward them never comes
    up, so it silently detects nothing.
  - Values are normalized first (an AWX survey's V("true") is true, V("Native") is native).
  - Each message names both variables (C(bgp_router_<option>) and C(bgp_router_metallb_mode), set by C(site.yml) from
    C(metallb_bgp_mode)) and the fix.
  - With O(peers) (C(site.yml) gives C(metallb_config_bgp_peers)), also that every MetalLB BGPPeer toward this router
    (its C(peer_address) one of O(router_addresses)) agrees with it, both sides or neither, on BFD (C(bfd_profile)) and
    graceful restart (C(enable_graceful_restart)); half of either detects or keeps nothing.
options:
  _input:
    description: The role's converted inputs (C(_bgp_router_opts)), with C(metallb_mode), C(bfd) and C(graceful_restart).
    type: dict
    required: true
  peers:
    description: MetalLB's BGPPeers as C(metallb_config_bgp_peers) gives them; not checked when not given.
    type: list
    elements: dict
  router_addresses:
    description: The router's addresses (its router-id, its C(ansible_host)); the peers at one of them are checked.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Refuse BFD toward MetalLB's native speakers
  ansible.builtin.assert:
    that: _problems | length == 0
    fail_msg: "{{ _problems }}"
  vars:
    _problems: "{{ {'metallb_mode': 'native', 'bfd': 'true', 'graceful_restart': false} | baremetal.metallb.bgp_router_mode_problems }}"
"""

RETURN = r"""
_value:
  description: One message per option the mode cannot speak (or for an unknown mode); empty when there is none.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.bgp_mode import peer_problems, router_mode_problems


def bgp_router_mode_problems(options, peers=None, router_addresses=None):
    if not isinstance(options, dict):
        raise AnsibleFilterError("bgp_router_mode_problems: give the role's inputs as a dict (metallb_mode, bfd, graceful_restart)")
    problems = router_mode_problems(options.get("metallb_mode"), options)
    if peers is not None:
        problems += peer_problems(options, peers, router_addresses)
    return problems


class FilterModule:
    def filters(self):
        return {"bgp_router_mode_problems": bgp_router_mode_problems}
