# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kubernetes library's dynamic client behind one small interface: discovery, raw GETs,
server-side apply and merge patches. Reads in batches (batch_read.py), applies in waves
(server_side_apply.py) and Node labels all go through it; unit tests pass a fake instead."""
from __future__ import annotations

import typing as t

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient

try:
    from kubernetes.dynamic import DynamicClient
    from kubernetes.dynamic.exceptions import ResourceNotFoundError
except ImportError:  # HAS_KUBERNETES in client.py says so
    DynamicClient = None
    ResourceNotFoundError = LookupError

if t.TYPE_CHECKING:  # only for the annotations: batch_read does not need this module
    from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import Read


class DynamicApi:
    """The kubernetes library's dynamic client: discovery per group version, raw JSON answers."""

    def __init__(self, client: K8sClient, dynamic=None) -> None:
        self.client = client
        self.dynamic = dynamic or client.request("discovering the API", DynamicClient, client.api_client)

    def resource(self, read: Read):
        """The API resource serving ``read``'s kind, or None when the server has none."""
        try:
            return self.client.request(f"{read.what}: discovery", self.dynamic.resources.get,
                                       api_version=read.api_version, kind=read.kind)
        except ResourceNotFoundError:
            return None

    def get(self, read: Read, resource, namespace: str | None, **query) -> dict:
        response = self.client.request(read.what, resource.get, namespace=namespace, serialize=False, **query)
        return self.client.parse_json(read.what, response)

    def apply(self, what: str, resource, body: dict, namespace: str | None, field_manager: str,
              force_conflicts: bool = False, dry_run: bool = False) -> dict:
        """A server-side apply (``dryRun=All`` when ``dry_run``); the object as the API server returns it."""
        response = self.client.request(what, self.dynamic.server_side_apply, resource, body=body, namespace=namespace,
                                       field_manager=field_manager, force_conflicts=True if force_conflicts else None,
                                       dry_run="All" if dry_run else None, serialize=False)
        return self.client.parse_json(what, response)

    def merge_patch(self, what: str, resource, name: str, body: dict, namespace: str | None = None) -> dict:
        """A JSON merge patch (RFC 7386: ``None`` deletes a key); the object as the API server returns it."""
        response = self.client.request(what, resource.patch, body=body, name=name, namespace=namespace,
                                       content_type="application/merge-patch+json", serialize=False)
        return self.client.parse_json(what, response)
