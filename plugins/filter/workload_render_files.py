# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_render_files
short_description: The files the lb_workload role renders, and those it rendered before that are no longer wanted
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - One file per workload, C(<dir>/<namespace>_<name>.yaml), in the render directory without trailing slashes; the
    files found that the role wrote earlier (their first line says so) and that no workload names any more are
    C(stale).
options:
  _input:
    description: The workloads (C(name), C(namespace) each).
    type: list
    elements: dict
    required: true
  render_dir:
    description: The render directory.
    type: str
    required: true
  found:
    description: The registered result of an C(ansible.builtin.find) of the role's earlier files (skipped, or with
      C(files)).
    type: dict
"""

EXAMPLES = r"""
- name: Remove the files of workloads no longer listed
  ansible.builtin.file:
    path: "{{ item }}"
    state: absent
  loop: "{{ (workloads | baremetal.metallb.workload_render_files('/srv/gitops', found)).stale }}"
"""

RETURN = r"""
_value:
  description: The directory and its files.
  type: dict
  contains:
    dir:
      description: The render directory without trailing slashes.
      type: str
    files:
      description: The path of each workload's file, in the workloads' order.
      type: list
      elements: str
    stale:
      description: Paths of earlier files no workload names any more, sorted.
      type: list
      elements: str
"""

from ansible_collections.baremetal.metallb.plugins.plugin_utils.workload_steps import render_files


def workload_render_files(workloads, render_dir, found=None):
    return render_files(list(workloads or []), str(render_dir), found)


class FilterModule:
    def filters(self):
        return {"workload_render_files": workload_render_files}
