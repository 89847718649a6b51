# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an install consists of, whether the API server's copies of it are ready, and the
order to delete it in. Everything is read from the (transformed) objects, never assumed:
the webhook Service's name, for one, changed between MetalLB releases."""

from __future__ import annotations

from .transform import WEBHOOK_CONFIGURATION_KINDS, is_cluster_scoped, is_controller, is_speaker, pod_spec_of, containers


def ref(obj: dict) -> dict:
    """The smallest definition kubernetes.core.k8s needs to find (and delete) an object."""
    metadata = {"name": obj["metadata"]["name"]}
    if obj["metadata"].get("namespace"):
        metadata["namespace"] = obj["metadata"]["namespace"]
    return {"apiVersion": obj["apiVersion"], "kind": obj["kind"], "metadata": metadata}


def describe(obj: dict) -> str:
    metadata = obj.get("metadata") or {}
    where = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{obj.get('kind')} {where}{metadata.get('name')}"


def _names(objects: list[dict], kind: str) -> list[str]:
    return [obj["metadata"]["name"] for obj in objects if obj["kind"] == kind]


def summary(objects: list[dict]) -> dict:
    namespace = next((obj["metadata"]["name"] for obj in objects if obj["kind"] == "Namespace"), None)
    services_in_release = {(obj["metadata"].get("namespace"), obj["metadata"]["name"])
                           for obj in objects if obj["kind"] == "Service"}
    webhook_services: list[str] = []

    def add_service(client_config):
        service = (client_config or {}).get("service") or {}
        key = (service.get("namespace"), service.get("name"))
        # Only Services the release itself creates: their endpoints are ours to wait for.
        if key in services_in_release and key[1] not in webhook_services:
            webhook_services.append(key[1])

    for obj in objects:
        if obj["kind"] in WEBHOOK_CONFIGURATION_KINDS:
            for webhook in obj.get("webhooks") or []:
                add_service(webhook.get("clientConfig"))
        elif obj["kind"] == "CustomResourceDefinition":
            add_service((((obj.get("spec") or {}).get("conversion") or {}).get("webhook") or {}).get("clientConfig"))
    images = sorted({c["image"] for obj in objects for c in containers(pod_spec_of(obj) or {}) if c.get("image")})
    return {
        "namespace": namespace,
        "crds": _names(objects, "CustomResourceDefinition"),
        "deployments": _names(objects, "Deployment"),
        "daemonsets": _names(objects, "DaemonSet"),
        "controller": next((obj["metadata"]["name"] for obj in objects if is_controller(obj)), None),
        "speaker": next((obj["metadata"]["name"] for obj in objects if is_speaker(obj)), None),
        "webhook_services": webhook_services,
        "webhook_configurations": [obj["metadata"]["name"] for obj in objects if obj["kind"] in WEBHOOK_CONFIGURATION_KINDS],
        "images": images,
        "objects": [describe(obj) for obj in objects],
        "namespaced_objects": [describe(obj) for obj in objects if not is_cluster_scoped(obj)],
    }


def deletion_order(objects: list[dict]) -> list[dict]:
    """References to delete, in order: the webhook configurations first (with the controller
    gone they would refuse every MetalLB object), then the namespaced objects (workloads
    first), the Namespace, the cluster RBAC, and the CRDs last (deleting a CRD deletes every
    object of its kind: the user's pools, peers and advertisements)."""
    webhooks = [obj for obj in objects if obj["kind"] in WEBHOOK_CONFIGURATION_KINDS]
    namespaced = [obj for obj in reversed(objects) if not is_cluster_scoped(obj)]
    namespaces = [obj for obj in objects if obj["kind"] == "Namespace"]
    crds = [obj for obj in objects if obj["kind"] == "CustomResourceDefinition"]
    others = [obj for obj in reversed(objects) if is_cluster_scoped(obj) and obj not in webhooks + namespaces + crds]
    return [ref(obj) for obj in webhooks + namespaced + namespaces + others + crds]
