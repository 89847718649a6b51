# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""read_snapshot (what lb_status reads) against the fake dynamic API."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.snapshot import read_snapshot
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.dynamic_api_fake import FakeDynamicApi

MANAGED = {"app.kubernetes.io/managed-by": "baremetal.metallb"}
SERVED = {
    "v1": {"Service": {"namespaced": True}, "Event": {"namespaced": True}, "Node": {"namespaced": False}, "Pod": {"namespaced": True}},
    "discovery.k8s.io/v1": {"EndpointSlice": {"namespaced": True}},
    "metallb.io/v1beta1": {"IPAddressPool": {"namespaced": True}, "L2Advertisement": {"namespaced": True},
                           "BGPAdvertisement": {"namespaced": True}},
    "metallb.io/v1beta2": {"BGPPeer": {"namespaced": True}},
    # no ServiceL2Status: MetalLB older than 0.14.4
}
OBJECTS = {
    "v1": {
        "Service": [
            {"metadata": {"name": "web", "namespace": "demo", "labels": MANAGED}, "spec": {"type": "LoadBalancer"}},
            {"metadata": {"name": "internal", "namespace": "demo", "labels": MANAGED}, "spec": {"type": "ClusterIP"}},
            {"metadata": {"name": "shop", "namespace": "shop", "labels": {}}, "spec": {"type": "LoadBalancer"}},
        ],
        "Event": [
            {"metadata": {"name": "e1", "namespace": "demo"}, "reason": "nodeAssigned",
             "involvedObject": {"kind": "Service", "namespace": "demo", "name": "web"}},
            {"metadata": {"name": "e2", "namespace": "demo"}, "reason": "nodeAssigned",
             "involvedObject": {"kind": "Service", "namespace": "demo", "name": "deleted-service"}},
            {"metadata": {"name": "e3", "namespace": "demo"}, "reason": "Scheduled", "involvedObject": {"kind": "Pod", "name": "web-1"}},
        ],
        "Node": [{"metadata": {"name": "node1"}}, {"metadata": {"name": "node2"}}],
        "Pod": [{"metadata": {"name": "speaker-a", "namespace": "metallb-system"}},
                {"metadata": {"name": "web-1", "namespace": "demo"}}],
    },
    "discovery.k8s.io/v1": {"EndpointSlice": [
        {"metadata": {"name": "web-x", "namespace": "demo", "labels": {"kubernetes.io/service-name": "web"}}},
        {"metadata": {"name": "internal-y", "namespace": "demo", "labels": {"kubernetes.io/service-name": "internal"}}},
    ]},
    "metallb.io/v1beta1": {"IPAddressPool": [{"metadata": {"name": "production-pool", "namespace": "metallb-system"}}]},
}


def names(objects):
    return sorted(o["metadata"]["name"] for o in objects)


@pytest.mark.parametrize("selector, namespaces, services", [
    ("app.kubernetes.io/managed-by=baremetal.metallb", None, ["web"]),
    (None, None, ["shop", "web"]),
    (None, ["shop"], ["shop"]),
], ids=["managed_only", "every_load_balancer", "one_namespace"])
def test_snapshot_reads_load_balancers_and_what_belongs_to_them(selector, namespaces, services):
    snapshot = read_snapshot(None, "metallb-system", selector, namespaces, api=FakeDynamicApi(SERVED, OBJECTS))
    assert names(snapshot["services"]) == services
    assert names(snapshot["endpoint_slices"]) == (["web-x"] if "web" in services else [])
    assert names(snapshot["announcement_events"]) == (["e1"] if "web" in services else [])
    assert names(snapshot["nodes"]) == ["node1", "node2"] and names(snapshot["speaker_pods"]) == ["speaker-a"]
    assert names(snapshot["ip_address_pools"]) == ["production-pool"] and snapshot["bgp_peers"] == []
    assert snapshot["l2_statuses"] is None  # not served: unknown, not "none"
