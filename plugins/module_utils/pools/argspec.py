# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pool_validate argument spec, shared by the module and its action plugin."""

from __future__ import annotations

# name and addresses are required in MetalLB, but not here: the validator
# reports every missing one (missing_name, empty_pool) in one go, where the
# argument-spec check would stop at the first.
POOL_OPTIONS = dict(
    name=dict(type="str"),
    addresses=dict(type="list", elements="str"),
    protocol=dict(type="str", default="layer2", choices=["layer2", "bgp"]),
    avoid_buggy_ips=dict(type="bool", default=False),
    auto_assign=dict(type="bool", default=True),
)

POOL_VALIDATE_ARGSPEC = dict(
    pools=dict(type="list", elements="dict", required=True, options=POOL_OPTIONS),
    node_addresses=dict(type="list", elements="str", default=[]),
    l2_networks=dict(type="list", elements="str"),
    reserved=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(name=dict(type="str", required=True), cidr=dict(type="str", required=True)),
    ),
    # IPAddressPool objects as the API returns them; free-form, read as MetalLB reads them.
    cluster_pools=dict(type="list", elements="dict"),
    # or read them from the cluster first (see cluster.py)
    read_cluster=dict(
        type="dict",
        options=dict(
            kubeconfig=dict(type="raw", no_log=True),
            context=dict(type="str"),
            namespace=dict(type="str", default="metallb-system"),
        ),
    ),
    instance=dict(type="str", default="default"),
)
