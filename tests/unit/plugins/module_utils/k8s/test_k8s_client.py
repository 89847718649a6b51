# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Kubernetes client wrapper: configuration loading (real library) and error translation."""

from __future__ import annotations

import importlib.util
import sys

import pytest
import yaml

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import client

SECRET = "s3cr3t-t0ken-value"
KUBECONFIG = {
    "apiVersion": "v1",
    "kind": "Config",
    "clusters": [{"name": "lab", "cluster": {"server": "https://198.51.100.10:6443", "insecure-skip-tls-verify": True}}],
    "users": [{"name": "admin", "user": {"token": SECRET}}],
    "contexts": [
        {"name": "lab-admin", "context": {"cluster": "lab", "user": "admin"}},
        {"name": "other", "context": {"cluster": "lab", "user": "admin", "namespace": "x"}},
    ],
    "current-context": "lab-admin",
}


def test_arg_spec_hides_the_kubeconfig():
    assert client.K8S_AUTH_ARG_SPEC["kubeconfig"] == {"type": "raw", "no_log": True}
    assert client.K8S_AUTH_ARG_SPEC["context"] == {"type": "str"}


def test_kubeconfig_as_a_dict():
    configuration = client.load_configuration(KUBECONFIG)
    assert configuration.host == "https://198.51.100.10:6443"
    assert configuration.api_key == {"BearerToken": f"Bearer {SECRET}"}


def test_kubeconfig_file_and_context(tmp_path):
    path = tmp_path / "admin.conf"
    path.write_text(yaml.safe_dump(dict(KUBECONFIG, clusters=[
        {"name": "lab", "cluster": {"server": "https://198.51.100.10:6443"}},
    ])))
    configuration = client.load_configuration(str(path), "other")
    assert configuration.host == "https://198.51.100.10:6443"


def test_missing_file_is_named_without_its_content(tmp_path):
    with pytest.raises(client.K8sError, match="kubeconfig: the file given does not exist"):
        client.load_configuration(str(tmp_path / "nope.conf"))


def test_unknown_context_fails_without_leaking_credentials():
    with pytest.raises(client.K8sError) as info:
        client.load_configuration(KUBECONFIG, "nosuch")
    assert str(info.value).startswith("kubeconfig: cannot be used:")
    assert "nosuch" in str(info.value)
    assert SECRET not in str(info.value)


def test_no_kubeconfig_anywhere(tmp_path, monkeypatch):
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    with pytest.raises(client.K8sError, match=r"no \$KUBECONFIG, no ~/.kube/config and no in-cluster service account"):
        client.load_configuration()


def test_api_errors_become_k8s_errors():
    from kubernetes.client.rest import ApiException

    error = ApiException(status=403, reason="Forbidden")
    error.body = '{"kind":"Status","message":"services \\"web\\" is forbidden: User \\"x\\" cannot get resource"}'

    def call():
        raise error

    with pytest.raises(client.K8sError) as info:
        client.K8sClient(None).request("reading Service shop/web", call)
    assert str(info.value) == 'reading Service shop/web: HTTP 403: services "web" is forbidden: User "x" cannot get resource'
    assert info.value.status == 403


def test_unreachable_api_server():
    from urllib3.exceptions import MaxRetryError

    def call():
        raise MaxRetryError(None, "/api/v1/namespaces/shop/services/web", "Connection refused")

    with pytest.raises(client.K8sError, match=r"^reading Service shop/web: cannot reach the API server \(MaxRetryError"):
        client.K8sClient(None).request("reading Service shop/web", call)


def test_imports_without_the_kubernetes_library(monkeypatch):
    """module_utils must import cleanly where kubernetes is not installed."""
    for name in list(sys.modules):
        if name == "kubernetes" or name.startswith("kubernetes."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "kubernetes", None)
    # A separate copy of the file, so the module the other tests use stays as it is.
    spec = importlib.util.spec_from_file_location("k8s_client_without_kubernetes", client.__file__)
    bare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bare)
    assert bare.HAS_KUBERNETES is False
    assert "kubernetes" in bare.KUBERNETES_IMPORT_ERROR
    with pytest.raises(bare.K8sError, match="not installed"):
        bare.load_configuration({})
