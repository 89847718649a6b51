# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The service behind workload_policy: check the input, then run the rules.

Plain data in (the module's options), plain data out, so the module, the
action plugin, the filter and the unit tests share one code path.
"""

from __future__ import annotations

import dataclasses

from .argspec import SEVERITIES
from .cluster import ClusterInput
from .rules import RULES, PolicyEngine
from .workloads import InputErrors, WorkloadInput, parse_pools


@dataclasses.dataclass
class PolicyResult:
    errors: list[dict] = dataclasses.field(default_factory=list)
    findings: list[dict] = dataclasses.field(default_factory=list)
    fatal: list[dict] = dataclasses.field(default_factory=list)
    workloads: list[dict] = dataclasses.field(default_factory=list)
    resolved: list[dict] = dataclasses.field(default_factory=list)
    fail_on: list[str] = dataclasses.field(default_factory=list)

    @property
    def failed(self) -> bool:
        return bool(self.errors or self.fatal)

    def counts(self) -> dict:
        return {severity: sum(1 for finding in self.findings if finding["severity"] == severity) for severity in SEVERITIES}

    def summary(self) -> str:
        if self.errors:
            lines = [f"workload_policy: {len(self.errors)} problem(s) in the input; nothing was checked or applied:"]
            lines += [f"- {error['message']}" for error in self.errors]
            return "\n".join(lines)
        counts = self.counts()
        head = (
            f"{len(self.workloads)} workload(s) checked: {counts['error']} error(s), {counts['warning']} warning(s), "
            f"{counts['info']} info finding(s)"
        )
        if not self.fatal:
            return head
        lines = [f"{head}; {len(self.fatal)} match fail_on ({', '.join(self.fail_on)}):"]
        for finding in self.fatal:
            subject = finding["workload"] or finding["object"]
            lines.append(f"- [{finding['severity']}] {finding['rule']} ({subject}): {finding['reason']} Fix: {finding['fix']}")
        return "\n".join(lines)

    def as_result(self) -> dict:
        return {
            "changed": False,
            "msg": self.summary(),
            "errors": self.errors,
            "findings": self.findings,
            "fatal": self.fatal,
            "counts": self.counts(),
            "workloads": self.workloads,
            "resolved": self.resolved,
        }


class WorkloadPolicy:
    """Checks workloads against MetalLB's announcement rules and the cluster's facts."""

    def __init__(
        self,
        workloads: list[dict],
        pools: list[dict] | None = None,
        mode: str | None = None,
        cluster: dict | None = None,
        cluster_objects: dict | None = None,
        pod_labels: dict | None = None,
        pod_annotations: dict | None = None,
        fail_on: list[str] | None = None,
    ):
        self._workloads = workloads
        self._pools = pools
        self._mode = mode
        self._cluster = cluster
        self._cluster_objects = cluster_objects
        self._pod_labels = pod_labels
        self._pod_annotations = pod_annotations
        self._fail_on = ["error"] if fail_on is None else list(fail_on)

    def run(self) -> PolicyResult:
        errors = InputErrors()
        for index, value in enumerate(self._fail_on):
            if value not in SEVERITIES and value not in RULES:
                errors.add(
                    f"fail_on[{index}]", "invalid_fail_on",
                    f"is {value!r}: use a severity ({', '.join(SEVERITIES)}) or a rule id ({', '.join(RULES)})",
                )
        pools = parse_pools(self._pools, errors)
        workloads = WorkloadInput(self._workloads, pools, errors, self._pod_labels, self._pod_annotations).run()
        cluster = ClusterInput(self._cluster, self._cluster_objects, errors).run()
        result = PolicyResult(errors=errors.items, workloads=workloads, fail_on=self._fail_on)
        if errors.items:
            return result
        engine = PolicyEngine(workloads, pools, cluster, self._mode)
        result.findings = engine.run()
        result.resolved = engine.resolved
        result.fatal = [f for f in result.findings if f["severity"] in self._fail_on or f["rule"] in self._fail_on]
        return result
