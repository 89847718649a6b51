# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an install consists of, its readiness (cases in the YAML file beside) and the
order it is deleted in."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.readiness import pending
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.contents import deletion_order, summary
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.transform import transform
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
CASES = load_data(__file__)
MANIFEST = list(yaml.safe_load_all(load_data(__file__, "manifest", name="test_release_manifest_transform.yaml")))


@parametrize_cases(CASES, id_key="name")
def test_pending(case):
    found = pending(case["resources"], case["kind"], case["names"])
    assert len(found) == len(case["pending"]), found
    for sentence, want in zip(found, case["pending"]):
        assert want in sentence


def test_pending_refuses_a_kind_it_has_no_rule_for():
    with pytest.raises(ValueError, match="no readiness rule for kind 'Pod'"):
        pending([], "Pod", [])


def test_summary_reads_the_names_from_the_objects():
    objects = transform(MANIFEST, {"namespace": "lb-system", "image_registry": "m.example.com"})
    found = summary(objects)
    assert found["namespace"] == "lb-system"
    assert found["crds"] == ["peers.example.io"]
    assert (found["controller"], found["speaker"]) == ("controller", "speaker")
    assert (found["deployments"], found["daemonsets"]) == (["controller"], ["speaker"])
    # named by the webhook configuration and the CRD's conversion webhook, and in the release
    assert found["webhook_services"] == ["lb-webhook"]
    assert found["webhook_configurations"] == ["lb-webhooks"]
    assert found["images"] == ["m.example.com/frrouting/frr:10.5.3", "m.example.com/library/busybox:1.36",
                               "m.example.com/metallb/controller:v9.9.9", "m.example.com/metallb/speaker:v9.9.9"]
    assert found["namespaced_objects"] == ["ServiceAccount lb-system/speaker", "Secret lb-system/webhook-cert",
                                           "Service lb-system/lb-webhook",
                                           "Deployment lb-system/controller", "DaemonSet lb-system/speaker"]


def test_a_webhook_service_the_release_does_not_create_is_not_waited_for():
    objects = [obj for obj in transform(MANIFEST, {"namespace": "lb-system"}) if obj["kind"] != "Service"]
    assert summary(objects)["webhook_services"] == []


def test_deletion_order_webhooks_first_crds_last():
    refs = deletion_order(transform(MANIFEST, {"namespace": "lb-system"}))
    assert [(r["kind"], r["metadata"].get("namespace"), r["metadata"]["name"]) for r in refs] == [
        ("ValidatingWebhookConfiguration", None, "lb-webhooks"),
        ("DaemonSet", "lb-system", "speaker"),
        ("Deployment", "lb-system", "controller"),
        ("Service", "lb-system", "lb-webhook"),
        ("Secret", "lb-system", "webhook-cert"),
        ("ServiceAccount", "lb-system", "speaker"),
        ("Namespace", None, "lb-system"),
        ("ClusterRoleBinding", None, "lb-system:speaker"),
        ("CustomResourceDefinition", None, "peers.example.io"),
    ]
    assert all(set(r) == {"apiVersion", "kind", "metadata"} for r in refs)
