# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the policy check knows about the cluster.

Two sources, merged key by key (the explicit one wins):

- ``cluster``: facts the user states, in the module's snake_case shape;
- ``cluster_objects``: API objects as ``kubernetes.core.k8s_info`` returns them
  (Nodes, L2Advertisements, BGPAdvertisements, BGPPeers, IPAddressPools,
  speaker Pods, EndpointSlices) and the parsed kube-proxy configuration.

``None`` always means "not known" and an empty list "known to be none": a
rule that needs an unknown fact says so instead of guessing.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import typing as t

from ..model import names
from ..model.addresses import parse_address, parse_interface, parse_pool_entry
from .argspec import CLUSTER_OPTIONS, fill_defaults
from ..model.selectors import any_selector_matches, check_selector
from .workloads import InputErrors, Pool, check_keys

EXCLUDE_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
SERVICE_NAME_LABEL = "kubernetes.io/service-name"
# The native manifests label speakers component=speaker, the Helm chart app.kubernetes.io/component=speaker.
SPEAKER_LABELS = (("component", "speaker"), ("app.kubernetes.io/component", "speaker"))


@dataclasses.dataclass
class Node:
    name: str
    labels: dict
    addresses: list  # (address, network or None)
    speaker: bool = True
    schedulable: bool = True
    network_unavailable: bool = False
    ignore_exclude_lb: bool = False  # its speaker runs with --ignore-exclude-lb

    @property
    def excluded(self) -> bool:
        return EXCLUDE_LABEL in self.labels


@dataclasses.dataclass
class Advertisement:
    kind: str  # layer2 or bgp
    name: str
    pools: list[str]
    pool_selectors: list[dict]
    node_selectors: list[dict]
    peers: list[str] = dataclasses.field(default_factory=list)
    service_selectors: list[dict] = dataclasses.field(default_factory=list)

    @property
    def label(self) -> str:
        return f"{'L2Advertisement' if self.kind == 'layer2' else 'BGPAdvertisement'} {self.name}"

    def selects_pool(self, pool_name: str | None, pool_labels: dict | None) -> bool:
        if not self.pools and not self.pool_selectors:
            return True
        if pool_name in self.pools:
            return True
        return pool_labels is not None and any(any_selector_matches([selector], pool_labels) for selector in self.pool_selectors)

    def selects_node(self, node: Node) -> bool:
        return any_selector_matches(self.node_selectors, node.labels)

    def selects_service(self, service_labels: dict | None) -> bool:
        """No serviceSelectors, or one matches; ``None`` (the Service's labels unknown) is taken to match."""
        return service_labels is None or any_selector_matches(self.service_selectors, service_labels)


@dataclasses.dataclass
class Peer:
    name: str
    address: t.Any  # ipaddress object or None
    interface: str | None
    my_asn: int | None
    peer_asn: int | None
    ebgp_multihop: bool
    node_selectors: list[dict]

    def selects_node(self, node: Node) -> bool:
        return any_selector_matches(self.node_selectors, node.labels)


@dataclasses.dataclass
class KubeProxy:
    mode: str
    strict_arp: bool


@dataclasses.dataclass
class Cluster:
    nodes: list[Node] | None = None
    node_subnets: list | None = None
    l2_advertisements: list[Advertisement] | None = None
    bgp_advertisements: list[Advertisement] | None = None
    peers: list[Peer] | None = None
    kube_proxy: KubeProxy | None = None
    ignore_exclude_lb: bool = False
    pools: dict[str, Pool] | None = None
    endpoints: dict[str, list[str]] | None = None  # "namespace/service" -> nodes with a serving endpoint

    def advertisements(self, mode: str) -> list[Advertisement] | None:
        return self.l2_advertisements if mode == "layer2" else self.bgp_advertisements


def dig(obj: t.Any, *path: str, default=None):
    """``obj[path[0]][path[1]]...``, or ``default`` where a level is missing or not a dict."""
    for key in path:
        if not isinstance(obj, dict):
            return default
        obj = obj.get(key)
    return default if obj is None else obj


_get = dig


