# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_findings_text
short_description: workload_policy's findings as the lb_workload role prints them, and its message to stop with
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes a result of P(baremetal.metallb.workload_policy#module) and returns its summary and findings as lines
    (C(lines)), one per finding with its severity, rule, workload, reason and fix, and the message to stop with (C(fatal)), empty
    when no finding matches C(fail_on).
options:
  _input:
    description: The registered result of workload_policy (C(msg), C(findings), C(fatal)).
    type: dict
    required: true
  fail_on:
    description: The role's C(lb_workload_fail_on), named in the message.
    type: list
    elements: str
    required: true
  stage:
    description: V(before any change) (nothing was rendered or applied) or V(after the apply).
    type: str
    required: true
"""

EXAMPLES = r"""
- name: Report the policy findings
  ansible.builtin.debug:
    msg: "{{ (policy | baremetal.metallb.workload_findings_text(['error'], 'before any change')).lines }}"
"""

RETURN = r"""
_value:
  description: The lines to print and the message to stop with.
  type: dict
  contains:
    lines:
      description: The summary, then one line per finding.
      type: list
      elements: str
    fatal:
      description: The message's lines, empty when no finding is fatal.
      type: list
      elements: str
"""

from ansible_collections.baremetal.metallb.plugins.plugin_utils.workload_steps import findings_text


def workload_findings_text(report, fail_on, stage):
    return findings_text(dict(report or {}), list(fail_on or []), stage)


class FilterModule:
    def filters(self):
        return {"workload_findings_text": workload_findings_text}
