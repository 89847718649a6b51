#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: frr_config
short_description: Validate, diff and incrementally apply an FRR configuration
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Installs a complete FRR configuration (C(frr.conf), integrated vtysh config) and applies it to the
    running daemons without restarting them.
  - The candidate is first checked with C(vtysh -C -f). A candidate FRR cannot parse fails the task and
    changes nothing.
  - The change is the exact set of lines C(frr-reload.py --test) reports; it decides C(changed) and the
    diff, in check mode too.
  - When applying, the current file is backed up, the candidate installed with O(owner), O(group) and O(mode),
    and C(frr-reload.py --reload) applies the delta. If the reload fails the previous file is restored and
    reloaded.
  - After the reload C(frr-reload.py --test) must report nothing. If it still reports lines, the candidate is
    not in FRR's canonical form and the task fails, naming those lines.
  - When FRR is not running, only the file is compared and installed; the daemons read it when they start.
  - Secrets (BGP neighbor and vty passwords) are masked in every result, diff and error message.
  - Needs C(vtysh) and C(frr-reload.py) (Debian and Ubuntu ship it in C(frr-pythontools)) on the target.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the lines C(frr-reload.py --test) would add and delete; changes nothing.
  diff_mode:
    support: full
    details: >-
      With FRR running, the diff lists the commands to delete (C(-)) and to add (C(+)) in the running configuration.
      With FRR stopped, it is the file's before and after. Passwords are masked.
  platform:
    platforms: posix
options:
  content:
    description:
      - The complete candidate configuration, as it should be in O(path).
      - May hold passwords, so it is never logged or returned.
    type: str
    required: true
  path:
    description:
      - The integrated configuration file. Its directory is passed to C(frr-reload.py) as C(--confdir).
      - Must be named C(frr.conf), because C(frr-reload.py --reload) writes the running configuration over
        C(<confdir>/frr.conf) when given any other file.
    type: path
    default: /etc/frr/frr.conf
  backup:
    description: Keep a time-stamped copy of the previous file next to it before replacing it.
    type: bool
    default: true
  owner:
    description: Owner of the installed file (and of its backup).
    type: str
    default: root
  group:
    description: Group of the installed file; the FRR daemons read the file through this group.
    type: str
    default: frr
  mode:
    description:
      - Octal mode of the installed file (and of its backup), as a string.
      - The file may hold passwords, so others get no access by default.
    type: str
    default: '0640'
  reload:
    description:
      - Apply the configuration to the running daemons with C(frr-reload.py --reload).
      - When V(false), only the file is installed.
    type: bool
    default: true
  vtysh_path:
    description: Path of C(vtysh). Found on the E(PATH) when not given.
    type: path
  reload_script:
    description: Path of C(frr-reload.py).
    type: path
    default: /usr/lib/frr/frr-reload.py
notes:
  - A change of C(/etc/frr/daemons) is not handled here; enable the daemons the configuration needs
    (for example C(bgpd), C(bfdd)) and reload FRR before calling this module.
seealso:
  - module: baremetal.metallb.bgp_verify
  - name: frr-reload.py
    description: FRR's incremental reload tool.
    link: https://docs.frrouting.org/en/latest/setup.html
"""

EXAMPLES = r"""
- name: Apply the router's BGP configuration
  baremetal.metallb.frr_config:
    content: "{{ lookup('ansible.builtin.template', 'frr.conf.j2') }}"
  register: frr

- name: Show what would change, without changing it
  baremetal.metallb.frr_config:
    content: "{{ lookup('ansible.builtin.template', 'frr.conf.j2') }}"
  check_mode: true
  diff: true
"""

RETURN = r"""
lines_to_add:
  description:
    - Commands C(frr-reload.py --test) reported as missing from the running configuration, before the apply.
    - Each command is written with its context, levels joined by C( > ). Passwords are masked.
  returned: always
  type: list
  elements: str
  sample:
    - router bgp 64501 > neighbor 198.51.100.14 peer-group METALLB
lines_to_delete:
  description: Commands C(frr-reload.py --test) reported as to be removed, in the same form as RV(lines_to_add).
  returned: always
  type: list
  elements: str
  sample:
    - router bgp 64501 > no neighbor 198.51.100.13 peer-group METALLB
file_changed:
  description: Whether O(path) differed from O(content).
  returned: always
  type: bool
running_changed:
  description: Whether the running configuration differed from O(content).
  returned: always
  type: bool
daemons_running:
  description: Whether vtysh could reach the FRR daemons.
  returned: always
  type: bool
reloaded:
  description: Whether C(frr-reload.py --reload) was run.
  returned: always
  type: bool
backup_file:
  description: The copy of the previous file.
  returned: when a previous file was replaced and O(backup=true)
  type: str
  sample: /etc/frr/frr.conf.1234.2026-11-21@15:22:39~
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.apply import ConfigApplier, failure_message
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.files import AnsibleFileOps
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.redact import find_secrets
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrError, FrrTools


def main():
    module = AnsibleModule(
        argument_spec=dict(
            content=dict(type="str", required=True, no_log=True),
            path=dict(type="path", default="/etc/frr/frr.conf"),
            backup=dict(type="bool", default=True),
            owner=dict(type="str", default="root"),
            group=dict(type="str", default="frr"),
            mode=dict(type="str", default="0640"),
            reload=dict(type="bool", default=True),
            vtysh_path=dict(type="path"),
            reload_script=dict(type="path", default="/usr/lib/frr/frr-reload.py"),
        ),
        supports_check_mode=True,
    )
    p = module.params
    content = p["content"]
    # Mask each password wherever it might surface, not just the whole content.
    for secret in find_secrets(content):
        module.no_log_values.add(secret)

    if os.path.basename(p["path"]) != "frr.conf":
        module.fail_json(msg=f"path must name a file called frr.conf (got {p['path']}): frr-reload.py only reloads <confdir>/frr.conf")
    try:
        mode = int(p["mode"], 8)
    except ValueError:
        module.fail_json(msg=f"mode must be an octal string such as '0640' (got {p['mode']!r})")
    if not content.endswith("\n"):
        content += "\n"

    vtysh = p["vtysh_path"] or module.get_bin_path("vtysh")
    missing = []
    if not vtysh or not os.path.exists(vtysh):
        missing.append("vtysh")
    if not os.path.exists(p["reload_script"]):
        missing.append(p["reload_script"])
    if missing:
        message = f"FRR tools not found on the target: {', '.join(missing)} (install frr, and frr-pythontools on Debian/Ubuntu)"
        if module.check_mode:
            module.warn(message + "; the candidate could not be validated or compared")
            module.exit_json(changed=True, file_changed=True, running_changed=False, daemons_running=False,
                             reloaded=False, lines_to_add=[], lines_to_delete=[])
        module.fail_json(msg=message)

    directory = os.path.dirname(p["path"])
    if not os.path.isdir(directory):
        module.fail_json(msg=f"directory {directory} does not exist (is FRR installed?)")

    tools = FrrTools(lambda argv: module.run_command(argv, umask=0o077), vtysh=vtysh, reload_script=p["reload_script"])
    files = AnsibleFileOps(module, directory, owner=p["owner"], group=p["group"], mode=mode)
    try:
        result = ConfigApplier(tools, files).apply(
            content, p["path"], check_mode=module.check_mode, backup=p["backup"], reload=p["reload"]
        )
    except (FrrError, ValueError, OSError) as exc:
        module.fail_json(msg=failure_message(exc, content))

    for warning in result.pop("warnings"):
        module.warn(warning)
    diff = result.pop("diff", None)
    if module._diff and diff is not None and result["changed"]:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
