# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release manifest adapted to the install options (cases in the YAML file beside)."""

from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.options import OptionsError, mirrored_image
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.transform import ManifestError, check_objects, transform
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
MANIFEST = list(yaml.safe_load_all(DATA["manifest"]))
ABSENT = "<absent>"


def lookup(obj, path: str):
    for part in path.split("."):
        if isinstance(obj, list):
            obj = obj[int(part)]
        elif isinstance(obj, dict) and part in obj:
            obj = obj[part]
        else:
            return ABSENT
    return obj


def by_name(objects: list[dict]) -> dict:
    return {f"{obj['kind']} {obj['metadata']['name']}": obj for obj in objects}


@parametrize_cases(DATA["cases"], id_key="name")
def test_transform(case):
    original = copy.deepcopy(MANIFEST)
    objects = transform(MANIFEST, case["options"])
    assert MANIFEST == original, "the input was modified"
    if "order" in case:
        assert [obj["kind"] for obj in objects] == case["order"]
    found = by_name(objects)
    for name, paths in case["expect"].items():
        assert name in found, f"{name} missing from {sorted(found)}"
        for path, want in paths.items():
            assert lookup(found[name], path) == want, f"{name} {path}"


@parametrize_cases(DATA["errors"], id_key="name")
def test_bad_options_name_the_variable(case):
    with pytest.raises(OptionsError) as raised:
        transform(MANIFEST, case["options"])
    text = "\n".join(raised.value.problems)
    for message in case["messages"]:
        assert message in text, text
    assert len(raised.value.problems) == len(case["messages"]), text


def test_an_empty_manifest_gives_the_namespace_alone():
    assert transform([], {"namespace": "metallb-system"}) == [{
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "metallb-system", "labels": {
            "app.kubernetes.io/managed-by": "baremetal.metallb",
            "pod-security.kubernetes.io/audit": "privileged",
            "pod-security.kubernetes.io/enforce": "privileged",
            "pod-security.kubernetes.io/warn": "privileged"}}}]


def test_a_rendered_chart_without_namespace_gets_one_and_its_objects_are_placed():
    rendered = [obj for obj in copy.deepcopy(MANIFEST) if obj and obj["kind"] != "Namespace"]
    service = next(obj for obj in rendered if obj["kind"] == "Service")
    del service["metadata"]["namespace"]  # helm template leaves some namespaced objects without one
    objects = transform(rendered, {"namespace": "lb"})
    assert objects[0]["kind"] == "Namespace" and objects[0]["metadata"]["name"] == "lb"
    assert all(obj["metadata"].get("namespace") == "lb" for obj in objects
               if obj["kind"] in ("ServiceAccount", "Service", "Deployment", "DaemonSet"))
    assert by_name(objects)["ClusterRoleBinding lb-system:speaker"]["subjects"][0]["namespace"] == "lb"


@pytest.mark.parametrize("documents, message", [
    ("not a list", "must be a list of objects"),
    ([["a"]], "document 1 is not a Kubernetes object"),
    ([None, {"kind": "Service", "metadata": {"name": "x"}}], "document 2 has no apiVersion"),
])
def test_what_is_not_a_manifest_is_refused(documents, message):
    with pytest.raises(ManifestError, match=message):
        check_objects(documents)


@pytest.mark.parametrize("image, registry, want", [
    ("quay.io/metallb/speaker:v0.16.1", "", "quay.io/metallb/speaker:v0.16.1"),
    ("quay.io/metallb/speaker:v0.16.1", "mirror.example.com", "mirror.example.com/metallb/speaker:v0.16.1"),
    ("localhost:5000/x/y@sha256:ab", "m.example.com/p", "m.example.com/p/x/y@sha256:ab"),
    ("frrouting/frr:9", "m.example.com", "m.example.com/frrouting/frr:9"),
    ("busybox", "m.example.com", "m.example.com/library/busybox"),
])
def test_mirrored_image(image, registry, want):
    assert mirrored_image(image, registry) == want
