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


def _condition(obj: dict, kind: str) -> dict:
    return next((c for c in (obj.get("status") or {}).get("conditions") or [] if c.get("type") == kind), {})


def _why(condition: dict) -> str:
    parts = [condition.get("reason"), condition.get("message")]
    return ": ".join(p for p in parts if p)


def _by_name(resources: list[dict]) -> dict:
    return {r["metadata"]["name"]: r for r in resources or []}


def pending_crds(resources: list[dict], names: list[str]) -> list[str]:
    found, pending = _by_name(resources), []
    for name in names:
        if name not in found:
            pending.append(f"CustomResourceDefinition {name}: not found")
            continue
        established = _condition(found[name], "Established")
        if established.get("status") != "True":
            why = _why(established) or "no Established condition yet"
            pending.append(f"CustomResourceDefinition {name}: not Established ({why})")
    return pending


def pending_deployments(resources: list[dict], names: list[str]) -> list[str]:
    found, pending = _by_name(resources), []
    for name in names:
        deployment = found.get(name)
        if deployment is None:
            pending.append(f"Deployment {name}: not found")
            continue
        spec, status = deployment.get("spec") or {}, deployment.get("status") or {}
        wanted = spec.get("replicas", 1)
        available = _condition(deployment, "Available")
        if status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 0):
            pending.append(f"Deployment {name}: the new spec is not rolled out yet")
        elif (status.get("updatedReplicas") or 0) < wanted or (status.get("availableReplicas") or 0) < wanted \
                or available.get("status") != "True":
            why = _why(available) or "no Available condition yet"
            pending.append(f"Deployment {name}: {status.get('availableReplicas') or 0}/{wanted} available, "
                           f"{status.get('updatedReplicas') or 0} updated ({why})")
    return pending


def pending_daemonsets(resources: list[dict], names: list[str]) -> list[str]:
    found, pending = _by_name(resources), []
    for name in names:
        daemonset = found.get(name)
        if daemonset is None:
            pending.append(f"DaemonSet {name}: not found")
            continue
        status = daemonset.get("status") or {}
        desired = status.get("desiredNumberScheduled") or 0
        ready, updated = status.get("numberReady") or 0, status.get("updatedNumberScheduled") or 0
        if status.get("observedGeneration", 0) < daemonset["metadata"].get("generation", 0):
            pending.append(f"DaemonSet {name}: the new spec is not rolled out yet")
        elif desired == 0:
            pending.append(f"DaemonSet {name}: no node to run on (check its nodeSelector and tolerations "
                           "against the nodes' labels and taints)")
        elif ready < desired or updated < desired:
            pending.append(f"DaemonSet {name}: {ready}/{desired} pods ready, {updated} updated")
    return pending


def _endpoint_ready(endpoint: dict) -> bool:
    # EndpointSlice semantics: a missing "ready" condition means ready.
    return (endpoint.get("conditions") or {}).get("ready") is not False


def pending_endpoints(slices: list[dict], services: list[str]) -> list[str]:
    pending = []
    for name in services:
        mine = [s for s in slices or [] if (s["metadata"].get("labels") or {}).get("kubernetes.io/service-name") == name]
        ready = [address for s in mine for e in s.get("endpoints") or [] if _endpoint_ready(e)
                 for address in e.get("addresses") or []]
        if not ready:
            pending.append(f"Service {name}: no ready endpoint yet ({len(mine)} EndpointSlice(s))")
    return pending


PENDING = {
    "CustomResourceDefinition": pending_crds,
    "Deployment": pending_deployments,
    "DaemonSet": pending_daemonsets,
    "EndpointSlice": pending_endpoints,
}


def pending(resources: list[dict], kind: str, names: list[str]) -> list[str]:
    """What is not ready yet among ``names`` of ``kind`` (for EndpointSlice: Service names),
    one sentence each; empty when all are ready."""
    if kind not in PENDING:
        raise ValueError(f"no readiness rule for kind {kind!r}; known: {', '.join(sorted(PENDING))}")
    return PENDING[kind](resources, names)


def changes(applied: dict) -> list:
    """What a kubernetes.core.k8s task applying several objects changed, object by object:
    ``"created Kind ns/name"`` for a new object (its whole body would drown the rest),
    ``{object, before, after}`` with only the fields that differ for an updated one, and
    ``"changed Kind ns/name"`` when no diff was asked for."""
    result = (applied or {}).get("result")
    results = result["results"] if isinstance(result, dict) and isinstance(result.get("results"), list) else [applied or {}]
    out: list = []
    for item in results:
        if not item.get("changed"):
            continue
        name = describe(item.get("result") or {})
        diff = item.get("diff")
        if diff is None:  # not asked for a diff
            out.append(f"changed {name}")
        elif item.get("method") == "create" or not diff.get("before"):  # a (dry-run) apply creating it
            out.append(f"created {name}")
        else:
            out.append({"object": name, "before": diff.get("before", {}), "after": diff.get("after", {})})
    return out
