# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_apply_failure
short_description: A failed apply of the lb_workload role in words
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the failed result of P(baremetal.metallb.k8s_apply#module) and returns the message to stop with.
  - On a field-manager conflict (someone scaled or edited a field the role sets) it names each field and the two ways
    out (C(lb_workload_force_conflicts), or the cluster's values in the variables); any other failure's message is
    passed on.
options:
  _input:
    description: The failed result (C(ansible_failed_result) in a rescue).
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Explain the conflict
  ansible.builtin.fail:
    msg: "{{ ansible_failed_result | baremetal.metallb.workload_apply_failure }}"
"""

RETURN = r"""
_value:
  description: The message.
  type: str
"""

from ansible_collections.baremetal.metallb.plugins.plugin_utils.workload_steps import conflict_message


def workload_apply_failure(failed):
    return conflict_message(dict(failed or {}))


class FilterModule:
    def filters(self):
        return {"workload_apply_failure": workload_apply_failure}
