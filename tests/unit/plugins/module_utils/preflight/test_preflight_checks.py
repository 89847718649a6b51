# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The preflight decisions, one case per finding and its near misses (test_preflight_checks.yaml)."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.checks import FINDINGS, Preflight, check_input, markdown_section, summary_line
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, is_subset, load_data, parametrize_cases

CASES = load_data(__file__, "cases")
INPUT_CASES = load_data(__file__, "input_cases")


def _matches(expected: dict, actual: dict) -> bool:
    """The expected keys equal, and every ``message_has`` text in the message (``fix_has`` in the fix)."""
    plain = {key: value for key, value in expected.items() if key not in ("message_has", "fix_has")}
    return (is_subset(plain, actual) and all(text in actual["message"] for text in expected.get("message_has", []))
            and all(text in actual["fix"] for text in expected.get("fix_has", [])))


@parametrize_cases(CASES)
def test_findings(case):
    found = Preflight(case["objects"], case.get("desired"), ignore_exclude_lb=case.get("ignore_exclude_lb", False),
                      accept=case.get("accept", ())).run()
    assert_matched(case["expect"], found, _matches, what="finding")
    assert all(f["id"] in FINDINGS for f in found)
    order = [f["severity"] for f in found]
    assert order == sorted(order, key=["error", "warning", "info"].index), "errors first"


@parametrize_cases(INPUT_CASES)
def test_input_is_checked_first(case):
    assert check_input(case["router_addresses"], case["accept"]) == case["errors"]


def test_summary_line_says_accepted():
    finding = {"id": "k3s_servicelb", "severity": "error", "message": "m.", "fix": "f.", "accepted": True}
    assert summary_line(finding) == "error k3s_servicelb (accepted): m. Fix: f."


def test_markdown_section_lists_every_finding_with_its_severity():
    findings = Preflight(CASES[1]["objects"]).run()
    text = markdown_section(findings)
    assert text.startswith("## Preflight\n") and "1 finding(s): 1 error, 0 warning, 0 info." in text
    assert "- **error** `k3s_servicelb`: k3s servicelb" in text
    assert "No preflight finding" in markdown_section([])
