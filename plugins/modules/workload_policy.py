#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: workload_policy
short_description: Check LoadBalancer workloads against MetalLB's traffic-policy rules
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Checks workloads (a Deployment plus a LoadBalancer Service each) before they are rendered or applied.
  - First the input, as the API server and MetalLB would check it, every problem at once and each naming the
    variable (C(workloads[1].ports[0].port)) and the fix. Names and label keys follow the Kubernetes rules,
    ports are 1 to 65535, replicas 0 or more, workload names unique per namespace, requested addresses inside
    the chosen pool and one per family, Services sharing an address have equal sharing keys and distinct ports,
    a BGP peer has a password or a password secret, not both. Any input problem fails the task.
  - Then the policy rules, which report findings with a stable rule id, a severity, a one-sentence reason and a
    one-sentence fix. See the notes for the rules.
  - The announcement mode of a workload (layer2 or bgp) comes from its O(workloads[].mode), else its pool's
    protocol (O(workloads[].address_pool), or the pool holding its requested address), else the advertisements
    that select the pool, else O(mode), else the auto-assign pools when they all agree.
  - What is known about the cluster (O(cluster) as stated facts, O(cluster_objects) as API objects read by
    C(kubernetes.core.k8s_info)) sharpens the rules. A rule that needs a fact nobody gave is not guessed at;
    it is reported as a V(context_missing) info finding naming the fact.
  - Findings whose severity or rule id is in O(fail_on) fail the task. The module never changes anything.
  - Runs on the controller (an action plugin); no connection to the target host is made.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.controller_check
  - baremetal.metallb.pools
