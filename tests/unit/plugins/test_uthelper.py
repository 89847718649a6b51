# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared unit-test plumbing (uthelper.py) and the layout it relies on."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from types import SimpleNamespace

import pytest

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import (
    ModuleRunner,
    assert_matched,
    is_subset,
    load_data,
    parametrize_cases,
)

CASES = load_data(__file__, "cases")


def _main():
    module = AnsibleModule(argument_spec={"name": {"type": "str", "required": True},
                                          "secret": {"type": "str", "no_log": True}},
                           supports_check_mode=True)
    if module.params["name"] == "bad":
        module.fail_json(msg=f"refused {module.params['name']}")
    module.warn("a module warning")
    module.exit_json(changed=not module.check_mode, name=module.params["name"], secret=module.params["secret"])


run = ModuleRunner(SimpleNamespace(main=_main))


@parametrize_cases(CASES)
def test_case(capsys, case):
    code, result, out = run(capsys, case["args"])
    assert code == case["exit"]
    assert is_subset(case["result"], result), result
    for text in case.get("warned", []):
        assert text in json.dumps(result.get("warnings", []))
    for text in case.get("absent", []):
        assert text not in out


def test_cases_are_named_by_their_id(request):
    assert [case["id"] for case in CASES] == ["applies", "check_mode_changes_nothing", "fails", "argument_spec_refuses"]


def test_warnings_reach_the_result_even_after_controller_code(capsys, monkeypatch):
    """A test that imported controller code leaves the process in controller mode; the run is a module's."""
    monkeypatch.setattr(module_utils_internal, "is_controller", True)
    result = run(capsys, {"name": "x"}).result
    assert "a module warning" in json.dumps(result["warnings"])
    assert module_utils_internal.is_controller is True  # restored afterwards


def test_load_data_by_name_and_key():
    assert load_data(__file__, "cases", name="test_uthelper.yaml") == CASES
    with pytest.raises(FileNotFoundError):
        load_data(__file__, name="no_such_file.yaml")


def test_is_subset_shallow_and_deep():
    actual = {"a": 1, "b": {"c": 2, "d": 3}}
    assert is_subset({"a": 1}, actual)
    assert not is_subset({"b": {"c": 2}}, actual)  # shallow: a nested value compares whole
    assert is_subset({"b": {"c": 2}}, actual, deep=True)
    assert not is_subset({"b": {"c": 9}}, actual, deep=True)
    assert not is_subset({"e": None}, actual, deep=True)  # a key must be there in deep mode
    assert is_subset({"e": None}, actual)  # shallow treats a missing key as None, as the tests it replaced did


def test_assert_matched_needs_each_expected_once_and_nothing_left():
    assert_matched([{"code": "a"}, {"code": "a"}], [{"code": "a", "x": 1}, {"code": "a", "x": 2}])
    with pytest.raises(AssertionError, match="expected error"):
        assert_matched([{"code": "a"}, {"code": "a"}], [{"code": "a"}], what="error")
    with pytest.raises(AssertionError, match="unexpected errors"):
        assert_matched([], [{"code": "b"}], what="error")
    assert_matched(["needle"], ["a needle here"], matches=lambda expected, actual: expected in actual)


def test_unit_test_basenames_are_unique():
    """pytest without packages (``pytest tests/unit`` from the checkout) imports a test module by its
    basename: two test files of one name break collection there, though ansible-test (which imports
    them by their full ``ansible_collections`` name) would not notice."""
    root = Path(__file__).resolve().parents[1]
    names = Counter(path.name for path in root.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
