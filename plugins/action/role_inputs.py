# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""role_inputs: the calling role's variables, validated and converted by its argument spec.

Runs in the controller's process; the logic is in plugin_utils/role_inputs.py.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

from ansible_collections.baremetal.metallb.plugins.plugin_utils.role_inputs import RoleInputs, entry_point_options

ARGUMENT_SPEC = {
    "role": {"type": "str"},
    "entry_point": {"type": "str", "default": "main"},
    "argument_spec": {"type": "dict"},
}
# What a task result holds besides the values: a role option may not be named like these.
RESERVED = frozenset(("changed", "failed", "skipped", "msg", "warnings", "deprecations", "invocation", "ansible_facts"))


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def _options(self, args: dict) -> tuple[str, dict]:
        role = self._task._role
        name = args["role"] or (role.get_name(include_role_fqcn=False) if role else None)
        if not name:
            raise AnsibleActionFail("role_inputs: give role (the task is not in a role)")
        if args["argument_spec"] is not None:
            return name, args["argument_spec"]
        if role is None or role.get_name(include_role_fqcn=False) != name:
            raise AnsibleActionFail(f"role_inputs: role {name!r} is not the role this task is in; give argument_spec")
        try:
            return name, entry_point_options(role._get_role_argspecs(), name, args["entry_point"])
        except ValueError as exc:
            raise AnsibleActionFail(str(exc)) from exc

    def _provided(self, options: dict, task_vars: dict) -> dict:
        """The option variables as the task sees them (templated), and templated defaults of those not set."""
        given = {name: task_vars[name] for name in options if name in task_vars}
        for name, spec in options.items():
            default = (spec or {}).get("default")
            if name not in given and isinstance(default, str) and "{{" in default:
                given[name] = default
        return self._templar.template(given)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        name, options = self._options(args)
        inputs = RoleInputs(name, options)
        clashes = sorted(inputs.key(option) for option in options if inputs.key(option) in RESERVED)
        if clashes:
            raise AnsibleActionFail(f"role_inputs: option(s) {', '.join(clashes)} of role {name} clash with task result keys")
        normalized = inputs.normalize(self._provided(options, task_vars or {}))
        if normalized.failed:
            result.update(failed=True, errors=normalized.errors,
                          msg=f"{name}: invalid input, nothing was read or changed:\n" + "\n".join(normalized.errors))
            return result
        result.update(normalized.values)
        result["changed"] = False
        # The values may hold secrets (no_log options, an inline kubeconfig): never shown.
        result["_ansible_no_log"] = True
        return result
