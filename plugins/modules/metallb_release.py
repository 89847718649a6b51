#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: metallb_release
short_description: A MetalLB release checked, read, adapted to the install options, and waited for
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Everything P(baremetal.metallb.metallb_install#role) decides about a release, in one plugin. The role's tasks pass
    its inputs here and the results on to M(baremetal.metallb.k8s_apply), C(kubernetes.core.helm) and
    C(kubernetes.core.k8s).
  - B(Inputs.) Checks O(inputs) before anything else and fails with every problem at once, each naming the
    C(metallb_install_*) variable and the fix; nothing is read from or written to a cluster then. Returns the
    Namespace object with its pod-security labels (RV(namespace_object)) and, for C(method=helm), the chart values
    (RV(helm_values)).
  - B(Release.) With O(read), reads the manifest (C(method=manifest)) with the digest check of the
    P(baremetal.metallb.release_file#lookup) lookup, or checks the local chart (C(method=helm)) and returns its path
    (RV(chart)). With O(release) (or the manifest O(read) returned), returns the objects adapted to the options
    (RV(objects)) and what they consist of (RV(summary)), that is what an install waits for, what an uninstall deletes and in
    which order.
  - B(Waits), derived from the release's objects and nothing else. With O(waits), polls the API server (with
    M(baremetal.metallb.k8s_batch_info), every 2 seconds, at most C(inputs.wait_timeout) seconds) until every CRD is
    Established, every Deployment and DaemonSet rolled out and ready, and every webhook Service of the release has a
    ready endpoint; in the frr-k8s flavour that includes frr-k8s's DaemonSet, its status cleaner and its webhook
    Service. On a timeout it fails with RV(pending) and a RV(diagnostic) (the namespace's pods, its recent events and
    the webhook endpoints).
  - B(Preflight.) With O(kube_proxy), fails when kube-proxy runs in IPVS mode without C(strictARP) (every node would
    answer ARP for MetalLB's addresses), saying how to fix it; without kubeadm's ConfigMap there is nothing to check
    (RV(preflight_note) says so).
  - Runs in the controller's process (an action plugin). Only the waits run a module (M(baremetal.metallb.k8s_batch_info))
    on the target host, which needs the C(kubernetes) Python library then.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
options:
  inputs:
    description:
      - The role's inputs, named without the C(metallb_install_) prefix, converted (the result of
        M(baremetal.metallb.role_inputs)); keys not listed here are ignored.
      - C(version) (required), C(method), C(flavour), C(manifest_src), C(manifest_url), C(manifest_sha256),
        C(manifest_validate_certs), C(chart_ref), C(chart_repo_url), C(chart_sha256), C(verify_digests),
        C(image_digests), C(image_registry), C(namespace), C(pod_security), C(speaker_node_selector),
        C(speaker_tolerations), C(wait), C(wait_timeout), C(kubeconfig), C(kube_context); their meaning and defaults
        are those of the role's variables (C(ansible-doc -t role baremetal.metallb.metallb_install)).
    type: dict
    required: true
  read:
    description:
      - Read the release source named by O(inputs) on the controller, refused unless its sha256 is the shipped or the
        given digest (unless C(inputs.verify_digests) is false). The manifest is then adapted as with O(release); for C(method=helm),
        the local chart is checked and its path returned in RV(chart).
    type: bool
    default: false
  release:
    description:
      - The release's objects, as multi-document YAML text (a manifest, the output of C(helm template)) or a list.
    type: raw
  waits:
    description:
      - What to wait for, RV(summary.waits) of an earlier run. Waits only when C(inputs.wait) is true and not in check
        mode.
    type: list
    elements: dict
  applied:
    description:
      - The RV(baremetal.metallb.k8s_apply#module:results) of the apply before the wait. When no object changed and the
        answers show every CRD Established and every Deployment and DaemonSet ready, nothing is read.
    type: list
    elements: dict
  kube_proxy:
    description:
      - The ConfigMap C(kube-system/kube-proxy) as read (a list of none or one object), for the preflight.
    type: list
    elements: dict
attributes:
  check_mode:
    support: full
    details: Never changes anything; in check mode O(waits) does not wait.
  diff_mode:
    support: none
  platform:
    platforms: all
  action:
    support: full
    details: Runs in the controller's process; only the waits run a module on the target host.
  async:
    support: none
  bypass_host_loop:
    support: none
seealso:
  - module: baremetal.metallb.k8s_apply
  - plugin: baremetal.metallb.release_file
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Check the inputs
  baremetal.metallb.metallb_release:
    inputs:
      version: v0.16.1
      manifest_src: files/metallb-frr-k8s.yaml
      flavour: frr-k8s
      speaker_node_selector: {node-role.example.com/edge: "true"}
  register: plan

- name: Read the manifest (digest checked) and adapt it
  baremetal.metallb.metallb_release:
    inputs: "{{ plan_inputs }}"
    read: true
  register: release

- name: Apply it
  baremetal.metallb.k8s_apply:
    field_manager: baremetal.metallb
    definitions: "{{ release.objects }}"
  register: applied

- name: Wait until MetalLB and frr-k8s serve
  baremetal.metallb.metallb_release:
    inputs: "{{ plan_inputs }}"
    waits: "{{ release.summary.waits }}"
    applied: "{{ applied.results }}"
"""

RETURN = r"""
namespace_object:
  description: The Namespace to install into, with the pod-security labels.
  returned: success
  type: dict
  sample: {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "metallb-system", "labels": {}}}
helm_values:
  description: The chart values for the options (empty for C(method=manifest)); C(native) switches frr-k8s off.
  returned: success
  type: dict
  sample: {"speaker": {"frr": {"enabled": false}}, "frrk8s": {"enabled": false}}
chart_version:
  description: The chart version of the release (the tag without its C(v)).
  returned: success
  type: str
  sample: 0.16.1
no_log:
  description: Whether C(inputs.kubeconfig) is inline (a dict), so that the tasks that get it log nothing.
  returned: success
  type: bool
chart:
  description: The chart for helm, its digest checked when it is local.
  returned: with O(read) and C(method=helm)
  type: str
objects:
  description: The release's objects adapted to the options, the Namespace first, ready for server-side apply.
  returned: with O(release) or O(read) of a manifest
  type: list
  elements: dict
summary:
  description: What the release consists of, read from RV(objects).
  returned: with O(release) or O(read) of a manifest
  type: dict
  contains:
    namespace:
      description: The namespace.
      type: str
    crds:
      description: Names of the CustomResourceDefinitions.
      type: list
      elements: str
    deployments:
      description: Names of the Deployments (MetalLB's controller; frr-k8s's status cleaner).
      type: list
      elements: str
    daemonsets:
      description: Names of the DaemonSets (MetalLB's speaker; frr-k8s's daemon).
      type: list
      elements: str
    controller:
      description: Name of the controller Deployment (the one with a container named C(controller)).
      type: str
    speaker:
      description: Name of the speaker DaemonSet (the one with a container named C(speaker)).
      type: str
    webhook_services:
      description: The release's Services that its webhook configurations and CRD conversion webhooks call.
      type: list
      elements: str
    webhook_configurations:
      description: Names of the validating and mutating webhook configurations.
      type: list
      elements: str
    images:
      description: The images the pods run, sorted.
      type: list
      elements: str
    objects:
      description: Each object as C(Kind namespace/name), in order.
      type: list
      elements: str
    namespaced_objects:
      description: The namespaced objects as C(Kind namespace/name), in order.
      type: list
      elements: str
    deletion_order:
      description: References (apiVersion, kind, name, namespace) in the order to delete them; webhook configurations
        first, CRDs last.
      type: list
      elements: dict
    waits:
      description: What an install waits for, one entry per kind (C(key), C(kind), C(api_version), C(namespace),
        C(names)); pass it to O(waits).
      type: list
      elements: dict
preflight_note:
  description: With O(kube_proxy), why there was nothing to check (no kubeadm ConfigMap); empty otherwise.
  returned: with O(kube_proxy)
  type: str
waited:
  description: Whether the cluster was read to wait (false when nothing changed and all was ready, or in check mode).
  returned: with O(waits)
  type: bool
pending:
  description: What is not ready, one sentence each; empty when all is ready.
  returned: with O(waits)
  type: list
  elements: str
  sample: ["DaemonSet frr-k8s-daemon: 1/3 pods ready, 3 updated"]
diagnostic:
  description: On failure, what explains it, one line each (on a timeout, RV(pending), the pods, recent events and
    webhook endpoints; for bad input, the problems).
  returned: failure
  type: list
  elements: str
errors:
  description: Every problem with the inputs or the release, each naming the variable.
  returned: failure
  type: list
  elements: str
"""
