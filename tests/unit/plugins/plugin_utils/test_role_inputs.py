# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""RoleInputs against the cases in test_role_inputs.yaml, and against every role's real argument spec."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.baremetal.metallb.plugins.plugin_utils.role_inputs import RoleInputs, entry_point_options
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__, "cases")
ROLES = pathlib.Path(__file__).resolve().parents[4] / "roles"
# The roles with bool or int options (edge_nodes has none).
SPECS = [path for path in sorted(ROLES.glob("*/meta/argument_specs.yml"))
         if any(spec.get("type") in ("bool", "int")
                for spec in yaml.safe_load(path.read_text())["argument_specs"]["main"]["options"].values())]


@parametrize_cases(CASES)
def test_case(case):
    result = RoleInputs("demo", case["options"]).normalize(case["provided"])
    expected_errors = case.get("errors", [])
    assert len(result.errors) == len(expected_errors), result.errors
    for text, error in zip(expected_errors, result.errors):
        assert text in error, result.errors
    for text in case.get("absent", []):
        assert all(text not in error for error in result.errors), result.errors
    assert result.failed == bool(expected_errors)
    for key, value in case.get("values", {}).items():
        assert result.values[key] == value, (key, result.values)
    if not expected_errors:
        # one key per option, nothing else
        assert sorted(result.values) == sorted(RoleInputs("demo", case["options"]).key(o) for o in case["options"])


def _awx_answer(value):
    """How an AWX survey sends a scalar answer: as a string."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("path", SPECS, ids=[path.parts[-3] for path in SPECS])
def test_every_bool_and_int_option_of_a_role_converts_from_a_survey_answer(path):
    role = path.parts[-3]
    options = entry_point_options(yaml.safe_load(path.read_text()), role)
    # only the scalars: whatever else is required is not what this test is about
    scalars = {name: dict(spec, required=False) for name, spec in options.items() if spec.get("type") in ("bool", "int")}
    inputs = RoleInputs(role, scalars)
    for name, spec in scalars.items():
        for value in [True, False] if spec["type"] == "bool" else [spec.get("default") or 7, 1]:
            typed = inputs.normalize({name: value})
            from_survey = inputs.normalize({name: _awx_answer(value)})
            assert not from_survey.errors, from_survey.errors
            assert from_survey.values == typed.values, (name, value)
            assert from_survey.values[inputs.key(name)] == value and type(from_survey.values[inputs.key(name)]) is type(value)


def test_unknown_entry_point_is_named():
    with pytest.raises(ValueError, match="no entry point 'other'"):
        entry_point_options({"argument_specs": {"main": {"options": {}}}}, "demo", "other")
