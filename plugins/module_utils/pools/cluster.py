# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_validate's entry point: the cluster's IPAddressPools read first when asked (read_cluster).

Shared by the module and the action plugin. The read is the one of
k8s_batch_info (LIST, paged; a cluster without MetalLB's CRDs holds no pools).
A cluster that cannot be read is a warning, not an error: the input checks
still run (a validation stage on a machine without the cluster), and
metallb_config checks the cluster's pools again before it applies.
"""

from __future__ import annotations

import typing as t

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, check_reads
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError

from .validator import PoolValidator, ValidationResult


def read_cluster_pools(options: dict) -> list[dict]:
    """The IPAddressPools in ``options['namespace']``; raises K8sError when the cluster cannot be read."""
    reads = check_reads([{"key": "pools", "api_version": "metallb.io/v1beta1", "kind": "IPAddressPool", "namespace": options["namespace"]}])
    client = K8sClient.from_params({"kubeconfig": options.get("kubeconfig"), "context": options.get("context")})
    return BatchRead(DynamicApi(client)).run(reads)["resources"]["pools"]


def validate(params: dict, reader: t.Callable[[dict], list[dict]] = read_cluster_pools) -> ValidationResult:
    """PoolValidator on the module's options; ``read_cluster`` becomes ``cluster_pools`` (unless they are given)."""
    params = dict(params)
    read = params.pop("read_cluster", None)
    unread = None
    if read is not None and params.get("cluster_pools") is None:
        try:
            params["cluster_pools"] = reader(read)
        except K8sError as exc:
            unread = (f"the cluster's IPAddressPools were not read ({exc}), so the pools were not checked against them; "
                      "metallb_config checks them again before it applies anything")
    result = PoolValidator(**params).run()
    if unread:
        result.warnings.insert(0, unread)
    return result
