# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""parse_test_output() against recorded frr-reload.py --test output (test_reload_diff.yaml)."""

from __future__ import annotations

import pathlib

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.redact import find_secrets
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.reload_diff import (
    ReloadOutputError,
    parse_test_output,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE / "fixtures"
CASES = load_data(__file__)
# The candidate of the "pw" recording, whose secret must never come out.
SECRETS = find_secrets(" neighbor METALLB password Sw0rdf1sh!\n")


def _output(case: dict) -> tuple[str, str]:
    if "fixture" in case:
        name = case["fixture"]
        return (FIXTURES / f"reload_test_{name}.stdout").read_text(), (FIXTURES / f"reload_test_{name}.stderr").read_text()
    return case.get("stdout", ""), case.get("stderr", "")


@parametrize_cases(CASES)
def test_case(case):
    stdout, stderr = _output(case)
    if "error" in case:
        with pytest.raises(ReloadOutputError) as info:
            parse_test_output(stdout, stderr)
        assert case["error"] in str(info.value)
        return
    diff = parse_test_output(stdout, stderr)
    assert diff.add_lines(SECRETS) == case["add"]
    assert diff.delete_lines(SECRETS) == case["delete"]
    assert diff.empty == case.get("empty", False)
    prepared = diff.prepared("/etc/frr/frr.conf", SECRETS)
    for text in case.get("prepared_has", []):
        assert text in prepared, prepared
    for text in case.get("prepared_lacks", []):
        assert text not in prepared, prepared


def test_secret_is_masked_even_without_the_secret_list():
    """The password command pattern alone masks it (defence in depth)."""
    stdout = (FIXTURES / "reload_test_pw.stdout").read_text()
    diff = parse_test_output(stdout)
    assert "Sw0rdf1sh" not in " ".join(diff.add_lines())
    assert "Sw0rdf1sh" not in diff.prepared("/etc/frr/frr.conf")
