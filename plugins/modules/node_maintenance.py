#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_maintenance
short_description: Take Kubernetes nodes out of MetalLB's load balancing and back, one step at a time
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Plans and runs node maintenance in the order that loses no client connection it can avoid. For O(state=out)
    the steps are the C(announcement) step (the nodes stop announcing), a wait on the routers and the layer 2
    segment (M(baremetal.metallb.bgp_verify), M(baremetal.metallb.leader_verify), run by the caller with the
    RV(waits) this module returns), and the C(scheduling) step (cordon, then evict the nodes' pods through the
    eviction API, so PodDisruptionBudgets hold). For O(state=in) the same in reverse, uncordon, then announce
    again, then wait. The role C(baremetal.metallb.node_maintenance) and C(playbooks/maintenance.yml) run them.
  - The nodes stop announcing with the label C(node.kubernetes.io/exclude-from-external-load-balancers)
    (O(method=exclude_label)), or by removing the labels the advertisements select them by (O(method=remove_labels),
    for example C(node-role=edge)).
  - What it changed on a Node is recorded in the Node's annotation C(baremetal.metallb/maintenance). O(state=in)
    undoes exactly that. A node an administrator had excluded or cordoned before stays so.
  - Which node leads each layer 2 VIP and which nodes are a BGP VIP's next hops, with the nodes in and out, is the
    collection's announcer model (the one M(baremetal.metallb.lb_status) uses), asked for the Nodes as they are and as
    the patch will leave them.
  - Every input is checked before the cluster is read. The plan refuses, before any change, nodes that are not in
    the cluster, pods without a controller (unless O(evict_unmanaged)), and an exclusion MetalLB would ignore
    (speakers with C(--ignore-exclude-lb), or labels the advertisements do not select by).
