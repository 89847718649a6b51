# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_pending
short_description: What of a MetalLB install is not ready yet
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Given the objects C(kubernetes.core.k8s_info) read, says which of the named ones are not ready yet, one sentence
    each; an empty list means all are ready.
  - CustomResourceDefinition is ready when Established; Deployment when its current spec is rolled out and Available
    with all replicas; DaemonSet when its current spec runs ready on every node it selects (and it selects at least
    one); EndpointSlice (names are then Service names) when the Service has at least one ready endpoint.
options:
  _input:
    description: The resources read (the C(resources) of C(kubernetes.core.k8s_info)).
    type: list
    elements: dict
    required: true
  kind:
    description: Their kind.
    type: str
    required: true
    choices: [CustomResourceDefinition, Deployment, DaemonSet, EndpointSlice]
  names:
    description: The names that must be ready (Service names for C(EndpointSlice)).
    type: list
    elements: str
    required: true
"""

EXAMPLES = r"""
- name: Wait for the CRDs to be Established
  kubernetes.core.k8s_info:
    api_version: apiextensions.k8s.io/v1
    kind: CustomResourceDefinition
  register: crds
  until: crds.resources | baremetal.metallb.release_pending('CustomResourceDefinition', summary.crds) | length == 0
  retries: 60
  delay: 1
"""

RETURN = r"""
_value:
  description: One sentence per object not ready, naming it and saying why.
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.readiness import pending


def release_pending(resources, kind, names):
    try:
        return pending(list(resources or []), kind, list(names or []))
    except ValueError as exc:
        raise AnsibleFilterError(f"release_pending: {exc}") from None


class FilterModule:
    def filters(self):
        return {"release_pending": release_pending}
