# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an install over a running MetalLB means, decided from what the cluster holds and what
the release brings (no API access here: the module ``metallb_upgrade`` reads and writes).

* ``installed_version``: the version running, from the image tags of MetalLB's controller and
  speaker containers (the oldest when a rollout stopped half way).
* ``direction`` / ``decide``: install, same, upgrade, downgrade or unknown; a downgrade (and an
  installed version that cannot be told) is refused unless ``metallb_install_allow_downgrade``.
* ``changes``: what the apply will change that matters to a user: images, CRD versions (added,
  removed, deprecated, storage version), objects the release adds.
* ``deprecated_use``: objects last written through a deprecated API version (their
  ``managedFields``), and CRDs whose ``status.storedVersions`` still lists versions other than
  the storage version (objects in etcd may still be encoded at those).
* ``migrations``: the CRDs whose objects must be rewritten at the storage version, and the
  ``storedVersions`` to set afterwards (Kubernetes' "Upgrade existing objects to a new stored
  version": rewrite every object, then drop the old versions from ``status.storedVersions``).
"""

from __future__ import annotations

import re

ALLOW_DOWNGRADE = "metallb_install_allow_downgrade"
COMPONENTS = ("controller", "speaker")
_TAG = re.compile(r"^v([0-9]+)\.([0-9]+)\.([0-9]+)$")


def version_tuple(version) -> tuple[int, int, int] | None:
    match = _TAG.match(str(version or ""))
    return tuple(int(part) for part in match.groups()) if match else None


def image_tag(image: str) -> str:
    """The tag of an image reference (``repo:tag@sha256:...`` too); "" without one."""
    name = str(image or "").split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return last.rsplit(":", 1)[1] if ":" in last else ""


def _containers(workload: dict) -> list[dict]:
    return ((workload.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []


def image_name(image: str) -> str:
    """The last path element of an image's repository (``speaker`` of ``quay.io/metallb/speaker:v1``)."""
    name = str(image or "").split("@", 1)[0].rsplit("/", 1)[-1]
    return name.split(":", 1)[0]


def running_images(workloads: list[dict]) -> dict[str, str]:
    """``{"Deployment/controller": image, "DaemonSet/speaker": image}``: MetalLB's own containers
    of the given workloads, an image named controller or speaker (any registry or mirror path);
    frr-k8s's container named controller runs the frr-k8s image and does not count."""
    out = {}
    for obj in workloads:
        for container in _containers(obj):
            if image_name(container.get("image", "")) in COMPONENTS:
                out[f"{obj.get('kind')}/{obj['metadata']['name']}"] = container.get("image", "")
    return out


def installed_version(workloads: list[dict]) -> dict:
    """``{"version": oldest tag or None, "images": {...}, "unknown": [workload, ...]}``; version
    None and no images: MetalLB is not installed (in this namespace)."""
    images = running_images(workloads)
    tags = {where: image_tag(image) for where, image in images.items()}
    unknown = sorted(where for where, tag in tags.items() if version_tuple(tag) is None)
    known = sorted((version_tuple(tag), tag) for tag in tags.values() if version_tuple(tag) is not None)
    return {"version": known[0][1] if known else None, "images": images, "unknown": unknown,
            "mixed": len(set(tags.values())) > 1}


def _listing(images: dict, keys=None) -> str:
    return ", ".join(f"{key} {images[key]}" for key in sorted(keys if keys is not None else images))


def direction(installed: str | None, target: str) -> str:
    """install (nothing running), same, upgrade, downgrade, or unknown (a tag that is no release)."""
    if installed is None:
        return "install"
    old, new = version_tuple(installed), version_tuple(target)
    if old is None or new is None:
        return "unknown"
    return "same" if old == new else "upgrade" if old < new else "downgrade"


def decide(workloads: list[dict], target: str, allow_downgrade: bool) -> dict:
    """The verdict on installing ``target`` over ``workloads`` (MetalLB's Deployments and
    DaemonSets as read). ``problems``: sentences that stop the run, naming the variable."""
    found = installed_version(workloads)
    action = "unknown" if found["unknown"] else direction(found["version"], target)
    problems, notes = [], []
    if action == "downgrade" and not allow_downgrade:
        problems.append(
            f"metallb_install_version: {target} is older than the MetalLB {found['version']} running "
            f"({_listing(found['images'])}). A downgrade is refused: objects "
            f"written by the newer release may use fields or API versions {target} does not know, and its CRDs would "
            f"replace the newer ones. Set {ALLOW_DOWNGRADE}: true to install {target} anyway")
    if action == "unknown" and not allow_downgrade:
        problems.append(
            f"metallb_install_version: the MetalLB running has image tags that are no release version "
            f"({_listing(found['images'], found['unknown'])}), so it cannot be told whether "
            f"{target} is an upgrade or a downgrade. Set {ALLOW_DOWNGRADE}: true to install {target} anyway")
    old, new = version_tuple(found["version"]), version_tuple(target)
    if action == "upgrade" and old and new and (new[0], new[1]) > (old[0], old[1] + 1):
        notes.append(f"{found['version']} -> {target} skips minor releases: read the release notes of each "
                     f"one in between (MetalLB documents upgrades one minor at a time)")
    if found["mixed"]:
        notes.append("the controller and the speakers run different versions (a rollout that did not finish): "
                     + _listing(found["images"]))
    if action == "downgrade" and allow_downgrade:
        notes.append(f"downgrade from {found['version']} to {target}, allowed by {ALLOW_DOWNGRADE}")
    return {"action": action, "installed": found["version"], "target": target, "images": found["images"],
            "problems": problems, "notes": notes}


def _crd_versions(crd: dict) -> dict[str, dict]:
    return {v["name"]: {"served": bool(v.get("served")), "storage": bool(v.get("storage")),
                        "deprecated": bool(v.get("deprecated"))}
            for v in (crd.get("spec") or {}).get("versions") or []}


def storage_version(crd: dict) -> str | None:
    return next((name for name, v in _crd_versions(crd).items() if v["storage"]), None)


def crd_changes(current: dict, release: dict) -> list[str]:
    """What the release's CRD changes in the cluster's, one sentence each (empty: nothing)."""
    name = release["metadata"]["name"]
    old, new = _crd_versions(current), _crd_versions(release)
    out = []
    for version in sorted(set(new) - set(old)):
        out.append(f"{name}: adds {version}")
    for version in sorted(set(old) - set(new)):
        out.append(f"{name}: removes {version} (objects must not be read or stored at it any more)")
    for version in sorted(set(old) & set(new)):
        if old[version]["served"] and not new[version]["served"]:
            out.append(f"{name}: stops serving {version}")
        if new[version]["deprecated"] and not old[version]["deprecated"]:
            out.append(f"{name}: deprecates {version}")
    if storage_version(current) != storage_version(release):
        out.append(f"{name}: storage version {storage_version(current)} -> {storage_version(release)}")
    return out


def _key(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    where = f"{meta['namespace']}/" if meta.get("namespace") else ""
    return f"{obj.get('kind')}/{where}{meta.get('name')}"


def changes(current: list[dict], release: list[dict]) -> dict:
    """``current``: the release's objects as the cluster holds them (those found); ``release``:
    the objects about to be applied. Images per workload container, CRD changes, new objects."""
    held = {_key(obj): obj for obj in current}
    images, crds, created = [], [], []
    for obj in release:
        key = _key(obj)
        old = held.get(key)
        if old is None:
            created.append(key)
            continue
        if obj.get("kind") == "CustomResourceDefinition":
            crds.extend(crd_changes(old, obj))
        old_images = {c.get("name"): c.get("image") for c in _containers(old)}
        for container in _containers(obj):
            before = old_images.get(container.get("name"))
            if before and before != container.get("image"):
                images.append(f"{key} {container['name']}: {before} -> {container['image']}")
    return {"images": images, "crds": crds, "created": created}


def deprecated_versions(crds: list[dict]) -> dict[str, set[str]]:
    """``{group/plural CRD name: {versions deprecated or no longer served}}`` of these CRDs."""
    out = {}
    for crd in crds:
        old = {name for name, v in _crd_versions(crd).items() if v["deprecated"] or not v["served"]}
        if old:
            out[crd["metadata"]["name"]] = old
    return out


def deprecated_use(crds: list[dict], objects: dict[str, list[dict]], release_crds: list[dict]) -> list[dict]:
    """Objects whose ``managedFields`` show a writer through a version deprecated in the cluster's
    or the release's CRD; ``objects``: {CRD name: its objects as listed}. One entry per object:
    name, the deprecated API versions and the field managers that used them."""
    deprecated: dict[str, set[str]] = {}
    for table in (deprecated_versions(crds), deprecated_versions(release_crds)):
        for name, versions in table.items():
            deprecated.setdefault(name, set()).update(versions)
    group = {crd["metadata"]["name"]: crd["spec"]["group"] for crd in list(crds) + list(release_crds)}
    found = []
    for crd_name, items in sorted(objects.items()):
        old = {f"{group.get(crd_name, '')}/{v}" for v in deprecated.get(crd_name, ())}
        for obj in items:
            used = [(entry.get("apiVersion"), entry.get("manager", "")) for entry in
                    (obj.get("metadata") or {}).get("managedFields") or [] if entry.get("apiVersion") in old]
            if used:
                found.append({"object": _key(obj), "crd": crd_name,
                              "api_versions": sorted({api for api, dummy in used}),
                              "managers": sorted({manager for dummy, manager in used})})
    return found


def migrations(crds: list[dict]) -> list[dict]:
    """The CRDs whose ``status.storedVersions`` lists more than the storage version: every object
    must be rewritten (a no-op update writes it at the storage version), then storedVersions set
    to the storage version alone."""
    out = []
    for crd in crds:
        storage = storage_version(crd)
        stored = list((crd.get("status") or {}).get("storedVersions") or [])
        if storage and stored and stored != [storage]:
            out.append({"crd": crd["metadata"]["name"], "group": crd["spec"]["group"],
                        "plural": crd["spec"]["names"]["plural"], "storage": storage,
                        "stored_versions": stored, "namespaced": crd["spec"].get("scope") == "Namespaced"})
    return out


def summary(verdict: dict, change: dict, deprecated: list[dict], migrate: list[dict]) -> list[str]:
    """The pre-check's lines as the role prints them."""
    lines = [f"MetalLB {verdict['installed'] or '(none)'} -> {verdict['target']}: {verdict['action']}"]
    lines += [f"image {line}" for line in change["images"]]
    lines += [f"CRD {line}" for line in change["crds"]]
    if change["created"]:
        lines.append(f"new objects: {', '.join(change['created'])}")
    lines += [f"{d['object']} was written through {', '.join(d['api_versions'])} (deprecated) by "
              f"{', '.join(d['managers']) or 'an unnamed manager'}: update your source of it to the served version"
              for d in deprecated]
    lines += [f"{m['crd']}: status.storedVersions {m['stored_versions']}: every object is rewritten at "
              f"{m['storage']} after the upgrade, then storedVersions is set to [{m['storage']}]" for m in migrate]
    return lines + [f"note: {note}" for note in verdict["notes"]]
