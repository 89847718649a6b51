# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The action plugin behind each read-only check that runs on the controller.

pool_validate and workload_policy need no target host: they take data and
return findings. Running them in the controller's process keeps their Python
requirements on the controller, ships no module, and works for any host in
the play, reachable or not.
"""

from __future__ import annotations

from ansible.plugins.action import ActionBase


class ControllerCheckAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC and implement check(args) -> outcome.

    The outcome has ``as_result()`` (the task result), ``failed`` and,
    optionally, ``warnings`` (a list of sentences).
    """

    ARGUMENT_SPEC: dict = {}
    TRANSFERS_FILES = False
    _requires_connection = False

    def check(self, args: dict):
        raise NotImplementedError

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        # Raises AnsibleActionFail naming the option, as a module would fail.
        dummy, args = self.validate_argument_spec(argument_spec=self.ARGUMENT_SPEC)
        outcome = self.check(args)
        result.update(outcome.as_result())
        if getattr(outcome, "warnings", None):
            result["warnings"] = list(outcome.warnings)
        if outcome.failed:
            result["failed"] = True
        return result
