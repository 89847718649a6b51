# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""release_file: a good file passes, a tampered one is refused naming the file and both digests."""

from __future__ import annotations

import hashlib

import pytest
from ansible.errors import AnsibleLookupError

import yaml
from ansible import constants as C

from ansible_collections.baremetal.metallb.plugins.lookup import release_file

GOOD = b"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: metallb-system\n\n"  # trailing blank line kept
DIGEST = hashlib.sha256(GOOD).hexdigest()


def lookup(term, **kwargs):
    # the options as Ansible's plugin loader registers them: from DOCUMENTATION
    C.config.initialize_plugin_configuration_definitions(
        "lookup", "release_file", yaml.safe_load(release_file.DOCUMENTATION)["options"])
    plugin = release_file.LookupModule()
    plugin._load_name = "release_file"
    return plugin.run([str(term)], variables={}, **kwargs)[0]


def manifest(tmp_path, content=GOOD):
    path = tmp_path / "metallb@v0.99.0 copy" / "metallb-native.yaml"  # as in Go's module cache, and a space
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(content)
    return path


def test_good_file_returns_its_exact_text(tmp_path):
    path = manifest(tmp_path)
    assert lookup(path, version="v0.99.0", name="metallb-native.yaml", sha256=DIGEST) == GOOD.decode()
    assert "%40" in path.as_uri() and "%20" in path.as_uri()
    assert lookup(path.as_uri(), version="v0.99.0", name="metallb-native.yaml", sha256=f"sha256:{DIGEST}") == GOOD.decode()


@pytest.mark.parametrize("tamper", [
    lambda b: b.replace(b"metallb-system", b"evil-system"),
    lambda b: b + b"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: extra\n",
    lambda b: b.rstrip(b"\n"),  # even whitespace: the digest covers the bytes
])
def test_tampered_file_is_refused_naming_file_and_digests(tmp_path, tamper):
    bad = tamper(GOOD)
    path = manifest(tmp_path, bad)
    with pytest.raises(AnsibleLookupError) as err:
        lookup(path, version="v0.99.0", name="metallb-native.yaml", sha256=DIGEST,
               variable="metallb_install_manifest_sha256")
    message = str(err.value)
    assert str(path) in message and "metallb-native.yaml" in message
    assert f"Expected {DIGEST} (metallb_install_manifest_sha256)" in message
    assert f"actual {hashlib.sha256(bad).hexdigest()}" in message


def test_shipped_digest_refuses_a_file_that_is_not_the_release(tmp_path):
    with pytest.raises(AnsibleLookupError, match="Expected bf25feeb.* \\(the digest shipped for MetalLB v0.16.1\\)"):
        lookup(manifest(tmp_path), version="v0.16.1", name="metallb-native.yaml")


def test_unknown_version_without_digest_is_refused(tmp_path):
    with pytest.raises(AnsibleLookupError, match="no sha256 is known for metallb-native.yaml of MetalLB v0.99.0"):
        lookup(manifest(tmp_path), version="v0.99.0", name="metallb-native.yaml",
               variable="metallb_install_manifest_sha256")


def test_verify_off_reads_anything(tmp_path):
    assert lookup(manifest(tmp_path), version="v0.99.0", name="metallb-native.yaml", verify=False) == GOOD.decode()


def test_chart_directory_and_archive(tmp_path):
    chart = tmp_path / "metallb"
    chart.mkdir()
    (chart / "Chart.yaml").write_bytes(b"name: metallb\n")
    listing = f"{hashlib.sha256(b'name: metallb' + bytes([10])).hexdigest()}  ./Chart.yaml\n".encode()
    tree = hashlib.sha256(listing).hexdigest()
    assert lookup(chart, kind="chart", version="v0.99.0", name="chart", sha256=tree) == str(chart)
    (chart / "templates.yaml").write_bytes(b"kind: Secret\n")
    with pytest.raises(AnsibleLookupError, match=f"chart {chart}: sha256 mismatch.*Expected {tree}"):
        lookup(chart, kind="chart", version="v0.99.0", name="chart", sha256=tree)
    archive = tmp_path / "metallb-0.99.0.tgz"
    archive.write_bytes(b"\x1f\x8b not really")
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    assert lookup(archive, kind="chart", version="v0.99.0", name="chart", sha256=digest) == str(archive)
    with pytest.raises(AnsibleLookupError, match="actual"):
        lookup(archive, kind="chart", version="v0.99.0", name="chart", sha256="0" * 64)
