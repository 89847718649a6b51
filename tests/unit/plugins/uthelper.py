# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unit tests' shared plumbing: YAML cases beside the test, a module runner, matchers.

Import it as every test imports collection code (ansible-test runs the tests inside the
installed collection)::

    from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import (
        ModuleRunner, load_data, parametrize_cases)

    CASES = load_data(__file__, "cases")          # test_x.yaml beside test_x.py, its "cases" key

    @parametrize_cases(CASES)                     # one pytest case per entry, named by its "id"
    def test_case(case): ...

    run = ModuleRunner(my_module)                 # main() with these args, as Ansible runs it
    code, result, out = run(capsys, {"name": "x", "_ansible_check_mode": True})
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any, Callable, NamedTuple

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal
from ansible.module_utils.common import warnings as module_warnings
from ansible.module_utils.testing import patch_module_args


def import_plugin(name: str):
    """The collection's plugin module ``name`` (``filter.own_address_neighbors``), imported without leaving the
    process in controller mode: importing controller code (a filter, an action plugin) switches module_utils'
    warnings to the display, which later module runs in the same process would not expect."""
    was_controller = module_utils_internal.is_controller
    try:
        return importlib.import_module(f"ansible_collections.baremetal.metallb.plugins.{name}")
    finally:
        module_utils_internal.is_controller = was_controller


def load_data(test_file: str, key: str | None = None, name: str | None = None) -> Any:
    """The YAML beside ``test_file``: ``test_x.py`` reads ``test_x.yaml``, or ``name`` (a path
    relative to the test's directory). With ``key``, only that top-level entry."""
    here = Path(test_file)
    path = here.parent / name if name else here.with_suffix(".yaml")
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return data[key] if key else data


def parametrize_cases(cases: list[dict], argname: str = "case", id_key: str = "id"):
    """``pytest.mark.parametrize`` over ``cases``, each named by its ``id_key``."""
    return pytest.mark.parametrize(argname, cases, ids=[case[id_key] for case in cases])


def is_subset(expected: Any, actual: Any, deep: bool = False) -> bool:
    """Every key of ``expected`` is in ``actual`` with an equal value. ``deep``: nested mappings
    compare the same way (a partial object matches the full one); otherwise values compare whole."""
    if not deep:
        return all(actual.get(key) == value for key, value in expected.items())
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(key in actual and is_subset(value, actual[key], deep=True)
                                                for key, value in expected.items())
    return expected == actual


def assert_matched(expected: list, actual: list, matches: Callable[[Any, Any], bool] = is_subset,
                   what: str = "item") -> None:
    """Each expected entry matches a distinct entry of ``actual`` (``matches(expected, actual)``),
    and no entry of ``actual`` is left over."""
    unmatched = list(actual)
    for entry in expected:
        match = next((candidate for candidate in unmatched if matches(entry, candidate)), None)
        assert match is not None, f"expected {what} {entry!r} not in {unmatched}"
        unmatched.remove(match)
    assert not unmatched, f"unexpected {what}s: {unmatched}"


def assert_expected(code: int, result: dict, expect: dict) -> None:
    """A module run against a case's ``expect``: ``exit`` (the exit code), ``output`` (keys whose
    values equal the result's) and ``msg_has`` (texts the message contains)."""
    assert code == expect["exit"], result
    for key, value in expect.get("output", {}).items():
        assert result[key] == value, f"{key}: {result[key]!r} != {value!r}"
    for text in expect.get("msg_has", []):
        assert text in result["msg"]


class Outcome(NamedTuple):
    """What a module run left: its exit code, the parsed result and the raw output."""

    code: int
    result: dict
    out: str


class ModuleRunner:
    """Run a module's ``main()`` with module arguments, as Ansible runs it, and capture what
    ``exit_json``/``fail_json`` printed.

    The run happens in module mode: a test that imported controller code earlier (a filter, an
    action plugin) leaves the process in controller mode, where module warnings go to the display
    instead of the result. It starts with no warnings or deprecations left over from other tests."""

    def __init__(self, module):
        self.module = module

    def __call__(self, capsys, args: dict) -> Outcome:
        capsys.readouterr()  # output of anything before the run is not the module's
        saved = (module_utils_internal.is_controller, module_warnings._global_warnings, module_warnings._global_deprecations)
        module_utils_internal.is_controller = False
        module_warnings._global_warnings, module_warnings._global_deprecations = {}, {}
        try:
            with patch_module_args(args):
                with pytest.raises(SystemExit) as exit_info:
                    self.module.main()
        finally:
            (module_utils_internal.is_controller, module_warnings._global_warnings,
             module_warnings._global_deprecations) = saved
        out = capsys.readouterr().out
        return Outcome(exit_info.value.code, json.loads(out), out)
