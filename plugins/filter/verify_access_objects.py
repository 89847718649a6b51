# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: verify_access_objects
short_description: The RBAC objects of a read-only identity that can run verify.yml
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - A ServiceAccount, a ClusterRole and ClusterRoleBinding with C(list) on Services, Nodes, Events and
    EndpointSlices, a Role and RoleBinding in MetalLB's namespace with C(list) on Pods and MetalLB's IPAddressPools,
    L2Advertisements, BGPAdvertisements, BGPPeers and ServiceL2Statuses, and (O(token_secret)) a Secret that
    Kubernetes fills with a token for the ServiceAccount.
  - Exactly what M(baremetal.metallb.lb_status) reads (the only API reads of P(baremetal.metallb.lb_verify#role) and
    C(verify.yml)); no write verb, no C(get) on Secrets. See C(docs/access.md).
  - The collection's C(playbooks/verify_access.yml) applies them and writes a kubeconfig with the token.
options:
  _input:
    description: The ServiceAccount's name.
    type: str
    required: true
  namespace:
    description: The ServiceAccount's namespace.
    type: str
    default: metallb-system
  metallb_namespace:
    description: MetalLB's namespace (where its objects and pods are read).
    type: str
    default: metallb-system
  token_secret:
    description: Add the long-lived token Secret C(<name>-token).
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: The read-only verification identity
  baremetal.metallb.k8s_apply:
    definitions: "{{ 'baremetal-metallb-verify' | baremetal.metallb.verify_access_objects }}"
"""

RETURN = r"""
_value:
  description: The objects, ServiceAccount first.
  type: list
  elements: dict
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.status.verify_access import objects


def verify_access_objects(name, namespace="metallb-system", metallb_namespace="metallb-system", token_secret=True):
    return objects(str(name), str(namespace), str(metallb_namespace), bool(token_secret))


class FilterModule:
    def filters(self):
        return {"verify_access_objects": verify_access_objects}
