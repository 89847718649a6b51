# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run workload_policy in the controller's process.

The check needs no target: running it here works for any host in the play,
reachable or not, and ships no module.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.argspec import WORKLOAD_POLICY_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.service import WorkloadPolicy


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(WORKLOAD_POLICY_ARGSPEC)
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail naming the option, as a module would fail.
        dummy, args = self.validate_argument_spec(argument_spec=WORKLOAD_POLICY_ARGSPEC)
        outcome = WorkloadPolicy(**args).run()
        result.update(outcome.as_result())
        if outcome.failed:
            result["failed"] = True
        return result
