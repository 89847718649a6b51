# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every router checked against its own nodes' next hops: verify_plan's ``routers``, the looped
bgp_verify result (router_results) and the report (merge_checks, render_markdown), against the
cases in test_routers.yaml."""

from __future__ import annotations

import copy

from ansible_collections.baremetal.metallb.plugins.module_utils.status.plan import router_results, verify_plan
from ansible_collections.baremetal.metallb.plugins.module_utils.status.report import merge_checks, render_markdown
from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import Nodes
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
INVENTORY = DATA["inventory"]


def _service(case) -> dict:
    service = copy.deepcopy(DATA["service"])
    if "next_hops" in case:
        service["bgp"]["next_hops"] = case["next_hops"]
    return service


def _looped(plan: dict, case: dict) -> dict:
    """What Ansible registers for the bgp_verify task looped over plan['routers']."""
    results = []
    for router in plan["routers"]:
        host = router["host"]
        if host in case["fib"]:
            results.append({"item": router, "prefixes": case["fib"][host], "peers": {}, "failed": False})
        elif host in case.get("failed", {}):
            results.append({"item": router, "failed": True, "msg": case["failed"][host]})
        else:
            results.append({"item": router, "skipped": True})
    return {"results": results, "msg": "All items completed"}


def _run(case):
    services = [_service(case)]
    plan = verify_plan(services, INVENTORY["hostvars"], INVENTORY["groups"], router_hosts=case.get("routers"))
    notes = list(plan["notes"])
    routers = router_results(_looped(plan, case), plan, notes)
    nodes = Nodes(None, plan["node_addresses"])
    merged = merge_checks(services, None, None, None, None, nodes, routers)
    return plan, notes, merged[0], render_markdown(merged, nodes=nodes, notes=notes)


@parametrize_cases(DATA["cases"])
def test_case(case):
    plan, notes, merged, report = _run(case)
    assert {r["host"]: {"nodes": r["nodes"], "prefixes": r["bgp_prefixes"]} for r in plan["routers"]} == case["plan"]
    for router in plan["routers"]:
        assert router["bgp_peers"] == sorted({h for hops in router["bgp_prefixes"].values() for h in hops})
    said = "\n".join(merged["problems"])
    assert merged["ok"] is case["ok"], said
    for text in case.get("says", []):
        assert text in said and text in report, f"{text!r} not in the problems/report:\n{said}\n{report}"
    for text in case.get("report", []):
        assert text in report, f"{text!r} not in the report:\n{report}"
    for text in case.get("never", []):
        assert text not in said and text not in report.split("```mermaid", maxsplit=1)[0], f"{text!r} is said:\n{report}"
    if "notes" in case:
        assert notes == case["notes"]


def test_no_bgp_vip_no_router_check():
    service = _service({})
    service.update(modes=["layer2"], bgp=None)
    assert verify_plan([service], INVENTORY["hostvars"], INVENTORY["groups"])["routers"] == []
