# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One read of everything a MetalLB status check needs, as plain dicts.

A LIST per kind (never a GET per object), through ``BatchRead``, each returned in the
API's own camelCase shape, the shape ``kubernetes.core.k8s_info`` returns, so the same plain-data code
(``policy.cluster``, ``status.services``) reads both. A MetalLB kind whose CRD is
not installed comes back as ``None`` ("unknown"), not as an empty list ("none").
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, Read
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi

ANNOUNCEMENT_EVENTS = "involvedObject.kind=Service,reason=nodeAssigned"
# key -> (apiVersion, kind)
METALLB_KINDS = {
    "ip_address_pools": ("metallb.io/v1beta1", "IPAddressPool"),
    "l2_advertisements": ("metallb.io/v1beta1", "L2Advertisement"),
    "bgp_advertisements": ("metallb.io/v1beta1", "BGPAdvertisement"),
    "bgp_peers": ("metallb.io/v1beta2", "BGPPeer"),
    "l2_statuses": ("metallb.io/v1beta1", "ServiceL2Status"),
    "bgp_statuses": ("metallb.io/v1beta1", "ServiceBGPStatus"),  # v0.15+: status.bgp_status
}


def read_snapshot(client, metallb_namespace: str, service_selector: str | None = None,
                  service_namespaces: list[str] | None = None, api=None) -> dict:
    """Services (type LoadBalancer, optionally by label selector and namespaces), their
    EndpointSlices and the speakers' nodeAssigned Events, Nodes, MetalLB's pods and MetalLB's objects in ``metallb_namespace``."""
    reader = BatchRead(api or DynamicApi(client))

    def items(key: str, kind: str, **read) -> list[dict]:
        return reader.read(Read(key=key, kind=kind, **read))[1]

    selectors = [service_selector] if service_selector else []
    services = []
    for namespace in service_namespaces or [None]:
        services += items("services", "Service", namespace=namespace, label_selectors=selectors)
    services = [s for s in services if (s.get("spec") or {}).get("type") == "LoadBalancer"]

    slices, events = [], []
    for namespace in sorted({(s.get("metadata") or {}).get("namespace", "default") for s in services}):
        slices += items("endpoint_slices", "EndpointSlice", api_version="discovery.k8s.io/v1", namespace=namespace)
        # the speakers' "announcing from node X" Events: the only record of where a VIP was announced before
        events += items("announcement_events", "Event", namespace=namespace, field_selectors=[ANNOUNCEMENT_EVENTS])
    names = {f"{(s['metadata'].get('namespace'))}/{s['metadata']['name']}" for s in services}
    slices = [s for s in slices
              if f"{s['metadata'].get('namespace')}/{(s['metadata'].get('labels') or {}).get('kubernetes.io/service-name')}" in names]

    snapshot = {
        "services": services,
        "endpoint_slices": slices,
        "announcement_events": [e for e in events if f"{e['involvedObject'].get('namespace')}/{e['involvedObject'].get('name')}" in names],
        "nodes": items("nodes", "Node"),
        "speaker_pods": items("speaker_pods", "Pod", namespace=metallb_namespace),
    }
    for key, (api_version, kind) in METALLB_KINDS.items():
        found, objects = reader.read(Read(key=key, kind=kind, api_version=api_version, namespace=metallb_namespace))
        snapshot[key] = objects if found else None  # the CRD is not installed: unknown
    return snapshot
