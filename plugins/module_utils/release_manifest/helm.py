# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The install options as values of MetalLB's Helm chart (charts/metallb), so both install
methods place the speaker and pull images the same way."""

from __future__ import annotations

from .options import OptionsError, check_options, mirrored_image

FLAVOURS = ("native", "frr", "frr-k8s")

# The chart's default repositories (values.yaml of charts/metallb and its frr-k8s subchart).
CONTROLLER_IMAGE = "quay.io/metallb/controller"
SPEAKER_IMAGE = "quay.io/metallb/speaker"
FRR_IMAGE = "quay.io/frrouting/frr"
FRR_K8S_IMAGE = "quay.io/metallb/frr-k8s"


def helm_values(options: dict | None, flavour: str = "native") -> dict:
    """Chart values for ``flavour`` and ``options`` (checked as for the manifest).

    native: no FRR at all (the chart's default since v0.16 is frr-k8s, so it is switched
    off explicitly); frr: the deprecated FRR sidecars in the speaker; frr-k8s: the frr-k8s
    subchart. The chart itself adds ``kubernetes.io/os: linux`` and the control-plane
    tolerations, as the manifest does, and these values come on top.
    """
    if flavour not in FLAVOURS:
        raise ValueError(f"metallb_install_flavour: {flavour!r} is not one of {', '.join(FLAVOURS)}")
    opts = check_options(options)
    if opts["image_digests"]:
        raise OptionsError(["metallb_install_image_digests: images are pinned by digest in the manifest's objects "
                            "(metallb_install_method: manifest); the chart takes repository and tag only"])
    registry = opts["image_registry"]
    speaker: dict = {"frr": {"enabled": flavour == "frr"}}
    values: dict = {"controller": {}, "speaker": speaker, "frrk8s": {"enabled": flavour == "frr-k8s"}}
    if opts["speaker_node_selector"]:
        speaker["nodeSelector"] = dict(sorted(opts["speaker_node_selector"].items()))
    if opts["speaker_tolerations"]:
        speaker["tolerations"] = opts["speaker_tolerations"]
    if registry:
        values["controller"]["image"] = {"repository": mirrored_image(CONTROLLER_IMAGE, registry)}
        speaker["image"] = {"repository": mirrored_image(SPEAKER_IMAGE, registry)}
        speaker["frr"]["image"] = {"repository": mirrored_image(FRR_IMAGE, registry)}
        if flavour == "frr-k8s":
            values["frr-k8s"] = {"frrk8s": {"image": {"repository": mirrored_image(FRR_K8S_IMAGE, registry)},
                                            "frr": {"image": {"repository": mirrored_image(FRR_IMAGE, registry)}}}}
    if not values["controller"]:
        del values["controller"]
    return values
