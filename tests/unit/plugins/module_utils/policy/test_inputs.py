# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The input checks of WorkloadPolicy against the cases in test_inputs.yaml."""

from __future__ import annotations

import json

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workload_policy import WorkloadPolicy
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, load_data, parametrize_cases

CASES = load_data(__file__, "cases")


@parametrize_cases(CASES)
def test_case(case):
    result = WorkloadPolicy(**case["input"]).run()

    assert_matched(case["errors"], result.errors, what="error")
    assert result.failed == bool(case["errors"])

    summary = result.summary()
    for text in case.get("messages", []):
        assert text in summary, summary
    everything = json.dumps(result.as_result())
    for text in case.get("absent", []):
        assert text not in everything

    if case["errors"]:
        # Bad input: nothing is evaluated, and the message says so.
        assert result.findings == []
        assert "nothing was checked or applied" in summary


def test_every_message_starts_with_its_variable():
    for case in CASES:
        for error in WorkloadPolicy(**case["input"]).run().errors:
            assert error["message"].startswith(error["variable"]), error
            assert error["code"]


def test_normalized_workloads_carry_defaults_and_merged_pod_labels():
    result = WorkloadPolicy(
        workloads=[{"name": "web", "image": "web:1", "ports": [{"port": 80}], "pod_labels": {"b": "own"}}],
        pod_labels={"a": "all", "b": "all"},
        pod_annotations={"example.com/x": "y"},
    ).run()
    assert not result.errors
    workload = result.workloads[0]
    assert workload["namespace"] == "default" and workload["replicas"] == 2
    assert workload["ports"] == [{"port": 80, "target_port": 80, "protocol": "TCP"}]
    assert workload["pod_labels"] == {"a": "all", "b": "own"}
    assert workload["pod_annotations"] == {"example.com/x": "y"}
    assert workload["external_traffic_policy"] == "Cluster" and workload["session_affinity"] == "None"
