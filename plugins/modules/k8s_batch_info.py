#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_batch_info
short_description: Read several kinds of Kubernetes objects in one module run
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Runs a list of reads against the Kubernetes API, each like one M(kubernetes.core.k8s_info) task (a kind, optionally a
    namespace, a name and selectors), in a single module run. Each M(kubernetes.core.k8s_info) run starts Python, loads
    the client and discovers the API again, about a second each; the roles of this collection read everything their
    checks need with one task instead.
  - The API is discovered once per group version; each read is one LIST, paged, or one GET when a name is given.
  - Objects come back in the API's own shape (camelCase), with C(apiVersion) and C(kind) set on every item, the shape
    M(kubernetes.core.k8s_info) returns, under the read's key.
  - A kind the API server does not serve (for example a CRD that is not installed yet) is not an error; its key has
    no resources and RV(api_found) says C(false).
  - Use O(reads[].metadata_only) for Secrets, so that their data never leaves the module.
  - Read-only; never changed.
options:
  reads:
    description:
      - The reads, run in order.
    type: list
    elements: dict
    required: true
    suboptions:
      key:
        description:
          - The name this read's results are returned under in RV(resources) and RV(api_found). Unique within O(reads).
        type: str
        required: true
      api_version:
        description:
          - The API group and version, for example C(v1), C(apps/v1), C(metallb.io/v1beta1).
        type: str
        default: v1
      kind:
        description:
          - The kind, for example C(Node), C(Deployment), C(IPAddressPool).
        type: str
        required: true
      namespace:
        description:
          - Only objects in this namespace; all namespaces when not set. Ignored for cluster-scoped kinds.
        type: str
      name:
        description:
          - Only the object of this name (a GET); no resources when it does not exist.
        type: str
      label_selectors:
        description:
          - Label selectors, all of which must match, for example C(app.kubernetes.io/managed-by=baremetal.metallb).
        type: list
        elements: str
        default: []
      field_selectors:
        description:
          - Field selectors, all of which must match, for example C(reason=nodeAssigned).
        type: list
        elements: str
        default: []
      metadata_only:
        description:
          - Return only C(apiVersion), C(kind), C(type) and the metadata's name, namespace, labels, uid, resourceVersion,
            creationTimestamp and ownerReferences of each object. No data and no annotations (kubectl's
            last-applied-configuration annotation holds a Secret's data).
        type: bool
        default: false
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
notes:
  - Needs C(list) (and C(get) for reads with a name) on each kind read.
seealso:
  - module: kubernetes.core.k8s_info
"""

EXAMPLES = r"""
- name: Read the nodes, MetalLB's pools and the Secrets' names in one task
  baremetal.metallb.k8s_batch_info:
    kubeconfig: "{{ lab_kubeconfig }}"
    reads:
      - {key: nodes, kind: Node}
      - {key: pools, api_version: metallb.io/v1beta1, kind: IPAddressPool, namespace: metallb-system}
      - {key: secrets, kind: Secret, namespace: metallb-system, metadata_only: true}
  register: cluster

- name: Name the pools, or say that MetalLB's CRDs are not installed
  ansible.builtin.debug:
    msg: "{{ cluster.resources.pools | map(attribute='metadata.name') | list if cluster.api_found.pools else 'no IPAddressPool CRD' }}"

- name: Wait until the controller Deployment and the speaker DaemonSet are ready, polling both in one read
  baremetal.metallb.k8s_batch_info:
    reads:
      - {key: deployments, api_version: apps/v1, kind: Deployment, namespace: metallb-system, name: controller}
      - {key: daemonsets, api_version: apps/v1, kind: DaemonSet, namespace: metallb-system, name: speaker}
  register: metallb
  until: >-
    (metallb.resources.deployments | map(attribute='status.availableReplicas', default=0) | first | default(0)) > 0
    and (metallb.resources.daemonsets | map(attribute='status.numberReady', default=0) | first | default(0)) > 0
  retries: 30
  delay: 2
"""

RETURN = r"""
resources:
  description:
    - Each read's key to the objects it found, in the API's shape with C(apiVersion) and C(kind) set; an empty list when
      none match or the kind is not served.
  returned: success
  type: dict
  sample: {"nodes": [{"apiVersion": "v1", "kind": "Node", "metadata": {"name": "node1"}}], "pools": []}
api_found:
  description:
    - Each read's key to whether the API server serves its kind (C(false) for a CRD that is not installed).
  returned: success
  type: dict
  sample: {"nodes": true, "pools": false}
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import READ_ARG_SPEC, BatchRead, check_reads
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule


def main() -> None:
    module = K8sModule(
        argument_spec=dict(reads=dict(type="list", elements="dict", required=True, options=READ_ARG_SPEC)),
        supports_check_mode=True,
    )
    try:
        reads = check_reads(module.params["reads"])
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    with module.api_errors():
        result = BatchRead(DynamicApi(module.client())).run(reads)
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
