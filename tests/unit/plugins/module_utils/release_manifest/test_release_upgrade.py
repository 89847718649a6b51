# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""release_manifest.upgrade: the verdict on installing over a running MetalLB (version compare,
downgrade refusal), what changes, deprecated API use and the storage-version migration plan.
Cases in test_release_upgrade.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest import upgrade
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)


def workloads(spec: dict) -> list[dict]:
    """{"Deployment/controller": image, ...} as the objects the API server returns."""
    out = []
    for where, image in spec.items():
        kind, name = where.split("/")
        container = "controller" if kind == "Deployment" else "speaker"
        if "frr-k8s" in image:  # frr-k8s's daemon names its main container controller too
            container = "controller"
        out.append({"kind": kind, "metadata": {"name": name, "namespace": "metallb-system"},
                    "spec": {"template": {"spec": {"containers": [
                        {"name": container, "image": image}, {"name": "sidecar", "image": "frr:v1.0.0"}]}}}})
    return out


def crd(name: str, versions: list, stored=None) -> dict:
    """versions: [[name, served, storage, deprecated], ...]"""
    plural = name.split(".", 1)[0]
    obj = {"kind": "CustomResourceDefinition", "metadata": {"name": name},
           "spec": {"group": name.split(".", 1)[1], "scope": "Namespaced", "names": {"plural": plural},
                    "versions": [{"name": v, "served": served, "storage": storage, "deprecated": deprecated}
                                 for v, served, storage, deprecated in versions]}}
    if stored is not None:
        obj["status"] = {"storedVersions": stored}
    return obj


@parametrize_cases(DATA["decide"])
def test_decide(case):
    verdict = upgrade.decide(workloads(case["running"]), case["target"], case.get("allow_downgrade", False))
    assert (verdict["action"], verdict["installed"]) == (case["action"], case["installed"])
    assert len(verdict["problems"]) == len(case.get("problems", [])), verdict["problems"]
    for problem, words in zip(verdict["problems"], case.get("problems", [])):
        assert all(word in problem for word in words), problem
    assert [any(word in note for note in verdict["notes"]) for word in case.get("notes", [])] == \
        [True] * len(case.get("notes", [])), verdict["notes"]
    if not case.get("notes"):
        assert verdict["notes"] == []


@parametrize_cases(DATA["crd_changes"])
def test_crd_changes(case):
    name = "bgppeers.metallb.io"
    assert upgrade.crd_changes(crd(name, case["current"]), crd(name, case["release"])) == case["changes"]


def test_changes_names_images_crds_and_new_objects():
    current = workloads({"Deployment/controller": "quay.io/metallb/controller:v0.15.3"}) + [
        crd("bgppeers.metallb.io", [["v1beta1", True, False, False], ["v1beta2", True, True, False]])]
    release = workloads({"Deployment/controller": "quay.io/metallb/controller:v0.16.1",
                         "DaemonSet/speaker": "quay.io/metallb/speaker:v0.16.1"}) + [
        crd("bgppeers.metallb.io", [["v1beta1", True, False, True], ["v1beta2", True, True, False]])]
    assert upgrade.changes(current, release) == {
        "images": ["Deployment/metallb-system/controller controller: quay.io/metallb/controller:v0.15.3 -> "
                   "quay.io/metallb/controller:v0.16.1"],
        "crds": ["bgppeers.metallb.io: deprecates v1beta1"],
        "created": ["DaemonSet/metallb-system/speaker"]}


@parametrize_cases(DATA["deprecated_use"])
def test_deprecated_use(case):
    cluster = [crd("bgppeers.metallb.io", case["cluster_versions"])]
    release = [crd("bgppeers.metallb.io", case["release_versions"])]
    objects = {"bgppeers.metallb.io": [
        {"kind": "BGPPeer", "metadata": {"name": name, "namespace": "metallb-system", "managedFields": [
            {"manager": manager, "apiVersion": api} for manager, api in fields]}}
        for name, fields in case["objects"].items()]}
    assert upgrade.deprecated_use(cluster, objects, release) == case["found"]


@parametrize_cases(DATA["migrations"])
def test_migrations(case):
    crds = [crd(name, [[v, True, v == spec["storage"], False] for v in spec["versions"]], spec.get("stored"))
            for name, spec in case["crds"].items()]
    assert [(m["crd"], m["storage"], m["stored_versions"], m["plural"], m["group"]) for m in upgrade.migrations(crds)] \
        == [tuple(m) for m in case["migrate"]]


def test_summary_lines_say_what_will_happen():
    verdict = upgrade.decide(workloads({"Deployment/controller": "quay.io/metallb/controller:v0.15.3"}), "v0.16.1", False)
    migrate = upgrade.migrations([crd("bgppeers.metallb.io", [["v1beta1", True, False, True], ["v1beta2", True, True, False]],
                                      ["v1beta1", "v1beta2"])])
    deprecated = [{"object": "BGPPeer/metallb-system/a", "crd": "bgppeers.metallb.io", "api_versions": ["metallb.io/v1beta1"],
                   "managers": ["kubectl"]}]
    lines = upgrade.summary(verdict, {"images": ["x: a -> b"], "crds": [], "created": []}, deprecated, migrate)
    assert lines == [
        "MetalLB v0.15.3 -> v0.16.1: upgrade",
        "image x: a -> b",
        "BGPPeer/metallb-system/a was written through metallb.io/v1beta1 (deprecated) by kubectl: update your source of "
        "it to the served version",
        "bgppeers.metallb.io: status.storedVersions ['v1beta1', 'v1beta2']: every object is rewritten at v1beta2 after "
        "the upgrade, then storedVersions is set to [v1beta2]"]
