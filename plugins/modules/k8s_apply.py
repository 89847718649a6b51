#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: k8s_apply
short_description: Server-side apply many Kubernetes objects in one module run, several at a time, in dependency order
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Applies a list of Kubernetes objects with server-side apply, like M(kubernetes.core.k8s) with O(definitions) as its
    C(definition), C(apply=true) and C(server_side_apply), but several objects at a time.
    M(kubernetes.core.k8s) applies one object after the other, a read and a write each, which is most of the time a
    MetalLB release takes to re-apply when nothing changes.
  - Objects are applied in waves, so that each finds what it refers to. Namespaces and CustomResourceDefinitions first;
    then every kind not named below; then MetalLB's C(IPAddressPool), C(BFDProfile) and C(Community); then
    C(L2Advertisement), C(BGPAdvertisement) and C(BGPPeer), which name them; workloads (C(Deployment), C(DaemonSet),
    C(StatefulSet), C(ReplicaSet), C(Job), C(CronJob), C(Pod)) last. The objects of one wave are applied at the same
    time (O(parallel)); a wave starts when the one before has succeeded.
  - An object whose kind is defined by a CRD in the same O(definitions) is applied once the API server serves that kind.
  - An object changed when the API server's answer differs from the object before, leaving aside what every write bumps
    (C(resourceVersion), C(generation) and the times in C(managedFields)). A field this field manager gave up, another
    manager's field now shared, a default the server fills in, all count.
  - When any object fails, the module fails and names each failed object by its index in O(definitions). The objects of
    the same wave that succeeded are applied; later waves are not started.
  - A Secret's values are never returned, in RV(results) or in the diff. Its O(definitions) entry is a module argument
    like any other, though; use C(no_log) on a task that applies Secrets.
options:
  definitions:
    description:
      - The objects to apply, each with C(apiVersion), C(kind) and C(metadata.name) (and C(metadata.namespace) for a
        namespaced kind, unless O(namespace) is set).
      - Each object once; the order between waves is this module's (see the description), not the list's.
    type: list
    elements: dict
    required: true
  field_manager:
    description:
      - The field manager that owns the applied fields. Fields it applied before and are no longer in its definition
        are removed, unless another manager also owns them.
    type: str
    required: true
  force_conflicts:
    description:
      - Take over fields another field manager set to a different value (for example a replica count changed with
        C(kubectl scale)). When false, such a conflict fails the object, and RV(conflicts) names the fields.
    type: bool
    default: false
  namespace:
    description:
      - The namespace of namespaced objects that have no C(metadata.namespace).
    type: str
  hidden_fields:
    description:
      - Dotted paths left out of RV(results) and of the diff, for example C(metadata.managedFields) or C(status).
      - Whether an object changed is decided on the whole object, hidden fields included.
    type: list
    elements: str
    default: [metadata.managedFields]
  wait:
    description:
      - After the apply, wait until every applied CustomResourceDefinition is Established and every applied
        Deployment and DaemonSet has rolled out and is available.
    type: bool
    default: false
  wait_timeout:
    description:
      - Seconds the whole task may take, apply and wait, when waiting for a CRD's kind to be served or for O(wait).
    type: int
    default: 120
  parallel:
    description:
      - How many objects of one wave are applied at the same time.
    type: int
    default: 8
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
    details:
      - A server-side dry run (C(dryRun=All)) of every object, so that admission webhooks and validation have their say.
      - An object in a namespace, or of a kind, that only this apply would create cannot be dry-run; it is reported as
        created with RV(results[].unverified=true).
  diff_mode:
    support: full
    details: One diff per changed object, with only the fields that differ (the whole object when it is created).
  platform:
    platforms: all
notes:
  - Needs C(get) and C(patch) (and C(create) for new objects) on every kind applied.
seealso:
  - module: kubernetes.core.k8s
  - module: baremetal.metallb.k8s_batch_info
