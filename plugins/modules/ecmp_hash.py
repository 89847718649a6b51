#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: ecmp_hash
short_description: Set the kernel's ECMP hash policy on a Linux router (IPv4 and IPv6)
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Sets C(net.ipv4.fib_multipath_hash_policy) and C(net.ipv6.fib_multipath_hash_policy), which decide the header
    fields the kernel hashes to pick one of the equal-cost next hops (the MetalLB nodes) for a flow.
  - Sets the running value and, unless O(path=""), writes a C(sysctl.d) file so that the setting survives a reboot.
  - A host without IPv6 gets the IPv4 setting only.
  - Used by the P(baremetal.metallb.bgp_router#role) role (C(bgp_router_ecmp_hash_policy)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reads only, and reports what it would change.
  diff_mode:
    support: full
    details: Shows the running values and the file before and after.
  platform:
    platforms: posix
options:
  policy:
    description:
      - V(l3) (the kernel's default, policy 0) hashes source and destination address, so all connections of one
        client to one VIP take the same next hop.
      - V(l4) (policy 1) hashes the 5-tuple, so one client's connections spread over the next hops.
      - V(l3_inner) (policy 2) hashes the inner addresses of encapsulated packets (outer ones otherwise).
      - Whatever the policy, a change of the next-hop set rehashes established flows.
    type: str
    choices: [l3, l4, l3_inner]
    required: true
  path:
    description:
      - The C(sysctl.d) file that keeps the setting across reboots; V("") sets the running value only.
    type: str
    default: /etc/sysctl.d/90-baremetal-metallb-ecmp.conf
seealso:
  - module: baremetal.metallb.frr_config
"""

EXAMPLES = r"""
- name: Spread one client's connections over the nodes (L4 hash)
  baremetal.metallb.ecmp_hash:
    policy: l4

- name: The kernel's default, running value only
  baremetal.metallb.ecmp_hash:
    policy: l3
    path: ""
"""

RETURN = r"""
sysctl:
  description: The settings after the run (in check mode, what they would be), by sysctl name.
  returned: always
  type: dict
  sample: {"net.ipv4.fib_multipath_hash_policy": 1, "net.ipv6.fib_multipath_hash_policy": 1}
previous:
  description: The running settings before the run, by sysctl name.
  returned: always
  type: dict
  sample: {"net.ipv4.fib_multipath_hash_policy": 0, "net.ipv6.fib_multipath_hash_policy": 0}
families:
  description: The address families the host has (C(ipv6) is missing where IPv6 is off).
  returned: always
  type: list
  elements: str
  sample: [ipv4, ipv6]
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.ecmp_hash import EcmpHashError, EcmpHashPlan


def read_file(path: str) -> str | None:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None


def render_diff(state: dict) -> str:
    return "".join(f"{k} = {v}\n" for k, v in sorted(state["sysctl"].items())) + (state["file"] or "")


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            policy=dict(type="str", required=True, choices=["l3", "l4", "l3_inner"]),
            path=dict(type="str", default="/etc/sysctl.d/90-baremetal-metallb-ecmp.conf"),
        ),
        supports_check_mode=True,
    )
    path = module.params["path"]
    if path and not os.path.isabs(path):
        module.fail_json(msg=f"path is {path!r}: give an absolute path, or \"\" for the running value only")
    try:
        plan = EcmpHashPlan(read_file).plan(module.params["policy"], path)
    except (EcmpHashError, ValueError, OSError) as exc:
        module.fail_json(msg=str(exc))
    if not module.check_mode:
        for proc, value in plan["writes"].items():
            try:
                with open(proc, "w", encoding="ascii") as handle:
                    handle.write(value + "\n")
            except OSError as exc:
                module.fail_json(msg=f"bgp_router_ecmp_hash_policy: the kernel refused {proc} = {value}: {exc}")
        if plan["file"] is not None:
            os.makedirs(os.path.dirname(path), exist_ok=True)
            tmp = f"{path}.tmp"
            with open(tmp, "w", encoding="ascii") as handle:
                handle.write(plan["file"])
            os.chmod(tmp, 0o644)
            module.atomic_move(tmp, path)
    result = {"changed": plan["changed"], "sysctl": plan["after"]["sysctl"],
              "previous": plan["before"]["sysctl"], "families": plan["families"]}
    if module._diff:
        result["diff"] = {"before": render_diff(plan["before"]), "after": render_diff(plan["after"]),
                          "before_header": "fib_multipath_hash_policy", "after_header": "fib_multipath_hash_policy"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
