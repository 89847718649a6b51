# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations


class ModuleDocFragment:
    # How this collection's modules reach the Kubernetes API. The matching argument
    # spec is K8S_AUTH_ARG_SPEC in plugins/module_utils/k8s/client.py.
    DOCUMENTATION = r"""
options:
  kubeconfig:
    description:
      - The kubeconfig to use, either the path of a file on the host running the task or the
        kubeconfig itself as a dictionary, for example read on the controller with the C(file) lookup
        and the C(from_yaml) filter.
      - When not set, C($KUBECONFIG), then C(~/.kube/config), then the in-cluster service account are used.
      - It holds credentials, so it is never logged or returned.
      - Set it once for all Kubernetes tasks with C(module_defaults) for the group C(group/baremetal.metallb.k8s).
    type: raw
  context:
    description:
      - The kubeconfig context to use. Defaults to the kubeconfig's current context.
    type: str
requirements:
  - kubernetes >= 24.2.0 (Python library on the host running the task; only for the options that read the Kubernetes API)
"""

    # The attributes every module of the k8s action group shares; each module adds its own
    # check_mode, diff_mode and platform. Use as baremetal.metallb.k8s_auth.attributes.
    ATTRIBUTES = r"""
attributes:
  action_group:
    support: full
    membership: [baremetal.metallb.k8s]
  action:
    support: none
  async:
    support: full
  bypass_host_loop:
    support: none
"""