# ---------------------------------------------------------------- API objects
def _nodes_from_objects(raw_nodes: list[dict], speaker_nodes: dict[str, bool] | None) -> list[Node]:
    nodes = []
    for raw in raw_nodes:
        name = _get(raw, "metadata", "name")
        if not name:
            continue
        taints = _get(raw, "spec", "taints", default=[])
        conditions = _get(raw, "status", "conditions", default=[])
        addresses = []
        for entry in _get(raw, "status", "addresses", default=[]):
            if entry.get("type") in ("InternalIP", "ExternalIP"):
                address = parse_address(entry.get("address"))
                if address is not None:
                    addresses.append((address, None))
        nodes.append(
            Node(
                name=name,
                labels=dict(_get(raw, "metadata", "labels", default={})),
                addresses=addresses,
                speaker=True if speaker_nodes is None else name in speaker_nodes,
                # Our pods carry no tolerations: a NoSchedule/NoExecute taint keeps them off.
                schedulable=not _get(raw, "spec", "unschedulable", default=False)
                and not any(taint.get("effect") in ("NoSchedule", "NoExecute") for taint in taints),
                network_unavailable=any(c.get("type") == "NetworkUnavailable" and c.get("status") == "True" for c in conditions),
                ignore_exclude_lb=bool(speaker_nodes and speaker_nodes.get(name)),
            )
        )
    return nodes


def _ignores_exclude_lb(pod: dict) -> bool:
    """The speaker container runs with ``--ignore-exclude-lb`` (Go's flag syntax: one or two dashes, ``=value`` optional)."""
    for container in _get(pod, "spec", "containers", default=[]):
        for arg in map(str, list(container.get("command") or []) + list(container.get("args") or [])):
            name, dummy, value = arg[2:].partition("=") if arg.startswith("--") else arg[1:].partition("=")
            if arg.startswith("-") and name == "ignore-exclude-lb":
                return value.lower() in ("", "1", "t", "true")
    return False


def _ads_from_objects(kind: str, raw_ads: list[dict]) -> list[Advertisement]:
    return [
        Advertisement(
            kind=kind,
            name=_get(raw, "metadata", "name", default="?"),
            pools=list(_get(raw, "spec", "ipAddressPools", default=[])),
            pool_selectors=list(_get(raw, "spec", "ipAddressPoolSelectors", default=[])),
            node_selectors=list(_get(raw, "spec", "nodeSelectors", default=[])),
            peers=list(_get(raw, "spec", "peers", default=[])),
            service_selectors=list(_get(raw, "spec", "serviceSelectors", default=[])),
        )
        for raw in raw_ads
    ]


def _peers_from_objects(raw_peers: list[dict]) -> list[Peer]:
    return [
        Peer(
            name=_get(raw, "metadata", "name", default="?"),
            address=parse_address(_get(raw, "spec", "peerAddress")),
            interface=_get(raw, "spec", "interface"),
            my_asn=_get(raw, "spec", "myASN"),
            peer_asn=_get(raw, "spec", "peerASN"),
            ebgp_multihop=bool(_get(raw, "spec", "ebgpMultiHop", default=False)),
            node_selectors=list(_get(raw, "spec", "nodeSelectors", default=[])),
        )
        for raw in raw_peers
    ]


def _pools_from_objects(raw_pools: list[dict]) -> dict[str, Pool]:
    pools = {}
    for raw in raw_pools:
        name = _get(raw, "metadata", "name")
        if not name:
            continue
        runs = [run for run in (parse_pool_entry(entry) for entry in _get(raw, "spec", "addresses", default=[])) if run is not None]
        pools[name] = Pool(
            name=name,
            protocol=None,  # a pool does not say; its advertisements do
            auto_assign=_get(raw, "spec", "autoAssign", default=True) is not False,
            avoid_buggy_ips=bool(_get(raw, "spec", "avoidBuggyIPs", default=False)),
            runs=runs,
            labels=dict(_get(raw, "metadata", "labels", default={})),
        )
    return pools


def serving_endpoints(raw_slices: list[dict]) -> dict[str, dict[str, int]]:
    """``"namespace/service"`` -> node -> number of endpoints on that node that can serve."""
    endpoints: dict[str, dict[str, int]] = {}
    for raw in raw_slices:
        service = _get(raw, "metadata", "labels", SERVICE_NAME_LABEL)
        namespace = _get(raw, "metadata", "namespace", default="default")
        if not service:
            continue
        found = endpoints.setdefault(f"{namespace}/{service}", {})
        for endpoint in _get(raw, "endpoints", default=[]):
            conditions = endpoint.get("conditions") or {}
            # MetalLB's "can serve": ready unset or true, or serving (terminating but still serving).
            if endpoint.get("nodeName") and (conditions.get("ready") in (None, True) or conditions.get("serving") is True):
                found[endpoint["nodeName"]] = found.get(endpoint["nodeName"], 0) + 1
    return endpoints


