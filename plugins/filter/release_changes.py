# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_changes
short_description: What a kubernetes.core.k8s task applying several objects changed, object by object
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - When C(kubernetes.core.k8s) applies a list of objects, it returns a diff per object under C(result.results),
    which Ansible's output callback does not print in diff mode. This filter makes them readable.
  - A created object is named (C(created Kind namespace/name)); an updated one gives only the fields that differ,
    before and after.
options:
  _input:
    description: The registered result of the C(kubernetes.core.k8s) task (one object or several).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Show what changed
  ansible.builtin.debug:
    msg: "{{ applied | baremetal.metallb.release_changes }}"
  when: ansible_diff_mode and applied is changed
"""

RETURN = r"""
_value:
  description: One entry per changed object, a string for a created one, a dict (C(object), C(before), C(after)) otherwise.
  type: list
  elements: raw
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.inventory import changes


def release_changes(applied):
    return changes(dict(applied or {}))


class FilterModule:
    def filters(self):
        return {"release_changes": release_changes}
