# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_manifests
short_description: The Deployment and LoadBalancer Service of each workload
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Turns workloads, in the shape of P(baremetal.metallb.workload_policy#module)'s
    O(baremetal.metallb.workload_policy#module:workloads), into Kubernetes objects, a Deployment then a Service per workload.
  - The same code builds the objects whatever uses them (a template rendering files for GitOps, or
    C(kubernetes.core.k8s) applying them), and the input is checked the same way as by P(baremetal.metallb.workload_policy#module);
    invalid input raises an error naming every problem.
  - Output is stable (fixed key order, sorted labels and annotations), so rendering the same input twice gives the same text.
options:
  _input:
    description: One workload (a dict) or a list of workloads.
    type: raw
    required: true
  pod_labels:
    description: Labels added to every workload's pods (the workload's own win).
    type: dict
    default: {}
  pod_annotations:
    description: Annotations added to every workload's pods (the workload's own win).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Apply the workloads checked by workload_policy
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: baremetal.metallb
    definition: "{{ policy.workloads | baremetal.metallb.workload_manifests }}"

# In a template: one YAML document per object
# {% for object in workloads | baremetal.metallb.workload_manifests %}
# ---
# {{ object | to_nice_yaml(indent=2, sort_keys=false) }}
# {% endfor %}
"""

RETURN = r"""
_value:
  description: For each workload, its Deployment (C(apps/v1)) then its Service (C(v1), C(type=LoadBalancer)).
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.argspec import WORKLOAD_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.manifests import workload_manifests as build_manifests
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workloads import InputErrors, WorkloadInput


def _unset_dropped(value):
    """Options given as null mean "not set" (workload_policy returns them so): leave them out."""
    if isinstance(value, dict):
        return {key: _unset_dropped(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_unset_dropped(item) for item in value]
    return value


def workload_manifests(workloads, pod_labels=None, pod_annotations=None):
    items = workloads if isinstance(workloads, list) else [workloads]
    if not all(isinstance(item, dict) for item in items):
        raise AnsibleFilterError("workload_manifests: give a workload (a dict) or a list of workloads")
    checked = ArgumentSpecValidator(WORKLOAD_ARGSPEC).validate({"workloads": _unset_dropped(items)})
    if checked.error_messages:
        raise AnsibleFilterError("workload_manifests: " + "; ".join(checked.error_messages))
    errors = InputErrors()
    # No pools here: pool membership is workload_policy's check.
    normalized = WorkloadInput(checked.validated_parameters["workloads"], {}, errors, pod_labels, pod_annotations).run()
    if errors.items:
        raise AnsibleFilterError("workload_manifests: " + "; ".join(error["message"] for error in errors.items))
    return build_manifests(normalized)


class FilterModule:
    def filters(self):
        return {"workload_manifests": workload_manifests}
