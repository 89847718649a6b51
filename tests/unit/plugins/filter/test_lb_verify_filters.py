# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lb_verify_plan and lb_verify_report: what the lb_verify role decides, from its cases in
test_lb_verify_filters.yaml, and how whole task results (skipped, failed) reach the report."""

from __future__ import annotations

import copy
import importlib

import pytest

from ansible.module_utils import _internal as module_utils_internal

from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.status import report_cases
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)
SERVICES = report_cases.DATA["services"]


@pytest.fixture(autouse=True)
def filters():
    """Both filters, imported without leaving the process in controller mode (see test_workload_manifests)."""
    was_controller = module_utils_internal.is_controller
    try:
        yield {name: getattr(importlib.import_module(f"ansible_collections.baremetal.metallb.plugins.filter.{name}"), name)
               for name in ("lb_verify_plan", "lb_verify_report")}
    finally:
        module_utils_internal.is_controller = was_controller


def _errors():
    from ansible.errors import AnsibleFilterError  # noqa: PLC0415 (controller code, imported inside the fixture's guard)

    return AnsibleFilterError


@parametrize_cases(CASES["plan"])
def test_plan(filters, case):
    services = [copy.deepcopy(SERVICES[name]) for name in case["services"]]
    plan = filters["lb_verify_plan"](services, **case.get("args", {}))
    for key, value in case["plan"].items():
        assert plan[key] == value, f"{key}: {plan[key]!r}"


@pytest.mark.parametrize("args, message", [
    ({"node_macs": ["02:00:c6:33:64:0b"]}, "lb_verify_node_macs: must be a mapping of node name to MAC address, got list"),
    ({"node_addresses": "198.51.100.11"}, "lb_verify_node_addresses: must be a mapping of node name to address, got str"),
])
def test_plan_refuses_what_it_cannot_use(filters, args, message):
    with pytest.raises(_errors(), match=message):
        filters["lb_verify_plan"]([], **args)


def test_plan_refuses_what_is_not_lb_status(filters):
    with pytest.raises(_errors(), match="the services list that baremetal.metallb.lb_status returns"):
        filters["lb_verify_plan"]({"services": []})


def test_report_from_whole_task_results(filters):
    """As the role calls it: registered results, the plan's names; a skipped check is not a problem."""
    services = [copy.deepcopy(SERVICES["l2_local"]), copy.deepcopy(SERVICES["bgp_cluster"])]
    plan = filters["lb_verify_plan"](services, **CASES["inventory"])
    arp = {"changed": False, "msg": "1 of 1 address(es) failed",
           "addresses": report_cases.leader_verify(plan, ["02:00:c6:33:64:0c", "02:00:c6:33:64:0d"])}
    result = filters["lb_verify_report"](services, arp=arp, bgp={"skipped": True, "changed": False}, plan=plan)
    assert not result["ok"] and result["notes"] == []
    assert result["summary"][1] == "demo/api 203.0.113.10: ok"
    (problem,) = result["problems"]
    assert problem.startswith("demo/web-local: ARP for 198.51.100.210 (duplicate): answered by 2 responders: "
                              "node2 (02:00:c6:33:64:0c) and node3 (02:00:c6:33:64:0d); expected node2")
    assert result["summary"][0] == "demo/web-local 198.51.100.210: " + problem[len("demo/web-local: "):]
    assert "node3 (02:00:c6:33:64:0d)" in result["markdown"] and "answered by nobody" not in result["markdown"]


def test_a_check_that_could_not_run_becomes_a_note(filters):
    services = [copy.deepcopy(SERVICES["l2_local"])]
    failed = {"failed": True, "msg": "expected: 198.51.100.210 -> 'node9', but 'node9' is not a node in 'nodes'"}
    result = filters["lb_verify_report"](services, arp=failed, probe={"failed": True, "msg": "no echo backend"},
                                         plan={"notes": ["BGP routes not checked: no router host"]})
    assert result["notes"] == ["BGP routes not checked: no router host",
                               f"leader_verify could not run: {failed['msg']}", "lb_probe could not run: no echo backend"]
    assert result["services"][0]["wire"]["leader"] is None and result["ok"]
    assert f"- Note: leader_verify could not run: {failed['msg']}" in result["markdown"]


def test_report_refuses_what_is_not_a_task_result(filters):
    with pytest.raises(_errors(), match="leader_verify: give the registered result of the leader_verify task"):
        filters["lb_verify_report"]([], arp=["198.51.100.210"])
