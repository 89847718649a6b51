# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_file
short_description: A MetalLB release file, read on the controller and refused unless its sha256 is the expected one
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Reads a release manifest (a local file, or an C(http://), C(https://) or C(file://) URL) as bytes, computes its sha256 and
    compares it with the expected digest before anything can use it. Returns the manifest's text.
  - "With O(kind=chart), checks a local Helm chart instead (an archive file by its sha256, a chart directory by its
    tree digest, C(cd DIR && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)) and returns its path."
  - The expected digest is O(sha256) when given, else the digest the collection ships for O(name) of O(version)
    (computed from the Go module C(go.universe.tf/metallb) at that tag, which Go's checksum database verifies; see
    C(docs/metallb_install.md)). Without either, or on a mismatch, the lookup fails naming the file, the expected and
    the actual digest.
  - Used by the P(baremetal.metallb.metallb_install#role) role.
options:
  _terms:
    description: The local path or URL of the file (one term).
    required: true
  kind:
    description: V(manifest) returns the file's text; V(chart) returns the (checked) path of a local chart.
    type: str
    choices: [manifest, chart]
    default: manifest
  version:
    description: The MetalLB release (C(v0.16.1)), to find the shipped digest.
    type: str
    required: true
  name:
    description: Which release file this is, to find the shipped digest (C(metallb-native.yaml), C(chart)).
    type: str
    required: true
  sha256:
    description: The expected digest (64 hex digits, C(sha256:) prefix allowed); wins over the shipped one.
    type: str
    default: ""
  variable:
    description: The variable O(sha256) comes from, named in messages.
    type: str
    default: sha256
  verify:
    description: V(false) skips the check (with a warning).
    type: bool
    default: true
  validate_certs:
    description: Check the TLS certificate of an C(https://) server.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The v0.16.1 manifest, checked against the shipped digest
  ansible.builtin.set_fact:
    manifest: "{{ lookup('baremetal.metallb.release_file', 'files/metallb-native.yaml', version='v0.16.1', name='metallb-native.yaml') }}"
"""

RETURN = r"""
_raw:
  description: The manifest's text (O(kind=manifest)) or the chart's path (O(kind=chart)).
  type: list
  elements: str
"""

import os
from urllib.parse import urlparse
from urllib.request import url2pathname

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native, to_text
from ansible.plugins.lookup import LookupBase
from ansible.utils.display import Display

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.digests import (
    DigestError, expected, file_digest, tree_digest, verify)

display = Display()


def read_source(source: str, validate_certs: bool) -> bytes:
    if source.startswith("file://"):
        parsed = urlparse(source)  # file:///path, percent-encoded (pathlib's as_uri writes @ as %40)
        source = url2pathname(parsed.path)
    elif source.startswith(("http://", "https://")):
        from ansible.module_utils.urls import open_url  # pylint: disable=import-outside-toplevel
        try:
            return open_url(source, validate_certs=validate_certs, timeout=60).read()
        except Exception as exc:  # urllib raises many types; say which URL failed
            raise AnsibleLookupError(f"release_file: cannot fetch {source}: {to_native(exc)}") from None
    try:
        with open(source, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise AnsibleLookupError(f"release_file: cannot read {source}: {to_native(exc)}") from None


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        if len(terms) != 1:
            raise AnsibleLookupError("release_file: give exactly one path or URL")
        source = to_text(terms[0])
        kind, name, version = self.get_option("kind"), self.get_option("name"), self.get_option("version")
        check = self.get_option("verify")
        try:
            want = expected(version, name, self.get_option("sha256"), self.get_option("variable")) if check else None
            if kind == "chart":
                if not os.path.exists(source):
                    raise AnsibleLookupError(f"release_file: the chart {source} is not on the controller")
                if want:
                    if os.path.isdir(source):
                        actual = tree_digest(source)
                    else:
                        actual = file_digest(read_source(source, True))
                    verify(actual, want, f"chart {source}")
                result = source
            else:
                data = read_source(source, self.get_option("validate_certs"))
                if want:
                    verify(file_digest(data), want, f"{name} of MetalLB {version} from {source}")
                result = to_text(data, errors="surrogate_or_strict")
        except DigestError as exc:
            raise AnsibleLookupError(str(exc)) from None
        if not check:
            display.warning(f"{source}: used without an integrity check (metallb_install_verify_digests is false)")
        return [result]