def _endpoints_from_objects(raw_slices: list[dict]) -> dict[str, list[str]]:
    return {key: sorted(value) for key, value in serving_endpoints(raw_slices).items()}


def _kube_proxy_from_config(config: dict) -> KubeProxy:
    # An empty mode means the platform default, iptables on Linux.
    return KubeProxy(mode=config.get("mode") or "iptables", strict_arp=bool(_get(config, "ipvs", "strictARP", default=False)))


def cluster_from_objects(objects: dict | None) -> Cluster:
    objects = objects or {}
    cluster = Cluster()
    speaker_nodes = None
    if objects.get("speaker_pods") is not None:
        speaker_nodes = {
            _get(pod, "spec", "nodeName"): _ignores_exclude_lb(pod)
            for pod in objects["speaker_pods"]
            if _get(pod, "status", "phase") == "Running"
            and any(_get(pod, "metadata", "labels", key) == value for key, value in SPEAKER_LABELS)
        }
    if objects.get("nodes") is not None:
        cluster.nodes = _nodes_from_objects(objects["nodes"], speaker_nodes)
    if objects.get("l2_advertisements") is not None:
        cluster.l2_advertisements = _ads_from_objects("layer2", objects["l2_advertisements"])
    if objects.get("bgp_advertisements") is not None:
        cluster.bgp_advertisements = _ads_from_objects("bgp", objects["bgp_advertisements"])
    if objects.get("bgp_peers") is not None:
        cluster.peers = _peers_from_objects(objects["bgp_peers"])
    if objects.get("ip_address_pools") is not None:
        cluster.pools = _pools_from_objects(objects["ip_address_pools"])
    if objects.get("endpoint_slices") is not None:
        cluster.endpoints = _endpoints_from_objects(objects["endpoint_slices"])
    if objects.get("kube_proxy_config") is not None:
        cluster.kube_proxy = _kube_proxy_from_config(objects["kube_proxy_config"])
    return cluster


