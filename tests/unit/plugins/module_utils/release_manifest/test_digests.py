# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Release file digests: the expected digest, the check, tree digests, image pinning (cases beside)."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest import digests as D
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.helm import helm_values
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.options import OptionsError
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.transform import transform
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)
VARIABLE = "metallb_install_manifest_sha256"


@parametrize_cases(CASES["expected"])
def test_expected(case):
    if "error" in case:
        with pytest.raises(D.DigestError) as err:
            D.expected(case["version"], case["name"], case["given"], VARIABLE)
        assert case["error"] in str(err.value)
    else:
        assert D.expected(case["version"], case["name"], case["given"], VARIABLE) == (case["digest"], case["source"])


def test_every_shipped_digest_is_well_formed():
    for version, files in D.SHIPPED.items():
        assert set(files) == {"metallb-native.yaml", "metallb-frr.yaml", "metallb-frr-k8s.yaml", "chart"}, version
        assert all(D.normalize(d, "x") == d for d in files.values())


def test_verify_passes_the_good_file_and_names_everything_on_a_mismatch():
    good = b"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system\n"
    want = (hashlib.sha256(good).hexdigest(), "the digest shipped for MetalLB v0.16.1")
    D.verify(D.file_digest(good), want, "metallb-native.yaml of MetalLB v0.16.1 from /tmp/m.yaml")
    tampered = good.replace(b"metallb-system", b"metallb-systen")
    with pytest.raises(D.DigestError) as err:
        D.verify(D.file_digest(tampered), want, "metallb-native.yaml of MetalLB v0.16.1 from /tmp/m.yaml")
    message = str(err.value)
    assert "metallb-native.yaml of MetalLB v0.16.1 from /tmp/m.yaml" in message
    assert f"Expected {want[0]} (the digest shipped for MetalLB v0.16.1)" in message
    assert f"actual {hashlib.sha256(tampered).hexdigest()}" in message
    assert "nothing was applied" in message


def test_tree_digest_is_what_the_documented_shell_pipeline_prints(tmp_path):
    (tmp_path / "templates").mkdir()
    (tmp_path / "Chart.yaml").write_text("name: metallb\n")
    (tmp_path / "templates" / "a.yaml").write_text("a: 1\n")
    (tmp_path / "templates.yaml").write_text("sorts after templates/ bytewise\n")
    (tmp_path / ".helmignore").write_text("*.tgz\n")
    shell = subprocess.run("find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum", shell=True, cwd=tmp_path,
                           capture_output=True, text=True, check=True).stdout.split()[0]
    assert D.tree_digest(str(tmp_path)) == shell
    before = D.tree_digest(str(tmp_path))
    (tmp_path / "templates" / "a.yaml").write_text("a: 2\n")
    assert D.tree_digest(str(tmp_path)) != before


def test_tree_digest_refuses_a_symbolic_link(tmp_path):
    (tmp_path / "Chart.yaml").write_text("name: metallb\n")
    (tmp_path / "link.yaml").symlink_to("/etc/hostname")
    with pytest.raises(D.DigestError, match="symbolic link"):
        D.tree_digest(str(tmp_path))


def release() -> list[dict]:
    def workload(kind, name, image):
        return {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name, "namespace": "metallb-system"},
                "spec": {"template": {"spec": {"containers": [{"name": name, "image": image}]}}}}
    return [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "metallb-system"}},
            workload("Deployment", "controller", "quay.io/metallb/controller:v0.16.1"),
            workload("DaemonSet", "speaker", "quay.io/metallb/speaker:v0.16.1")]


@parametrize_cases(CASES["pin"])
def test_pin(case):
    options = {"image_digests": case["digests"], "image_registry": case["registry"]}
    if "error" in case:
        with pytest.raises(OptionsError) as err:
            transform(release(), options)
        assert case["error"] in str(err.value)
        return
    objects = transform(release(), options)
    images = [c["image"] for o in objects if o["kind"] != "Namespace"
              for c in o["spec"]["template"]["spec"]["containers"]]
    assert images == case["images"]


def test_helm_refuses_image_digests():
    with pytest.raises(OptionsError, match="metallb_install_image_digests"):
        helm_values({"image_digests": {"quay.io/metallb/speaker:v0.16.1": "sha256:" + "2" * 64}})
