#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: metallb_upgrade
short_description: Pre-checks before installing MetalLB over a running one, and the storage-version migration after
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - O(step=check), before the apply, reads the MetalLB running in O(namespace) (the image tags of its controller and
    speaker) and the objects of the release as the cluster holds them, and says what the apply will change (images,
    CRD versions added, deprecated or no longer served, the storage version, new objects), which MetalLB objects were
    last written through a deprecated API version (their C(managedFields)), and which CRDs still list old versions in
    C(status.storedVersions). Fails, naming O(allow_downgrade), when O(version) is older than the version running or
    when the running version cannot be told. Reads only.
  - O(step=migrate), after the apply and the waits (MetalLB's conversion webhook must serve), looks at every CRD of
    O(release) whose C(status.storedVersions) lists more than its storage version, rewrites each of its objects unchanged
    (an update through the API stores it at the storage version, converted by the webhook), then sets
    C(status.storedVersions) to the storage version alone, as the Kubernetes documentation on storage version
    migration describes. Nothing of the objects' specs changes; the update is refused and retried when the object
    changed meanwhile.
  - The role P(baremetal.metallb.metallb_install#role) runs both around its apply.
options:
  step:
    description: V(check) before the apply, V(migrate) after it.
    type: str
    required: true
    choices: [check, migrate]
  version:
    description: The MetalLB version about to be installed (C(vX.Y.Z)); needed for O(step=check).
    type: str
    default: ""
  namespace:
    description: The namespace MetalLB runs in.
    type: str
    default: metallb-system
  release:
    description:
      - The release's objects as they will be applied (the C(objects) of M(baremetal.metallb.metallb_release)). Its
        C(CustomResourceDefinition) objects name the CRDs looked at.
    type: list
    elements: dict
    required: true
  allow_downgrade:
    description:
      - Install O(version) even when it is older than the MetalLB running, or when the running one's version cannot be
        told (an image tag that is no release). The role's C(metallb_install_allow_downgrade).
    type: bool
    default: false
extends_documentation_fragment:
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
attributes:
  check_mode:
    support: full
    details: O(step=check) only reads. O(step=migrate) in check mode reports what it would rewrite and writes nothing.
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - Needs C(get) and C(list) on MetalLB's Deployments and DaemonSets, its CRDs and their objects; O(step=migrate) also
    C(update) on those objects and C(patch) on C(customresourcedefinitions/status).
seealso:
  - module: baremetal.metallb.metallb_release
  - module: baremetal.metallb.k8s_apply
"""

EXAMPLES = r"""
- name: Say what installing v0.16.1 over the running MetalLB changes; refuse a downgrade
  baremetal.metallb.metallb_upgrade:
    step: check
    version: v0.16.1
    release: "{{ release.objects }}"
  register: upgrade

- name: After the apply and the waits, store every MetalLB object at its CRD's storage version
  baremetal.metallb.metallb_upgrade:
    step: migrate
    release: "{{ release.objects }}"
"""

RETURN = r"""
action:
  description: O(step=check) - V(install), V(same), V(upgrade), V(downgrade) or V(unknown).
  returned: when O(step=check)
  type: str
  sample: upgrade
installed:
  description: O(step=check) - the MetalLB version running (the oldest of its controller and speakers), or null.
  returned: when O(step=check)
  type: str
  sample: v0.15.3
images:
  description: O(step=check) - the image of each MetalLB workload running, by C(Kind/name).
  returned: when O(step=check)
  type: dict
  sample: {"Deployment/controller": "quay.io/metallb/controller:v0.15.3"}
changes:
  description: O(step=check) - what the apply changes.
  returned: when O(step=check)
  type: dict
  contains:
    images:
      description: One line per container whose image changes.
      type: list
      elements: str
    crds:
      description: One line per CRD version change.
      type: list
      elements: str
    created:
      description: The release's objects the cluster does not hold yet.
      type: list
      elements: str
deprecated:
  description: O(step=check) - objects last written through a deprecated API version, with the field managers.
  returned: when O(step=check)
  type: list
  elements: dict
  sample: [{"object": "BGPPeer/metallb-system/router", "crd": "bgppeers.metallb.io",
            "api_versions": ["metallb.io/v1beta1"], "managers": ["kubectl-client-side-apply"]}]
migrations:
  description:
    - The CRDs whose C(status.storedVersions) lists more than the storage version; with O(step=migrate) also
      C(objects), how many were rewritten (or would be, in check mode).
  returned: always
  type: list
  elements: dict
  sample: [{"crd": "bgppeers.metallb.io", "storage": "v1beta2", "stored_versions": ["v1beta1", "v1beta2"], "objects": 2}]
lines:
  description: O(step=check) - the pre-check as sentences (the role prints them).
  returned: when O(step=check)
  type: list
  elements: str
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, check_reads
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest import upgrade

CRD_API = "apiextensions.k8s.io/v1"
RETRIES = 5


def _read(name: str, kind: str, api_version: str, namespace=None, obj_name=None) -> dict:
    return {"key": name, "kind": kind, "api_version": api_version, "namespace": namespace, "name": obj_name,
            "label_selectors": [], "field_selectors": [], "metadata_only": False}


def release_crds(release: list[dict]) -> list[dict]:
    return [obj for obj in release if obj.get("kind") == "CustomResourceDefinition"]


def read_current(reader: BatchRead, release: list[dict]) -> list[dict]:
    """The release's objects as the cluster holds them (those it holds)."""
    reads = check_reads([_read(str(n), obj["kind"], obj["apiVersion"], (obj["metadata"]).get("namespace"),
                               obj["metadata"]["name"]) for n, obj in enumerate(release)])
    found = reader.run(reads)["resources"]
    return [obj for n in range(len(release)) for obj in found[str(n)]]


def list_objects(client, crd: dict, version: str) -> list[dict]:
    group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
    answer = client.request(f"listing {plural}.{group}", client.custom().list_cluster_custom_object,
                            group, version, plural)
    return answer.get("items", [])


def check(module: K8sModule, client, reader: BatchRead) -> dict:
    params = module.params
    if not upgrade.version_tuple(params["version"]):
        module.fail_json(msg=f"version: {params['version']!r} is not a MetalLB release tag like v0.16.1")
    workloads = reader.run(check_reads([_read("d", "Deployment", "apps/v1", params["namespace"]),
                                        _read("s", "DaemonSet", "apps/v1", params["namespace"])]))["resources"]
    verdict = upgrade.decide(workloads["d"] + workloads["s"], params["version"], params["allow_downgrade"])
    current = read_current(reader, params["release"])
    held_crds = [obj for obj in current if obj.get("kind") == "CustomResourceDefinition"]
    objects = {}
    for crd in held_crds:
        if crd["metadata"]["name"] in upgrade.deprecated_versions(held_crds + release_crds(params["release"])):
            objects[crd["metadata"]["name"]] = list_objects(client, crd, upgrade.storage_version(crd))
    change = upgrade.changes(current, params["release"])
    deprecated = upgrade.deprecated_use(held_crds, objects, release_crds(params["release"]))
    migrate = upgrade.migrations(held_crds)
    result = dict(verdict, changes=change, deprecated=deprecated, migrations=migrate,
                  lines=upgrade.summary(verdict, change, deprecated, migrate))
    if verdict["problems"]:
        module.fail_json(msg="; ".join(verdict["problems"]), changed=False, **result)
    return result


def rewrite(client, crd: dict, version: str, obj: dict) -> None:
    """An update of ``obj`` as read: stored anew at the storage version. On a conflict (changed
    meanwhile) it is read again and written again."""
    group, plural = crd["spec"]["group"], crd["spec"]["names"]["plural"]
    meta = obj["metadata"]
    custom = client.custom()
    for attempt in range(RETRIES):
        what = f"rewriting {plural}.{group} {meta.get('namespace', '')}/{meta['name']}"
        try:
            if meta.get("namespace"):
                client.request(what, custom.replace_namespaced_custom_object, group, version, meta["namespace"],
                               plural, meta["name"], obj)
            else:
                client.request(what, custom.replace_cluster_custom_object, group, version, plural, meta["name"], obj)
            return
        except K8sError as exc:
            if exc.status == 404:
                return  # deleted meanwhile: nothing left to store
            if exc.status != 409 or attempt == RETRIES - 1:
                raise
        obj = (client.request(what, custom.get_namespaced_custom_object, group, version, meta["namespace"], plural,
                              meta["name"]) if meta.get("namespace")
               else client.request(what, custom.get_cluster_custom_object, group, version, plural, meta["name"]))


def patch_stored_versions(client, name: str, patch: list[dict]) -> None:
    """A JSON patch of the CRD's status subresource."""
    from kubernetes.client import ApiextensionsV1Api  # noqa: PLC0415 (client() checked the library)

    client.request(f"setting status.storedVersions of {name}",
                   ApiextensionsV1Api(client.api_client).patch_custom_resource_definition_status, name, patch)


def migrate(module: K8sModule, client, reader: BatchRead) -> dict:
    names = [crd["metadata"]["name"] for crd in release_crds(module.params["release"])]
    reads = check_reads([_read(name, "CustomResourceDefinition", CRD_API, None, name) for name in names])
    found = reader.run(reads)["resources"]
    crds = [obj for name in names for obj in found[name]]
    plan = upgrade.migrations(crds)
    by_name = {crd["metadata"]["name"]: crd for crd in crds}
    for entry in plan:
        crd = by_name[entry["crd"]]
        items = list_objects(client, crd, entry["storage"])
        entry["objects"] = len(items)
        if module.check_mode:
            continue
        for obj in items:
            rewrite(client, crd, entry["storage"], obj)
        # test first: another writer that changed storedVersions meanwhile makes this fail, not vanish
        patch = [{"op": "test", "path": "/status/storedVersions", "value": entry["stored_versions"]},
                 {"op": "replace", "path": "/status/storedVersions", "value": [entry["storage"]]}]
        patch_stored_versions(client, entry["crd"], patch)
    return {"changed": bool(plan), "migrations": plan}


def main() -> None:
    module = K8sModule(
        argument_spec=dict(
            step=dict(type="str", required=True, choices=["check", "migrate"]),
            version=dict(type="str", default=""),
            namespace=dict(type="str", default="metallb-system"),
            release=dict(type="list", elements="dict", required=True),
            allow_downgrade=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    with module.api_errors(changed=False):
        client = module.client()
        reader = BatchRead(DynamicApi(client))
        if module.params["step"] == "check":
            module.exit_json(changed=False, **check(module, client, reader))
        result = migrate(module, client, reader)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
