# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # Attributes shared by the read-only checks that run in the controller's
    # process (an action plugin of the same name): pool_validate, workload_policy.
    # Use together with ansible.builtin.action_common_attributes and its .flow fragment.
    DOCUMENTATION = r"""
attributes:
  check_mode:
    support: full
    details: Read-only; never reports C(changed).
  diff_mode:
    support: none
  platform:
    platforms: all
  action:
    support: full
    details: Runs in the controller's process; no connection to the target host is made.
  async:
    support: none
  bypass_host_loop:
    support: none
"""
