# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One read of everything a MetalLB status check needs, as plain dicts.

A LIST per kind (never a GET per object), each returned in the API's own camelCase
shape, the shape ``kubernetes.core.k8s_info`` returns, so the same plain-data code
(``policy.cluster``, ``status.services``) reads both. A MetalLB kind whose CRD is
not installed comes back as ``None`` ("unknown"), not as an empty list ("none").
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError

try:
    from kubernetes import client as k8s_client
except ImportError:  # HAS_KUBERNETES in client.py says so
    k8s_client = None

METALLB_GROUP = "metallb.io"
ANNOUNCEMENT_EVENTS = "involvedObject.kind=Service,reason=nodeAssigned"
# key -> (version, plural)
METALLB_KINDS = {
    "ip_address_pools": ("v1beta1", "ipaddresspools"),
    "l2_advertisements": ("v1beta1", "l2advertisements"),
    "bgp_advertisements": ("v1beta1", "bgpadvertisements"),
    "bgp_peers": ("v1beta2", "bgppeers"),
    "l2_statuses": ("v1beta1", "servicel2statuses"),
}


def _plain(client, listing) -> list[dict]:
    return [client.api_client.sanitize_for_serialization(item) for item in listing.items or []]


def read_snapshot(client, metallb_namespace: str, service_selector: str | None = None,
                  service_namespaces: list[str] | None = None) -> dict:
    """Services (type LoadBalancer, optionally by label selector and namespaces), their
    EndpointSlices and the speakers' nodeAssigned Events, Nodes, MetalLB's pods and MetalLB's objects in ``metallb_namespace``."""
    core = client.core()
    kwargs = {"label_selector": service_selector} if service_selector else {}
    if service_namespaces:
        services = []
        for namespace in service_namespaces:
            services += _plain(client, client.request(f"listing Services in {namespace}", core.list_namespaced_service, namespace, **kwargs))
    else:
        services = _plain(client, client.request("listing Services", core.list_service_for_all_namespaces, **kwargs))
    services = [s for s in services if (s.get("spec") or {}).get("type") == "LoadBalancer"]

    discovery = k8s_client.DiscoveryV1Api(client.api_client)
    slices, events = [], []
    for namespace in sorted({(s.get("metadata") or {}).get("namespace", "default") for s in services}):
        slices += _plain(client, client.request(f"listing EndpointSlices in {namespace}",
                                                discovery.list_namespaced_endpoint_slice, namespace))
        # the speakers' "announcing from node X" Events: the only record of where a VIP was announced before
        events += _plain(client, client.request(f"listing Events in {namespace}", core.list_namespaced_event, namespace,
                                                field_selector=ANNOUNCEMENT_EVENTS))
    names = {f"{(s['metadata'].get('namespace'))}/{s['metadata']['name']}" for s in services}
    slices = [s for s in slices
              if f"{s['metadata'].get('namespace')}/{(s['metadata'].get('labels') or {}).get('kubernetes.io/service-name')}" in names]

    snapshot = {
        "services": services,
        "endpoint_slices": slices,
        "announcement_events": [e for e in events if f"{e['involvedObject'].get('namespace')}/{e['involvedObject'].get('name')}" in names],
        "nodes": _plain(client, client.request("listing Nodes", core.list_node)),
        "speaker_pods": _plain(client, client.request(f"listing Pods in {metallb_namespace}", core.list_namespaced_pod, metallb_namespace)),
    }
    custom = client.custom()
    for key, (version, plural) in METALLB_KINDS.items():
        try:
            listing = client.request(f"listing {plural}.{METALLB_GROUP}/{version} in {metallb_namespace}",
                                     custom.list_namespaced_custom_object, METALLB_GROUP, version, metallb_namespace, plural)
        except K8sError as exc:
            if exc.status != 404:
                raise
            snapshot[key] = None  # the CRD is not installed: unknown
            continue
        snapshot[key] = list(listing.get("items", [])) if isinstance(listing, dict) else []
    return snapshot
