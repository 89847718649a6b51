# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Preflights: what else in the cluster load-balances, announces or peers, and what MetalLB would never announce.

Input: the cluster's objects as the API returns them (``objects``: ``nodes``, ``daemonsets``,
``kube_system_pods``, ``kube_system_configmaps``, ``deployments``, the Cilium and Calico kinds,
MetalLB's kinds; ``None`` for a kind the API server does not serve) and the collection's desired
state (``desired``: the MetalLB objects it will apply, the pools with their ``protocol``, the
router addresses). Output: findings ``{id, severity, message, fix, objects, accepted}``; ``id`` is
part of the interface (users accept a finding by it), never renamed.

Who announces what is the announcer model's answer (``announcers/model.py``), never decided here.
Facts used (each from the project's own definitions):

* k3s servicelb creates a DaemonSet ``svclb-<service>-<uid>`` per LoadBalancer Service, labelled
  ``svccontroller.k3s.cattle.io/svcname`` and ``svccontroller.k3s.cattle.io/svcnamespace``, and records
  a server's arguments in the node annotation ``k3s.io/node-args`` (a JSON list);
* kube-vip announces Services when its container's ``svc_enable`` is true (ARP with ``vip_arp``, BGP
  with ``bgp_enable``); kube-vip-cloud-provider hands out addresses from the ``kubevip`` ConfigMap;
* Cilium (cilium.io, cluster-scoped): ``CiliumLoadBalancerIPPool`` (``spec.blocks[]`` ``cidr`` or
  ``start``/``stop``, ``spec.disabled``), ``CiliumL2AnnouncementPolicy`` (``spec.loadBalancerIPs``),
  ``CiliumBGPPeeringPolicy`` (``spec.virtualRouters[].neighbors[].peerAddress``, a CIDR) and
  ``CiliumBGPClusterConfig`` (``spec.bgpInstances[].peers[].peerAddress``); ``cilium-config`` keys
  ``enable-l2-announcements`` and ``enable-bgp-control-plane``;
* Calico (crd.projectcalico.org/v1, cluster-scoped): ``BGPPeer`` (``spec.peerIP``, ``IP`` or ``IP:port``)
  and ``BGPConfiguration`` (``spec.serviceLoadBalancerIPs[].cidr``).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json

from ansible_collections.baremetal.metallb.plugins.module_utils.announcers.model import AD_KIND, MODES, announce
from ansible_collections.baremetal.metallb.plugins.module_utils.model.addresses import parse_address, parse_pool_entry
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight import memberlist
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import EXCLUDE_LABEL, cluster_from_objects, dig
from ansible_collections.baremetal.metallb.plugins.module_utils.model.selectors import describe_selectors

# id -> what it is about (the documentation's list; severities are per finding)
FINDINGS = {
    "k3s_servicelb": "k3s servicelb serves LoadBalancer Services (svclb DaemonSets)",
    "k3s_servicelb_enabled": "a k3s server runs without --disable=servicelb",
    "kube_vip_services": "kube-vip announces LoadBalancer Services (svc_enable)",
    "kube_vip_cloud_provider": "kube-vip-cloud-provider hands out LoadBalancer addresses",
    "cilium_lb_ipam": "Cilium LB IPAM pools assign LoadBalancer addresses",
    "cilium_l2_announcements": "Cilium answers ARP for LoadBalancer addresses",
    "cilium_bgp_control_plane": "Cilium's BGP control plane peers with a router",
    "calico_bgp_same_router": "Calico peers with the router MetalLB peers with",
    "calico_advertises_pool": "Calico advertises a MetalLB pool's addresses",
    "excluded_node_selected": f"a node selected to announce carries {EXCLUDE_LABEL}",
    "pool_not_advertised": "a pool no advertisement of its mode takes (addresses handed out, never announced)",
    "bgp_pool_no_peer": "a BGP pool whose advertisements pair with no BGPPeer",
    "memberlist_blocked": "speakers cannot reach each other's memberlist port (TCP or UDP): layer 2 split brain",
    "memberlist_not_answering": "a speaker's memberlist port does not answer as memberlist",
    "cluster_unreadable": "the cluster could not be read, so nothing was checked",
}
SEVERITIES = ("error", "warning", "info")

