# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_summary
short_description: What a MetalLB install consists of, read from its objects
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the objects of a MetalLB release (the output of P(baremetal.metallb.release_manifest#filter)) and names
    what an install must wait for and what an uninstall must delete, so that nothing is guessed (the webhook
    Service, for one, was renamed between releases).
options:
  _input:
    description: The release's objects.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Name the CRDs to wait for
  ansible.builtin.debug:
    msg: "{{ (objects | baremetal.metallb.release_summary).crds }}"
"""

RETURN = r"""
_value:
  description: The summary.
  type: dict
  contains:
    namespace:
      description: The namespace (the name of the Namespace object).
      type: str
    crds:
      description: Names of the CustomResourceDefinitions.
      type: list
      elements: str
    deployments:
      description: Names of the Deployments.
      type: list
      elements: str
    daemonsets:
      description: Names of the DaemonSets.
      type: list
      elements: str
    controller:
      description: Name of the controller Deployment (the one with a container named C(controller)).
      type: str
    speaker:
      description: Name of the speaker DaemonSet (the one with a container named C(speaker)).
      type: str
    webhook_services:
      description: The release's Services that its webhook configurations and CRD conversion webhooks call.
      type: list
      elements: str
    webhook_configurations:
      description: Names of the validating and mutating webhook configurations.
      type: list
      elements: str
    images:
      description: The images the pods run, sorted.
      type: list
      elements: str
    objects:
      description: Each object as C(Kind namespace/name), in order.
      type: list
      elements: str
    namespaced_objects:
      description: The namespaced objects as C(Kind namespace/name), in order.
      type: list
      elements: str
    deletion_order:
      description:
        - References (apiVersion, kind, name, namespace) in the order to delete them; webhook configurations first,
          CRDs last.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.inventory import deletion_order, summary
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.transform import ManifestError, check_objects


def release_summary(objects):
    try:
        checked = check_objects(objects)
    except ManifestError as exc:
        raise AnsibleFilterError(f"release_summary: {exc}") from None
    return {**summary(checked), "deletion_order": deletion_order(checked)}


class FilterModule:
    def filters(self):
        return {"release_summary": release_summary}
