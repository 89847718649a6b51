#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: pool_validate
short_description: Validate MetalLB address pools before anything is applied
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Checks MetalLB IPAddressPool definitions for syntax, overlaps between and inside pools, node
    addresses, reserved ranges (service and pod CIDRs, gateways) and, for layer2 pools, the L2
    segments the nodes are on.
  - Reports every problem at once, each naming the pool, the entry and the fix, and
    fails before any other task of the play changes anything.
  - Returns the pools normalized (minimal CIDR list, merged ranges, address counts), ready to
    render IPAddressPool objects or router prefix lists.
  - Runs on the controller (an action plugin), so C(netaddr) is needed there only and no
    connection to the target host is made.
  - Overlap search sorts the entries and sweeps over them once, in n log n time; it never compares pools pairwise.
  - With O(cluster_pools) (what the cluster holds), a pool overlapping an IPAddressPool this collection does not manage
    is refused, naming that pool and the overlapping addresses, because MetalLB's webhook would refuse it in the middle of an apply.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.controller_check
  - baremetal.metallb.pools
requirements:
  - netaddr >= 1.3 (on the controller)
  - kubernetes (on the controller), for O(read_cluster) only
options:
  pools:
    description:
      - The address pools, in the shape of MetalLB's IPAddressPool.
      - Only V(layer2) pools are checked against O(l2_networks).
    type: list
    elements: dict
    required: true
  node_addresses:
    description:
      - Node addresses. No pool may contain one.
    type: list
    elements: str
    default: []
  l2_networks:
    description:
      - The L2 segments (CIDRs) the nodes are on. A V(layer2) pool entry must lie inside one of them and
        must not include its network or broadcast address.
      - An interface address with its prefix (V(198.51.100.11/24)) is accepted and means its network.
      - When omitted, these checks are skipped.
    type: list
    elements: str
  reserved:
    description:
      - Ranges no pool may touch, such as the service CIDR, the pod CIDR, gateways and router addresses.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: What the range is, for messages.
        type: str
        required: true
      cidr:
        description: The range, as a CIDR, a range or a single address.
        type: str
        required: true
  cluster_pools:
    description:
      - The IPAddressPool objects the cluster holds (in MetalLB's namespace), as M(kubernetes.core.k8s_info) or
        M(baremetal.metallb.k8s_batch_info) return them.
      - A pool labelled C(app.kubernetes.io/managed-by=baremetal.metallb) and C(baremetal.metallb/config-instance=)O(instance)
        and named as one of O(pools) is updated in place by the apply, and skipped. No pool may overlap any other
        (C(overlaps_cluster_pool)). Those of anyone else (by hand, a Helm chart, another instance) stay, and this instance's
        pools no longer wanted are removed only after the apply; MetalLB's webhook refuses an overlap with either.
      - When omitted (and O(read_cluster) is not given), the cluster's pools are not checked (RV(foreign_pools) is null).
    type: list
    elements: dict
  read_cluster:
    description:
      - Read O(cluster_pools) from the cluster first (a LIST of IPAddressPools in O(read_cluster.namespace)), on the
        controller. A cluster without MetalLB's CRDs holds no pools.
      - A cluster that cannot be read (unreachable, no kubeconfig, no C(kubernetes) library) is a warning naming the
        reason, and the cluster's pools are not checked (RV(foreign_pools) is null); every other check runs.
      - Ignored when O(cluster_pools) is given.
    type: dict
    suboptions:
      kubeconfig:
        description:
          - Path of the kubeconfig (or its content as a dict); when empty, C($KUBECONFIG), C(~/.kube/config), then the
            in-cluster service account.
        type: raw
      context:
        description: The kubeconfig's context; its current context when empty.
        type: str
      namespace:
        description: MetalLB's namespace.
        type: str
        default: metallb-system
  instance:
    description:
      - The C(metallb_config) instance whose pools O(pools) become (the C(baremetal.metallb/config-instance) label).
    type: str
    default: default
notes:
  - "Error codes: V(missing_name), V(invalid_name), V(duplicate_name), V(empty_pool), V(invalid_syntax), V(reversed_range),
    V(mixed_family), V(host_bits_set), V(missing_prefix), V(ipv4_mapped), V(overlap), V(overlaps_node), V(overlaps_reserved), V(overlaps_cluster_pool),
    V(outside_l2_network), V(includes_network_or_broadcast)."
  - "An IPv4-mapped IPv6 address (V(::ffff:192.0.2.1)) is refused: MetalLB (Go) reads it as IPv4, Python as IPv6."
  - Touching ranges (one ends right before the other starts) do not overlap.
seealso:
  - name: MetalLB IPAddressPool
    description: The object these pools become.
    link: https://metallb.io/configuration/
"""

EXAMPLES = r"""
- name: Validate the pools before anything is applied
  baremetal.metallb.pool_validate:
    pools:
      - name: lan-vips
        protocol: layer2
        addresses:
          - 198.51.100.200-198.51.100.230
      - name: production-pool
        protocol: bgp
        addresses:
          - 203.0.113.0/26
          - 2001:db8:203::/120
    node_addresses: "{{ groups['k8s_nodes'] | map('extract', hostvars, 'ansible_host') | list }}"
    l2_networks:
      - 198.51.100.0/24
    reserved:
      - name: service CIDR
        cidr: 198.18.128.0/17
      - name: router
        cidr: 198.51.100.1
  register: validated

- name: Also against the pools the cluster already holds (made by hand, by a chart, by another instance)
  baremetal.metallb.pool_validate:
    pools:
      - name: production-pool
        protocol: bgp
        addresses:
          - 203.0.113.0/26
          - 203.0.113.70/32
    read_cluster:
      kubeconfig: ~/.kube/config
    instance: default

- name: Use the normalized CIDRs, e.g. for a router prefix list
  ansible.builtin.debug:
    msg: "{{ validated.pools | map(attribute='cidrs') | flatten }}"
"""

RETURN = r"""
pools:
  description: Every pool, normalized. Also returned when validation fails (for the entries that parsed).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The pool's name.
      type: str
      sample: production-pool
    protocol:
      description: V(layer2) or V(bgp).
      type: str
      sample: bgp
    auto_assign:
      description: As given.
      type: bool
      sample: true
    avoid_buggy_ips:
      description: As given.
      type: bool
      sample: false
    addresses:
      description: The entries as given, without surrounding spaces.
      type: list
      elements: str
      sample: ["203.0.113.0/26"]
    cidrs:
      description: The minimal list of CIDRs covering exactly the pool's addresses.
      type: list
      elements: str
      sample: ["203.0.113.0/26", "2001:db8:203::/120"]
    ranges:
      description: The pool's addresses as merged C(first-last) runs.
      type: list
      elements: str
      sample: ["203.0.113.0-203.0.113.63"]
    ipv4_count:
      description: Number of IPv4 addresses in the pool.
      type: int
      sample: 64
    ipv6_count:
      description: Number of IPv6 addresses in the pool, as a decimal string (it can exceed 2^64).
      type: str
      sample: "256"
total_ipv4:
  description: IPv4 addresses over all pools.
  returned: always
  type: int
  sample: 95
total_ipv6:
  description: IPv6 addresses over all pools, as a decimal string.
  returned: always
  type: str
  sample: "256"
foreign_pools:
  description: Names of the cluster's pools not managed by O(instance), which the pools were checked against; null without O(cluster_pools).
  returned: always
  type: list
  elements: str
  sample: [hand-made-pool]
errors:
  description: Every problem found; empty when the pools are valid.
  returned: always
  type: list
  elements: dict
  contains:
    pool:
      description: The pool's name (null for an unnamed pool or a problem in another option).
      type: str
    entry:
      description: The entry concerned, as written.
      type: str
    code:
      description: A stable code for the problem (see notes).
      type: str
      sample: overlap
    message:
      description: A sentence naming the pool, the entry and the fix.
      type: str
  sample:
    - pool: b
      entry: 192.0.2.8-192.0.2.20
      code: overlap
      message: >-
        pools 'a' (entry '192.0.2.0/28') and 'b' (entry '192.0.2.8-192.0.2.20') overlap on
        192.0.2.8-192.0.2.15 (8 address(es)); an address can belong to one pool only: shrink one of the entries
      other_pool: a
      other_entry: 192.0.2.0/28
      overlap: 192.0.2.8-192.0.2.15
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.argspec import POOL_VALIDATE_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.spans import HAS_NETADDR
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.cluster import validate


def main() -> None:
    # The action plugin of the same name normally runs this on the controller;
    # main() serves `ansible -m` style use and hosts where the plugin is bypassed.
    module = AnsibleModule(argument_spec=POOL_VALIDATE_ARGSPEC, supports_check_mode=True)
    if not HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"))
    result = validate(module.params)
    for warning in result.warnings:
        module.warn(warning)
    if result.failed:
        module.fail_json(**result.as_result())
    module.exit_json(**result.as_result())


if __name__ == "__main__":
    main()
