# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A small wrapper around the ``kubernetes`` client for this collection's modules.

Modules do not use it directly: they build ``K8sModule`` (``module.py``), which adds
``K8S_AUTH_ARG_SPEC`` (documented by the ``baremetal.metallb.k8s_auth`` doc fragment), checks
``HAS_KUBERNETES`` and builds the ``K8sClient``. Every API call goes through ``request()``,
which turns API and connection errors into ``K8sError`` with a message fit for ``fail_json``.
The kubeconfig's content never appears in a message. This file imports without the
``kubernetes`` library.
"""

from __future__ import annotations

import json
import os
import traceback

try:
    from kubernetes import client as k8s_client
    from kubernetes import config as k8s_config
    from kubernetes.client.rest import ApiException
    from kubernetes.config.config_exception import ConfigException
    from urllib3.exceptions import HTTPError as Urllib3Error
except ImportError:
    HAS_KUBERNETES = False
    KUBERNETES_IMPORT_ERROR = traceback.format_exc()
    _API_ERRORS: tuple = ()
    _CONFIG_ERRORS: tuple = ()
    _TRANSPORT_ERRORS: tuple = (OSError,)
else:
    HAS_KUBERNETES = True
    KUBERNETES_IMPORT_ERROR = None
    _API_ERRORS = (ApiException,)
    _CONFIG_ERRORS = (ConfigException,)
    _TRANSPORT_ERRORS = (OSError, Urllib3Error)

# kubeconfig may be a dict with tokens and keys in it: never logged.
K8S_AUTH_ARG_SPEC = {
    "kubeconfig": {"type": "raw", "no_log": True},
    "context": {"type": "str"},
}

DEFAULT_KUBECONFIG = "~/.kube/config"


class K8sError(Exception):
    """A Kubernetes API call or the client set-up failed.

    ``status`` is the HTTP status if any; ``causes`` the API Status's ``details.causes``
    (for a server-side apply conflict: the fields and the field managers that own them).
    """

    def __init__(self, msg: str, status: int | None = None, causes: list | None = None) -> None:
        super().__init__(msg)
        self.status = status
        self.causes = causes or []


def _api_status(exc) -> dict:
    """The API server's Status object from an ApiException body; empty when there is none."""
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _api_message(exc) -> str:
    """The API server's own message from an ApiException body, else its reason."""
    return _api_status(exc).get("message") or exc.reason or "error"


def load_configuration(kubeconfig=None, context: str | None = None):
    """A ``kubernetes.client.Configuration`` from a kubeconfig path, a kubeconfig dict, or the defaults.

    Defaults, in order: ``$KUBECONFIG``, ``~/.kube/config``, then the in-cluster
    service account.
    """
    if not HAS_KUBERNETES:
        raise K8sError("the kubernetes Python library is not installed")
    configuration = k8s_client.Configuration()
    try:
        if isinstance(kubeconfig, dict):
            k8s_config.load_kube_config_from_dict(config_dict=kubeconfig, context=context, client_configuration=configuration)
        elif kubeconfig:
            path = os.path.expanduser(str(kubeconfig))
            if not os.path.isfile(path):
                raise K8sError("kubeconfig: the file given does not exist on the host running the task")
            k8s_config.load_kube_config(config_file=path, context=context, client_configuration=configuration)
        elif os.environ.get("KUBECONFIG") or os.path.isfile(os.path.expanduser(DEFAULT_KUBECONFIG)):
            k8s_config.load_kube_config(context=context, client_configuration=configuration)
        else:
            try:
                k8s_config.load_incluster_config(client_configuration=configuration)
            except _CONFIG_ERRORS:
                raise K8sError(
                    "kubeconfig: not given, and there is no $KUBECONFIG, no ~/.kube/config and no in-cluster "
                    "service account on the host running the task"
                ) from None
    except _CONFIG_ERRORS as exc:
        # ConfigException texts name contexts, users and files, not credentials.
        raise K8sError(f"kubeconfig: cannot be used: {exc}") from None
    return configuration


class K8sClient:
    """API access for one module run."""

    def __init__(self, api_client) -> None:
        self.api_client = api_client

    @classmethod
    def from_params(cls, params: dict, connections: int | None = None) -> K8sClient:
        """``connections``: how many requests may be open at once (more than the default wait for a free one)."""
        configuration = load_configuration(params.get("kubeconfig"), params.get("context"))
        if connections:
            configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize, connections)
        return cls(k8s_client.ApiClient(configuration))

    def core(self):
        return k8s_client.CoreV1Api(self.api_client)

    def custom(self):
        return k8s_client.CustomObjectsApi(self.api_client)

    def request(self, what: str, call, *args, **kwargs):
        """``call(*args, **kwargs)``; errors become ``K8sError('<what>: <reason>')``."""
        try:
            return call(*args, **kwargs)
        except _API_ERRORS as exc:
            causes = (_api_status(exc).get("details") or {}).get("causes") or []
            raise K8sError(f"{what}: HTTP {exc.status}: {_api_message(exc)}", status=exc.status, causes=causes) from None
        except _TRANSPORT_ERRORS as exc:
            raise K8sError(f"{what}: cannot reach the API server ({exc.__class__.__name__}: {exc})") from None

    @staticmethod
    def parse_json(what: str, response) -> dict:
        try:
            return json.loads(response.data or b"{}")
        except (TypeError, ValueError) as exc:
            raise K8sError(f"{what}: the API server's answer is not JSON ({exc})") from None
