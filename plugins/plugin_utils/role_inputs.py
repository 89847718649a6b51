# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A role's variables as the role acts on them: validated and converted by its argument spec.

Ansible validates a role's variables against ``meta/argument_specs.yml`` but does not convert
them: ``bgp_router_bfd: "false"`` (what an AWX survey sends) passes the check as a bool and the
role then reads the string, which is true in Jinja. Extra vars outrank ``set_fact``, so the
values cannot be fixed in place either. ``RoleInputs`` runs the same validation with
ansible's ``ArgumentSpecValidator`` and returns the converted values (defaults applied, every
sub-option too) under the option names without the role's prefix; the roles read those only.

Two shapes AWX produces are normalized before the validation:

* an empty answer (``""``) to a ``bool``, ``int`` or ``float`` option that is not required
  means "not given": the option's default applies (or none);
* a ``list`` or ``dict`` option given as JSON or YAML text (a survey ``textarea``) is parsed,
  when the text is a list or mapping of that kind.

Every error names the variable; values of ``no_log`` options never appear in a message.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

SCALARS = ("bool", "int", "float")
CONTAINERS = {"list": list, "dict": dict}
REDACTED = "********"


@dataclass
class Normalized:
    """What ``RoleInputs.normalize`` found."""

    values: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    no_log_values: set = field(default_factory=set)

    @property
    def failed(self) -> bool:
        return bool(self.errors)


def _parsed_text(value: str, kind: str):
    """A survey textarea's JSON or YAML, when it is the container the option wants; else None."""
    text = value.strip()
    if not text or text[0] not in "[{":
        return None
    try:
        parsed = json.loads(text)
    except ValueError:
        try:
            parsed = yaml.safe_load(text)
        except yaml.YAMLError:
            return None
    return parsed if isinstance(parsed, CONTAINERS[kind]) else None


def _without_unset(spec: dict, given, validated):
    """``validated`` without the sub-option keys the validator added as null (not given, no default).

    Sub-options stay absent when not given, as in the variables: a module the role hands them to
    then applies its own default, which it would refuse to do for an explicit null.
    """
    options = (spec or {}).get("options")
    if not options:
        return validated
    if isinstance(validated, list):
        given = given if isinstance(given, list) and len(given) == len(validated) else [None] * len(validated)
        return [_without_unset(spec, g, v) for g, v in zip(given, validated)]
    if not isinstance(validated, dict):
        return validated
    given = given if isinstance(given, dict) else {}
    return {key: _without_unset(options.get(key), given.get(key), value) for key, value in validated.items()
            if not (value is None and key not in given and key in options)}


def _redact(message: str, secrets: set) -> str:
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        message = message.replace(secret, REDACTED)
    return message


class RoleInputs:
    """The options of one entry point of a role's argument spec.

    ``role`` is the role's short name (``bgp_router``); its options are named ``<role>_<key>``
    and the normalized values are returned under ``<key>``. An option without that prefix keeps
    its whole name.
    """

    def __init__(self, role: str, options: dict):
        if not isinstance(options, dict):
            raise TypeError(f"{role}: the argument spec's options must be a mapping")
        self.role = role
        self.options = options
        self.prefix = f"{role}_"

    def key(self, option: str) -> str:
        return option[len(self.prefix):] if option.startswith(self.prefix) else option

    def _prepare(self, provided: dict) -> dict:
        params = {}
        for option, spec in self.options.items():
            if option not in provided:
                continue
            value = provided[option]
            kind = (spec or {}).get("type", "str")
            if kind in SCALARS and isinstance(value, str) and not value.strip() and not (spec or {}).get("required"):
                continue  # an empty survey answer: not given
            if kind in CONTAINERS and isinstance(value, str):
                parsed = _parsed_text(value, kind)
                if parsed is not None:
                    value = parsed
            params[option] = value
        return params

    def normalize(self, provided: dict) -> Normalized:
        """``provided``: the variables as templated for the task (any of them may be missing)."""
        result = Normalized()
        secrets = {str(provided[name]) for name, spec in self.options.items()
                   if (spec or {}).get("no_log") and provided.get(name) not in (None, "")}
        params = self._prepare(provided)
        validation = ArgumentSpecValidator(self.options).validate(params)
        result.no_log_values = set(validation._no_log_values) | secrets
        if validation.error_messages:
            result.errors = [f"{self.role}: {_redact(message, result.no_log_values)}"
                             for message in validation.error_messages]
            return result
        result.values = {self.key(option): _without_unset(self.options.get(option), params.get(option), value)
                         for option, value in validation.validated_parameters.items()}
        return result


def entry_point_options(argument_specs: dict, role: str, entry_point: str = "main") -> dict:
    """The options of ``entry_point`` in the parsed ``argument_specs`` mapping of a role."""
    specs = argument_specs.get("argument_specs", argument_specs) if isinstance(argument_specs, dict) else None
    if not isinstance(specs, dict) or not isinstance(specs.get(entry_point), dict):
        known = ", ".join(sorted(specs)) if isinstance(specs, dict) else "none"
        raise ValueError(f"{role}: no entry point {entry_point!r} in meta/argument_specs.yml (there are: {known})")
    return specs[entry_point].get("options") or {}
