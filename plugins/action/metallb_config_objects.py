# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_config_objects runs in the controller's process: it only turns data into objects."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.argspec import METALLB_CONFIG_OBJECTS_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder
from ansible_collections.baremetal.metallb.plugins.plugin_utils.controller_check import ControllerCheckAction


class _SecretsOutcome:
    """output=secrets: the Secret objects only (with the passwords), and no error text at all."""

    def __init__(self, result):
        self.failed = result.failed
        self._secrets = result.secrets

    def as_result(self) -> dict:
        if self.failed:
            return {"changed": False, "msg": "metallb_config_objects: the input is invalid; run it with output=objects to see why", "secrets": []}
        return {"changed": False, "msg": f"{len(self._secrets)} Secret(s)", "secrets": self._secrets}


class ActionModule(ControllerCheckAction):
    ARGUMENT_SPEC = METALLB_CONFIG_OBJECTS_ARGSPEC
    _VALID_ARGS = frozenset(METALLB_CONFIG_OBJECTS_ARGSPEC)

    def check(self, args: dict):
        output = args.pop("output")
        args["prefix"] = args.pop("variable_prefix")
        result = ConfigBuilder(**args).run()
        if output == "secrets":
            return _SecretsOutcome(result)
        return result
