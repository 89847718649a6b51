# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sha256 digests of MetalLB's release files, and the check that refuses anything else.

Where the shipped digests come from (docs/metallb_install.md says the same): the files of the
Go module ``go.universe.tf/metallb`` at the release tag, as ``go mod download`` puts them in
the module cache. The go command checks that module zip against Go's checksum database
(sum.golang.org, ``h1:`` hash below), a public append-only log, so the files are the ones the
module's tag held for everyone. The digest of a manifest is ``sha256sum`` of
``config/manifests/metallb-<flavour>.yaml`` in that module; the digest of the chart is the
tree digest (``tree_digest``) of ``charts/metallb`` in that module, the directory a Helm chart
reference may name. The chart archive published in MetalLB's Helm repository
(``metallb-<version>.tgz``) is a different file (Helm's packaging adds timestamps); it is
not in the module, so no digest of it is shipped: give yours in ``metallb_install_chart_sha256``.

No image digests are shipped: the module and its manifests name images by tag only
(``quay.io/metallb/speaker:v0.16.1``), and a digest cannot be known without the registry.
"""
from __future__ import annotations

import hashlib
import os
import re

# version -> file -> sha256 (hex). Files: "metallb-<flavour>.yaml", and "chart" (tree digest
# of charts/metallb). Module go.universe.tf/metallb v0.16.1, h1:iVtjCslcUFMOEvuNeAyW2ygZxyW+6YjnNcEuCTOZezc=
# (sum.golang.org), origin github.com/metallb/metallb 791dfcc63ced7a6b3e869131eae75e645150fff0 (refs/tags/v0.16.1).
SHIPPED = {
    "v0.16.1": {
        "metallb-native.yaml": "bf25feebb7582ca7df845efd52ffbc2960d6cbf4cfc972f47fded9f788b67f0b",
        "metallb-frr.yaml": "2b3574f8a257270117f1ab58c4268c99c56cf3e92f2525e6b88aff0b2208f131",
        "metallb-frr-k8s.yaml": "19313e5031714cc1489b3b0ed0ae6e58be0e92538b4a5ed9c529c847ef2bac62",
        "chart": "540da297a45f96b7bf135d97fc6ed0e75d3e3bdfc36470a238fc2671e8366520",
    },
    # The previous minor, what an upgrade starts from (and a forced downgrade goes to). Module
    # go.universe.tf/metallb v0.15.3, h1:jmTFharsaP9yBW0p/giOahfuVNTBIvwQqxx2eYxM6fc= (sum.golang.org),
    # origin github.com/metallb/metallb 85bfb4f0e0d35090c514e1e5e1a21a8bbd253518 (refs/tags/v0.15.3).
    "v0.15.3": {
        "metallb-native.yaml": "84b4e102f2b65f5d69085f5816c29362b74641873d8ac3de996e5f86a8219176",
        "metallb-frr.yaml": "5a0c44ad4059e9912d8af0b12fb035d47a75619e913737f5a2759620e7ab5769",
        "metallb-frr-k8s.yaml": "eabbcb0f119c6d6e466a663f2bf48623de7f8db85637181c1db3046ac30aeebc",
        "chart": "0ccf0254ecea7ca76c9b33ad092eaf8e13debb44696b179f6a6cca3c45e25f4b",
    },
}

SHA256_RE = re.compile(r"^(sha256:)?([0-9a-fA-F]{64})$")
IMAGE_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")


class DigestError(ValueError):
    """A file that must not be used, or a digest that cannot be checked; the message says which and why."""


def normalize(digest: str, variable: str) -> str:
    """``digest`` as 64 lower-case hex digits (``sha256:`` prefix allowed)."""
    match = SHA256_RE.match(str(digest).strip())
    if not match:
        raise DigestError(f"{variable}: {str(digest)!r} is not a sha256 digest (64 hex digits, "
                          "optionally prefixed with sha256:); compute it with sha256sum")
    return match.group(2).lower()


def expected(version: str, name: str, given: str, variable: str) -> tuple[str, str]:
    """The digest ``name`` of ``version`` must have, and where it comes from: ``given`` (the
    user's, which wins) or the shipped table. Raises DigestError when neither knows it."""
    if given:
        return normalize(given, variable), variable
    shipped = SHIPPED.get(version, {}).get(name)
    if shipped:
        return shipped, f"the digest shipped for MetalLB {version}"
    known = ", ".join(sorted(SHIPPED)) or "none"
    raise DigestError(
        f"no sha256 is known for {name} of MetalLB {version} (shipped for: {known}): check the file you trust "
        f"and set {variable} to its sha256 digest, or use a release the collection ships digests for")


def file_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tree_digest(root: str) -> str:
    """One digest of a directory: sha256 of ``sha256sum``'s lines for every regular file, sorted
    by path (bytewise), as ``cd ROOT && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum``
    prints it. Symbolic links are refused (a chart must not point outside itself)."""
    entries = []
    for directory, dirnames, filenames in os.walk(root):
        for name in dirnames + filenames:
            path = os.path.join(directory, name)
            if os.path.islink(path):
                raise DigestError(f"{path} is a symbolic link: a chart directory to be verified must hold files only")
        for name in filenames:
            path = os.path.join(directory, name)
            rel = "./" + os.path.relpath(path, root).replace(os.sep, "/")
            with open(path, "rb") as handle:
                entries.append((rel.encode(), file_digest(handle.read())))
    listing = "".join(f"{digest}  {rel.decode()}\n" for rel, digest in sorted(entries))
    return file_digest(listing.encode())


def verify(actual: str, want: tuple[str, str], what: str) -> None:
    """Refuse ``what`` unless its digest ``actual`` is the expected one."""
    digest, source = want
    if actual != digest:
        raise DigestError(
            f"{what}: sha256 mismatch, nothing was applied. Expected {digest} ({source}), actual {actual}. "
            "The file was changed or is not the release it claims to be: get it again from a source you trust, "
            "or if you changed it on purpose, set the digest of your file")


def check_image_digests(digests) -> dict:
    """``metallb_install_image_digests`` checked: image reference -> ``sha256:<64 hex>``."""
    if not isinstance(digests, dict):
        raise DigestError("metallb_install_image_digests must be a mapping of image reference (as the release names "
                          "it, e.g. quay.io/metallb/speaker:v0.16.1) to its digest (sha256:...)")
    bad = [f"{k!r}: {v!r}" for k, v in digests.items()
           if not isinstance(k, str) or not k or "@" in k or not IMAGE_DIGEST_RE.match(str(v))]
    if bad:
        raise DigestError("metallb_install_image_digests: each entry must map an image reference without digest to "
                          "sha256:<64 lower-case hex digits>; wrong: " + "; ".join(bad))
    return dict(digests)


def pin_image(image: str, digests: dict) -> str | None:
    """``image`` with its digest appended (``repo:tag@sha256:...``; the runtime pulls by digest),
    ``image`` itself when it already has a digest, None when ``digests`` does not know it."""
    if "@" in image:
        return image
    digest = digests.get(image)
    return f"{image}@{digest}" if digest else None
