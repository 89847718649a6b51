# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Several reads of the Kubernetes API in one module run.

A role's gather step used to run ``kubernetes.core.k8s_info`` once per kind: each run
starts Python, imports the client and discovers the API again (about a second on a
small machine). ``BatchRead`` does the same reads in one process: one discovery per
group version, one LIST per read (paged), results in the API's camelCase shape with
``apiVersion`` and ``kind`` on every item, as ``k8s_info`` returns them. A kind the
API server does not serve (a CRD not installed yet) is ``api_found: false`` with no
resources, not an error, as with ``k8s_info``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError

READ_ARG_SPEC = {
    "key": {"type": "str", "required": True, "no_log": False},
    "api_version": {"type": "str", "default": "v1"},
    "kind": {"type": "str", "required": True},
    "namespace": {"type": "str"},
    "name": {"type": "str"},
    "label_selectors": {"type": "list", "elements": "str", "default": []},
    "field_selectors": {"type": "list", "elements": "str", "default": []},
    "metadata_only": {"type": "bool", "default": False},
}

# What metadata_only keeps. Not annotations: kubectl's last-applied-configuration
# annotation holds a Secret's data.
METADATA_KEPT = ("name", "namespace", "labels", "uid", "resourceVersion", "creationTimestamp", "ownerReferences")
PAGE_SIZE = 500


@dataclass
class Read:
    key: str
    kind: str
    api_version: str = "v1"
    namespace: str | None = None
    name: str | None = None
    label_selectors: list = field(default_factory=list)
    field_selectors: list = field(default_factory=list)
    metadata_only: bool = False

    @property
    def what(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        return f"reading {self.kind} ({self.api_version}){where}"


def check_reads(reads: list[dict]) -> list[Read]:
    """The reads as ``Read`` objects; a repeated key is an error that names it."""
    seen, out = set(), []
    for spec in reads:
        if spec["key"] in seen:
            raise ValueError(f"reads: the key {spec['key']!r} is used twice; give every read its own key")
        seen.add(spec["key"])
        out.append(Read(**{name: value for name, value in spec.items() if name in READ_ARG_SPEC and value is not None}))
    return out


def metadata_only(obj: dict) -> dict:
    """An object reduced to its identity, labels and (Secrets) type: no data, no annotations."""
    meta = obj.get("metadata") or {}
    out = {"apiVersion": obj.get("apiVersion"), "kind": obj.get("kind"),
           "metadata": {name: meta[name] for name in METADATA_KEPT if name in meta}}
    if "type" in obj:
        out["type"] = obj["type"]
    return out


class BatchRead:
    """Run every read; ``resources`` and ``api_found`` by key."""

    def __init__(self, api, page_size: int = PAGE_SIZE) -> None:
        self.api = api
        self.page_size = page_size

    def run(self, reads: list[Read]) -> dict:
        resources, api_found = {}, {}
        for read in reads:
            try:
                api_found[read.key], resources[read.key] = self.read(read)
            except K8sError as exc:
                raise K8sError(f"reads[{read.key}]: {exc}", status=exc.status) from None
        return {"resources": resources, "api_found": api_found}

    def read(self, read: Read) -> tuple[bool, list[dict]]:
        """Whether the kind is served, and the objects found."""
        resource = self.api.resource(read)
        if resource is None:
            return False, []
        items = self._items(read, resource)
        return True, [metadata_only(item) for item in items] if read.metadata_only else items

    def _items(self, read: Read, resource) -> list[dict]:
        # A cluster-scoped kind ignores the namespace, as k8s_info does.
        namespace = read.namespace if getattr(resource, "namespaced", False) else None
        kind = getattr(resource, "kind", read.kind)
        if read.name:
            try:
                obj = self.api.get(read, resource, namespace, name=read.name)
            except K8sError as exc:
                if exc.status == 404:
                    return []
                raise
            return [dict(obj, apiVersion=obj.get("apiVersion") or read.api_version, kind=obj.get("kind") or kind)]
        query = {}
        if read.label_selectors:
            query["label_selector"] = ",".join(read.label_selectors)
        if read.field_selectors:
            query["field_selector"] = ",".join(read.field_selectors)
        items, token = [], None
        while True:
            page = self.api.get(read, resource, namespace, limit=self.page_size, **({"_continue": token} if token else {}), **query)
            # A LIST's items carry no apiVersion and kind for built-in kinds: set them, as k8s_info does.
            items += [dict(item, apiVersion=read.api_version, kind=kind) for item in page.get("items") or []]
            token = (page.get("metadata") or {}).get("continue")
            if not token:
                return items
