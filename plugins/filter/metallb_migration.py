# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: metallb_migration
short_description: The order of a MetalLB BGP mode switch on a running cluster (native to frr-k8s)
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Compares the speaker DaemonSet running with the release about to be applied. When the release moves the speakers
    to frr-k8s from another mode, returns the objects to apply and wait for first (every object of the release but
    MetalLB's speaker DaemonSet and controller Deployment), so that frr-k8s runs on every node before any speaker
    hands its sessions to it.
  - An install on an empty cluster and a re-run in the same mode return no first objects (one apply).
  - Nothing is read or changed here; see docs/migrations.md for the procedure.
options:
  _input:
    description: MetalLB's workloads as read from the cluster (the speaker DaemonSet is what counts); empty when none.
    type: list
    elements: dict
    required: true
  release:
    description: The release's objects, as metallb_install applies them.
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
- name: Plan the switch
  ansible.builtin.set_fact:
    _migration: "{{ _running.resources.speaker | baremetal.metallb.metallb_migration(_release.objects) }}"
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    running:
      description: The mode the speakers run (V(native), V(frr), V(frr-k8s)), or null when there is no speaker DaemonSet.
      type: str
    target:
      description: The mode of the release's speakers.
      type: str
    migration:
      description: C(running -> target) when the mode changes, else empty.
      type: str
    first:
      description: The objects to apply before the rest (empty for one apply).
      type: list
      elements: dict
    first_waits:
      description: What to wait for after applying O(_input) first, as metallb_release takes C(waits).
      type: list
      elements: dict
    lines:
      description: What the switch does, for the log.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.migration import plan


def metallb_migration(running, release):
    if not isinstance(running, list) or not isinstance(release, list):
        raise AnsibleFilterError("metallb_migration: give the workloads read and the release's objects as lists")
    return plan(running, release)


class FilterModule:
    def filters(self):
        return {"metallb_migration": metallb_migration}
