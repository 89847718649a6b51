# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The workload_policy argument spec, shared by the module, its action plugin and the filter.

Plain data: the service classes fill the same defaults themselves
(``fill_defaults``), so unit tests need no ``AnsibleModule``.
"""

from __future__ import annotations

import copy
import typing as t

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.argspec import POOL_OPTIONS

SEVERITIES = ("error", "warning", "info")
CLIENT_IP_USES = ["rate_limiting", "audit", "logging", "access_control", "geolocation"]

PORT_OPTIONS = dict(
    name=dict(type="str"),
    port=dict(type="int", required=True),
    target_port=dict(type="int"),
    protocol=dict(type="str", default="TCP", choices=["TCP", "UDP", "SCTP"]),
)

WORKLOAD_OPTIONS = dict(
    name=dict(type="str", required=True),
    namespace=dict(type="str", default="default"),
    image=dict(type="str", required=True),
    replicas=dict(type="int", default=2),
    args=dict(type="list", elements="str", default=[]),
    env=dict(type="dict", default={}),
    resources=dict(
        type="dict",
        options=dict(requests=dict(type="dict", default={}), limits=dict(type="dict", default={})),
    ),
    ports=dict(type="list", elements="dict", required=True, options=PORT_OPTIONS),
    readiness_probe=dict(type="dict", options=dict(port=dict(type="int", required=True), path=dict(type="str"))),
    external_traffic_policy=dict(type="str", default="Cluster", choices=["Cluster", "Local"]),
    session_affinity=dict(type="str", default="None", choices=["None", "ClientIP"]),
    session_affinity_timeout=dict(type="int", default=10800),
    mode=dict(type="str", choices=["layer2", "bgp"]),
    address_pool=dict(type="str"),
    load_balancer_ips=dict(type="list", elements="str", default=[]),
    allow_shared_ip=dict(type="str"),
    ip_families=dict(type="list", elements="str", choices=["IPv4", "IPv6"]),
    ip_family_policy=dict(type="str", choices=["SingleStack", "PreferDualStack", "RequireDualStack"]),
    topology_spread=dict(type="bool", default=True),
    when_unsatisfiable=dict(type="str", default="DoNotSchedule", choices=["DoNotSchedule", "ScheduleAnyway"]),
    node_selector=dict(type="dict", default={}),
    node_affinity=dict(
        type="list",
        elements="dict",
        default=[],
        options=dict(
            key=dict(type="str", required=True, no_log=False),  # a node label key, not a secret
            operator=dict(type="str", default="In", choices=["In", "NotIn", "Exists", "DoesNotExist"]),
            values=dict(type="list", elements="str", default=[]),
        ),
    ),
    labels=dict(type="dict", default={}),
    pod_labels=dict(type="dict", default={}),
    pod_annotations=dict(type="dict", default={}),
    service_annotations=dict(type="dict", default={}),
    client_ip_uses=dict(type="list", elements="str", default=[], choices=CLIENT_IP_USES),
    long_sessions=dict(type="bool"),
)

_ADVERTISEMENT_OPTIONS = dict(
    name=dict(type="str"),
    ip_address_pools=dict(type="list", elements="str", default=[]),
    ip_address_pool_selectors=dict(type="list", elements="dict", default=[]),
    node_selectors=dict(type="list", elements="dict", default=[]),
)

CLUSTER_OPTIONS = dict(
    nodes=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            labels=dict(type="dict", default={}),
            addresses=dict(type="list", elements="str", default=[]),
            speaker=dict(type="bool", default=True),
            schedulable=dict(type="bool", default=True),
            network_unavailable=dict(type="bool", default=False),
        ),
    ),
    node_subnets=dict(type="list", elements="str"),
    l2_advertisements=dict(type="list", elements="dict", options=_ADVERTISEMENT_OPTIONS),
    bgp_advertisements=dict(
        type="list", elements="dict", options=dict(_ADVERTISEMENT_OPTIONS, peers=dict(type="list", elements="str", default=[]))
    ),
    bgp_peers=dict(
        type="list",
        elements="dict",
        options=dict(
            name=dict(type="str", required=True),
            address=dict(type="str"),
            interface=dict(type="str"),
            my_asn=dict(type="int"),
            peer_asn=dict(type="int"),
            ebgp_multihop=dict(type="bool", default=False),
            node_selectors=dict(type="list", elements="dict", default=[]),
            password=dict(type="str", no_log=True),
            password_secret=dict(type="str", no_log=False),
        ),
    ),
    kube_proxy=dict(
        type="dict",
        options=dict(
            mode=dict(type="str", choices=["iptables", "ipvs", "nftables"]),
            strict_arp=dict(type="bool", default=False),
        ),
    ),
    speaker_ignore_exclude_lb=dict(type="bool", default=False),
)

CLUSTER_OBJECT_KINDS = (
    "nodes",
    "l2_advertisements",
    "bgp_advertisements",
    "bgp_peers",
    "ip_address_pools",
    "speaker_pods",
    "endpoint_slices",
)

CLUSTER_OBJECTS_OPTIONS = dict({kind: dict(type="list", elements="dict") for kind in CLUSTER_OBJECT_KINDS}, kube_proxy_config=dict(type="dict"))

WORKLOAD_POLICY_ARGSPEC = dict(
    workloads=dict(type="list", elements="dict", required=True, options=WORKLOAD_OPTIONS),
    pools=dict(type="list", elements="dict", default=[], options=POOL_OPTIONS),
    mode=dict(type="str", choices=["layer2", "bgp"]),
    cluster=dict(type="dict", options=CLUSTER_OPTIONS),
    cluster_objects=dict(type="dict", options=CLUSTER_OBJECTS_OPTIONS),
    pod_labels=dict(type="dict", default={}),
    pod_annotations=dict(type="dict", default={}),
    fail_on=dict(type="list", elements="str", default=["error"]),
)

# What the filter accepts: one workload or a list, the same options.
WORKLOAD_ARGSPEC = dict(workloads=dict(type="list", elements="dict", required=True, options=WORKLOAD_OPTIONS))


def fill_defaults(options: dict, value: t.Any) -> t.Any:
    """Fill the spec's defaults into ``value`` (a dict of options), recursively, as AnsibleModule would.

    Types are not checked here (the argument-spec validation does that); values
    already present are kept as they are.
    """
    if not isinstance(value, dict):
        return value
    filled = dict(value)
    for key, spec in options.items():
        if filled.get(key) is None and "default" in spec:
            filled[key] = copy.deepcopy(spec["default"])
        sub = spec.get("options")
        if sub and filled.get(key) is not None:
            if spec.get("type") == "list":
                filled[key] = [fill_defaults(sub, item) for item in filled[key]]
            else:
                filled[key] = fill_defaults(sub, filled[key])
    return filled
