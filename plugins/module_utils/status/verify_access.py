# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A read-only identity for verify.yml: the RBAC objects, and a kubeconfig that uses its token.

The rules are derived from what ``k8s.snapshot.read_snapshot`` (behind ``lb_status``, the
only task of ``lb_verify`` that talks to the API server) reads, so they stay exactly that:
``list`` (one LIST per kind, never a GET, never a watch) on

* Services, Nodes, Events and EndpointSlices in any namespace (ClusterRole + ClusterRoleBinding),
* Pods and MetalLB's objects in MetalLB's namespace only (Role + RoleBinding there).

API discovery (``/api``, ``/apis``) needs no rule: Kubernetes grants it to every
authenticated user (ClusterRole ``system:discovery``).
"""
from __future__ import annotations

import copy

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.snapshot import METALLB_KINDS

DEFAULT_NAME = "baremetal-metallb-verify"
DEFAULT_NAMESPACE = "metallb-system"
VERBS = ["list"]
TOKEN_TYPE = "kubernetes.io/service-account-token"
SA_ANNOTATION = "kubernetes.io/service-account.name"
LABELS = {"app.kubernetes.io/managed-by": "baremetal.metallb", "app.kubernetes.io/component": "verify"}

# (apiGroup, plural) read across namespaces
CLUSTER_READS = [("", "events"), ("", "nodes"), ("", "services"), ("discovery.k8s.io", "endpointslices")]


def plural(kind: str) -> str:
    lower = kind.lower()
    return lower + ("es" if lower.endswith("s") else "s")


def metallb_reads() -> list[tuple[str, str]]:
    """(apiGroup, plural) read in MetalLB's namespace: its pods and its objects."""
    return [("", "pods")] + sorted((api_version.split("/", maxsplit=1)[0], plural(kind)) for api_version, kind in METALLB_KINDS.values())


def rules(reads: list[tuple[str, str]]) -> list[dict]:
    groups: dict[str, list[str]] = {}
    for group, resource in reads:
        groups.setdefault(group, []).append(resource)
    return [{"apiGroups": [group], "resources": sorted(resources), "verbs": list(VERBS)}
            for group, resources in sorted(groups.items())]


def _meta(name: str, namespace: str | None = None, **extra) -> dict:
    meta = {"name": name, "labels": dict(LABELS), **extra}
    if namespace:
        meta["namespace"] = namespace
    return meta


def objects(name: str = DEFAULT_NAME, namespace: str = DEFAULT_NAMESPACE, metallb_namespace: str = DEFAULT_NAMESPACE,
            token_secret: bool = True) -> list[dict]:
    """The ServiceAccount ``namespace/name``, what it may read, and (``token_secret``) a Secret the
    token controller fills with a long-lived token for it."""
    subject = [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    out = [
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _meta(name, namespace)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": _meta(name),
         "rules": rules(CLUSTER_READS)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": _meta(name),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
         "subjects": copy.deepcopy(subject)},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _meta(name, metallb_namespace),
         "rules": rules(metallb_reads())},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": _meta(name, metallb_namespace),
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": name},
         "subjects": copy.deepcopy(subject)},
    ]
    if token_secret:
        out.append({"apiVersion": "v1", "kind": "Secret", "type": TOKEN_TYPE,
                    "metadata": _meta(f"{name}-token", namespace, annotations={SA_ANNOTATION: name})})
    return out


class KubeconfigError(ValueError):
    """The admin kubeconfig has no usable cluster entry."""


def token_kubeconfig(admin: dict, token: str, user: str = DEFAULT_NAME, context: str = "") -> dict:
    """A kubeconfig for the same API server as ``admin`` (its current context, or ``context``)
    that authenticates with ``token`` only: the cluster entry (server, CA) is copied, nothing of
    the admin's credentials."""
    if not isinstance(admin, dict):
        raise KubeconfigError("the kubeconfig is not a mapping")
    wanted = context or admin.get("current-context")
    contexts = {c.get("name"): c.get("context") or {} for c in admin.get("contexts") or []}
    if wanted not in contexts:
        raise KubeconfigError(f"the kubeconfig has no context {wanted!r} (contexts: {', '.join(sorted(map(str, contexts)))})")
    cluster_name = contexts[wanted].get("cluster")
    clusters = {c.get("name"): c.get("cluster") for c in admin.get("clusters") or []}
    if not clusters.get(cluster_name) or not clusters[cluster_name].get("server"):
        raise KubeconfigError(f"the kubeconfig's context {wanted!r} names cluster {cluster_name!r}, which has no server")
    if not token:
        raise KubeconfigError("no token: the ServiceAccount token Secret is still empty")
    return {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": cluster_name, "cluster": copy.deepcopy(clusters[cluster_name])}],
        "users": [{"name": user, "user": {"token": token}}],
        "contexts": [{"name": user, "context": {"cluster": cluster_name, "user": user}}],
        "current-context": user,
    }
