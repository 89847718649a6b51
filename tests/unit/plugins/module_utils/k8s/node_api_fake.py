# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake of NodeLabels's Node API for the unit tests: Nodes as dicts, merge patches applied."""

from __future__ import annotations

import copy

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.node_labels import MANAGED_ANNOTATION, format_managed


class FakeNodeApi:
    """Nodes as plain dicts; a merge patch applied as the API server would (None deletes)."""

    def __init__(self, cluster: dict, annotation: str = MANAGED_ANNOTATION, fail_on: str | None = None) -> None:
        self.nodes = {}
        for name, spec in cluster.items():
            annotations = dict(spec.get("annotations") or {})
            if "managed" in spec:
                annotations[annotation] = format_managed(spec["managed"])
            if "annotation" in spec:
                annotations[annotation] = spec["annotation"]
            self.nodes[name] = {"metadata": {"name": name, "labels": dict(spec.get("labels") or {}), "annotations": annotations}}
        self.lists = 0
        self.patches: list[tuple[str, dict]] = []
        self.fail_on = fail_on

    def list_nodes(self):
        self.lists += 1
        return copy.deepcopy(list(self.nodes.values()))

    def patch_node(self, name, body):
        if name == self.fail_on:
            raise K8sError(f"nodes: patching Node {name}: HTTP 403: forbidden", status=403)
        self.patches.append((name, copy.deepcopy(body)))
        meta = self.nodes[name]["metadata"]
        for field, changes in body["metadata"].items():
            target = meta.setdefault(field, {})
            for key, value in changes.items():
                if value is None:
                    target.pop(key, None)
                else:
                    target[key] = value
