# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_helm_values
short_description: MetalLB install options as values of MetalLB's Helm chart
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - The same options as P(baremetal.metallb.release_manifest#filter) (checked the same way, errors naming the
    C(metallb_install_*) variables) as values for the chart C(metallb) of the same release.
  - The flavour picks the BGP backend; C(native) switches frr-k8s off explicitly, since the chart enables it by
    default from v0.16 on.
options:
  _input:
    description: The options, a dict with the keys C(namespace), C(pod_security), C(speaker_node_selector),
      C(speaker_tolerations), C(image_registry).
    type: dict
    required: true
  flavour:
    description: The BGP backend.
    type: str
    default: native
    choices: [native, frr, frr-k8s]
"""

EXAMPLES = r"""
- name: Install the chart
  kubernetes.core.helm:
    name: metallb
    chart_ref: metallb/metallb
    release_namespace: metallb-system
    values: "{{ {'speaker_node_selector': {'edge': 'true'}} | baremetal.metallb.release_helm_values('native') }}"
"""

RETURN = r"""
_value:
  description: The chart values.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.helm import helm_values
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.options import OptionsError


def release_helm_values(options, flavour="native"):
    try:
        return helm_values(dict(options or {}), flavour)
    except OptionsError as exc:
        raise AnsibleFilterError("; ".join(exc.problems)) from None
    except ValueError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"release_helm_values": release_helm_values}