SVCLB_NAME_LABEL = "svccontroller.k3s.cattle.io/svcname"
SVCLB_NAMESPACE_LABEL = "svccontroller.k3s.cattle.io/svcnamespace"
K3S_NODE_ARGS = "k3s.io/node-args"
TRUE = ("true", "1", "yes", "on")


@dataclasses.dataclass
class Finding:
    id: str
    severity: str
    message: str
    fix: str
    objects: list = dataclasses.field(default_factory=list)
    accepted: bool = False

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


def _name(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{meta['namespace']}/{meta.get('name')}" if meta.get("namespace") else str(meta.get("name"))


def _network(text) -> ipaddress.IPv4Network | ipaddress.IPv6Network | None:
    try:
        return ipaddress.ip_network(str(text).strip(), strict=False)
    except ValueError:
        return None


def _host(text) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address written as ``IP``, ``IP/32``, ``IP:port`` or ``[IPv6]:port`` (Calico's peerIP, Cilium's peerAddress)."""
    text = str(text or "").strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    if "/" in text:
        network = _network(text)
        return network.network_address if network is not None and network.num_addresses == 1 else None
    return parse_address(text)


def _containers(obj: dict) -> list[dict]:
    spec = dig(obj, "spec", "template", "spec") if obj.get("kind") != "Pod" else obj.get("spec")
    return list(dig(spec, "containers", default=[])) if spec else []


def _env(container: dict) -> dict:
    return {e.get("name"): str(e.get("value", "")) for e in container.get("env") or [] if e.get("name")}


def _runs(pool: dict) -> list:
    return [run for run in (parse_pool_entry(entry) for entry in dig(pool, "spec", "addresses", default=[])) if run is not None]


def _overlaps(runs: list, network) -> bool:
    return any(run.version == network.version and run.first <= int(network.broadcast_address) and int(network.network_address) <= run.last
               for run in runs)


class Preflight:
    """``Preflight(objects, desired, ignore_exclude_lb=False).run()`` -> findings (dicts), errors first.

    ``memberlist_pairs``: ``memberlist.evaluate()`` of the nodes' probes (None: not probed)."""

    def __init__(self, objects: dict, desired: dict | None = None, ignore_exclude_lb: bool = False, accept=(),
                 memberlist_pairs: list | None = None):
        self.objects = objects or {}
        self.memberlist_pairs = memberlist_pairs
        self.desired = desired or {}
        self.ignore_exclude_lb = ignore_exclude_lb
        self.accept = set(accept or ())
        self.findings: list[Finding] = []
        self.metallb = self._metallb_view()

    def add(self, id_: str, severity: str, message: str, fix: str, objects=()) -> None:
        self.findings.append(Finding(id_, severity, message, fix, sorted(set(objects)), accepted=id_ in self.accept))

    def run(self) -> list[dict]:
        self._k3s()
        self._kube_vip()
        self._cilium()
        self._calico()
        self._excluded_nodes()
        self._pools()
        self._memberlist()
        order = {severity: index for index, severity in enumerate(SEVERITIES)}
        return [f.as_dict() for f in sorted(self.findings, key=lambda f: (order[f.severity], f.id, f.objects))]

    # ------------------------------------------------------------ MetalLB as it will be
    def _metallb_view(self) -> dict:
        """MetalLB's kinds as they will be after the collection's apply: its objects replace the cluster's of the same kind
        and name. A kind neither the cluster serves nor the collection applies stays ``None`` (unknown)."""
        wanted: dict[str, list] = {}
        for obj in self.desired.get("objects") or []:
            wanted.setdefault(obj.get("kind"), []).append(obj)
        view = {}
        for key, kind in (("ip_address_pools", "IPAddressPool"), ("l2_advertisements", "L2Advertisement"),
                          ("bgp_advertisements", "BGPAdvertisement"), ("bgp_peers", "BGPPeer")):
            current, mine = self.objects.get(key), wanted.get(kind, [])
            names = {dig(obj, "metadata", "name") for obj in mine}
            if current is None and not mine and "objects" not in self.desired:
                view[key] = None
            else:
                view[key] = [obj for obj in current or [] if dig(obj, "metadata", "name") not in names] + mine
        return view

    def router_addresses(self) -> set:
        found = {_host(text) for text in self.desired.get("router_addresses") or []}
        found |= {_host(dig(peer, "spec", "peerAddress")) for peer in self.metallb["bgp_peers"] or []}
        return {address for address in found if address is not None}

    def pool_runs(self) -> dict:
        return {dig(pool, "metadata", "name"): _runs(pool) for pool in self.metallb["ip_address_pools"] or []}

    def _pools_overlapping(self, network) -> list[str]:
        return sorted(name for name, runs in self.pool_runs().items() if network is not None and _overlaps(runs, network))

    # ------------------------------------------------------------ k3s servicelb
    def _k3s(self) -> None:
        svclb = [ds for ds in self.objects.get("daemonsets") or []
                 if SVCLB_NAME_LABEL in (dig(ds, "metadata", "labels", default={})) or str(dig(ds, "metadata", "name", default="")).startswith("svclb-")]
        if svclb:
            labels = [dig(ds, "metadata", "labels", default={}) for ds in svclb]
            services = sorted({f"{lab.get(SVCLB_NAMESPACE_LABEL, '?')}/{lab.get(SVCLB_NAME_LABEL, '?')}" for lab in labels})
            self.add(
                "k3s_servicelb", "error",
                f"k3s servicelb (klipper-lb) serves LoadBalancer Services with its DaemonSets {', '.join(sorted(map(_name, svclb)))} "
                f"(Services {', '.join(services)}): it writes node addresses into their status and binds their ports on every node, "
                "so MetalLB and servicelb fight over the same Services.",
                "Start every k3s server with --disable=servicelb (or 'disable: [servicelb]' in /etc/rancher/k3s/config.yaml) and restart k3s; "
                "k3s then deletes the svclb DaemonSets and MetalLB assigns the Services addresses from its pools.",
                map(_name, svclb),
            )
        servers = []
        for node in self.objects.get("nodes") or []:
            raw = dig(node, "metadata", "annotations", K3S_NODE_ARGS)
            try:
                args = [str(a) for a in json.loads(raw)] if raw else []
            except (TypeError, ValueError):
                continue
            if not args or args[0] != "server":
                continue
            disabled = set()
            for index, arg in enumerate(args):
                value = args[index + 1] if arg in ("--disable", "--no-deploy") and index + 1 < len(args) else (
                    arg.partition("=")[2] if arg.startswith(("--disable=", "--no-deploy=")) else "")
                disabled |= {part.strip() for part in value.split(",")}
            if "servicelb" not in disabled and not any(a in ("--disable-servicelb",) for a in args):
                servers.append(dig(node, "metadata", "name"))
        if servers and not svclb:
            self.add(
                "k3s_servicelb_enabled", "warning",
                f"The k3s server(s) {', '.join(sorted(servers))} run without --disable=servicelb (their {K3S_NODE_ARGS} annotation): "
                "servicelb takes the next LoadBalancer Service before MetalLB can.",
                "Start every k3s server with --disable=servicelb (or 'disable: [servicelb]' in /etc/rancher/k3s/config.yaml) and restart k3s.",
                [f"node/{name}" for name in servers],
            )

    # ------------------------------------------------------------ kube-vip
    def _kube_vip(self) -> None:
        announcing, control_plane = [], []
        for obj in (self.objects.get("daemonsets") or []) + (self.objects.get("kube_system_pods") or []):
            if obj.get("kind") == "Pod" and dig(obj, "metadata", "ownerReferences"):
                continue  # a DaemonSet's pod: its DaemonSet is reported
            for container in _containers(obj):
                if "kube-vip/kube-vip" not in str(container.get("image", "")) and container.get("name") != "kube-vip":
                    continue
                env = _env(container)
                if env.get("svc_enable", "").lower() in TRUE:
                    how = " and ".join(name for flag, name in (("vip_arp", "ARP"), ("bgp_enable", "BGP")) if env.get(flag, "").lower() in TRUE) or "its mode"
                    announcing.append((f"{obj.get('kind')} {_name(obj)}", how))
                elif env.get("cp_enable", "").lower() in TRUE:
                    control_plane.append((f"{obj.get('kind')} {_name(obj)}", env.get("address") or env.get("vip_address") or "?"))
        if announcing:
            self.add(
                "kube_vip_services", "error",
                "kube-vip announces LoadBalancer Services (svc_enable=true): " + "; ".join(f"{who} by {how}" for who, how in announcing)
                + ". Two announcers for one address: ARP answered by two nodes, or two routes for one VIP.",
                "Set svc_enable=false in kube-vip's manifest (keep cp_enable for the control-plane address) before installing MetalLB.",
                [who for who, dummy in announcing],
            )
        for who, address in control_plane:
            host = _host(address)
            pools = self._pools_overlapping(_network(host)) if host is not None else []
            if pools:
                self.add(
                    "kube_vip_services", "error",
                    f"kube-vip's control-plane address {address} ({who}) is inside the MetalLB pool(s) {', '.join(pools)}: "
                    "MetalLB may hand it to a Service and two nodes then answer for it.",
                    f"Take {address} out of the pool(s) {', '.join(pools)} (metallb_pools).",
                    [who],
                )
        provider = [_name(cm) for cm in self.objects.get("kube_system_configmaps") or [] if dig(cm, "metadata", "name") == "kubevip"]
        provider += [_name(d) for d in self.objects.get("deployments") or [] if "kube-vip-cloud-provider" in str(dig(d, "metadata", "name", default=""))]
        if provider:
            self.add(
                "kube_vip_cloud_provider", "error",
                f"kube-vip-cloud-provider is installed ({', '.join(sorted(provider))}): it assigns LoadBalancer addresses from its own "
                "ranges, racing MetalLB's controller for every Service.",
                "Delete the kube-vip-cloud-provider Deployment and its kubevip ConfigMap in kube-system (MetalLB's pools replace its ranges).",
                provider,
            )

    # ------------------------------------------------------------ Cilium
    def _cilium_flag(self, key: str) -> bool:
        for cm in self.objects.get("kube_system_configmaps") or []:
            if dig(cm, "metadata", "name") == "cilium-config":
                return str(dig(cm, "data", key, default="")).lower() in TRUE
        return False

    def _cilium(self) -> None:
        pools = [p for p in self.objects.get("cilium_lb_pools") or [] if not dig(p, "spec", "disabled", default=False)]
        if pools:
            overlap = []
            for pool in pools:
                for block in dig(pool, "spec", "blocks", default=[]) or dig(pool, "spec", "cidrs", default=[]):
                    nets = [_network(block.get("cidr"))] if block.get("cidr") else [
                        _network(n) for n in _range_networks(block.get("start"), block.get("stop"))]
                    overlap += [f"{_name(pool)} with {name}" for net in nets for name in self._pools_overlapping(net)]
            self.add(
                "cilium_lb_ipam", "error",
                f"Cilium LB IPAM has the pool(s) {', '.join(sorted(map(_name, pools)))}: it assigns addresses to LoadBalancer Services "
                "too, racing MetalLB's controller" + (f"; overlapping MetalLB's pools: {', '.join(sorted(set(overlap)))}" if overlap else "") + ".",
                "Delete the CiliumLoadBalancerIPPools (or set spec.disabled: true, or narrow their spec.serviceSelector to Services "
                "MetalLB does not serve) before installing MetalLB.",
                [f"CiliumLoadBalancerIPPool/{_name(p)}" for p in pools],
            )
        policies = [p for p in self.objects.get("cilium_l2_policies") or [] if dig(p, "spec", "loadBalancerIPs", default=False)]
        if policies:
            self.add(
                "cilium_l2_announcements", "error",
                f"Cilium answers ARP/NDP for LoadBalancer addresses (CiliumL2AnnouncementPolicy {', '.join(sorted(map(_name, policies)))} "
                "with loadBalancerIPs: true): with MetalLB's layer 2 mode two nodes answer for one VIP (split brain).",
                "Delete the CiliumL2AnnouncementPolicies (or set loadBalancerIPs: false) and turn l2announcements.enabled off in Cilium's Helm values.",
                [f"CiliumL2AnnouncementPolicy/{_name(p)}" for p in policies],
            )
        elif self._cilium_flag("enable-l2-announcements"):
            self.add("cilium_l2_announcements", "warning",
                     "Cilium runs with enable-l2-announcements=true (cilium-config); no policy announces Services yet.",
                     "Turn l2announcements.enabled off in Cilium's Helm values, or never create a CiliumL2AnnouncementPolicy for MetalLB's Services.",
                     ["kube-system/cilium-config"])
        routers = self.router_addresses()
        peers = []  # (object, address)
        for policy in self.objects.get("cilium_bgp_peering_policies") or []:
            for router in dig(policy, "spec", "virtualRouters", default=[]):
                peers += [(f"CiliumBGPPeeringPolicy/{_name(policy)}", _host(n.get("peerAddress"))) for n in router.get("neighbors") or []]
        for config in self.objects.get("cilium_bgp_cluster_configs") or []:
            for instance in dig(config, "spec", "bgpInstances", default=[]):
                peers += [(f"CiliumBGPClusterConfig/{_name(config)}", _host(p.get("peerAddress"))) for p in instance.get("peers") or []]
        same = sorted({(who, str(address)) for who, address in peers if address in routers})
        if same:
            self.add(
                "cilium_bgp_control_plane", "error",
                "Cilium's BGP control plane peers with the router MetalLB peers with: "
                + ", ".join(f"{who} -> {address}" for who, address in same)
                + ". The router sees two sessions from each node address and keeps one; routes flap between them.",
                "Peer the router with one speaker per node: remove the router from Cilium's BGP peers (or let Cilium advertise the "
                "Services and give MetalLB no BGPPeer for that router).",
                [who for who, dummy in same],
            )
        elif peers:
            self.add("cilium_bgp_control_plane", "warning",
                     f"Cilium's BGP control plane peers with {', '.join(sorted({str(a) for dummy, a in peers}))} "
                     f"({', '.join(sorted({w for w, dummy in peers}))}) and may advertise LoadBalancer addresses too.",
                     "Make sure Cilium's BGP advertisements do not take MetalLB's Services (no Service advertisement for them).",
                     [who for who, dummy in peers])
        elif self._cilium_flag("enable-bgp-control-plane"):
            self.add("cilium_bgp_control_plane", "info", "Cilium runs with enable-bgp-control-plane=true (cilium-config) and no peers yet.",
                     "Do not peer Cilium with the router MetalLB peers with.", ["kube-system/cilium-config"])

    # ------------------------------------------------------------ Calico
    def _calico(self) -> None:
        routers = self.router_addresses()
        same = sorted({(_name(peer), str(_host(dig(peer, "spec", "peerIP")))) for peer in self.objects.get("calico_bgp_peers") or []
                       if _host(dig(peer, "spec", "peerIP")) in routers})
        if same:
            self.add(
                "calico_bgp_same_router", "error",
                "Calico's BGPPeer(s) " + ", ".join(f"{name} (peerIP {address})" for name, address in same)
                + " peer with the router MetalLB's BGPPeers peer with: BIRD and MetalLB's speaker open sessions from the same node "
                "address, the router keeps one, and routes flap.",
                "Either let Calico advertise the Services (BGPConfiguration serviceLoadBalancerIPs with MetalLB's pools) and give MetalLB "
                "no BGPPeer for that router, or remove the router from Calico's BGPPeers.",
                [f"BGPPeer/{name}" for name, dummy in same],
            )
        for config in self.objects.get("calico_bgp_configurations") or []:
            for block in dig(config, "spec", "serviceLoadBalancerIPs", default=[]):
                pools = self._pools_overlapping(_network(block.get("cidr")))
                if pools:
                    self.add(
                        "calico_advertises_pool", "warning",
                        f"Calico's BGPConfiguration {_name(config)} advertises {block.get('cidr')} (serviceLoadBalancerIPs), which holds "
                        f"the MetalLB pool(s) {', '.join(pools)}: the router also learns these routes from Calico.",
                        "Advertise the pools from one of them: drop the block from serviceLoadBalancerIPs, or give MetalLB no BGPAdvertisement for them.",
                        [f"BGPConfiguration/{_name(config)}"],
                    )

    # ------------------------------------------------------------ the announcer model
    def _cluster(self):
        pods = self.objects.get("speaker_pods")
        cluster = cluster_from_objects({
            "nodes": self.objects.get("nodes"),
            # before MetalLB runs there is no speaker to ask: every node is taken to get one
            "speaker_pods": pods if pods else None,
            "l2_advertisements": self.metallb["l2_advertisements"],
            "bgp_advertisements": self.metallb["bgp_advertisements"],
            "bgp_peers": self.metallb["bgp_peers"],
            "ip_address_pools": self.metallb["ip_address_pools"],
        })
        cluster.ignore_exclude_lb = self.ignore_exclude_lb
        return cluster

    def _excluded_nodes(self) -> None:
        cluster = self._cluster()
        if cluster.nodes is None or cluster.pools is None:
            return
        for pool_name, pool in sorted(cluster.pools.items()):
            for mode in MODES:
                ads = cluster.advertisements(mode)
                if not ads:
                    continue
                result = announce(cluster, mode, pool_name, pool.labels)
                excluded = sorted(node for node, reason in result.excluded.items() if reason == "excluded_label")
                if not excluded or result.assumed or not result.advertisements:
                    continue
                by_name = {node.name: node for node in cluster.nodes}
                named = [ad for ad in result.advertisements if ad.node_selectors and any(ad.selects_node(by_name[n]) for n in excluded)]
                if result.eligible and not named:
                    continue  # an advertisement for every node: control-plane nodes left out on purpose
                severity = "warning" if result.eligible else "error"
                outcome = (f"only {', '.join(sorted(result.eligible))} announce it" if result.eligible
                           else "no node announces it at all (addresses handed out, never announced)")
                selectors = "; ".join(f"{ad.label} ({describe_selectors(ad.node_selectors)})" for ad in named) or "its advertisements"
                self.add(
                    "excluded_node_selected", severity,
                    f"Pool {pool_name} in {mode} mode: {selectors} select(s) node(s) {', '.join(excluded)}, which carry {EXCLUDE_LABEL} "
                    f"(kubeadm and Talos put it on control-plane nodes), so MetalLB never announces from them and {outcome}.",
                    f"Remove the label (kubectl label node <node> {EXCLUDE_LABEL}-), or run the speakers with --ignore-exclude-lb "
                    "(Helm speaker.ignoreExcludeLB), or select nodes without the label.",
                    [f"node/{node}" for node in excluded],
                )

    def _pools(self) -> None:
        cluster = self._cluster()
        if cluster.pools is None:
            return
        declared = {p.get("name"): p.get("protocol") for p in self.desired.get("pools") or [] if isinstance(p, dict)}
        for pool_name, pool in sorted(cluster.pools.items()):
            modes = [mode for mode in MODES if cluster.advertisements(mode) is not None]
            if len(modes) < len(MODES) and declared.get(pool_name) not in modes:
                continue  # the advertisements of the mode that matters are unknown
            taking = {mode: [ad for ad in cluster.advertisements(mode) if ad.selects_pool(pool_name, pool.labels)] for mode in modes}
            wanted = declared.get(pool_name)
            if wanted in MODES and not taking.get(wanted):
                self.add("pool_not_advertised", "error",
                         f"Pool {pool_name} is meant for {wanted} mode but no {AD_KIND[wanted]} takes it: MetalLB hands out its addresses "
                         "and never announces them.",
                         f"Add a {AD_KIND[wanted]} listing {pool_name} in ipAddressPools (metallb_config_"
                         f"{'l2' if wanted == 'layer2' else 'bgp'}_advertisements).",
                         [f"IPAddressPool/{pool_name}"])
            elif not wanted and not any(taking.values()):
                self.add("pool_not_advertised", "error",
                         f"No L2Advertisement or BGPAdvertisement takes pool {pool_name}: MetalLB hands out its addresses and never announces them.",
                         f"Add an L2Advertisement or a BGPAdvertisement listing {pool_name} in ipAddressPools.",
                         [f"IPAddressPool/{pool_name}"])
            bgp_ads = taking.get("bgp") or []
            if bgp_ads and cluster.peers is not None:
                paired = {ad.name for ad in bgp_ads if any(not ad.peers or peer.name in ad.peers for peer in cluster.peers)}
                if not paired:
                    names = ", ".join(sorted(ad.name for ad in bgp_ads))
                    why = "there is no BGPPeer" if not cluster.peers else "their peers lists name no existing BGPPeer"
                    self.add("bgp_pool_no_peer", "error",
                             f"Pool {pool_name} is advertised in BGP mode (BGPAdvertisement {names}) but {why}: no session carries its routes.",
                             "Add a BGPPeer for the upstream router (metallb_config_bgp_peers), or fix the advertisements' peers lists.",
                             [f"IPAddressPool/{pool_name}"])

    # ------------------------------------------------------------ memberlist between the nodes
    def _memberlist(self) -> None:
        if not self.memberlist_pairs:
            return
        layer2 = bool(self.metallb["l2_advertisements"]) or any(
            isinstance(p, dict) and p.get("protocol") == "layer2" for p in self.desired.get("pools") or [])
        for finding in memberlist.findings(self.memberlist_pairs, layer2):
            self.add(*finding)


def _range_networks(start, stop) -> list:
    first, last = parse_address(str(start or "").strip()), parse_address(str(stop or start or "").strip())
    if first is None or last is None or first.version != last.version:
        return []
    return [str(n) for n in ipaddress.summarize_address_range(first, last)] if int(first) <= int(last) else []


def check_input(router_addresses, accept) -> list[str]:
    """The module's own input, before any API call: each problem names the option and the fix."""
    errors = []
    for index, text in enumerate(router_addresses or []):
        if _host(text) is None:
            errors.append(f"router_addresses[{index}]: {text!r} is not an IP address; give the router's address, e.g. 203.0.113.1")
    for index, name in enumerate(accept or []):
        if name not in FINDINGS:
            errors.append(f"accept[{index}]: {name!r} is not a preflight finding id; use one of {', '.join(sorted(FINDINGS))}")
    return errors


def unreadable(reason: str, accept) -> dict:
    """The one finding when the cluster cannot be read (unreachable, no kubeconfig): a warning, as pool_validate
    treats the same case, since a run that needs the cluster stops at its first API call anyway."""
    return {"id": "cluster_unreadable", "severity": "warning", "accepted": "cluster_unreadable" in (accept or []),
            "message": f"the cluster could not be read, so no preflight was checked ({reason}).",
            "fix": "give a kubeconfig and context that reach the API server (metallb_kubeconfig, metallb_kube_context), "
                   "then run again."}


def summary_line(finding: dict) -> str:
    """``error k3s_servicelb: <message> Fix: <fix>``, ``(accepted)`` after the id when the user accepted it."""
    accepted = " (accepted)" if finding.get("accepted") else ""
    return f"{finding['severity']} {finding['id']}{accepted}: {finding['message']} Fix: {finding['fix']}"


def markdown_section(findings: list[dict]) -> str:
    """The verify report's ``## Preflight`` section: one line per finding with its severity, id and fix."""
    out = ["## Preflight", ""]
    if not findings:
        return "\n".join(out + ["No preflight finding: nothing else load-balances, announces or peers, every pool is announced.", ""])
    counts = ", ".join(f"{sum(1 for f in findings if f['severity'] == s)} {s}" for s in SEVERITIES)
    out += [f"{len(findings)} finding(s): {counts}.", ""]
    for f in findings:
        accepted = " (accepted)" if f.get("accepted") else ""
        out.append(f"- **{f['severity']}** `{f['id']}`{accepted}: {f['message']} Fix: {f['fix']}")
    return "\n".join(out + [""])
