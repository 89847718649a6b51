#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: metallb_config_objects
short_description: Build MetalLB configuration objects from plain variables, checking every field
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Turns lists of pools, L2 and BGP advertisements, BGP peers, BFD profiles and communities (snake_case keys) into
    MetalLB v0.16 objects (C(metallb.io/v1beta1), BGPPeer C(metallb.io/v1beta2), camelCase fields), ready for one
    C(kubernetes.core.k8s) server-side apply. The mapping of keys to fields is in the collection's C(docs/metallb_config.md).
  - Checks every field as MetalLB and Kubernetes would (names, label keys and values, selectors, ASNs, ports, timers,
    addresses, communities, BFD ranges, duplicate names per kind, BGP mode restrictions) and reports every problem at once,
    each prefixed with its variable path (O(variable_prefix) + C(bgp_peers[1].peer_asn)).
  - The pools' addresses get the checks of M(baremetal.metallb.pool_validate) (MetalLB's grammar, a CIDR with its prefix
    length or a range C(first-last); overlaps; O(pool_node_addresses); O(pool_reserved)) and are applied exactly as
    written. An address without a prefix length is refused with the fix (V(203.0.113.6) becomes V(203.0.113.6/32)), as
    MetalLB refuses it.
  - Without O(cluster), references to objects not in the input are returned in RV(unresolved). With O(cluster) (what the
    namespace holds), they must exist there, an object of the same name that this instance does not own is an error, and the
    owned objects no longer wanted are returned in RV(prune). A pool overlapping an IPAddressPool of O(cluster) that this
    instance does not own is an error naming that pool and the overlapping addresses (MetalLB's webhook would refuse it).
  - A peer's C(password) becomes a C(kubernetes.io/basic-auth) Secret C(<peer>-bgp-password) referenced by C(passwordSecret).
    The Secret (with the password) is returned only with O(output=secrets), which returns nothing else; run that task with C(no_log).
  - Runs on the controller (an action plugin); no connection to the target host is made.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.controller_check
requirements:
  - netaddr >= 1.3 (on the controller), for the pools' addresses
options:
  namespace:
    description: Namespace of every object.
    type: str
    default: metallb-system
  instance:
    description: Value of the ownership label C(baremetal.metallb/config-instance).
    type: str
    default: default
  bgp_mode:
    description: MetalLB's BGP implementation; V(native) refuses FRR-only settings, which are reported before any apply.
    type: str
    choices: [native, frr, frr-k8s]
    default: native
  variable_prefix:
    description: Put before every variable path in messages, for example V(metallb_config_).
    type: str
    default: ""
  pools:
    description: IPAddressPools (name, addresses, auto_assign, avoid_buggy_ips, service_allocation, labels).
    type: list
    elements: dict
    default: []
  l2_advertisements:
    description: L2Advertisements (name, ip_address_pools, ip_address_pool_selectors, node_selectors, interfaces, labels).
    type: list
    elements: dict
    default: []
  bgp_peers:
    description:
      - BGPPeers (name, my_asn, peer_asn, peer_address, source_address, peer_port, hold_time, keepalive_time, router_id,
        ebgp_multihop, bfd_profile, password or password_secret, node_selectors, vrf, labels).
    type: list
    elements: dict
    default: []
  bgp_advertisements:
    description:
      - BGPAdvertisements (name, ip_address_pools, ip_address_pool_selectors, aggregation_length, aggregation_length_v6,
        local_pref, communities, peers, node_selectors, labels).
    type: list
    elements: dict
    default: []
  bfd_profiles:
    description:
      - BFDProfiles (name, receive_interval, transmit_interval, detect_multiplier, echo_interval, echo_mode, passive_mode,
        minimum_ttl, labels).
    type: list
    elements: dict
    default: []
  communities:
    description: Communities (name, communities as a list of name and value, labels).
    type: list
    elements: dict
    default: []
  cluster:
    description:
      - What the namespace holds, kind to list of objects as C(kubernetes.core.k8s_info) returns them (C(IPAddressPool),
        C(BGPPeer), ..., and C(Secret) with metadata and type only).
    type: dict
  pool_node_addresses:
    description: Node addresses; no pool may contain one (as O(baremetal.metallb.pool_validate#module:node_addresses)).
    type: list
    elements: str
    default: []
  pool_reserved:
    description: Ranges no pool may touch (as O(baremetal.metallb.pool_validate#module:reserved)).
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
  output:
    description: V(objects) returns the objects and findings; V(secrets) returns only the password Secrets.
    type: str
    choices: [objects, secrets]
    default: objects
"""

EXAMPLES = r"""
- name: Build the objects
  baremetal.metallb.metallb_config_objects:
    pools:
      - name: bgp-pool
        addresses: [203.0.113.0/28]
    bgp_peers:
      - name: router
        my_asn: 64500
        peer_asn: 64501
        peer_address: 198.51.100.1
    bgp_advertisements:
      - name: edge
        ip_address_pools: [bgp-pool]
        node_selectors:
          - match_labels:
              node-role.kubernetes.io/edge: ""
  register: built

- name: Apply them
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: baremetal.metallb
    definition: "{{ built.objects }}"
"""

RETURN = r"""
objects:
  description: The objects, referenced kinds first (BFDProfile, Community, IPAddressPool, BGPPeer, L2Advertisement, BGPAdvertisement).
  returned: with O(output=objects)
  type: list
  elements: dict
secret_names:
  description: Names of the password Secrets (without their contents).
  returned: with O(output=objects)
  type: list
  elements: str
prune:
  description: Objects of this instance the namespace holds that are no longer wanted (apiVersion, kind, name, namespace).
  returned: with O(output=objects)
  type: list
  elements: dict
object_names:
  description: C(Kind namespace/name) of each of RV(objects), in the same order.
  returned: with O(output=objects)
  type: list
  elements: str
  sample: ["IPAddressPool metallb-system/production-pool"]
secret_object_names:
  description: C(Secret namespace/name) of each password Secret, in the order of RV(secret_names).
  returned: with O(output=objects)
  type: list
  elements: str
prune_names:
  description: C(Kind namespace/name) of each of RV(prune), in the same order.
  returned: with O(output=objects)
  type: list
  elements: str
unresolved:
  description: References to objects not in the input, when O(cluster) was not given (path, kind, name).
  returned: with O(output=objects)
  type: list
  elements: dict
errors:
  description: Every problem, each a sentence starting with the variable path.
  returned: with O(output=objects)
  type: list
  elements: str
  sample: ["metallb_config_bgp_peers[1].peer_asn: 4294967296 is not a valid ASN (1-4294967295)"]
secrets:
  description: The password Secrets, with the base64-encoded passwords.
  returned: with O(output=secrets)
  type: list
  elements: dict
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.argspec import METALLB_CONFIG_OBJECTS_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder


def main() -> None:
    # The action plugin of the same name normally runs this on the controller.
    module = AnsibleModule(argument_spec=METALLB_CONFIG_OBJECTS_ARGSPEC, supports_check_mode=True)
    # The peers' passwords are inside a list of free-form dicts: mask them in anything the module returns.
    for peer in module.params["bgp_peers"]:
        if isinstance(peer, dict) and isinstance(peer.get("password"), str) and peer["password"]:
            module.no_log_values.add(peer["password"])
    params = dict(module.params)
    output = params.pop("output")
    params["prefix"] = params.pop("variable_prefix")
    result = ConfigBuilder(**params).run()
    for warning in result.warnings:
        module.warn(warning)
    if output == "secrets":
        if result.failed:
            module.fail_json(msg="metallb_config_objects: the input is invalid; run it with output=objects to see why")
        module.exit_json(changed=False, secrets=result.secrets)
    if result.failed:
        module.fail_json(**result.as_result())
    module.exit_json(**result.as_result())


if __name__ == "__main__":
    main()
