# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_validate's entry point: read_cluster becomes cluster_pools; an unreadable cluster is a warning."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.pools import cluster
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.cluster import validate

POOLS = [{"name": "web", "addresses": ["203.0.113.0/28"]}]
FOREIGN = {"metadata": {"name": "by-hand"}, "spec": {"addresses": ["203.0.113.8/29"]}}
READ = {"kubeconfig": "/k", "context": None, "namespace": "lb"}


def test_the_read_pools_are_checked():
    asked = []
    result = validate({"pools": POOLS, "read_cluster": READ}, reader=lambda options: asked.append(options) or [FOREIGN])
    assert asked == [READ]
    assert [e["code"] for e in result.errors] == ["overlaps_cluster_pool"]
    assert result.foreign_pools == ["by-hand"] and not result.warnings


def test_given_cluster_pools_win_over_a_read():
    result = validate({"pools": POOLS, "cluster_pools": [], "read_cluster": READ}, reader=pytest.fail)
    assert result.foreign_pools == [] and not result.errors


def test_no_read_no_cluster_check():
    result = validate({"pools": POOLS}, reader=pytest.fail)
    assert result.foreign_pools is None and not result.errors


@pytest.mark.parametrize("reason", ["reads[pools]: reading IPAddressPool: cannot reach the API server (ConnectionRefusedError)",
                                    "the kubernetes Python library is not installed"])
def test_an_unreadable_cluster_is_a_warning_and_the_input_is_still_checked(reason):
    def unreadable(options):
        raise K8sError(reason)

    result = validate({"pools": POOLS + [{"name": "bad", "addresses": ["203.0.113.99"]}], "read_cluster": READ}, reader=unreadable)
    assert [e["code"] for e in result.errors] == ["missing_prefix"]
    assert result.foreign_pools is None
    assert result.warnings[0].startswith(f"the cluster's IPAddressPools were not read ({reason})")
    assert "metallb_config checks them again" in result.warnings[0]


def test_the_read_is_one_list_of_ipaddresspools(monkeypatch):
    """read_cluster_pools asks the batch reader for exactly MetalLB's pools in the namespace."""
    seen = {}

    class FakeBatch:
        def __init__(self, api):
            seen["api"] = api

        def run(self, reads):
            seen["reads"] = reads
            return {"resources": {"pools": [FOREIGN]}, "api_found": {"pools": True}}

    monkeypatch.setattr(cluster.K8sClient, "from_params", classmethod(lambda cls, params: seen.setdefault("params", params)))
    monkeypatch.setattr(cluster, "DynamicApi", lambda client: ("api", client))
    monkeypatch.setattr(cluster, "BatchRead", FakeBatch)
    assert cluster.read_cluster_pools(READ) == [FOREIGN]
    assert seen["params"] == {"kubeconfig": "/k", "context": None}
    (read,) = seen["reads"]
    assert (read.kind, read.api_version, read.namespace, read.metadata_only) == ("IPAddressPool", "metallb.io/v1beta1", "lb", False)
