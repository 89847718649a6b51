# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A fake of DynamicApi (dynamic_api.py) for the unit tests: served kinds and stored objects as dicts."""

from __future__ import annotations

import copy
import threading
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


def _merged(stored: dict, applied: dict) -> dict:
    """What a server-side apply of ``applied`` makes of ``stored``: its fields set, the rest kept."""
    out = copy.deepcopy(stored)
    for key, value in applied.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merged(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


class FakeApplyApi(FakeDynamicApi):
    """``apply()`` as DynamicApi has it, over the same stored objects.

    ``conflicts``: "Kind ns/name" -> causes raised as a 409; ``served_after``: (api_version, kind)
    -> how many ``resource()`` calls miss before the kind is served (a CRD being established);
    ``calls`` records the applies in the order they were made.
    """

    def __init__(self, served: dict, objects: dict, conflicts: dict | None = None, served_after: dict | None = None) -> None:
        super().__init__(served, objects)
        self.conflicts = conflicts or {}
        self.served_after = dict(served_after or {})
        self.calls: list[tuple[str, bool]] = []
        self.lock = threading.Lock()

    def resource(self, read):
        key = (read.api_version, read.kind)
        if self.served_after.get(key, 0) > 0:
            self.served_after[key] -= 1
            return None
        if key in self.served_after:
            return SimpleNamespace(kind=read.kind, namespaced=True)
        return super().resource(read)

    def apply(self, what, resource, body, namespace, field_manager, force_conflicts=False, dry_run=False):
        label = f"{body['kind']} {namespace + '/' if namespace else ''}{body['metadata']['name']}"
        with self.lock:
            self.calls.append((label, dry_run))
            if label in self.conflicts and not force_conflicts:
                raise K8sError(f"{what}: HTTP 409: Apply failed with a conflict", status=409, causes=self.conflicts[label])
            stored = self.objects.setdefault(body["apiVersion"], {}).setdefault(body["kind"], [])
            found = next((o for o in stored if o["metadata"]["name"] == body["metadata"]["name"]
                          and o["metadata"].get("namespace") == namespace), None)
            after = _merged(found or {}, body)
            if namespace:
                after["metadata"]["namespace"] = namespace
            version = int((found or {}).get("metadata", {}).get("resourceVersion", "0"))
            after["metadata"]["resourceVersion"] = str(version + 1 if after != found else version)
            if not dry_run:
                if found is not None:
                    stored.remove(found)
                stored.append(after)
            return copy.deepcopy(after)
