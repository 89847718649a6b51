# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ServiceReport: which nodes should announce a Service, from API objects (cases in the YAML beside)."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.status.services import ServiceReport, summary_line
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.announcers.cluster_objects import objects_from_case
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


def _objects(case: dict) -> dict:
    service = case["service"]
    annotations = {"metallb.io/address-pool": service["pool"]} if service.get("pool") else {}
    return dict(
        objects_from_case(case),
        l2_statuses=[{"metadata": {"name": "l2-x", "namespace": "metallb-system",
                                   "labels": {"metallb.io/service-name": "web", "metallb.io/service-namespace": "demo"}},
                      "status": {"node": case["leader"]}}] if case.get("leader") else [],
        services=[{"metadata": {"name": "web", "namespace": "demo", "annotations": annotations, "labels": service.get("labels", {})},
                   "spec": {"type": "LoadBalancer", "externalTrafficPolicy": service["policy"]},
                   "status": {"loadBalancer": {"ingress": [{"ip": ip} for ip in service["ips"]]}}}],
        announcement_events=[
            {"involvedObject": {"kind": "Service", "namespace": "demo", "name": "web"}, "reason": "nodeAssigned",
             "message": f'announcing from node "{e["node"]}" with protocol "{e["protocol"]}"', "count": e.get("count", 1),
             "lastTimestamp": e["at"]}
            for e in case.get("events", [])],
    )


@parametrize_cases(CASES)
def test_service_report(case):
    (report,) = ServiceReport(_objects(case)).run()
    for key, want in case["expect"].items():
        got = [f["rule"] for f in report["findings"]] if key == "findings" else report[key]
        if isinstance(want, dict) and isinstance(got, dict):  # the keys the case names
            got = {k: got.get(k, "<missing>") for k in want}
        assert got == want, f"{key}: {got!r} != {want!r}"
    assert summary_line(report).startswith("demo/web ")


def test_without_metallb_crds_the_report_says_so_instead_of_failing():
    objects = _objects(CASES[0])
    for key in ("ip_address_pools", "l2_advertisements", "bgp_advertisements", "bgp_peers", "l2_statuses"):
        objects[key] = None
    (report,) = ServiceReport(objects).run()
    assert report["modes"] == [] and report["address_from_expected_pool"] is None
    assert [f["rule"] for f in report["findings"]] == ["metallb_not_installed"]


def test_only_load_balancer_services_are_reported():
    objects = _objects(CASES[0])
    objects["services"].append({"metadata": {"name": "internal", "namespace": "demo"}, "spec": {"type": "ClusterIP"}})
    assert [r["name"] for r in ServiceReport(objects).run()] == ["web"]