options:
  workloads:
    description:
      - The workloads, each a Deployment and a LoadBalancer Service of the same name.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the Deployment and the Service, a DNS-1035 label (lower-case letters, digits and V(-), starting with a letter).
          - Unique per namespace.
        type: str
        required: true
      namespace:
        description: Namespace of both objects.
        type: str
        default: default
      image:
        description: Container image.
        type: str
        required: true
      replicas:
        description: Number of pods, 0 or more.
        type: int
        default: 2
      args:
        description: Container arguments.
        type: list
        elements: str
        default: []
      env:
        description: Environment variables of the container, name to value.
        type: dict
        default: {}
      resources:
        description: Container resources.
        type: dict
        suboptions:
          requests:
            description: Requests, such as C(cpu) and C(memory), as Kubernetes quantities.
            type: dict
            default: {}
          limits:
            description: Limits, as Kubernetes quantities.
            type: dict
            default: {}
      ports:
        description: The Service ports; at least one. With several ports, every port needs a name.
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description: Port name, an IANA service name (at most 15 lower-case letters, digits and V(-)); also the container port's name.
            type: str
          port:
            description: The Service port, 1 to 65535.
            type: int
            required: true
          target_port:
            description: The container port, 1 to 65535; defaults to O(workloads[].ports[].port).
            type: int
          protocol:
            description: The port's protocol.
            type: str
            choices: [TCP, UDP, SCTP]
            default: TCP
      readiness_probe:
        description:
          - A readiness probe; MetalLB only announces from nodes with a ready pod when the policy is V(Local).
          - An HTTP GET of O(workloads[].readiness_probe.path) when a path is given, a TCP connect otherwise.
        type: dict
        suboptions:
          port:
            description: The container port probed.
            type: int
            required: true
          path:
            description: The HTTP path, starting with V(/).
            type: str
      external_traffic_policy:
        description:
          - The Service's C(externalTrafficPolicy).
          - V(Cluster) spreads traffic over every pod but hides the client address (source NAT).
          - V(Local) keeps the client address but only nodes running a ready pod receive traffic.
        type: str
        choices: [Cluster, Local]
        default: Cluster
      session_affinity:
        description: The Service's C(sessionAffinity).
        type: str
        choices: ["None", ClientIP]
        default: "None"
      session_affinity_timeout:
        description: Seconds a client stays with one pod when O(workloads[].session_affinity=ClientIP), 1 to 86400.
        type: int
        default: 10800
      mode:
        description: How the workload's address is announced, when its pool does not say.
        type: str
        choices: [layer2, bgp]
      address_pool:
        description: The MetalLB pool to take the address from (annotation C(metallb.io/address-pool)).
        type: str
      load_balancer_ips:
        description:
          - Addresses to request, at most one IPv4 and one IPv6 (annotation C(metallb.io/loadBalancerIPs)).
          - When O(pools) are given, each must be inside the workload's pool, or inside some pool.
        type: list
        elements: str
        default: []
      allow_shared_ip:
        description:
          - Sharing key (annotation C(metallb.io/allow-shared-ip)). Services that request the same address need the same key,
            distinct ports and, with V(Local), the same pods.
        type: str
      ip_families:
        description: The Service's C(ipFamilies); two families make it dual-stack (C(RequireDualStack)).
        type: list
        elements: str
        choices: [IPv4, IPv6]
      ip_family_policy:
        description:
          - The Service's C(ipFamilyPolicy); unset, two O(workloads[].ip_families) make it V(RequireDualStack) and one
            V(SingleStack) (without either, the cluster's default). V(SingleStack) with two families is refused.
        type: str
        choices: [SingleStack, PreferDualStack, RequireDualStack]
      topology_spread:
        description: Spread the pods over the nodes (C(maxSkew) 1 on C(kubernetes.io/hostname)).
        type: bool
        default: true
      when_unsatisfiable:
        description: What the scheduler does when the spread cannot be kept.
        type: str
        choices: [DoNotSchedule, ScheduleAnyway]
        default: DoNotSchedule
      node_selector:
        description: The pods' C(nodeSelector), for example the edge-node label the advertisements select.
        type: dict
        default: {}
      node_affinity:
        description: Required node affinity of the pods, all terms must hold.
        type: list
        elements: dict
        default: []
        suboptions:
          key:
            description: Node label key.
            type: str
            required: true
          operator:
            description: How the label is compared.
            type: str
            choices: [In, NotIn, Exists, DoesNotExist]
            default: In
          values:
            description: Values for V(In) and V(NotIn); none for V(Exists) and V(DoesNotExist).
            type: list
            elements: str
            default: []
      labels:
        description: Extra labels on the Deployment and the Service.
        type: dict
        default: {}
      pod_labels:
        description: Extra labels on the pods, added to O(pod_labels).
        type: dict
        default: {}
      pod_annotations:
        description: Extra annotations on the pods, added to O(pod_annotations).
        type: dict
        default: {}
      service_annotations:
        description: Extra annotations on the Service; the MetalLB annotations come from their own options.
        type: dict
        default: {}
      client_ip_uses:
        description: What the workload needs the client address for; with V(Cluster) these get the node's address instead.
        type: list
        elements: str
        choices: [rate_limiting, audit, logging, access_control, geolocation]
        default: []
      long_sessions:
        description:
          - Whether clients hold long-lived sessions, which an ECMP rehash in BGP mode resets.
          - When not set, BGP workloads without session affinity get an info finding asking.
        type: bool
  pools:
    description:
      - The MetalLB pools, in the shape of P(baremetal.metallb.pool_validate#module)'s O(baremetal.metallb.pool_validate#module:pools).
      - Used to find a workload's mode and to check requested addresses; run P(baremetal.metallb.pool_validate#module) for the full pool checks.
    type: list
    elements: dict
    default: []
  mode:
    description: The announcement mode of workloads whose pool and own O(workloads[].mode) do not say.
    type: str
    choices: [layer2, bgp]
  cluster:
    description:
      - Facts about the cluster, as far as they are known. Leave out what is not known (it is then reported as
        V(context_missing)); an empty list means there are none.
      - Each key given here replaces the same facts read from O(cluster_objects).
    type: dict
    suboptions:
      nodes:
        description: The nodes.
        type: list
        elements: dict
        suboptions:
          name:
            description: Node name.
            type: str
            required: true
          labels:
            description: Node labels.
            type: dict
            default: {}
          addresses:
            description: Node addresses with their prefix length (V(198.51.100.11/24)), for the BGP peer subnet check.
            type: list
            elements: str
            default: []
          speaker:
            description: Whether a MetalLB speaker runs on the node.
            type: bool
            default: true
          schedulable:
            description: Whether the workloads' pods can run there (not cordoned, no C(NoSchedule) taint).
            type: bool
            default: true
          network_unavailable:
            description: Whether the node's C(NetworkUnavailable) condition is true; MetalLB does not announce from it.
            type: bool
            default: false
      node_subnets:
        description: The subnets the nodes are on, when O(cluster.nodes[].addresses) do not carry prefixes.
        type: list
        elements: str
      l2_advertisements:
        description: The L2Advertisements.
        type: list
        elements: dict
        # the fields both kinds of advertisement have (_ADVERTISEMENT_OPTIONS in the argument spec)
        suboptions: &advertisement
          name:
            description: Name, for messages.
            type: str
          ip_address_pools:
            description: C(ipAddressPools); empty (with no pool selectors) means every pool.
            type: list
            elements: str
            default: []
          ip_address_pool_selectors:
            description: C(ipAddressPoolSelectors), Kubernetes LabelSelectors on the pools' labels.
            type: list
            elements: dict
            default: []
          node_selectors:
            description: C(nodeSelectors), Kubernetes LabelSelectors (C(matchLabels), C(matchExpressions)); empty means every node.
            type: list
            elements: dict
            default: []
      bgp_advertisements:
        description: The BGPAdvertisements.
        type: list
        elements: dict
        suboptions:
          <<: *advertisement
          peers:
            description: C(peers), the BGPPeer names advertised to; empty means every peer.
            type: list
            elements: str
            default: []
      bgp_peers:
        description: The BGPPeers.
        type: list
        elements: dict
        suboptions:
          name:
            description: Name.
            type: str
            required: true
          address:
            description: C(peerAddress).
            type: str
          interface:
            description: C(interface), for unnumbered BGP; the session is then on-link.
            type: str
          my_asn:
            description: C(myASN).
            type: int
          peer_asn:
            description: C(peerASN). With O(cluster.bgp_peers[].my_asn) equal, the session is iBGP and needs no multihop.
            type: int
          ebgp_multihop:
            description: C(ebgpMultiHop).
            type: bool
            default: false
          node_selectors:
            description: C(nodeSelectors), the nodes that peer; empty means every node.
            type: list
            elements: dict
            default: []
          password:
            description: C(password); only checked for being set together with O(cluster.bgp_peers[].password_secret). Never logged.
            type: str
          password_secret:
            description: C(passwordSecret), the name of the Secret holding the password.
            type: str
      kube_proxy:
        description: How kube-proxy runs.
        type: dict
        suboptions:
          mode:
            description: kube-proxy's mode.
            type: str
            choices: [iptables, ipvs, nftables]
          strict_arp:
            description: kube-proxy's C(ipvs.strictARP).
            type: bool
            default: false
      speaker_ignore_exclude_lb:
        description: Whether the speakers run with C(--ignore-exclude-lb).
        type: bool
        default: false
  cluster_objects:
    description:
      - API objects as read with C(kubernetes.core.k8s_info) (the C(resources) lists), converted into the same facts as O(cluster).
      - Leave a kind out (or null) when it was not read; an empty list means there are none.
    type: dict
    suboptions:
      nodes:
        description: Node objects.
        type: list
        elements: dict
      l2_advertisements:
        description: L2Advertisement objects.
        type: list
        elements: dict
      bgp_advertisements:
        description: BGPAdvertisement objects.
        type: list
        elements: dict
      bgp_peers:
        description: BGPPeer objects.
        type: list
        elements: dict
      ip_address_pools:
        description: IPAddressPool objects; used when O(pools) is empty.
        type: list
        elements: dict
      speaker_pods:
        description:
          - Pods of the MetalLB namespace; those labelled C(component=speaker) or C(app.kubernetes.io/component=speaker)
            are the speakers, and a node runs a speaker when a running speaker pod is on it.
        type: list
        elements: dict
      endpoint_slices:
        description: EndpointSlice objects; where the workloads' ready pods actually run.
        type: list
        elements: dict
      kube_proxy_config:
        description: The parsed C(config.conf) of the ConfigMap C(kube-system/kube-proxy).
        type: dict
  pod_labels:
    description: Labels added to the pods of every workload, for example to opt them into a data path.
    type: dict
    default: {}
  pod_annotations:
    description: Annotations added to the pods of every workload.
    type: dict
    default: {}
  fail_on:
    description:
      - Severities (V(error), V(warning), V(info)) and rule ids whose findings fail the task.
      - An empty list never fails on findings; input problems always fail.
    type: list
    elements: str
    default: [error]
notes:
  - "Rules: V(l2_local_no_spread), V(l2_local_fewer_replicas_than_nodes), V(bgp_local_not_on_every_advertising_node),
    V(ecmp_rehash_without_affinity), V(cluster_hides_client_ip), V(local_backends_outside_advertising_nodes),
    V(pool_not_advertised), V(zero_replicas), V(no_announcing_node), V(node_excluded_from_lb), V(ipvs_without_strict_arp),
    V(bgp_peer_needs_multihop), V(mode_unknown), V(context_missing), V(pool_lacks_ip_family), V(l2_ipv6_pool_outside_node_segment).
    The collection's C(docs/lb_workload.md) explains each."
  - The pods carry no tolerations, so a node with a C(NoSchedule) or C(NoExecute) taint read from the cluster counts as not schedulable.
seealso:
  - module: baremetal.metallb.pool_validate
  - name: MetalLB traffic policies
    description: How MetalLB announces Services with each external traffic policy.
    link: https://metallb.io/usage/#traffic-policies
"""

EXAMPLES = r"""
- name: Check the workloads before rendering them
  baremetal.metallb.workload_policy:
    workloads:
      - name: api-gateway
        namespace: edge
        image: registry.example/gateway:2.4
        replicas: 3
        ports:
          - {name: https, port: 443, target_port: 8443}
        external_traffic_policy: Local
        address_pool: lan-vips
        load_balancer_ips: [198.51.100.210]
        node_selector: {node-role: edge}
        client_ip_uses: [rate_limiting]
    pools:
      - name: lan-vips
        protocol: layer2
        addresses: [198.51.100.200-198.51.100.230]
    cluster:
      nodes:
        - {name: node1, labels: {node-role: edge}}
        - {name: node2, labels: {node-role: edge}}
        - {name: node3}
      l2_advertisements:
        - name: edge
          ip_address_pools: [lan-vips]
          node_selectors: [{matchLabels: {node-role: edge}}]
      kube_proxy: {mode: iptables}
    fail_on: [error, warning]
  register: policy

- name: Show every finding
  ansible.builtin.debug:
    msg: "[{{ item.severity }}] {{ item.rule }}: {{ item.reason }} Fix: {{ item.fix }}"
  loop: "{{ policy.findings }}"
  loop_control:
    label: "{{ item.workload or item.object }}"
"""

RETURN = r"""
findings:
  description: Every finding, workloads first (in input order), then cluster objects, then missing context. Empty when the input is invalid.
  returned: always
  type: list
  elements: dict
  contains:
    rule:
      description: The rule id (see notes).
      type: str
      sample: l2_local_fewer_replicas_than_nodes
    severity:
      description: V(error) (traffic does not reach the pods), V(warning) (degraded or fragile) or V(info).
      type: str
      sample: warning
    workload:
      description: The workload as C(namespace/name), or null for a finding about a cluster object.
      type: str
      sample: edge/api-gateway
    object:
      description: The cluster object (C(node/<name>), C(bgppeer/<name>), C(kube-proxy)) or missing fact (C(cluster.nodes)), or null.
      type: str
    nodes:
      description: The nodes the finding is about, if any.
      type: list
      elements: str
      sample: [node3]
    reason:
      description: One sentence saying why this is a problem.
      type: str
    fix:
      description: One sentence saying what to change.
      type: str
fatal:
  description: The findings that match O(fail_on).
  returned: always
  type: list
  elements: dict
counts:
  description: Number of findings per severity.
  returned: always
  type: dict
  sample: {error: 0, warning: 1, info: 2}
errors:
  description: Every problem in the input; the task fails when there is any.
  returned: always
  type: list
  elements: dict
  contains:
    variable:
      description: Where the problem is, as a path into the options.
      type: str
      sample: workloads[1].ports[0].port
    workload:
      description: The workload as C(namespace/name), when the problem is in one.
      type: str
    code:
      description: A stable code for the problem.
      type: str
      sample: invalid_port
    message:
      description: A sentence that starts with the variable and ends with the fix.
      type: str
      sample: "workloads[1].ports[0].port (edge/api) is 70000: a port must be between 1 and 65535"
workloads:
  description:
    - The workloads with every default filled in, O(pod_labels) and O(pod_annotations) merged and C(target_port) set;
      the input of the P(baremetal.metallb.workload_manifests#filter) filter.
  returned: always
  type: list
  elements: dict
resolved:
  description: For each workload, the pool and the announcement modes the rules used.
  returned: always
  type: list
  elements: dict
  sample: [{workload: edge/api-gateway, pool: lan-vips, modes: [layer2]}]
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.argspec import WORKLOAD_POLICY_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workload_policy import WorkloadPolicy


def main() -> None:
    # The action plugin of the same name normally runs this on the controller;
    # main() serves `ansible -m` style use and hosts where the plugin is bypassed.
    module = AnsibleModule(argument_spec=WORKLOAD_POLICY_ARGSPEC, supports_check_mode=True)
    result = WorkloadPolicy(**module.params).run()
    if result.failed:
        module.fail_json(**result.as_result())
    module.exit_json(**result.as_result())


if __name__ == "__main__":
    main()
