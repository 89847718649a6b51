# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The module class of this collection's Kubernetes modules (as kubernetes.core has ``AnsibleK8SModule``).

``K8sModule`` is an ``AnsibleModule`` that adds the connection options (``K8S_AUTH_ARG_SPEC``,
documented by the ``baremetal.metallb.k8s_auth`` doc fragment) to the module's own argument
spec. ``client()`` fails the module when the ``kubernetes`` library is missing and otherwise
builds the ``K8sClient``; ``api_errors()`` turns a ``K8sError`` raised inside it into
``fail_json(msg=<its message>)``. A module checks its input first and asks for the client only
when it reads the cluster, so input errors are reported on a host without the library too.
"""

from __future__ import annotations

import contextlib

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES,
    K8S_AUTH_ARG_SPEC,
    KUBERNETES_IMPORT_ERROR,
    K8sClient,
    K8sError,
)


class K8sModule(AnsibleModule):
    """An ``AnsibleModule`` with the kubeconfig and context options and one way to the API."""

    def __init__(self, argument_spec: dict, **kwargs) -> None:
        super().__init__(argument_spec=dict(argument_spec, **K8S_AUTH_ARG_SPEC), **kwargs)

    def client(self, connections: int | None = None) -> K8sClient:
        """The API client from O(kubeconfig) and O(context); raises ``K8sError`` for a kubeconfig it cannot use.

        ``connections``: how many requests may be open at once (see ``K8sClient.from_params``).
        """
        if not HAS_KUBERNETES:
            self.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
        if connections:
            return K8sClient.from_params(self.params, connections=connections)
        return K8sClient.from_params(self.params)

    @contextlib.contextmanager
    def api_errors(self, **result):
        """A ``K8sError`` raised in the block fails the module with its message, plus ``result``."""
        try:
            yield
        except K8sError as exc:
            self.fail_json(msg=str(exc), **result)
