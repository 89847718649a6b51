#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: frr_info
short_description: Read what an FRR host has, before anything is changed
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - In one module run, reads what the P(baremetal.metallb.bgp_router#role) role decides on. Whether the FRR packages
    are installed (C(dpkg-query) or C(rpm)), the settings of FRR's daemons file, which daemons C(vtysh) reaches, and
    the kernel's IPv6 forwarding setting.
  - Read-only; never changed.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  packages:
    description:
      - The packages to look up in the package database.
    type: list
    elements: str
    default: []
  daemons_path:
    description:
      - FRR's daemons file, which says which daemons the init script starts.
    type: path
    default: /etc/frr/daemons
  vtysh_path:
    description:
      - The C(vtysh) binary, by name (looked up in C(PATH)) or by path.
    type: str
    default: vtysh
seealso:
  - module: baremetal.metallb.frr_config
"""

EXAMPLES = r"""
- name: Read what FRR has
  baremetal.metallb.frr_info:
    packages: [frr, frr-pythontools]
  register: frr

- name: Install FRR when a package is missing
  ansible.builtin.package:
    name: [frr, frr-pythontools]
  when: frr.packages is none or not (frr.packages.values() | list is all)

- name: Enable bgpd unless the daemons file already does
  ansible.builtin.lineinfile:
    path: /etc/frr/daemons
    regexp: "^bgpd="
    line: bgpd=yes
  when: frr.daemons_file.settings.bgpd | default('') != 'yes'
"""

RETURN = r"""
packages:
  description:
    - Each of O(packages) to whether it is installed; C(null) when the host has neither C(dpkg-query) nor C(rpm).
  returned: always
  type: dict
  sample: {"frr": true, "frr-pythontools": true}
daemons_file:
  description: O(daemons_path), read.
  returned: always
  type: dict
  contains:
    exists:
      description: Whether the file exists.
      type: bool
    settings:
      description: Its C(name=value) lines (the last one of a name wins), for example C(bgpd) to C(yes).
      type: dict
  sample: {"exists": true, "settings": {"bgpd": "yes", "bfdd": "no", "vtysh_enable": "yes"}}
running:
  description: Whether FRR runs (C(vtysh -c 'show daemons') answers).
  returned: always
  type: bool
running_daemons:
  description: The daemons C(vtysh) reaches; empty when FRR does not run.
  returned: always
  type: list
  elements: str
  sample: [bgpd, mgmtd, staticd, watchfrr, zebra]
ipv6_forwarding:
  description: The kernel's C(net.ipv6.conf.all.forwarding); C(null) when the host has no IPv6.
  returned: always
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.host_info import HostInfo


def read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            packages=dict(type="list", elements="str", default=[]),
            daemons_path=dict(type="path", default="/etc/frr/daemons"),
            vtysh_path=dict(type="str", default="vtysh"),
        ),
        supports_check_mode=True,
    )
    params = module.params

    def find_binary(name: str) -> str | None:
        if os.path.isabs(name):
            return name if os.access(name, os.X_OK) else None
        return module.get_bin_path(name)

    info = HostInfo(module.run_command, read_file, find_binary, vtysh=params["vtysh_path"])
    try:
        result = info.read(params["packages"], params["daemons_path"])
    except OSError as exc:
        module.fail_json(msg=f"reading the host: {exc}")
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
