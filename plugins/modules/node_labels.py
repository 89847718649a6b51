#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: node_labels
short_description: Set the labels of many Kubernetes Nodes declaratively, in one task
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Puts label sets on Kubernetes Nodes, for example C(node-role=edge) on the nodes whose speakers should announce
    (the C(nodeSelectors) of a MetalLB C(BGPAdvertisement) or C(L2Advertisement)).
  - Lists the Nodes once (paginated), computes the wanted labels of every Node, and sends a JSON merge patch only to
    the Nodes that differ. A second run with the same input sends no PATCH at all.
  - Declarative for the keys it manages. The keys it set on a Node are recorded in an annotation on that Node
    (O(ownership_annotation)). A recorded key that is no longer wanted, because the node or the key left the input,
    is removed. A label the module never set is never touched, unless it is given with the value V(null).
  - A label that already has the wanted value is adopted. It is recorded as managed and is removed later when
    it leaves the input.
  - Every node name, label key and label value is checked against the Kubernetes rules before any API call. All
    problems are reported at once, each naming the option (or the name given in O(variable_names)).
  - Reports a finding (a warning) for a node it labels that carries
    C(node.kubernetes.io/exclude-from-external-load-balancers) without O(exclude_from_external_load_balancers) asking
    for it. kubeadm puts that label on control-plane nodes, and MetalLB then announces nothing from them, silently.
extends_documentation_fragment:
  # first: of two fragments defining an attribute, the earlier one wins
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
options:
  nodes:
    description:
      - Nodes that get O(common_labels).
    type: list
    elements: str
    default: []
  common_labels:
    description:
      - Labels put on every node in O(nodes), label key to value. Values are strings; quote numbers and booleans.
    type: dict
    default: {}
  labels:
    description:
      - Labels per node, node name to a dict of label key to value. They are merged over O(common_labels).
      - A value of V(null) removes that label from the node, whoever set it. That key is then no longer managed.
      - A node given with an empty dict keeps no managed label. Use it to say that a node is known but gets nothing.
    type: dict
    default: {}
  exclude_from_external_load_balancers:
    description:
      - Nodes that carry the label C(node.kubernetes.io/exclude-from-external-load-balancers) (empty value). The label
        is managed like the others, so it is removed from a node that leaves this list, if this module set it.
      - MetalLB and cloud load balancers do not use these nodes.
    type: list
    elements: str
    default: []
  missing_nodes:
    description:
      - What to do when a node named in O(nodes), O(labels) or O(exclude_from_external_load_balancers) does not
        exist in the cluster.
      - V(fail) fails before any PATCH. V(warn) skips the node with a warning. V(ignore) skips it silently.
    type: str
    choices: [fail, warn, ignore]
    default: fail
  ownership_annotation:
    description:
      - The Node annotation that records the label keys this module manages on that node (comma-separated).
      - Two independent users of this module that manage different keys on the same nodes need different
        annotations. With the same annotation, each run removes the other's keys.
    type: str
    default: baremetal.metallb/managed-labels
  variable_names:
    description:
      - How to name the options in messages, option name to variable name. A role sets this so that an error names
        the role's variable, for example C(labels) to C(edge_nodes_labels).
    type: dict
    default: {}
  concurrency:
    description:
      - How many PATCH requests are in flight at once. Each is one round trip, and the API server handles them in
        parallel. V(1) sends them one after the other and stops at the first error.
    type: int
    default: 4
  validate_only:
    description:
      - Check the input only (node names, label keys and values, the annotation) and make no API call; no kubeconfig
        is needed. A playbook's validation stage runs this before anything is read or changed anywhere.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    details: Lists the Nodes and reports which would change; sends no PATCH.
  diff_mode:
    support: full
    details: The labels and managed keys of each node that changes, before and after.
  platform:
    platforms: posix
notes:
  - The merge patch names only the label keys that change and the ownership annotation. It is applied by the API
    server to the Node as it is at that moment, so labels and annotations others change in between are kept. No
    resourceVersion precondition is sent, because kubelet status updates would make it fail for nothing.
  - Needs C(list) and C(patch) on C(nodes) (cluster scope).
