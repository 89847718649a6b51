# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: legacy_metallb_config
short_description: MetalLB's legacy ConfigMap configuration as the metallb_config role's variables
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Converts the C(data.config) of MetalLB's legacy ConfigMap (MetalLB v0.12 and older - C(peers), C(address-pools),
    C(bgp-communities), C(bfd-profiles)) into the C(metallb_config) role's variables, with the semantics of MetalLB's
    C(configmaptocrs) tool (names, peer names C(peer<N>), default hold time 90s, one advertisement per pool).
  - The peers' passwords stay in the result (C(metallb_config) puts them into Secrets); use it in a task with C(no_log).
  - M(baremetal.metallb.metallb_legacy_config) reads, shows and removes the ConfigMap; C(playbooks/migrate_legacy_config.yml)
    uses both.
options:
  _input:
    description: The ConfigMap's C(data.config), as YAML text or already parsed.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: The variables metallb_config takes
  ansible.builtin.set_fact:
    legacy_vars: "{{ configmap.data.config | baremetal.metallb.legacy_metallb_config }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: C(variables) (C(pools), C(l2_advertisements), C(bgp_advertisements), C(bgp_peers), C(bfd_profiles),
    C(communities), each the C(metallb_config_*) variable of that name) and C(notes) (renames, ignored keys).
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.legacy_config.convert import LegacyConfigError, convert, parse_config


def legacy_metallb_config(config):
    try:
        return convert(parse_config(config))
    except LegacyConfigError as exc:
        raise AnsibleFilterError(f"legacy_metallb_config: {exc}") from None


class FilterModule:
    def filters(self):
        return {"legacy_metallb_config": legacy_metallb_config}
