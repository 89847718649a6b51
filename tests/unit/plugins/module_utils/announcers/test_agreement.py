# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""workload_policy and lb_status tell the same story about who announces.

Every cluster of the policy cases (policy/test_rules.yaml), of the report cases
(status/test_service_report.yaml) and of the announcer cases (test_model.yaml) is fed to
both entry points: ``PolicyEngine`` (behind ``workload_policy``) with the workloads, and
``ServiceReport`` (behind ``lb_status``) with the same cluster as API objects and a
LoadBalancer Service per workload. Where both know the nodes and the advertisements,
their advertising nodes and the reasons for the other nodes must be equal.
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import ClusterInput
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.rules import PolicyEngine
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workloads import InputErrors, WorkloadInput, parse_pools
from ansible_collections.baremetal.metallb.plugins.module_utils.status.services import ServiceReport
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.announcers.cluster_objects import (
    endpoint_slice,
    objects_from_case,
    objects_from_stated,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

RULE_CASES = load_data(__file__, "cases", name="../policy/test_rules.yaml")
REPORT_CASES = load_data(__file__, name="../status/test_service_report.yaml")
MODEL_CASES = load_data(__file__, name="test_model.yaml")
ENDPOINT_REASONS = {"no_endpoints", "no_local_endpoint"}  # the policy check asks before the endpoint rule


def _policy(inputs: dict) -> tuple[dict, list[dict]]:
    """(workload, mode) -> (advertising nodes, {node: reason}) as workload_policy's rules see them."""
    errors = InputErrors()
    pools = parse_pools(inputs.get("pools"), errors)
    workloads = WorkloadInput(inputs["workloads"], pools, errors).run()
    cluster = ClusterInput(inputs.get("cluster"), inputs.get("cluster_objects"), errors).run()
    assert not errors.items, errors.items
    engine = PolicyEngine(workloads, pools, cluster, inputs.get("mode"))
    engine.run()
    seen = {key: (sorted(found.eligible), found.excluded) for key, found in engine.announcers.items()
            if found is not None and not found.assumed}
    return seen, engine.resolved


def _report(objects: dict) -> dict:
    """(Service, mode) -> (advertising nodes, {node: reason}) as lb_status reports them."""
    seen = {}
    for report in ServiceReport(objects).run():
        for mode in report["modes"]:
            section = report[mode]
            reasons = {node: reason for node, reason in section["not_announcing"].items() if reason not in ENDPOINT_REASONS}
            seen[(f"{report['namespace']}/{report['name']}", mode)] = (section["advertising_nodes"], reasons)
    return seen


def _service(ref: str, pool: str | None, policy: str, ips: list[str]) -> dict:
    namespace, name = ref.split("/")
    return {"metadata": {"name": name, "namespace": namespace,
                         "annotations": {"metallb.io/address-pool": pool} if pool else {}},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": policy},
            "status": {"loadBalancer": {"ingress": [{"ip": ip} for ip in ips]}}}


def _compare(policy: dict, report: dict) -> int:
    both = sorted(set(policy) & set(report))
    for key in both:
        eligible, excluded = policy[key]
        assert report[key] == (eligible, {n: r for n, r in excluded.items() if r not in ENDPOINT_REASONS}), \
            f"{key}: lb_status {report[key]} != workload_policy {policy[key]}"
    return len(both)


def _from_rule_case(case: dict) -> int:
    inputs = case["input"]
    policy, resolved = _policy(inputs)
    objects = dict(inputs.get("cluster_objects") or {})
    stated = objects_from_stated(inputs.get("pools"), inputs.get("cluster"))
    objects.update({key: value for key, value in stated.items() if value is not None or key not in objects})
    policies = {f"{w.get('namespace') or 'default'}/{w['name']}": (w.get("external_traffic_policy") or "Cluster", w.get("load_balancer_ips") or [])
                for w in inputs["workloads"]}
    objects["services"] = [_service(entry["workload"], entry["pool"], *policies[entry["workload"]]) for entry in resolved]
    objects.setdefault("endpoint_slices", None)
    return _compare(policy, _report(objects))


def _from_objects_case(case: dict) -> int:
    service = case["service"]
    if any(ad.get("service_selectors") for ad in case.get("l2_ads", []) + case.get("bgp_ads", [])):
        return 0  # workload_policy does not know the Service's labels: it takes every serviceSelector to match
    objects = dict(objects_from_case(case), services=[_service("demo/web", service["pool"], service["policy"], service["ips"])])
    if objects["endpoint_slices"] is None:
        objects["endpoint_slices"] = [endpoint_slice("demo", "web", {})]
    workload = {"name": "web", "namespace": "demo", "image": "echo:1", "replicas": 1, "ports": [{"port": 80}],
                "external_traffic_policy": service["policy"]}
    if service.get("pool"):
        workload["address_pool"] = service["pool"]
    policy, dummy = _policy({"workloads": [workload], "cluster_objects": objects})
    return _compare(policy, _report(objects))


@parametrize_cases(RULE_CASES)
def test_policy_cases_agree(case):
    _from_rule_case(case)


@parametrize_cases(REPORT_CASES + MODEL_CASES)
def test_report_and_model_cases_agree(case):
    compared = _from_objects_case(case)
    selectors = any(ad.get("service_selectors") for ad in case.get("l2_ads", []) + case.get("bgp_ads", []))
    if not selectors and case["id"] != "pool_not_advertised":
        assert compared >= 1, "no mode compared"


def test_the_comparison_covers_most_cases():
    compared = sum(_from_rule_case(case) > 0 for case in RULE_CASES)
    assert compared >= len(RULE_CASES) // 2, f"only {compared} of {len(RULE_CASES)} policy cases compared"
