# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The upstream objects adapted to the install options, for server-side apply.

Only what the options ask for is changed, so a field this collection applies is either the
release's value or the user's; everything else (probes, RBAC, the webhook configuration)
stays as MetalLB ships it. The webhook CA bundle and the memberlist Secret are not in the
release and never sent, so they stay owned by the MetalLB controller that writes them.
"""

from __future__ import annotations

import copy

from .digests import pin_image
from .options import OptionsError, check_options, mirrored_image

DEFAULT_NAMESPACE = "metallb-system"
# On every object: names the installer, and gives server-side apply a field this collection
# owns in each object. An object of which the applier owns no field (the release's empty
# webhook certificate Secret, which the controller fills) loses the applier's managedFields
# entry, and every server-side dry run (check mode) then differs from it and reports a change.
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "baremetal.metallb"
POD_SECURITY_LABEL = "pod-security.kubernetes.io/"

# Kinds a MetalLB release (manifest or chart, any flavour) holds that have no namespace.
CLUSTER_SCOPED_KINDS = frozenset((
    "APIService", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "MutatingWebhookConfiguration",
    "Namespace", "PriorityClass", "RuntimeClass", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
))
WEBHOOK_CONFIGURATION_KINDS = frozenset(("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"))
POD_TEMPLATE_KINDS = frozenset(("DaemonSet", "Deployment", "ReplicaSet", "StatefulSet", "Job"))
SPEAKER_CONTAINER = "speaker"
CONTROLLER_CONTAINER = "controller"


class ManifestError(ValueError):
    """The manifest is not a list of Kubernetes objects."""


def is_cluster_scoped(obj: dict) -> bool:
    return obj.get("kind") in CLUSTER_SCOPED_KINDS


def check_objects(documents) -> list[dict]:
    """The documents of a multi-document YAML stream as objects; empty documents (a stray
    ``---``) are dropped, anything that is not an object with a kind and a name raises."""
    if not isinstance(documents, list):
        raise ManifestError(f"the manifest must be a list of objects, not {type(documents).__name__}")
    objects = []
    for index, doc in enumerate(documents):
        if doc is None:
            continue
        if not isinstance(doc, dict):
            raise ManifestError(f"document {index + 1} is not a Kubernetes object (a mapping), but {type(doc).__name__}")
        metadata = doc.get("metadata")
        if not doc.get("apiVersion") or not doc.get("kind") or not isinstance(metadata, dict) or not metadata.get("name"):
            raise ManifestError(f"document {index + 1} has no apiVersion, kind or metadata.name: not a Kubernetes object")
        objects.append(doc)
    return objects


def containers(pod_spec: dict) -> list[dict]:
    return [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]


def pod_spec_of(obj: dict) -> dict | None:
    if obj.get("kind") not in POD_TEMPLATE_KINDS:
        return None
    return ((obj.get("spec") or {}).get("template") or {}).get("spec")


def has_container(obj: dict, kind: str, name: str) -> bool:
    spec = pod_spec_of(obj) if obj.get("kind") == kind else None
    return bool(spec) and any(c.get("name") == name for c in spec.get("containers") or [])


def is_speaker(obj: dict) -> bool:
    return has_container(obj, "DaemonSet", SPEAKER_CONTAINER)


def is_controller(obj: dict) -> bool:
    return has_container(obj, "Deployment", CONTROLLER_CONTAINER)


def source_namespace(objects: list[dict]) -> str:
    """The namespace the release installs into: its Namespace object, else the namespace most
    of its namespaced objects name (a rendered chart), else MetalLB's default."""
    for obj in objects:
        if obj["kind"] == "Namespace":
            return obj["metadata"]["name"]
    counts: dict[str, int] = {}
    for obj in objects:
        namespace = obj["metadata"].get("namespace")
        if namespace and not is_cluster_scoped(obj):
            counts[namespace] = counts.get(namespace, 0) + 1
    return max(sorted(counts), key=counts.get) if counts else DEFAULT_NAMESPACE


