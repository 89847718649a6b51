# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: lb_verify_plan
short_description: What the lb_verify role checks on the wire, and from where
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the C(services) that P(baremetal.metallb.lb_status#module) returns and the inventory, and decides what the
    wire checks of the P(baremetal.metallb.lb_verify#role) role send to P(baremetal.metallb.leader_verify#module),
    P(baremetal.metallb.bgp_verify#module) and P(baremetal.metallb.lb_probe#module).
  - The layer 2 VIPs are the addresses of both families of the Services announced in layer 2 mode, each expected to be
    answered by the leader MetalLB recorded. P(baremetal.metallb.leader_verify#module) sends ARP requests for the IPv4
    ones and neighbor solicitations (NDP) for the IPv6 ones in one run, so a dual-stack Service is checked in both
    families. A leader whose MAC is not known is not passed on as expected.
  - The BGP VIPs map to the next hops MetalLB's view expects; the router's sessions with those next hops are checked too,
    so a missing next hop can be explained.
  - Every router is checked (O(router_hosts), or the C(routers) group), each against the next hops of the nodes it peers
    with, the group its C(bgp_router_neighbor_group) host variable names (as P(baremetal.metallb.bgp_router#role)
    configured it; every node when it has none). Per-rack peering (one router per rack) is verified router by router.
  - Node MACs come from O(node_macs), or each node's C(node_mac) (the lab's C(lab_mac)) host variable; node addresses
    from O(node_addresses), or each node's C(node_address), C(lab_address) or C(ansible_host) host variable, when that is
    an IP address, and its C(node_address6) (the lab's C(lab_address6)) for its IPv6 next hop.
  - Each BGP VIP expects the next hops of its own family (a dual-stack Service's IPv4 VIP the nodes' IPv4 addresses, its
    IPv6 VIP their IPv6 ones).
options:
  _input:
    description: The C(services) list of P(baremetal.metallb.lb_status#module).
    type: list
    elements: dict
    required: true
  hostvars:
    description: The C(hostvars) of the play, to read the nodes' host variables.
    type: dict
  groups:
    description: The C(groups) of the play.
    type: dict
  client_host:
    description: The host on the nodes' segment to probe from; empty for the first host of group C(clients).
    type: str
    default: ""
  router_hosts:
    description: The routers, each asked for its routes. Empty for every host of group C(routers).
    type: list
    elements: str
    default: []
  node_group:
    description: The inventory group of the Kubernetes nodes (inventory names are node names).
    type: str
    default: k8s_nodes
  node_macs:
    description: Node name to MAC address (or list of them); empty to read the host variables.
    type: dict
    default: {}
  node_addresses:
    description: Node name to address (or list of them) the router sees as its next hop; empty to read the host variables.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Work out what to check
  ansible.builtin.set_fact:
    plan: "{{ status.services | baremetal.metallb.lb_verify_plan(hostvars=hostvars, groups=groups) }}"

- name: Which node answers ARP (IPv4) or NDP (IPv6) for each layer 2 VIP
  baremetal.metallb.leader_verify:
    addresses: "{{ plan.l2_addresses }}"
    nodes: "{{ plan.node_macs }}"
    expected: "{{ plan.l2_expected }}"
  delegate_to: "{{ plan.client }}"
  become: true
  when: plan.check_arp
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    client:
      description: The host to run leader_verify and lb_probe on; empty when there is none.
      type: str
    router:
      description: The router to run bgp_verify on; empty when there is none.
      type: str
    node_macs:
      description: Node name to MAC address(es).
      type: dict
    node_addresses:
      description: Node name to address(es).
      type: dict
    l2_addresses:
      description: The VIPs announced in layer 2 mode, IPv4 (ARP) and IPv6 (NDP).
      type: list
      elements: str
    families:
      description: Every VIP to its family, V(IPv4) or V(IPv6); the report gives each family its own verdicts.
      type: dict
    l2_expected:
      description: VIP to the leader MetalLB recorded, for leaders with a known MAC.
      type: dict
    bgp_prefixes:
      description: VIP to the next hops the router should have for it.
      type: dict
    bgp_peers:
      description: Every expected next hop, whose BGP session with the router is checked.
      type: list
      elements: str
    routers:
      description:
        - Per router (every one, in order), what bgp_verify checks there. Empty when there is no BGP VIP.
      type: list
      elements: dict
      contains:
        host:
          description: The router's inventory host.
          type: str
        nodes:
          description: The nodes it peers with (its C(bgp_router_neighbor_group)); null when every node.
          type: list
          elements: str
        bgp_prefixes:
          description: VIP to the next hops this router should have for it (those of its nodes).
          type: dict
        bgp_peers:
          description: Those next hops, whose BGP sessions with this router are checked.
          type: list
          elements: str
    probe_targets:
      description: The targets for lb_probe, one per VIP and TCP port.
      type: list
      elements: dict
    check_arp:
      description: Whether leader_verify has VIPs (either family) to check and a client to run on.
      type: bool
    check_bgp:
      description: Whether bgp_verify has VIPs to check and a router to run on.
      type: bool
    check_datapath:
      description: Whether lb_probe has targets and a client to run on (when the data path is to be checked at all).
      type: bool
    notes:
      description: One sentence per check that cannot run, and why.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.status.plan import PlanError, verify_plan


def lb_verify_plan(services, hostvars=None, groups=None, client_host="", router_hosts=None, node_group="k8s_nodes",
                   node_macs=None, node_addresses=None):
    if not isinstance(services, list) or not all(isinstance(s, dict) and "ingress_ips" in s for s in services):
        raise AnsibleFilterError("lb_verify_plan: give the services list that baremetal.metallb.lb_status returns")
    try:
        return verify_plan(services, hostvars, groups, client_host, router_hosts, node_group, node_macs, node_addresses)
    except PlanError as exc:
        raise AnsibleFilterError(f"lb_verify_plan: {exc}") from None


class FilterModule:
    def filters(self):
        return {"lb_verify_plan": lb_verify_plan}
