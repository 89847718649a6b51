# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: release_manifest
short_description: MetalLB's release manifest adapted to the install options
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Parses a MetalLB release manifest (C(config/manifests/metallb-native.yaml) or C(metallb-frr.yaml) of a release,
    or the objects its Helm chart renders) and returns its objects adapted for server-side apply.
  - Every namespaced object, and every reference to the release's namespace (RBAC subjects, the Services of the
    validating webhooks and of the CRD conversion webhook), is moved to O(namespace).
  - The Namespace comes first, with the pod-security labels; with an empty list as input the result is that
    Namespace alone.
  - With O(image_registry), every image is pulled from that registry, its repository path kept.
  - With O(image_digests), every image is pinned to its digest.
  - The speaker DaemonSet (the DaemonSet with a container named C(speaker)) gets O(speaker_node_selector) merged
    into its nodeSelector and O(speaker_tolerations) added to its tolerations.
  - Bad options raise one error naming every bad C(metallb_install_*) variable.
options:
  _input:
    description: The manifest, as multi-document YAML text or as a list of objects.
    type: raw
    required: true
  namespace:
    description: The namespace to install into.
    type: str
    default: metallb-system
  pod_security:
    description: Pod-security levels by mode (C(audit), C(warn)); C(enforce) is always C(privileged).
    type: dict
    default: {}
  speaker_node_selector:
    description: Node labels the speaker pods must match, on top of the release's own.
    type: dict
    default: {}
  speaker_tolerations:
    description: Tolerations added to the speaker pods.
    type: list
    elements: dict
    default: []
  image_registry:
    description: A registry (host, optional port and path) to pull every image from instead.
    type: str
    default: ""
  image_digests:
    description:
      - Image reference as the release names it (C(quay.io/metallb/speaker:v0.16.1)) to its digest (C(sha256:...)).
      - When given, every image is pinned (C(repo:tag@sha256:...), before O(image_registry) moves it); an image
        without a digest in the map is an error.
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Apply MetalLB from a mirror
  kubernetes.core.k8s:
    apply: true
    server_side_apply:
      field_manager: baremetal.metallb
    definition: >-
      {{ lookup('ansible.builtin.file', 'metallb-native.yaml')
         | baremetal.metallb.release_manifest(image_registry='registry.example.com/mirror',
                                              speaker_node_selector={'node-role.example.com/edge': 'true'}) }}
"""

RETURN = r"""
_value:
  description: The objects, the Namespace first and the others in the manifest's order.
  type: list
  elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.options import OptionsError
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.transform import ManifestError, transform

try:
    import yaml
    SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
    yaml = None


def parse(manifest) -> list:
    if isinstance(manifest, (list, tuple)):
        return list(manifest)
    if not isinstance(manifest, str):
        raise AnsibleFilterError(f"release_manifest: give the manifest as YAML text or a list of objects, not {type(manifest).__name__}")
    try:
        # str(): a templated string carries Ansible's tags; the YAML loader wants a plain one.
        return list(yaml.load_all(str(manifest), Loader=SafeLoader))
    except yaml.YAMLError as exc:
        raise AnsibleFilterError(f"release_manifest: the manifest is not valid YAML: {exc}") from exc


def release_manifest(manifest, namespace="metallb-system", pod_security=None, speaker_node_selector=None,
                     speaker_tolerations=None, image_registry="", image_digests=None):
    options = {
        "namespace": namespace,
        "pod_security": pod_security,
        "speaker_node_selector": speaker_node_selector,
        "speaker_tolerations": speaker_tolerations,
        "image_registry": image_registry,
        "image_digests": image_digests,
    }
    try:
        return transform(parse(manifest), options)
    except OptionsError as exc:
        raise AnsibleFilterError("; ".join(exc.problems)) from None
    except ManifestError as exc:
        raise AnsibleFilterError(f"release_manifest: {exc}") from None


class FilterModule:
    def filters(self):
        return {"release_manifest": release_manifest}