def namespace_object(name: str, levels: dict, existing: dict | None = None) -> dict:
    """The Namespace with the pod-security labels: the release's (its other labels and
    annotations kept), or a new one for a chart, which ships none."""
    obj = copy.deepcopy(existing) if existing else {"apiVersion": "v1", "kind": "Namespace", "metadata": {}}
    metadata = obj["metadata"]
    metadata["name"] = name
    labels = {key: value for key, value in (metadata.get("labels") or {}).items() if not key.startswith(POD_SECURITY_LABEL)}
    labels.update({POD_SECURITY_LABEL + mode: level for mode, level in sorted(levels.items())})
    labels[MANAGED_BY_LABEL] = MANAGED_BY
    metadata["labels"] = dict(sorted(labels.items()))
    return obj


def _renamespace_service_ref(client_config: dict | None, source: str, target: str) -> None:
    service = (client_config or {}).get("service")
    if isinstance(service, dict) and service.get("namespace") == source:
        service["namespace"] = target


def _place_speaker(pod_spec: dict, node_selector: dict, tolerations: list[dict]) -> None:
    if node_selector:
        merged = dict(pod_spec.get("nodeSelector") or {})
        merged.update(node_selector)
        pod_spec["nodeSelector"] = dict(sorted(merged.items()))
    if tolerations:
        current = list(pod_spec.get("tolerations") or [])
        pod_spec["tolerations"] = current + [t for t in tolerations if t not in current]


def transform(documents, options: dict | None = None) -> list[dict]:
    """The release's objects adapted to ``options`` (see options.check_options).

    * every namespaced object, and every reference to the release's namespace (RBAC
      subjects, webhook and CRD conversion Services), moved to ``namespace``;
    * the Namespace first, with the pod-security labels (added when the release has none);
    * every object labelled ``app.kubernetes.io/managed-by: baremetal.metallb`` unless it has
      that label already (a rendered chart's objects keep Helm's);
    * images pinned to the digests of ``image_digests`` when given (every image must have one),
      then pulled from ``image_registry`` when given;
    * the speaker DaemonSet's nodeSelector merged with ``speaker_node_selector`` and
      ``speaker_tolerations`` added to its own;
    * ``status`` and null ``creationTimestamp`` dropped: the server owns them.
    Raises OptionsError (bad options, naming the variables) or ManifestError.
    """
    opts = check_options(options)
    objects = check_objects(documents)
    source, target = source_namespace(objects), opts["namespace"]
    out: list[dict] = []
    release_namespace = None
    unpinned: list[str] = []
    for original in objects:
        obj = copy.deepcopy(original)
        obj.pop("status", None)
        metadata = obj["metadata"]
        if "creationTimestamp" in metadata and metadata["creationTimestamp"] is None:
            del metadata["creationTimestamp"]
        metadata["labels"] = dict(sorted({MANAGED_BY_LABEL: MANAGED_BY, **(metadata.get("labels") or {})}.items()))
        kind = obj["kind"]
        if kind == "Namespace":
            if metadata["name"] == source:
                release_namespace = obj
                continue
        elif not is_cluster_scoped(obj):
            metadata["namespace"] = target
        if kind in ("RoleBinding", "ClusterRoleBinding"):
            for subject in obj.get("subjects") or []:
                if subject.get("namespace") == source:
                    subject["namespace"] = target
        elif kind in WEBHOOK_CONFIGURATION_KINDS:
            for webhook in obj.get("webhooks") or []:
                _renamespace_service_ref(webhook.get("clientConfig"), source, target)
        elif kind == "CustomResourceDefinition":
            webhook = ((obj.get("spec") or {}).get("conversion") or {}).get("webhook") or {}
            _renamespace_service_ref(webhook.get("clientConfig"), source, target)
        pod_spec = pod_spec_of(obj)
        if pod_spec:
            for container in containers(pod_spec):
                image = container.get("image")
                if image and opts["image_digests"]:
                    pinned = pin_image(image, opts["image_digests"])
                    if pinned is None:
                        unpinned.append(image)
                    image = pinned or image
                if image:
                    container["image"] = mirrored_image(image, opts["image_registry"])
            if is_speaker(obj):
                _place_speaker(pod_spec, opts["speaker_node_selector"], opts["speaker_tolerations"])
        out.append(obj)
    if unpinned:
        raise OptionsError([
            "metallb_install_image_digests has no digest for " + ", ".join(sorted(set(unpinned)))
            + ": give one for every image of the release (its digest in the registry you pull from, e.g. "
            "`crane digest IMAGE`, or the Digest of `skopeo inspect docker://IMAGE`), or leave the map empty"])
    return [namespace_object(target, opts["pod_security"], release_namespace), *out]
