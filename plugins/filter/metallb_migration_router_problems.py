# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

DOCUMENTATION = r"""
name: metallb_migration_router_problems
short_description: Refuse the router's BFD and graceful restart in the run that moves MetalLB's speakers off native
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - site.yml configures the router before MetalLB. In the run that switches the speakers from V(native) to an FRR-based
    mode, the router would ask for BFD or graceful restart while the native speakers, which speak neither, still hold
    the sessions. Returns one sentence naming the variables and the order (migrate first, then switch them on), or
    an empty list.
  - Nothing is read or changed here; see docs/migrations.md.
options:
  _input:
    description: MetalLB's speaker DaemonSet as read from the cluster (a list of none or one object).
    type: list
    elements: dict
    required: true
  target:
    description: The BGP mode this run installs (C(metallb_bgp_mode)).
    type: str
    required: true
  bfd:
    description: C(bgp_router_bfd) (strings such as V("true") count as booleans).
    type: raw
    default: false
  graceful_restart:
    description: C(bgp_router_graceful_restart).
    type: raw
    default: false
"""

EXAMPLES = r"""
- name: Refuse the router's FRR-only features in the switching run
  ansible.builtin.fail:
    msg: "{{ _problems | join(' ') }}"
  when: _problems | length > 0
  vars:
    _problems: >-
      {{ _speaker.resources.speaker | baremetal.metallb.metallb_migration_router_problems('frr-k8s', bgp_router_bfd) }}
"""

RETURN = r"""
_value:
  description: The problems, one sentence each (empty when the run may go on).
  type: list
  elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.migration import router_problems, speaker_mode


def metallb_migration_router_problems(running, target, bfd=False, graceful_restart=False):
    if not isinstance(running, list):
        raise AnsibleFilterError("metallb_migration_router_problems: give the speaker DaemonSet read as a list")
    return router_problems(speaker_mode(running), target, bfd, graceful_restart)


class FilterModule:
    def filters(self):
        return {"metallb_migration_router_problems": metallb_migration_router_problems}
