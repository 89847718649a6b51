# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What MetalLB itself says about a Service: its L2 leader and its VIPs.

The leader is read from the ``ServiceL2Status`` the announcing speaker writes
(MetalLB 0.14.4 and later, ``status.node``), or, where that resource does not
exist, from the latest ``nodeAssigned`` event on the Service
(``announcing from node "<node>" with protocol "layer2"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError

L2STATUS_GROUP = "metallb.io"
L2STATUS_VERSION = "v1beta1"
L2STATUS_PLURAL = "servicel2statuses"
NODE_ASSIGNED = re.compile(r'announcing from node "(?P<node>[^"]+)" with protocol "(?P<protocol>[^"]+)"')


@dataclass
class L2Leader:
    node: str
    source: str  # "servicel2status" or "event"
    ingress_ips: list = field(default_factory=list)


def _event_time(event):
    meta = getattr(event, "metadata", None)
    for value in (
        getattr(event, "last_timestamp", None),
        getattr(event, "event_time", None),
        getattr(event, "first_timestamp", None),
        getattr(meta, "creation_timestamp", None),
    ):
        if value is not None:
            return value
    return None


def service_ingress_ips(service) -> list[str]:
    status = getattr(service, "status", None)
    balancer = getattr(status, "load_balancer", None)
    return [entry.ip for entry in (getattr(balancer, "ingress", None) or []) if getattr(entry, "ip", None)]


def l2_leader(client, name: str, namespace: str, metallb_namespace: str) -> L2Leader:
    """The node MetalLB elected to announce Service ``namespace/name`` in L2 mode."""
    ref = f"{namespace}/{name}"
    try:
        service = client.request(f"service: reading Service {ref}", client.core().read_namespaced_service, name, namespace)
    except K8sError as exc:
        if exc.status == 404:
            raise K8sError(f"service: there is no Service {ref}", status=404) from None
        raise
    if getattr(service.spec, "type", None) != "LoadBalancer":
        raise K8sError(f"service: Service {ref} is of type {service.spec.type}, not LoadBalancer; MetalLB does not announce it")
    ingress = service_ingress_ips(service)

    selector = f"metallb.io/service-name={name},metallb.io/service-namespace={namespace}"
    why = ""
    try:
        listing = client.request(
            f"reading ServiceL2Status objects in {metallb_namespace}",
            client.custom().list_namespaced_custom_object,
            L2STATUS_GROUP, L2STATUS_VERSION, metallb_namespace, L2STATUS_PLURAL, label_selector=selector,
        )
        items = listing.get("items", []) if isinstance(listing, dict) else []
    except K8sError as exc:
        if exc.status != 404:
            raise
        items, why = [], " (the ServiceL2Status resource does not exist: MetalLB older than 0.14.4)"
    nodes = sorted({(item.get("status") or {}).get("node") for item in items} - {None, ""})
    if len(nodes) == 1:
        return L2Leader(node=nodes[0], source="servicel2status", ingress_ips=ingress)
    if len(nodes) > 1:
        raise K8sError(
            f"service: {len(items)} ServiceL2Status objects for Service {ref} name different nodes "
            f"({', '.join(nodes)}); is a leader change in progress?"
        )

    # Older MetalLB: the latest layer2 nodeAssigned event of this very Service.
    events = client.request(
        f"reading the events of Service {ref}",
        client.core().list_namespaced_event,
        namespace,
        field_selector=f"involvedObject.kind=Service,involvedObject.name={name},reason=nodeAssigned",
    )
    uid = getattr(service.metadata, "uid", None)
    found = []
    for event in getattr(events, "items", None) or []:
        involved = getattr(event, "involved_object", None)
        if uid and getattr(involved, "uid", None) not in (None, uid):
            continue  # an earlier Service of the same name
        match = NODE_ASSIGNED.search(getattr(event, "message", None) or "")
        if match and match["protocol"] == "layer2":
            found.append((_event_time(event), match["node"]))
    if found:
        dated = [item for item in found if item[0] is not None]
        node = max(dated, key=lambda item: item[0])[1] if dated else found[-1][1]
        return L2Leader(node=node, source="event", ingress_ips=ingress)
    raise K8sError(
        f"service: MetalLB records no L2 leader for Service {ref}: no ServiceL2Status in {metallb_namespace}{why} and no "
        "nodeAssigned event with protocol layer2 (events expire after an hour; is the Service announced in L2 mode?)"
    )