seealso:
  - name: MetalLB advertisements and node selectors
    description: Limiting the nodes that announce a pool.
    link: https://metallb.universe.tf/configuration/_advanced_bgp_configuration/
"""

EXAMPLES = r"""
- name: Label the edge nodes of the seeds' BGP set-up (node-role=edge on node1 and node3)
  baremetal.metallb.node_labels:
    nodes: [node1, node3]
    common_labels:
      node-role: edge
    kubeconfig: /etc/kubernetes/admin.conf

- name: Per-node labels, one node excluded from load balancers, and a kubeadm exclude label removed
  baremetal.metallb.node_labels:
    labels:
      node1: {node-role: edge, topology.example.com/rack: r1}
      node3:
        node-role: edge
        node.kubernetes.io/exclude-from-external-load-balancers: null
    exclude_from_external_load_balancers: [cp1]
    missing_nodes: warn
  register: edge

- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ edge.changed_nodes }} patched, {{ edge.unchanged }} unchanged"
"""

RETURN = r"""
changed_nodes:
  description: Nodes that were patched, or would be in check mode.
  returned: unless O(validate_only)
  type: list
  elements: str
  sample: [node1, node3]
patched:
  description: Number of PATCH requests sent (0 in check mode).
  returned: unless O(validate_only)
  type: int
  sample: 2
unchanged:
  description: Number of Nodes in the cluster that needed no change.
  returned: unless O(validate_only)
  type: int
  sample: 1
missing_nodes:
  description: Nodes named in the input that do not exist in the cluster (skipped with O(missing_nodes=warn) or V(ignore)).
  returned: unless O(validate_only)
  type: list
  elements: str
  sample: []
labels:
  description: The labels the module manages on each node after the run, node name to labels.
  returned: unless O(validate_only)
  type: dict
  sample: {node1: {node-role: edge}, node3: {node-role: edge}}
findings:
  description: Problems found on the nodes, each a dict.
  returned: unless O(validate_only)
  type: list
  elements: dict
  contains:
    rule:
      description: Stable id of the check, V(labelled_node_excluded_from_lb).
      type: str
    severity:
      description: V(warning).
      type: str
    node:
      description: The node concerned.
      type: str
    reason:
      description: One sentence on what is wrong.
      type: str
    fix:
      description: One sentence on how to fix it.
      type: str
  sample: []
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.node_labels import (
    MANAGED_ANNOTATION,
    MISSING_NODES_CHOICES,
    NodeApi,
    NodeLabels,
    NodeLabelsError,
)


def main() -> None:
    module = K8sModule(
        argument_spec=dict(
            nodes=dict(type="list", elements="str", default=[]),
            common_labels=dict(type="dict", default={}),
            labels=dict(type="dict", default={}),
            exclude_from_external_load_balancers=dict(type="list", elements="str", default=[]),
            missing_nodes=dict(type="str", choices=list(MISSING_NODES_CHOICES), default="fail"),
            ownership_annotation=dict(type="str", default=MANAGED_ANNOTATION),
            variable_names=dict(type="dict", default={}),
            concurrency=dict(type="int", default=4),
            validate_only=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    if module.params["concurrency"] < 1:
        module.fail_json(msg=f"concurrency: must be 1 or more, not {module.params['concurrency']}")
    service = NodeLabels(module.params)
    try:
        wanted = service.wanted()  # the input is checked before the client is even built
    except NodeLabelsError as exc:
        module.fail_json(msg=str(exc), errors=exc.errors)
    if module.params["validate_only"]:
        module.exit_json(changed=False, msg=f"input valid: labels for {len(wanted)} node(s); the cluster was not read")
    with module.api_errors():
        service.api = NodeApi(module.client())
        try:
            result = service.run(check_mode=module.check_mode)
        except NodeLabelsError as exc:
            module.fail_json(msg=str(exc), errors=exc.errors)
    for warning in service.warnings:
        module.warn(warning)
    diff = result.pop("diff")
    if module._diff and result["changed"]:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
