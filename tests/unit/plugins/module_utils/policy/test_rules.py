# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The policy rules against the cases in test_rules.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.rules import RULES
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workload_policy import WorkloadPolicy
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, is_subset, load_data, parametrize_cases

CASES = load_data(__file__, "cases")


def _run(case: dict):
    result = WorkloadPolicy(**case["input"]).run()
    assert not result.errors, f"the case's input is invalid: {result.errors}"
    return result


@parametrize_cases(CASES)
def test_case(case):
    result = _run(case)
    ignored = set(case.get("ignore", []))
    assert_matched(case["findings"], [finding for finding in result.findings if finding["rule"] not in ignored],
                   what="finding")

    for text in case.get("reasons", []):
        assert any(text in finding["reason"] for finding in result.findings), f"{text!r} in no reason: {result.findings}"
    for text in case.get("fixes", []):
        assert any(text in finding["fix"] for finding in result.findings), f"{text!r} in no fix: {result.findings}"
    for expected, actual in zip(case.get("resolved", []), result.resolved, strict=False):
        assert is_subset(expected, actual), f"{expected} != {actual}"
    if "resolved" in case:
        assert len(result.resolved) == len(case["resolved"])


def test_every_rule_fires_in_some_case_and_stays_quiet_in_another():
    """Each rule id has a case where it fires and a case (with the rule's context) where it does not."""
    fired = {finding["rule"] for case in CASES for finding in _run(case).findings}
    assert fired == set(RULES)
    quiet = {rule for case in CASES for rule in case.get("quiet_for", [])}
    assert quiet == set(RULES)
    for case in CASES:
        rules = {finding["rule"] for finding in _run(case).findings}
        assert not rules & set(case.get("quiet_for", [])), case["id"]


def test_findings_have_the_documented_shape():
    for case in CASES:
        for finding in _run(case).findings:
            assert set(finding) == {"rule", "severity", "workload", "object", "nodes", "reason", "fix"}
            assert finding["rule"] in RULES
            assert finding["severity"] in ("error", "warning", "info")
            assert (finding["workload"] is None) != (finding["object"] is None)
            # One sentence each: ends with a period, no second sentence start after ". "
            for text in (finding["reason"], finding["fix"]):
                assert text.endswith("."), text
                assert ". " not in text[:-1].replace("e.g. ", ""), text


def test_findings_are_stable_across_runs():
    for case in CASES:
        assert _run(case).findings == _run(case).findings


def test_fail_on_severity_and_rule_id():
    case = next(case for case in CASES if case["id"] == "l2_local_fewer_replicas_fires")
    by_severity = WorkloadPolicy(**dict(case["input"], fail_on=["warning"])).run()
    assert by_severity.failed and [f["rule"] for f in by_severity.fatal] == ["l2_local_fewer_replicas_than_nodes"]
    assert "1 match fail_on (warning)" in by_severity.summary()
    by_rule = WorkloadPolicy(**dict(case["input"], fail_on=["l2_local_fewer_replicas_than_nodes"])).run()
    assert by_rule.failed and len(by_rule.fatal) == 1
    default = WorkloadPolicy(**case["input"]).run()
    assert not default.failed and default.fatal == []
    never = WorkloadPolicy(**dict(case["input"], fail_on=[])).run()
    assert not never.failed
