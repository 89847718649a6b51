# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A workload's Deployment and LoadBalancer Service, as plain dicts.

Built from the normalized workload the policy check saw, so the rules and
the manifests cannot disagree. Only fields we mean to own are set: with
server-side apply, the fields the API server defaults (clusterIP, nodePorts,
probe timings, ...) stay the server's and cause no diff. Keys are in a
fixed order and maps sorted, so the same input always renders the same text.
"""

from __future__ import annotations

from .workloads import ANNOTATION_IPS, ANNOTATION_POOL, ANNOTATION_SHARED, MANAGED_BY, MANAGED_BY_LABEL, SELECTOR_LABEL

HOSTNAME_TOPOLOGY_KEY = "kubernetes.io/hostname"


def _sorted(mapping: dict | None) -> dict:
    return {key: mapping[key] for key in sorted(mapping or {})}


def _text(value) -> str:
    # YAML booleans as Kubernetes writes them, not Python's True/False.
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def selector_labels(workload: dict) -> dict:
    return {SELECTOR_LABEL: workload["name"]}


def object_labels(workload: dict) -> dict:
    return _sorted(dict(workload.get("labels") or {}, **selector_labels(workload), **{MANAGED_BY_LABEL: MANAGED_BY}))


def _container(workload: dict) -> dict:
    container: dict = {"name": workload["name"], "image": workload["image"]}
    if workload.get("args"):
        container["args"] = [str(arg) for arg in workload["args"]]
    if workload.get("env"):
        container["env"] = [{"name": key, "value": _text(value)} for key, value in sorted(workload["env"].items())]
    ports, seen = [], set()
    for port in workload["ports"]:
        key = (port["target_port"], port.get("protocol") or "TCP")
        if key in seen:  # two Service ports onto one container port
            continue
        seen.add(key)
        entry = {}
        if port.get("name"):
            entry["name"] = port["name"]
        entry.update(containerPort=port["target_port"], protocol=key[1])
        ports.append(entry)
    container["ports"] = ports
    probe = workload.get("readiness_probe")
    if probe:
        if probe.get("path"):
            container["readinessProbe"] = {"httpGet": {"path": probe["path"], "port": probe["port"]}}
        else:
            container["readinessProbe"] = {"tcpSocket": {"port": probe["port"]}}
    resources = workload.get("resources") or {}
    parts = {part: {key: _text(value) for key, value in sorted((resources.get(part) or {}).items())} for part in ("limits", "requests")}
    parts = {part: values for part, values in parts.items() if values}
    if parts:
        container["resources"] = parts
    return container


def deployment(workload: dict) -> dict:
    pod_metadata: dict = {"labels": _sorted(dict(workload.get("pod_labels") or {}, **selector_labels(workload)))}
    if workload.get("pod_annotations"):
        pod_metadata["annotations"] = {key: _text(value) for key, value in _sorted(workload["pod_annotations"]).items()}
    pod_spec: dict = {"containers": [_container(workload)]}
    if workload.get("node_selector"):
        pod_spec["nodeSelector"] = {key: _text(value) for key, value in _sorted(workload["node_selector"]).items()}
    if workload.get("node_affinity"):
        expressions = []
        for term in workload["node_affinity"]:
            expression = {"key": term["key"], "operator": term.get("operator") or "In"}
            if term.get("values"):
                expression["values"] = [str(value) for value in term["values"]]
            expressions.append(expression)
        pod_spec["affinity"] = {
            "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": expressions}]}}
        }
    if workload.get("topology_spread"):
        pod_spec["topologySpreadConstraints"] = [
            {
                "maxSkew": 1,
                "topologyKey": HOSTNAME_TOPOLOGY_KEY,
                "whenUnsatisfiable": workload.get("when_unsatisfiable") or "DoNotSchedule",
                "labelSelector": {"matchLabels": selector_labels(workload)},
            }
        ]
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": workload["name"], "namespace": workload["namespace"], "labels": object_labels(workload)},
        "spec": {
            "replicas": workload["replicas"],
            "selector": {"matchLabels": selector_labels(workload)},
            "template": {"metadata": pod_metadata, "spec": pod_spec},
        },
    }


def service(workload: dict) -> dict:
    annotations = {key: _text(value) for key, value in (workload.get("service_annotations") or {}).items()}
    if workload.get("address_pool"):
        annotations[ANNOTATION_POOL] = workload["address_pool"]
    if workload.get("load_balancer_ips"):
        annotations[ANNOTATION_IPS] = ",".join(workload["load_balancer_ips"])
    if workload.get("allow_shared_ip"):
        annotations[ANNOTATION_SHARED] = workload["allow_shared_ip"]
    metadata: dict = {"name": workload["name"], "namespace": workload["namespace"], "labels": object_labels(workload)}
    if annotations:
        metadata["annotations"] = _sorted(annotations)
    ports = []
    for port in workload["ports"]:
        entry = {}
        if port.get("name"):
            entry["name"] = port["name"]
        entry.update(port=port["port"], targetPort=port["target_port"], protocol=port.get("protocol") or "TCP")
        ports.append(entry)
    spec: dict = {
        "type": "LoadBalancer",
        "externalTrafficPolicy": workload.get("external_traffic_policy") or "Cluster",
        "selector": selector_labels(workload),
        "ports": ports,
        "sessionAffinity": workload.get("session_affinity") or "None",
    }
    if spec["sessionAffinity"] == "ClientIP":
        spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": workload.get("session_affinity_timeout") or 10800}}
    families, policy = workload.get("ip_families"), workload.get("ip_family_policy")
    if families:
        spec["ipFamilies"] = list(families)
    if policy or families:
        # stated, or what the families say: two are RequireDualStack, one SingleStack
        spec["ipFamilyPolicy"] = policy or ("RequireDualStack" if len(families) > 1 else "SingleStack")
    return {"apiVersion": "v1", "kind": "Service", "metadata": metadata, "spec": spec}


def workload_manifests(workloads: list[dict]) -> list[dict]:
    """Deployment then Service for each workload, in the workloads' order."""
    objects = []
    for workload in workloads:
        objects += [deployment(workload), service(workload)]
    return objects
