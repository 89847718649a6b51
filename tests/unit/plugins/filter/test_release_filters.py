# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The release_* filters metallb_install uses: YAML in, errors as AnsibleFilterError."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

MANIFEST_TEXT = yaml.safe_load(
    (pathlib.Path(__file__).parents[1] / "module_utils" / "release_manifest" / "test_release_manifest_transform.yaml").read_text()
)["manifest"]


@pytest.fixture(autouse=True)
def controller_mode_restored():
    """Importing controller code (ansible.errors) flips a process-wide switch that later
    module tests in the same process must not see."""
    was_controller = module_utils_internal.is_controller
    try:
        yield
    finally:
        module_utils_internal.is_controller = was_controller


def plugin(name):
    return importlib.import_module(f"ansible_collections.baremetal.metallb.plugins.filter.{name}")


def filter_error():
    return importlib.import_module("ansible.errors").AnsibleFilterError


def test_release_manifest_parses_yaml_text_and_adapts_it():
    objects = plugin("release_manifest").release_manifest(MANIFEST_TEXT, namespace="lb", image_registry="m.example.com")
    assert objects[0]["kind"] == "Namespace" and objects[0]["metadata"]["name"] == "lb"
    assert len(objects) == 9  # the trailing "---" is no object
    speaker = next(obj for obj in objects if obj["kind"] == "DaemonSet")
    assert speaker["spec"]["template"]["spec"]["containers"][0]["image"] == "m.example.com/metallb/speaker:v9.9.9"


@pytest.mark.parametrize("manifest, kwargs, message", [
    ("a: [", {}, "the manifest is not valid YAML"),
    ("- 1\n- 2\n", {}, "document 1 is not a Kubernetes object"),
    (42, {}, "give the manifest as YAML text or a list of objects"),
    ("", {"speaker_tolerations": [{"key": "a", "operator": "Exists", "value": "b"}]},
     r"metallb_install_speaker_tolerations\[0\]\.value"),
])
def test_release_manifest_errors(manifest, kwargs, message):
    with pytest.raises(filter_error(), match=message):
        plugin("release_manifest").release_manifest(manifest, **kwargs)


def test_release_summary_has_the_deletion_order():
    objects = plugin("release_manifest").release_manifest(MANIFEST_TEXT)
    found = plugin("release_summary").release_summary(objects)
    assert found["webhook_services"] == ["lb-webhook"]
    assert found["deletion_order"][0]["kind"] == "ValidatingWebhookConfiguration"
    assert found["deletion_order"][-1]["kind"] == "CustomResourceDefinition"
    with pytest.raises(filter_error(), match="release_summary: document 1"):
        plugin("release_summary").release_summary([1])


def test_release_pending():
    pending = plugin("release_pending").release_pending
    assert pending(None, "CustomResourceDefinition", ["x.example.io"]) == ["CustomResourceDefinition x.example.io: not found"]
    with pytest.raises(filter_error(), match="no readiness rule for kind 'Pod'"):
        pending([], "Pod", ["x"])


def test_release_helm_values():
    values = plugin("release_helm_values").release_helm_values
    assert values({"speaker_node_selector": {"edge": "true"}}, "native")["speaker"]["nodeSelector"] == {"edge": "true"}
    with pytest.raises(filter_error(), match="metallb_install_flavour"):
        values({}, "bird")
    with pytest.raises(filter_error(), match="metallb_install_namespace"):
        values({"namespace": "Not Valid"})
