# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb.l2_leader() against fakes of the Kubernetes API (cases in test_k8s_metallb.yaml).

The real cluster arrives with the Kubernetes lab; until then the API is faked at the
level of the kubernetes client's methods, with the objects' real attribute names.
"""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import pytest
from kubernetes.client.rest import ApiException

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import metallb
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


REASONS = {403: "Forbidden", 404: "Not Found"}


def FakeApiError(status):
    # The library's own exception, as its REST layer raises it for an HTTP error.
    return ApiException(status=status, reason=REASONS[status])


class FakeClient(K8sClient):
    """K8sClient whose API objects are fakes; request() is the real one."""

    def __init__(self, case):
        super().__init__(api_client=None)
        self.case = case
        self.calls = []

    def core(self):
        return SimpleNamespace(read_namespaced_service=self._service, list_namespaced_event=self._events)

    def custom(self):
        return SimpleNamespace(list_namespaced_custom_object=self._l2status)

    def _service(self, name, namespace):
        self.calls.append(("service", namespace, name))
        spec = self.case["service"]
        if "status" in spec:
            raise FakeApiError(spec["status"])
        ingress = [SimpleNamespace(ip=ip, hostname=None) for ip in spec["ingress"]]
        return SimpleNamespace(
            metadata=SimpleNamespace(name=name, namespace=namespace, uid=spec["uid"]),
            spec=SimpleNamespace(type=spec["type"]),
            status=SimpleNamespace(load_balancer=SimpleNamespace(ingress=ingress or None)),
        )

    def _l2status(self, group, version, namespace, plural, label_selector=None):
        self.calls.append(("l2status", group, version, namespace, plural, label_selector))
        items = self.case["l2status"]
        if isinstance(items, dict):
            raise FakeApiError(items["status"])
        return {"apiVersion": f"{group}/{version}", "kind": "ServiceL2StatusList", "items": items}

    def _events(self, namespace, field_selector=None):
        self.calls.append(("events", namespace, field_selector))
        items = [
            SimpleNamespace(
                message=event["message"], reason="nodeAssigned",
                involved_object=SimpleNamespace(kind="Service", name="web", uid=event["uid"]),
                last_timestamp=event["time"], event_time=None, first_timestamp=None,
                metadata=SimpleNamespace(creation_timestamp=None),
            )
            for event in self.case["events"]
        ]
        return SimpleNamespace(items=items)


@parametrize_cases(CASES)
def test_l2_leader(case):
    fake = FakeClient(case)
    if "error" in case:
        with pytest.raises(K8sError) as info:
            metallb.l2_leader(fake, "web", "shop", "metallb-system")
        assert case["error"] in str(info.value)
        return
    leader = metallb.l2_leader(fake, "web", "shop", "metallb-system")
    for key, value in case["leader"].items():
        assert dataclasses.asdict(leader)[key] == value, key


def test_queries_use_metallbs_labels_and_the_event_reason():
    case = next(case for case in CASES if case["id"] == "crd_absent_falls_back_to_the_latest_event")
    fake = FakeClient(case)
    metallb.l2_leader(fake, "web", "shop", "metallb-system")
    assert fake.calls == [
        ("service", "shop", "web"),
        ("l2status", "metallb.io", "v1beta1", "metallb-system", "servicel2statuses",
         "metallb.io/service-name=web,metallb.io/service-namespace=shop"),
        ("events", "shop", "involvedObject.kind=Service,involvedObject.name=web,reason=nodeAssigned"),
    ]
