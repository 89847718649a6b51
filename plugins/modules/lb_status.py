#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lb_status
short_description: Report which nodes should announce each MetalLB LoadBalancer Service
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Reads, with one LIST per kind, the LoadBalancer Services, their EndpointSlices, the Nodes, MetalLB's pods and
    MetalLB's IPAddressPools, L2Advertisements, BGPAdvertisements, BGPPeers, ServiceL2Statuses and ServiceBGPStatuses, and the
    speakers' C(nodeAssigned) Events on the Services (the record of where each was announced before).
  - For each Service it reports the addresses assigned and the pools they come from, the modes it is announced in,
    the nodes that advertise it and, under C(externalTrafficPolicy=Local), only those with a ready endpoint;
    in layer 2 mode the leader MetalLB elected and whether that node has a ready endpoint; in BGP mode the
    next hops the upstream router should have.
  - From those Events it reports what MetalLB last did to each announcement (C(last_change)) - the layer 2 leader
    C(moved) to another node, BGP nodes C(withdrawn), or the announcement C(stopped) - so a check after a drain or a
    scale-down says what happened, not only what is.
  - Each problem found is a finding with a rule id, a reason and a fix (no address, an address from another pool
    than the annotation asks for, no announcing node, a Local leader without a pod, Local in layer 2 mode with
    advertising nodes that have no pod and so cannot take over, no advertisement).
  - Needs C(get) and C(list) on those kinds and C(list) on C(events) in the Services' namespaces.
  - This is what MetalLB should be doing according to the API server. Check it against the wire with
    M(baremetal.metallb.leader_verify) and M(baremetal.metallb.bgp_verify), as the collection's C(verify.yml) does.
  - Read-only; never changed.
options:
  label_selector:
    description:
      - Only Services with these labels. The default selects the Services the collection's C(lb_workload) role manages.
      - An empty string selects every LoadBalancer Service.
    type: str
    default: app.kubernetes.io/managed-by=baremetal.metallb
  namespaces:
    description:
      - Only Services in these namespaces; all namespaces when empty.
    type: list
    elements: str
    default: []
  metallb_namespace:
    description:
      - The namespace of MetalLB's objects and pods.
    type: str
    default: metallb-system
  fail_on:
    description:
      - Fail when a finding has one of these severities.
    type: list
    elements: str
    choices: [error, warning]
    default: []
extends_documentation_fragment:
  # first: of two fragments defining an attribute, the earlier one wins
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
attributes:
  check_mode:
    support: full
    details: Read-only; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: What should announce the collection's Services
  baremetal.metallb.lb_status:
    kubeconfig: "{{ lab_kubeconfig }}"
  register: status

- name: The router must route each BGP VIP via exactly the expected nodes
  baremetal.metallb.bgp_verify:
    prefixes: "{{ dict(item.ingress_ips | product([item.bgp.next_hops]) | list) }}"
    timeout: 30
  loop: "{{ status.services | selectattr('bgp') | list }}"
  delegate_to: router

- name: Every Service in namespace shop, failing on any error finding
  baremetal.metallb.lb_status:
    label_selector: ""
    namespaces: [shop]
    fail_on: [error]
