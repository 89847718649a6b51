# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pods, PodDisruptionBudgets and Node patches for draining a node, through the dynamic client.

An eviction is a POST of a ``policy/v1`` Eviction to the Pod's ``eviction`` subresource: the
API server refuses it with HTTP 429 while a PodDisruptionBudget covering the pod allows no
disruption (``status.disruptionsAllowed``, kept by kube-controller-manager's disruption
controller), so a drain that waits and retries never takes more than a budget allows.
Raw JSON in and out, so ``maintenance.drain`` runs against a fake in unit tests.
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, Read
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi


class PodApi:
    """The reads and writes of a drain on a ``K8sClient``."""

    PODS = Read(key="pods", kind="Pod")
    PDBS = Read(key="pdbs", kind="PodDisruptionBudget", api_version="policy/v1")
    NODES = Read(key="nodes", kind="Node")

    def __init__(self, client, dynamic=None) -> None:
        self.client = client
        self.api = DynamicApi(client, dynamic)
        self.reader = BatchRead(self.api)

    def pods_on(self, nodes: list[str]) -> list[dict]:
        pods = []
        for node in nodes:
            pods += self.reader.read(Read(key="pods", kind="Pod", field_selectors=[f"spec.nodeName={node}"]))[1]
        return pods

    def pdbs(self) -> list[dict]:
        return self.reader.read(self.PDBS)[1]

    def evict(self, namespace: str, name: str) -> None:
        what = f"evicting Pod {namespace}/{name}"
        body = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": name, "namespace": namespace}}
        eviction = self.api.resource(self.PODS).subresources["eviction"]
        self.client.request(what, eviction.create, body=body, name=name, namespace=namespace, serialize=False)

    def pod_uid(self, namespace: str, name: str) -> str | None:
        """The uid of the Pod of that name now; ``None`` when there is none."""
        found = self.reader.read(Read(key="pod", kind="Pod", namespace=namespace, name=name))[1]
        return (found[0].get("metadata") or {}).get("uid") if found else None

    def patch_node(self, name: str, body: dict) -> None:
        self.api.merge_patch(f"patching Node {name}", self.api.resource(self.NODES), name, body=body)
