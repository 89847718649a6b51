# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake of DynamicApi (batch_read.py) for the unit tests: served kinds and stored objects as dicts."""

from __future__ import annotations

import copy
from types import SimpleNamespace

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError


def _matches(obj: dict, selectors: str | None, fields: bool) -> bool:
    for selector in filter(None, (selectors or "").split(",")):
        key, want = selector.split("=", 1)
        if fields:
            value = obj
            for part in key.split("."):
                value = (value or {}).get(part)
        else:
            value = (obj["metadata"].get("labels") or {}).get(key)
        if value != want:
            return False
    return True


class FakeDynamicApi:
    """``resource()`` and ``get()`` as DynamicApi has them; LISTs paged by ``page_size``.

    ``served``: api_version -> kind -> {namespaced}; ``objects``: api_version -> kind -> objects
    as the API server stores them (LIST items of built-in kinds carry no apiVersion/kind).
    """

    def __init__(self, served: dict, objects: dict, page_size: int | None = None) -> None:
        self.served = served
        self.objects = objects
        self.page_size = page_size
        self.lists = 0

    def resource(self, read):
        kind = self.served.get(read.api_version, {}).get(read.kind)
        return SimpleNamespace(kind=read.kind, namespaced=kind["namespaced"]) if kind else None

    def get(self, read, resource, namespace, name=None, limit=None, _continue=None, label_selector=None, field_selector=None):
        stored = copy.deepcopy(self.objects.get(read.api_version, {}).get(read.kind, []))
        found = [o for o in stored if namespace is None or o["metadata"].get("namespace") == namespace]
        if name is not None:
            for obj in found:
                if obj["metadata"]["name"] == name:
                    return obj
            raise K8sError(f"{read.what}: HTTP 404: not found", status=404)
        self.lists += 1
        found = [o for o in found if _matches(o, label_selector, False) and _matches(o, field_selector, True)]
        start = int(_continue or 0)
        size = self.page_size or limit
        page = {"items": found[start:start + size], "metadata": {}}
        if start + size < len(found):
            page["metadata"]["continue"] = str(start + size)
        return page
