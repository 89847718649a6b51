# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_input_problems
short_description: Why the lb_workload role stops before rendering or applying anything
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the results of P(baremetal.metallb.pool_validate#module) and P(baremetal.metallb.workload_policy#module) (run
    with C(failed_when=false)) and the role's C(lb_workload_remove), and returns the lines of the message to stop with,
    or an empty list when the input is fine.
  - The pools' errors and the workloads' errors, each naming the role variable (C(workloads[0].ports) becomes
    C(lb_workload_workloads[0].ports)); the pool errors of workload_policy are left out when pool_validate reported
    some. Otherwise, a workload both in C(lb_workload_workloads) and in C(lb_workload_remove), named by its index.
options:
  _input:
    description: The registered result of workload_policy.
    type: dict
    required: true
  pool_check:
    description: The registered result of pool_validate (skipped when there are no pools).
    type: dict
  remove:
    description: The workloads to delete, C(name) and C(namespace) (default C(default)) each.
    type: list
    elements: dict
"""

EXAMPLES = r"""
- name: Stop before any change when the input is invalid
  ansible.builtin.fail:
    msg: "{{ problems }}"
  when: problems | length > 0
  vars:
    problems: "{{ policy | baremetal.metallb.workload_input_problems(pool_check, lb_workload_remove) }}"
"""

RETURN = r"""
_value:
  description: The message's lines; empty when the input is fine.
  type: list
  elements: str
"""

from ansible_collections.baremetal.metallb.plugins.plugin_utils.workload_steps import input_problems


def workload_input_problems(policy, pool_check=None, remove=None):
    return input_problems(dict(policy or {}), pool_check, remove)


class FilterModule:
    def filters(self):
        return {"workload_input_problems": workload_input_problems}
