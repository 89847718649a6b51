# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: token_kubeconfig
short_description: A kubeconfig for the same API server that authenticates with a ServiceAccount token
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Copies the cluster entry (server, certificate authority) of the input kubeconfig's current context (or
    O(context)) and adds a user with O(token) and nothing else; none of the input's credentials are kept.
  - The result holds a credential; write it with mode C(0600) and C(no_log).
options:
  _input:
    description: The kubeconfig the token is for, as a dict (C(lookup('file', path) | from_yaml)).
    type: dict
    required: true
  token:
    description: The ServiceAccount token (the C(token) of its token Secret, base64-decoded).
    type: str
    required: true
  user:
    description: The user and context name in the result.
    type: str
    default: baremetal-metallb-verify
  context:
    description: The context of the input whose cluster is used; its current context when empty.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: Write a kubeconfig for the verification identity
  ansible.builtin.copy:
    content: "{{ lookup('ansible.builtin.file', admin_kubeconfig) | from_yaml | baremetal.metallb.token_kubeconfig(token) | to_nice_yaml }}"
    dest: /etc/metallb/verify.kubeconfig
    mode: "0600"
  no_log: true
"""

RETURN = r"""
_value:
  description: The kubeconfig.
  type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.status.verify_access import (
    DEFAULT_NAME, KubeconfigError, token_kubeconfig as build)


def token_kubeconfig(kubeconfig, token, user=DEFAULT_NAME, context=""):
    try:
        return build(kubeconfig, str(token or ""), str(user), str(context or ""))
    except KubeconfigError as exc:  # never echoes the token
        raise AnsibleFilterError(f"token_kubeconfig: {exc}") from None


class FilterModule:
    def filters(self):
        return {"token_kubeconfig": token_kubeconfig}
