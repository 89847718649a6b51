# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Whether the API server's copy of an object is ready: CRDs Established, Deployments and
DaemonSets rolled out and available, Services with a ready endpoint. One sentence per object
that is not, saying why; used by metallb_install's wait and by k8s_apply's ``wait``."""

from __future__ import annotations


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
