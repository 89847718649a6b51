#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bgp_verify
short_description: Check BGP sessions and ECMP next hops on an FRR router
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Runs on the router and reads FRR's JSON output through C(vtysh) (C(show bgp neighbors json),
    C(show ip route PREFIX json), C(show ipv6 route PREFIX json)).
  - Checks that every address in O(peers) is an Established BGP neighbor, and that every prefix in
    O(prefixes) is installed in the router's forwarding table (zebra's C(fib) flag, that is, in the kernel)
    with exactly the expected next hops.
  - Waits up to O(timeout) seconds for convergence, polling every O(poll_interval) seconds, and fails with
    one sentence per remaining difference (peer not configured or not Established, missing or extra next hop,
    prefix missing, not installed, or present when it should not be).
  - Read-only; never reports C(changed).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; runs the same checks in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  peers:
    description: Neighbor addresses (IPv4 or IPv6) whose BGP session must be Established.
    type: list
    elements: str
    default: []
  prefixes:
    description:
      - Expected routes, as a mapping from a VIP (an address, meaning /32 or /128, or a prefix) to the list of
        next-hop addresses that must be installed for it, no more and no fewer.
      - An empty list means the prefix must not be routed at all (for example after every node withdrew it).
    type: dict
    default: {}
  timeout:
    description:
      - Seconds to wait for the expected state. V(0) checks once.
    type: float
    default: 0
  poll_interval:
    description: Seconds between two checks while waiting.
    type: float
    default: 1
  link_local_nexthops:
    description:
      - Whether an IPv6 route installed via a node's link-local address counts as routed via that node (its global
        address, read from the BGP table).
      - V(false) makes each such next hop a difference of its own. A router configured by
        P(baremetal.metallb.bgp_router#role) installs the nodes' global addresses (C(set ipv6 next-hop prefer-global)),
        as for IPv4; C(verify.yml) checks it so.
    type: bool
    default: true
  vtysh_path:
    description: Path of C(vtysh). Found on the E(PATH) when not given.
    type: path
notes:
  - An expected IPv6 next hop may be given as the node's global address or as its link-local one (see O(link_local_nexthops)).
seealso:
  - module: baremetal.metallb.frr_config
"""

EXAMPLES = r"""
- name: Every node session is up and the VIP is spread over all nodes
  baremetal.metallb.bgp_verify:
    peers: "{{ groups['k8s_nodes'] | map('extract', hostvars, 'ansible_host') | list }}"
    prefixes:
      203.0.113.10: "{{ groups['k8s_nodes'] | map('extract', hostvars, 'ansible_host') | list }}"
    timeout: 30

- name: After n2 withdrew the VIP (externalTrafficPolicy Local, no local pod), only n1 and n3 carry it
  baremetal.metallb.bgp_verify:
    prefixes:
      203.0.113.10: [198.51.100.11, 198.51.100.13]
    timeout: 5
    poll_interval: 0.1

- name: The VIP is gone everywhere
  baremetal.metallb.bgp_verify:
    prefixes:
      203.0.113.10: []
"""

RETURN = r"""
peers:
  description: State of each peer in O(peers), keyed by its address.
  returned: always
  type: dict
  sample:
    198.51.100.11:
      configured: true
      state: Established
      established: true
      uptime_msec: 61000
      established_epoch: 1790000000
      connections_established: 1
      connections_dropped: 0
      remote_as: 64500
      local_as: 64501
      peer_group: METALLB
      last_reset: never
prefixes:
  description: Route for each prefix in O(prefixes), keyed by the normalized prefix.
  returned: always
  type: dict
  sample:
    203.0.113.10/32:
      prefix: 203.0.113.10/32
      present: true
      installed: true
      protocol: bgp
      nexthops: [198.51.100.11, 198.51.100.12, 198.51.100.13]
      fib_nexthops: [198.51.100.11, 198.51.100.12, 198.51.100.13]
      aliases: {}
      expected: [198.51.100.11, 198.51.100.12, 198.51.100.13]
  contains:
    present:
      description: Whether the prefix has a selected route at all.
      type: bool
    installed:
      description: Whether zebra reports the selected route installed in the kernel.
      type: bool
    protocol:
      description: Protocol of the selected route (V(bgp) for the nodes' announcements), null when absent.
      type: str
    nexthops:
      description:
        - Next hops of the selected route that are in the FIB, sorted. IPv6 link-local next hops (which zebra
          installs for IPv6 BGP peers) are given as the peer's global address, read from the BGP table.
      type: list
      elements: str
    fib_nexthops:
      description: The same next hops exactly as zebra installed them (link-local addresses untranslated).
      type: list
      elements: str
    aliases:
      description: Link-local next hop to global address, for the translated ones.
      type: dict
    expected:
      description: The next hops asked for in O(prefixes), normalized.
      type: list
      elements: str
differences:
  description: One sentence per difference left at the end; empty on success.
  returned: always
  type: list
  elements: str
  sample: ["203.0.113.10/32: missing next hop 198.51.100.13"]
attempts:
  description: How many times the state was read.
  returned: always
  type: int
  sample: 3
elapsed:
  description: Seconds spent, including waiting.
  returned: always
  type: float
  sample: 2.013
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.state import InputError
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrError, FrrTools
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.verify import BgpVerifier


def main():
    module = AnsibleModule(
        argument_spec=dict(
            peers=dict(type="list", elements="str", default=[]),
            prefixes=dict(type="dict", default={}),
            timeout=dict(type="float", default=0),
            poll_interval=dict(type="float", default=1),
            link_local_nexthops=dict(type="bool", default=True),
            vtysh_path=dict(type="path"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if p["timeout"] < 0:
        module.fail_json(msg=f"timeout must be 0 or more seconds (got {p['timeout']})")
    if p["poll_interval"] <= 0:
        module.fail_json(msg=f"poll_interval must be more than 0 seconds (got {p['poll_interval']})")
    try:
        peers, prefixes = BgpVerifier.normalize(p["peers"], p["prefixes"])
    except InputError as exc:
        module.fail_json(msg=str(exc))
    if not peers and not prefixes:
        module.fail_json(msg="nothing to verify: give peers, prefixes or both")

    vtysh = p["vtysh_path"] or module.get_bin_path("vtysh", required=True)
    tools = FrrTools(module.run_command, vtysh=vtysh)
    try:
        result = BgpVerifier(tools).verify(peers, prefixes, timeout=p["timeout"], poll_interval=p["poll_interval"],
                                           link_local=p["link_local_nexthops"])
    except FrrError as exc:
        module.fail_json(msg=str(exc), changed=False)

    ok = result.pop("ok")
    if not ok:
        waited = f" after {result['elapsed']}s" if p["timeout"] else ""
        module.fail_json(msg=f"BGP state differs from what is expected{waited}: " + "; ".join(result["differences"]), changed=False, **result)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
