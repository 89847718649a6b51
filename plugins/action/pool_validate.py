# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_validate runs in the controller's process: netaddr is needed there only."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.basic import missing_required_lib

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.argspec import POOL_VALIDATE_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.spans import HAS_NETADDR
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.cluster import validate
from ansible_collections.baremetal.metallb.plugins.plugin_utils.controller_check import ControllerCheckAction


class ActionModule(ControllerCheckAction):
    ARGUMENT_SPEC = POOL_VALIDATE_ARGSPEC
    _VALID_ARGS = frozenset(POOL_VALIDATE_ARGSPEC)

    def check(self, args: dict):
        if not HAS_NETADDR:
            raise AnsibleActionFail(missing_required_lib("netaddr") + " (on the Ansible controller)")
        return validate(args)