"""

RETURN = r"""
services:
  description: One entry per LoadBalancer Service, sorted by namespace and name.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The Service's name.
      type: str
    namespace:
      description: The Service's namespace.
      type: str
    ingress_ips:
      description: The addresses MetalLB assigned (C(status.loadBalancer.ingress)).
      type: list
      elements: str
    expected_pool:
      description: The pool the C(metallb.io/address-pool) annotation asks for, or null.
      type: str
    pools:
      description: Each assigned address to the IPAddressPool holding it (null when none does).
      type: dict
    address_from_expected_pool:
      description: Whether every address comes from RV(services[].expected_pool); null when there is nothing to compare.
      type: bool
    external_traffic_policy:
      description: C(Cluster) or C(Local).
      type: str
    session_affinity:
      description: C(None) or C(ClientIP).
      type: str
    source_ip:
      description: What the pods see as the client's address under this policy.
      type: str
    ports:
      description: The Service's ports, each with C(name), C(port) and C(protocol).
      type: list
      elements: dict
    endpoint_nodes:
      description: Node name to the number of endpoints on it that can serve.
      type: dict
    modes:
      description: The modes (C(layer2), C(bgp)) the Service's pool is advertised in.
      type: list
      elements: str
    layer2:
      description:
        - Null unless announced in layer 2 mode. C(advertisements), C(advertising_nodes), C(candidate_nodes) (the nodes
          that can win the election; with Local only those with a ready endpoint), C(leader) (from ServiceL2Status, null
          when MetalLB records none or several), C(leader_has_endpoint) and C(expected_leader) (the node MetalLB's
          election picks among the candidates, the lowest sha256 of node name and first address; null when none).
        - C(not_announcing) maps every other node to why it does not announce (C(not_selected), C(no_speaker),
          C(network_unavailable), C(excluded_label), C(no_endpoints), C(no_local_endpoint)).
        - C(waiting_for_pod) (Local only) lists the advertising nodes without a ready endpoint, which stay out of the
          election until one is ready there.
        - C(announced_by_history) lists C(node), C(last_seen) and C(count) of each nodeAssigned Event, oldest first;
          C(last_change) is null or C(event) (C(moved) or C(stopped)), C(from) (of the nodes that no longer announce,
          the one that started last), C(previously) (all of them, newest first), C(to) (the nodes announcing now) and
          C(at) (when, from the Events; one-second resolution). Events record starts, not stops; after a partition,
          C(from) may be the node that announced briefly on the other side, so look at C(previously) too.
      type: dict
    bgp:
      description:
        - Null unless announced in BGP mode. C(advertisements), C(advertising_nodes), C(candidate_nodes) (the nodes that
          advertise the route; a node needs a BGPPeer paired through the advertisement's C(peers), no NetworkUnavailable,
          no exclusion label unless its speaker runs with C(--ignore-exclude-lb), and the Service a ready endpoint) and
          C(next_hops) (per node its first address of the Service's address family, the route the router should install).
        - C(not_announcing) as for C(layer2), plus C(no_peer).
        - C(waiting_for_pod) (Local only) lists the advertising nodes that withdraw the route because no endpoint on them
          is ready; C(announced_by_history) and C(last_change) as for C(layer2), with C(event) C(withdrawn) or
          C(stopped).
        - C(announced_by) is what the speakers themselves report in their C(ServiceBGPStatus) objects (MetalLB v0.15+), each
          node that advertises the Service with the names of the BGPPeers it advertises it to; null when MetalLB has no
          such kind. C(verify.yml) compares it with the router's next hops and names every difference with its cause.
      type: dict
    findings:
      description: Problems found, each with C(rule), C(severity), C(message) and C(fix).
      type: list
      elements: dict
summary:
  description: One line per Service.
  returned: always
  type: list
  elements: str
  sample: ["demo/web-local 198.51.100.210 layer2 leader node2 (Local, 3 endpoint node(s)): ok"]
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.snapshot import read_snapshot
from ansible_collections.baremetal.metallb.plugins.module_utils.status.bgp_status import attach as attach_bgp_status
from ansible_collections.baremetal.metallb.plugins.module_utils.status.services import ServiceReport, summary_line


def main() -> None:
    module = K8sModule(
        argument_spec=dict(
            label_selector=dict(type="str", default="app.kubernetes.io/managed-by=baremetal.metallb"),
            namespaces=dict(type="list", elements="str", default=[]),
            metallb_namespace=dict(type="str", default="metallb-system"),
            fail_on=dict(type="list", elements="str", choices=["error", "warning"], default=[]),
        ),
        supports_check_mode=True,
    )
    params = module.params
    with module.api_errors():
        snapshot = read_snapshot(module.client(), params["metallb_namespace"], params["label_selector"] or None, params["namespaces"])
    services = ServiceReport(snapshot).run()
    attach_bgp_status(services, snapshot.get("bgp_statuses"))
    result = {"changed": False, "services": services, "summary": [summary_line(s) for s in services]}
    fatal = [f"{s['namespace']}/{s['name']}: {f['message']}" for s in services for f in s["findings"]
             if f["severity"] in params["fail_on"]]
    if fatal:
        module.fail_json(msg=f"{len(fatal)} finding(s): " + "; ".join(fatal), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