options:
  nodes:
    description:
      - The Node names, as a list or as text with the names separated by commas, spaces or new lines (an AWX
        survey's text field).
    type: raw
    required: true
  state:
    description:
      - V(out) takes the nodes out of load balancing and drains them; V(in) brings them back.
    type: str
    choices: [out, in]
    required: true
  step:
    description:
      - V(plan) reads and changes nothing. V(announcement) stops (V(out)) or restarts (V(in)) the nodes' announcing.
        V(scheduling) cordons the nodes and evicts their pods (V(out)) or uncordons them (V(in)).
      - Every step returns the whole plan.
    type: str
    choices: [plan, announcement, scheduling]
    default: plan
  method:
    description:
      - How the nodes stop announcing with O(state=out). O(state=in) undoes whatever the record on the node says.
    type: str
    choices: [exclude_label, remove_labels]
    default: exclude_label
  labels:
    description:
      - With O(method=remove_labels), the labels to remove, label key to value (V(null), or a key without C(=value)
        in text, removes the key whatever its value). Text C(key=value,key2=value2) is accepted too.
    type: raw
    default: {}
  evict_unmanaged:
    description: Evict pods no controller would replace (without it the plan refuses them, as C(kubectl drain) does).
    type: bool
    default: false
  drain_timeout:
    description: Seconds the C(scheduling) step may take to evict every pod and see it gone.
    type: float
    default: 300
  poll_interval:
    description: Seconds between two eviction attempts of a pod a PodDisruptionBudget protects for now.
    type: float
    default: 1
  router_addresses:
    description:
      - Router host to the address the nodes peer with. RV(waits.bgp_by_router) then gives each router the next hops
        of the nodes a C(BGPPeer) with that address selects.
    type: dict
    default: {}
  metallb_namespace:
    description: The namespace of MetalLB's objects and pods.
    type: str
    default: metallb-system
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
    details: Reads the cluster and returns the plan and what the step would change; patches and evicts nothing.
  diff_mode:
    support: full
    details: The labels, cordon and maintenance record of each node the step changes, before and after it.
  platform:
    platforms: posix
seealso:
  - module: baremetal.metallb.bgp_verify
  - module: baremetal.metallb.leader_verify
  - module: baremetal.metallb.lb_status
"""

EXAMPLES = r"""
- name: Show what taking node2 out would do
  baremetal.metallb.node_maintenance:
    nodes: node2
    state: out
  register: plan

- name: node2 stops announcing
  baremetal.metallb.node_maintenance:
    nodes: [node2]
    state: out
    step: announcement
    router_addresses: {router1: 198.51.100.1}
  register: out

- name: Wait until the router dropped node2 as a next hop
  baremetal.metallb.bgp_verify:
    prefixes: "{{ out.waits.bgp_by_router.router1 }}"
    timeout: 60
  delegate_to: router1

- name: Cordon node2 and evict its pods (PodDisruptionBudgets hold)
  baremetal.metallb.node_maintenance:
    nodes: [node2]
    state: out
    step: scheduling
"""

RETURN = r"""
steps:
  description: The plan in order, one sentence a step.
  returned: always
  type: list
  elements: str
patches:
  description: Step to node to the JSON merge patch that step sends (empty when nothing changes).
  returned: always
  type: dict
waits:
  description: What to wait for after the announcement step.
  returned: always
  type: dict
  contains:
    bgp:
      description: VIP to the next hops every router should carry in the new state (only VIPs whose next hops change).
      type: dict
    bgp_by_router:
      description: Router host (from O(router_addresses)) to the same, limited to the nodes that peer with it.
      type: dict
    l2:
      description: >-
        One entry per node the layer 2 VIPs move away from: C(from_node), C(addresses) and C(expected) (VIP to the node
        that should answer next), the arguments of M(baremetal.metallb.leader_verify) with C(wait_for=change).
      type: list
      elements: dict
    notes:
      description: What is not waited for, and why.
      type: list
      elements: str
evictions:
  description: C(evict) (namespace, name, node, owner, the PodDisruptionBudgets covering it), C(skipped) (with the reason), C(unmanaged).
  returned: always
  type: dict
drain:
  description: The scheduling step's evictions, C(evicted), C(refusals) (HTTP 429 from a PodDisruptionBudget) and C(seconds).
  returned: when O(step=scheduling) and O(state=out), not in check mode
  type: dict
findings:
  description: What the operator should know (a Service nobody announces while the nodes are out).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.eviction import PodApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.snapshot import read_snapshot
from ansible_collections.baremetal.metallb.plugins.module_utils.maintenance.drain import Drain, DrainError
from ansible_collections.baremetal.metallb.plugins.module_utils.maintenance.plan import MaintenanceError, build_plan, normalize


def main() -> None:
    module = K8sModule(
        argument_spec=dict(
            nodes=dict(type="raw", required=True),
            state=dict(type="str", choices=["out", "in"], required=True),
            step=dict(type="str", choices=["plan", "announcement", "scheduling"], default="plan"),
            method=dict(type="str", choices=["exclude_label", "remove_labels"], default="exclude_label"),
            labels=dict(type="raw", default={}),
            evict_unmanaged=dict(type="bool", default=False),
            drain_timeout=dict(type="float", default=300),
            poll_interval=dict(type="float", default=1),
            router_addresses=dict(type="dict", default={}),
            metallb_namespace=dict(type="str", default="metallb-system"),
        ),
        supports_check_mode=True,
    )
    try:
        opts = normalize(module.params)  # before the client is built
    except MaintenanceError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors)
    step, state = opts["step"], opts["state"]
    with module.api_errors():
        client = module.client()
        api = PodApi(client)
        objects = read_snapshot(client, module.params["metallb_namespace"], api=api.api)
        pods = api.pods_on(opts["nodes"]) if state == "out" else []
        try:
            plan = build_plan(objects, pods, api.pdbs() if pods else [], opts)
        except MaintenanceError as exc:
            module.fail_json(msg=str(exc), errors=exc.errors)
        errors = [f"{f['message']}; fix: {f['fix']}" for f in plan["findings"] if f["severity"] == "error"]
        if errors and step != "plan":
            module.fail_json(msg="nothing was changed: " + "; ".join(errors), findings=plan["findings"], steps=plan["steps"])
        result = {key: plan[key] for key in ("state", "nodes", "steps", "patches", "waits", "evictions", "findings")}
        changed = step != "plan" and plan["changed"][step]
        if changed and not module.check_mode:
            for name, body in plan["patches"][step].items():
                api.patch_node(name, body)
            if step == "scheduling" and state == "out":
                try:
                    result["drain"] = Drain(api, module.params["drain_timeout"], module.params["poll_interval"]).run(
                        plan["evictions"]["evict"])
                except DrainError as exc:
                    module.fail_json(msg=f"{exc}. The nodes stay cordoned and out of load balancing; run again to finish.",
                                     **result)
    for finding in plan["findings"]:
        if finding["severity"] == "warning":
            module.warn(f"{finding['message']}. Fix: {finding['fix']}.")
    if module._diff and changed:
        result["diff"] = plan["diff"][step]
    module.exit_json(changed=changed, **result)


if __name__ == "__main__":
    main()
