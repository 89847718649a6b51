#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: metallb_preflight
short_description: Find what in a cluster conflicts with MetalLB, and what MetalLB would never announce
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - A cluster that cannot be read (unreachable, no kubeconfig, no C(kubernetes) library) gives one warning finding,
    C(cluster_unreadable), and no other check, as M(baremetal.metallb.pool_validate) treats the same case.
  - Reads, with one LIST per kind, the Nodes, the DaemonSets, kube-system's Pods and Deployments, the C(kubevip) and
    C(cilium-config) ConfigMaps, Cilium's and Calico's load-balancing and BGP objects (when their CRDs are installed) and
    MetalLB's pools, advertisements, peers and speaker pods, and reports each conflict as a finding with an C(id), a
    C(severity), a message and the fix.
  - C(k3s_servicelb) (error) - k3s servicelb's C(svclb-*) DaemonSets serve LoadBalancer Services;
    C(k3s_servicelb_enabled) (warning) - a k3s server's C(k3s.io/node-args) annotation has no C(--disable=servicelb).
  - C(kube_vip_services) (error) - kube-vip runs with C(svc_enable=true), or its control-plane address is in a MetalLB pool;
    C(kube_vip_cloud_provider) (error) - kube-vip-cloud-provider (its C(kubevip) ConfigMap or Deployment) hands out addresses.
  - C(cilium_lb_ipam) (error) - enabled CiliumLoadBalancerIPPools; C(cilium_l2_announcements) (error) - a
    CiliumL2AnnouncementPolicy with C(loadBalancerIPs) (warning when only C(enable-l2-announcements) is on);
    C(cilium_bgp_control_plane) (error) - a CiliumBGPPeeringPolicy or CiliumBGPClusterConfig peers with a router MetalLB
    peers with (warning for other peers, info when only C(enable-bgp-control-plane) is on).
  - C(calico_bgp_same_router) (error) - a Calico BGPPeer's C(peerIP) is a router MetalLB peers with;
    C(calico_advertises_pool) (warning) - a BGPConfiguration's C(serviceLoadBalancerIPs) holds a MetalLB pool.
  - C(excluded_node_selected) - a node an advertisement's C(nodeSelectors) select carries
    C(node.kubernetes.io/exclude-from-external-load-balancers) (warning), or no node is left to announce a pool (error);
    decided by the collection's announcer model, honouring C(--ignore-exclude-lb) on the speakers and O(ignore_exclude_lb).
  - C(pool_not_advertised) (error) - a pool no advertisement of its mode (C(protocol) in O(pools)) takes, or none at all;
    C(bgp_pool_no_peer) (error) - a pool advertised in BGP mode whose advertisements pair with no BGPPeer.
  - C(memberlist_blocked) - a node cannot reach another node's memberlist port (7946 unless the speakers say otherwise)
    over TCP or UDP, from O(memberlist_probes) (error when a layer 2 advertisement or pool exists, since both speakers then
    answer ARP for the same VIPs; warning otherwise); C(memberlist_not_answering) (warning) - a speaker runs on a node
    but its port refuses, or answers with something that is not memberlist's ack for the cluster's key.
  - MetalLB's objects are judged as they will be after the collection applies O(objects) (same kind and name replace the
    cluster's), so it runs before MetalLB is installed or configured.
  - An error finding is fatal with O(fail_on=[error]) unless its C(id) is in O(accept).
  - Read-only; never changed. Needs C(list) on those kinds (a kind it may not list is an error naming it).
