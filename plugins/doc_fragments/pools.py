# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # The MetalLB address pools, in the shape every module and role of this collection takes them:
    # the suboptions of a module's O(pools) option. The argument spec is POOL_OPTIONS in
    # plugins/module_utils/pools/argspec.py (ansible-test's validate-modules checks the two agree).
    # The module writes the rest of its pools option itself (description, required or default):
    # ansible merges a fragment's option with the module's, the module's keys winning.
    # Used by pool_validate and workload_policy; the roles' meta/argument_specs.yml cannot use
    # fragments, tests/unit/plugins/test_schemas.py holds them to the same spec.
    DOCUMENTATION = r"""
options:
  pools:
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - The pool's name, a Kubernetes object name (the IPAddressPool's name).
          - MetalLB requires it; M(baremetal.metallb.pool_validate) reports every pool without one at once (C(missing_name)).
        type: str
      addresses:
        description:
          - The pool's addresses; M(baremetal.metallb.pool_validate) reports a missing or empty list as C(empty_pool).
          - Each entry is a CIDR (V(192.0.2.0/28)) or a range (V(192.0.2.10-192.0.2.20), spaces around V(-) allowed),
            as MetalLB v0.16 reads them. Entries are used exactly as written, never rewritten.
          - A single address needs its prefix length (V(203.0.113.6/32), V(2001:db8::6/128)). MetalLB refuses V(203.0.113.6)
            as an invalid CIDR, so M(baremetal.metallb.pool_validate) refuses it with that fix (C(missing_prefix)).
          - A CIDR with spaces in it is refused (MetalLB reads a CIDR as written); spaces around the addresses of a range are fine.
          - Also refused, although MetalLB takes them, because MetalLB's reading surprises. A CIDR with host bits set
            (V(192.0.2.5/24), MetalLB silently masks it), a range whose ends are of two families, an IPv4-mapped IPv6 address.
        type: list
        elements: str
      protocol:
        description:
          - How the pool's addresses are announced, V(layer2) (ARP and NDP) or V(bgp).
        type: str
        choices: [layer2, bgp]
        default: layer2
      avoid_buggy_ips:
        description:
          - MetalLB's C(avoidBuggyIPs); IPv4 addresses ending in .0 and .255 are then never assigned.
        type: bool
        default: false
      auto_assign:
        description:
          - MetalLB's C(autoAssign); V(false) keeps the pool's addresses for Services that ask for the pool or an address in it.
        type: bool
        default: true
"""
