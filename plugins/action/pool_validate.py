# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run pool_validate in the controller's process.

Validation needs no target: running it here keeps netaddr a controller-only
requirement, skips shipping a module, and works for any host in the play,
reachable or not.
"""

from __future__ import annotations

from ansible.module_utils.basic import missing_required_lib
from ansible.plugins.action import ActionBase

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.argspec import POOL_VALIDATE_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.spans import HAS_NETADDR
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.validator import PoolValidator


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(POOL_VALIDATE_ARGSPEC)
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail naming the option, as a module would fail.
        dummy, args = self.validate_argument_spec(argument_spec=POOL_VALIDATE_ARGSPEC)
        if not HAS_NETADDR:
            result.update(failed=True, msg=missing_required_lib("netaddr") + " (on the Ansible controller)")
            return result
        outcome = PoolValidator(**args).run()
        result.update(outcome.as_result())
        if outcome.warnings:
            result["warnings"] = outcome.warnings
        if outcome.failed:
            result["failed"] = True
        return result