# ---------------------------------------------------------------- stated facts
class ClusterInput:
    """Checks the ``cluster`` option and merges it over the API objects."""

    def __init__(self, cluster: dict | None, objects: dict | None, errors: InputErrors, var: str = "cluster"):
        self._raw = fill_defaults(CLUSTER_OPTIONS, cluster) if cluster else {}
        self._objects = objects
        self._errors = errors
        self._var = var

    def run(self) -> Cluster:
        cluster = cluster_from_objects(self._objects)
        raw = self._raw
        if raw.get("nodes") is not None:
            cluster.nodes = self._nodes(raw["nodes"])
        if raw.get("node_subnets") is not None:
            cluster.node_subnets = self._subnets(raw["node_subnets"])
        for kind, key in (("layer2", "l2_advertisements"), ("bgp", "bgp_advertisements")):
            if raw.get(key) is not None:
                setattr(cluster, key, self._advertisements(kind, key, raw[key]))
        if raw.get("bgp_peers") is not None:
            cluster.peers = self._peers(raw["bgp_peers"])
        if raw.get("kube_proxy") is not None:
            cluster.kube_proxy = KubeProxy(mode=raw["kube_proxy"].get("mode") or "iptables", strict_arp=bool(raw["kube_proxy"].get("strict_arp")))
        cluster.ignore_exclude_lb = bool(raw.get("speaker_ignore_exclude_lb"))
        return cluster

    def _nodes(self, raw_nodes: list[dict]) -> list[Node]:
        nodes, seen = [], set()
        for index, raw in enumerate(raw_nodes):
            var = f"{self._var}.nodes[{index}]"
            name = raw.get("name")
            problem = names.dns1123_subdomain(name)
            if problem:
                self._errors.add(f"{var}.name", "invalid_node", f"is {name!r}: it {problem}")
                continue
            if name in seen:
                self._errors.add(f"{var}.name", "invalid_node", f"'{name}' is listed twice: list each node once")
                continue
            seen.add(name)
            check_keys(self._errors, f"{var}.labels", raw.get("labels") or {}, "label")
            addresses = []
            for position, text in enumerate(raw.get("addresses") or []):
                parsed = parse_interface(text)
                if parsed is None:
                    self._errors.add(
                        f"{var}.addresses[{position}]", "invalid_address",
                        f"is {text!r}: give the node's address with its prefix length, e.g. 198.51.100.11/24",
                    )
                else:
                    addresses.append(parsed)
            nodes.append(
                Node(
                    name=name,
                    labels={key: str(value) for key, value in (raw.get("labels") or {}).items()},
                    addresses=addresses,
                    speaker=raw.get("speaker") is not False,
                    schedulable=raw.get("schedulable") is not False,
                    network_unavailable=bool(raw.get("network_unavailable")),
                )
            )
        return nodes

    def _subnets(self, raw_subnets: list[str]) -> list:
        subnets = []
        for index, text in enumerate(raw_subnets):
            try:
                subnets.append(ipaddress.ip_network(str(text).strip(), strict=False))
            except ValueError:
                self._errors.add(f"{self._var}.node_subnets[{index}]", "invalid_address", f"is {text!r}: give a CIDR such as 198.51.100.0/24")
        return subnets

    def _selectors(self, var: str, selectors: list) -> list[dict]:
        good = []
        for index, selector in enumerate(selectors or []):
            problem = check_selector(selector)
            if problem:
                self._errors.add(f"{var}[{index}]", "invalid_selector", problem)
            else:
                good.append(selector)
        return good

    def _advertisements(self, kind: str, key: str, raw_ads: list[dict]) -> list[Advertisement]:
        ads = []
        for index, raw in enumerate(raw_ads):
            var = f"{self._var}.{key}[{index}]"
            ads.append(
                Advertisement(
                    kind=kind,
                    name=raw.get("name") or f"#{index}",
                    pools=list(raw.get("ip_address_pools") or []),
                    pool_selectors=self._selectors(f"{var}.ip_address_pool_selectors", raw.get("ip_address_pool_selectors")),
                    node_selectors=self._selectors(f"{var}.node_selectors", raw.get("node_selectors")),
                    peers=list(raw.get("peers") or []),
                )
            )
        return ads

    def _peers(self, raw_peers: list[dict]) -> list[Peer]:
        peers = []
        for index, raw in enumerate(raw_peers):
            var = f"{self._var}.bgp_peers[{index}]"
            name = raw.get("name")
            add = self._errors.add
            # Presence only: the password itself never reaches a message.
            if raw.get("password") and raw.get("password_secret"):
                add(var, "password_and_secret", f"(peer {name}) sets both password and password_secret: MetalLB accepts one of them; keep the secret")
            address = None
            if raw.get("address") is not None:
                address = parse_address(raw["address"])
                if address is None:
                    add(f"{var}.address", "invalid_address", f"(peer {name}) is {raw['address']!r}, not an IPv4 or IPv6 address")
            if raw.get("address") is None and not raw.get("interface"):
                add(var, "invalid_peer", f"(peer {name}) has neither address nor interface: give one")
            elif raw.get("address") is not None and raw.get("interface"):
                add(var, "invalid_peer", f"(peer {name}) has both address and interface: MetalLB takes one")
            for option in ("my_asn", "peer_asn"):
                asn = raw.get(option)
                if asn is not None and not 1 <= asn <= 4294967295:
                    add(f"{var}.{option}", "invalid_asn", f"(peer {name}) is {asn}: an AS number is 1 to 4294967295")
            if raw.get("ebgp_multihop") and raw.get("my_asn") is not None and raw.get("my_asn") == raw.get("peer_asn"):
                add(
                    f"{var}.ebgp_multihop", "multihop_on_ibgp",
                    f"(peer {name}) is true on an iBGP session (my_asn equals peer_asn): MetalLB refuses it; iBGP needs no multihop setting",
                )
            peers.append(
                Peer(
                    name=name,
                    address=address,
                    interface=raw.get("interface"),
                    my_asn=raw.get("my_asn"),
                    peer_asn=raw.get("peer_asn"),
                    ebgp_multihop=bool(raw.get("ebgp_multihop")),
                    node_selectors=self._selectors(f"{var}.node_selectors", raw.get("node_selectors")),
                )
            )
        return peers
