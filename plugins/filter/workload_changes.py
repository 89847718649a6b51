# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_changes
short_description: What the lb_workload role applies and deletes
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the workloads (as P(baremetal.metallb.workload_policy#module) returns them), their objects
    (P(baremetal.metallb.workload_manifests#filter)) and the cluster's namespaces, and returns what to apply with
    P(baremetal.metallb.k8s_apply#module) and what to delete.
  - A namespace a workload needs that does not exist is created first (labelled C(app.kubernetes.io/managed-by)), or
    refused (C(problem)) when C(create_namespaces) is false. In check mode, k8s_apply reports the objects in such a
    namespace as created and unverified.
  - The objects of C(remove) are deleted only when this collection manages them (found in C(managed)).
options:
  _input:
    description: The workloads (C(name), C(namespace) each).
    type: list
    elements: dict
    required: true
  manifests:
    description: The workloads' objects.
    type: list
    elements: dict
    required: true
  namespaces:
    description: The cluster's Namespaces.
    type: list
    elements: dict
    required: true
  create_namespaces:
    description: Whether a missing namespace may be created.
    type: bool
    default: true
  remove:
    description: The workloads to delete, C(name) and C(namespace) (default C(default)) each.
    type: list
    elements: dict
  managed:
    description: The registered result of the looped C(kubernetes.core.k8s_info) reads of the Deployments and Services
      this collection manages (skipped when nothing is removed).
    type: dict
"""

EXAMPLES = r"""
- name: Apply the workloads
  baremetal.metallb.k8s_apply:
    field_manager: baremetal.metallb
    definitions: "{{ (workloads | baremetal.metallb.workload_changes(manifests, namespaces)).definitions }}"
"""

RETURN = r"""
_value:
  description: The changes.
  type: dict
  contains:
    missing_namespaces:
      description: The namespaces the workloads need that do not exist, sorted.
      type: list
      elements: str
    problem:
      description: Why the role stops (missing namespaces it may not create); empty otherwise.
      type: str
    definitions:
      description: The Namespaces to create, then the workloads' objects.
      type: list
      elements: dict
    removals:
      description: References of the managed objects to delete.
      type: list
      elements: dict
"""

from ansible_collections.baremetal.metallb.plugins.plugin_utils.workload_steps import changes


def workload_changes(workloads, manifests, namespaces, create_namespaces=True, remove=None, managed=None):
    return changes(list(workloads or []), list(manifests or []), list(namespaces or []), bool(create_namespaces), remove, managed)


class FilterModule:
    def filters(self):
        return {"workload_changes": workload_changes}