"""

EXAMPLES = r"""
- name: Apply MetalLB's configuration, pools before the advertisements that name them
  baremetal.metallb.k8s_apply:
    kubeconfig: "{{ lab_kubeconfig }}"
    field_manager: baremetal.metallb
    namespace: metallb-system
    definitions:
      - apiVersion: metallb.io/v1beta1
        kind: L2Advertisement
        metadata: {name: lab-l2}
        spec: {ipAddressPools: [lab-pool]}
      - apiVersion: metallb.io/v1beta1
        kind: IPAddressPool
        metadata: {name: lab-pool}
        spec: {addresses: [203.0.113.10-203.0.113.20]}

- name: Apply a release from a manifest file, waiting until its Deployments and DaemonSets are ready
  baremetal.metallb.k8s_apply:
    field_manager: platform-team
    definitions: "{{ lookup('ansible.builtin.file', 'release.yaml') | from_yaml_all | select | list }}"
    hidden_fields: [metadata.managedFields, status]
    wait: true
    wait_timeout: 300
  register: release

- name: Name the objects that changed
  ansible.builtin.debug:
    msg: "{{ release.results | selectattr('changed') | map(attribute='kind') | list }}"
"""

RETURN = r"""
results:
  description:
    - One entry per object, in the order of O(definitions). When the module fails, the objects applied before the
      failure.
  returned: always
  type: list
  elements: dict
  contains:
    apiVersion:
      description: The object's C(apiVersion).
      type: str
    kind:
      description: The object's kind.
      type: str
    name:
      description: The object's name.
      type: str
    namespace:
      description: The object's namespace; C(null) for a cluster-scoped one.
      type: str
    method:
      description: C(create) (it did not exist), C(update) (it changed) or C(unchanged).
      type: str
    changed:
      description: Whether the object changed (in check mode, would change).
      type: bool
    unverified:
      description: Check mode only, C(true) when the object could not be dry-run because its namespace or kind would be
        created by this very apply.
      type: bool
    object:
      description: The object as the API server returned it, without O(hidden_fields); a Secret's data is replaced by a key count.
      type: dict
  sample:
    - {"apiVersion": "v1", "kind": "Namespace", "name": "metallb-system", "namespace": null, "method": "unchanged",
       "changed": false, "unverified": false, "object": {"apiVersion": "v1", "kind": "Namespace"}}
conflicts:
  description:
    - On a field manager conflict, the fields another manager owns, per object. Set O(force_conflicts) to take them.
  returned: failure
  type: list
  elements: dict
  sample: [{"object": "Deployment web/echo", "field": ".spec.replicas", "message": "conflict with \"kubectl\""}]
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.server_side_apply import (
    APPLY_ARG_SPEC,
    ApplyError,
    ServerSideApply,
    check_definitions,
    diff_of,
    result_of,
)


def main() -> None:
    module = K8sModule(argument_spec=APPLY_ARG_SPEC, supports_check_mode=True)
    params = module.params
    try:
        targets = check_definitions(params["definitions"], params["namespace"])
    except ValueError as exc:
        module.fail_json(msg=str(exc), results=[])
    if params["parallel"] < 1 or params["wait_timeout"] < 0:
        module.fail_json(msg="parallel must be 1 or more and wait_timeout 0 or more", results=[])

    hidden = params["hidden_fields"]
    with module.api_errors(results=[]):
        api = DynamicApi(module.client(connections=params["parallel"]))
        applier = ServerSideApply(api, params["field_manager"], params["force_conflicts"], module.check_mode, params["parallel"])
        try:
            outcomes = applier.run(targets, params["wait"], params["wait_timeout"])
        except ApplyError as exc:
            module.fail_json(msg=str(exc), results=[result_of(o, hidden) for o in exc.outcomes], conflicts=exc.conflicts,
                             changed=any(o.changed for o in exc.outcomes) and not module.check_mode)

    result = {"changed": any(o.changed for o in outcomes), "results": [result_of(o, hidden) for o in outcomes]}
    if module._diff:
        result["diff"] = [diff_of(o, hidden) for o in outcomes if o.changed]
    module.exit_json(**result)


if __name__ == "__main__":
    main()
