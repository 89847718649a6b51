# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""workload_policy runs in the controller's process (see ControllerCheckAction)."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.argspec import WORKLOAD_POLICY_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workload_policy import WorkloadPolicy
from ansible_collections.baremetal.metallb.plugins.plugin_utils.controller_check import ControllerCheckAction


class ActionModule(ControllerCheckAction):
    ARGUMENT_SPEC = WORKLOAD_POLICY_ARGSPEC
    _VALID_ARGS = frozenset(WORKLOAD_POLICY_ARGSPEC)

    def check(self, args: dict):
        return WorkloadPolicy(**args).run()