options:
  objects:
    description:
      - The MetalLB objects the collection will apply (C(baremetal.metallb.metallb_config_objects)' C(objects)).
      - Given (even empty), MetalLB's kinds are judged as the cluster's plus these; omitted, as the cluster holds them.
    type: list
    elements: dict
  pools:
    description:
      - The pools as the collection's C(metallb_pools) states them; only C(name) and C(protocol) (C(layer2) or C(bgp)) are read,
        so a layer 2 pool without an L2Advertisement is an error even when a BGPAdvertisement takes it.
    type: list
    elements: dict
    default: []
  router_addresses:
    description:
      - Addresses of the routers MetalLB peers with, besides the C(peerAddress) of the BGPPeers (O(objects) and the cluster's).
    type: list
    elements: str
    default: []
  ignore_exclude_lb:
    description:
      - The speakers will run with C(--ignore-exclude-lb), so the exclusion label does not keep a node from announcing.
    type: bool
    default: false
  metallb_namespace:
    description:
      - The namespace of MetalLB's objects and pods.
    type: str
    default: metallb-system
  accept:
    description:
      - Finding ids the user accepts, reported with C(accepted=true) and never fatal. Unknown ids are refused before anything is read.
    type: list
    elements: str
    default: []
  memberlist_probes:
    description:
      - The results of M(baremetal.metallb.memberlist_probe) on the nodes (each with C(source) and C(results)). Given,
        the answers are judged (the UDP answers decrypted with the memberlist key, read again from the Secret the speakers
        mount, so this module needs C(get) on it) and the C(memberlist_*) findings added.
      - Omitted or empty, memberlist reachability is not checked.
    type: list
    elements: dict
    default: []
  fail_on:
    description:
      - Fail when a finding that is not accepted has one of these severities.
    type: list
    elements: str
    choices: [error, warning]
    default: []
extends_documentation_fragment:
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
- name: Preflights before installing MetalLB, fatal on errors except those accepted
  baremetal.metallb.metallb_preflight:
    kubeconfig: "{{ metallb_kubeconfig }}"
    pools: "{{ metallb_pools }}"
    router_addresses: ["{{ metallb_router_address }}"]
    accept: [k3s_servicelb_enabled]
    fail_on: [error]

- name: With the objects metallb_config will apply
  baremetal.metallb.metallb_preflight:
    objects: "{{ built.objects }}"
    pools: "{{ metallb_pools }}"
  register: preflight
"""

RETURN = r"""
findings:
  description: Every finding, errors first, each with C(id), C(severity) (C(error), C(warning), C(info)), C(message), C(fix),
    C(objects) (what it is about) and C(accepted).
  returned: always
  type: list
  elements: dict
  sample:
    - id: k3s_servicelb
      severity: error
      message: "k3s servicelb (klipper-lb) serves LoadBalancer Services with its DaemonSets kube-system/svclb-web-1a2b3c4d ..."
      fix: "Start every k3s server with --disable=servicelb ..."
      objects: [kube-system/svclb-web-1a2b3c4d]
      accepted: false
summary:
  description: "One line per finding: C(<severity> <id>[ (accepted)]: <message> Fix: <fix>)."
  returned: always
  type: list
  elements: str
markdown:
  description: The findings as a Markdown section (C(## Preflight)), as C(verify.yml) adds it to its report.
  returned: always
  type: str
memberlist:
  description: Per probed node pair C(source), C(target), C(address), C(port) and the verdicts C(tcp) and C(udp) (C(open),
    C(blocked), C(not_listening), C(foreign), C(unknown)) with C(udp_why); empty when not probed.
  returned: always
  type: list
  elements: dict
memberlist_summary:
  description: One line - how many probed node pairs were open on TCP and UDP (or that none was probed).
  returned: always
  type: str
  sample: "memberlist: 2 of 2 node pair(s) open on TCP and UDP"
errors:
  description: The ids of the error findings that are not accepted.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.checks import (
    Preflight,
    check_input,
    markdown_section,
    summary_line,
    unreadable,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.memberlist import derive_key, evaluate, speaker_settings
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.memberlist import summary as memberlist_summary
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.read import memberlist_secret, read_cluster


def argument_spec() -> dict:
    return dict(
        objects=dict(type="list", elements="dict"),
        pools=dict(type="list", elements="dict", default=[]),
        router_addresses=dict(type="list", elements="str", default=[]),
        ignore_exclude_lb=dict(type="bool", default=False),
        metallb_namespace=dict(type="str", default="metallb-system"),
        accept=dict(type="list", elements="str", default=[]),
        memberlist_probes=dict(type="list", elements="dict", default=[]),
        fail_on=dict(type="list", elements="str", choices=["error", "warning"], default=[]),
    )


def main() -> None:
    module = K8sModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    problems = check_input(params["router_addresses"], params["accept"])
    if problems:
        module.fail_json(msg="metallb_preflight: invalid input; nothing was read: " + "; ".join(problems), errors=problems)
    pairs = []
    try:
        client = module.client()
        objects = read_cluster(client, params["metallb_namespace"])
        if params["memberlist_probes"]:
            settings = speaker_settings([ds for ds in objects["daemonsets"] if ds.get("metadata", {}).get("namespace") == params["metallb_namespace"]])
            secret = memberlist_secret(BatchRead(DynamicApi(client)), params["metallb_namespace"], settings)
            pairs = evaluate(params["memberlist_probes"], derive_key(secret))
    except K8sError as exc:
        findings = [unreadable(str(exc), params["accept"])]
        module.warn(summary_line(findings[0]))
    else:
        desired = {"pools": params["pools"], "router_addresses": params["router_addresses"]}
        if params["objects"] is not None:
            desired["objects"] = params["objects"]
        findings = Preflight(objects, desired, ignore_exclude_lb=params["ignore_exclude_lb"], accept=params["accept"],
                             memberlist_pairs=pairs).run()
    result = {
        "changed": False,
        "findings": findings,
        "summary": [summary_line(f) for f in findings],
        "markdown": markdown_section(findings),
        "memberlist": pairs,
        "memberlist_summary": memberlist_summary(pairs),
        "errors": [f["id"] for f in findings if f["severity"] == "error" and not f["accepted"]],
    }
    fatal = [f for f in findings if f["severity"] in params["fail_on"] and not f["accepted"]]
    if fatal:
        module.fail_json(msg=f"{len(fatal)} preflight finding(s) stop the run (accept one by its id to go on): "
                         + " | ".join(summary_line(f) for f in fatal), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
