# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Mermaid flowchart of one Service in the verify report.

Client -> (router, ECMP) -> VIP -> the nodes that announce it -> the pods, like the seeds'
diagrams. Where the wire checks ran, the chart draws what the wire showed beside what MetalLB
expected: every node or unknown MAC that answered ARP, the router's real next hops, the
expected ones that are missing; failing parts in class ``fail``, agreeing ones in ``ok``, and
the data path's share of answers on the edges to the pods.
"""

from __future__ import annotations

import re

from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import SKIPPED, Nodes

CLASSES = {
    "ok": "fill:#e3f6e3,stroke:#2e7d32,color:#000",
    "fail": "fill:#fde0e0,stroke:#c62828,stroke-width:2px,color:#000",
}
FAIL_LINK = "stroke:#c62828,stroke-width:2px"


def node_id(text: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def _text(value) -> str:
    return str(value).replace('"', "#quot;")


class Chart:
    """A flowchart built node by node and link by link, so classes and link styles can be
    given by name; ``lines()`` renders it."""

    def __init__(self):
        self.body: list[str] = []
        self.declared: set[str] = set()
        self.classes: dict[str, str] = {}
        self.links = 0
        self.failed_links: list[int] = []
        self.sources: set[str] = set()

    def node(self, nid: str, label: str, shape: str = "[]", cls: str | None = None) -> str:
        if nid not in self.declared:
            self.declared.add(nid)
            opening, closing = shape[: len(shape) // 2], shape[len(shape) // 2:]
            self.body.append(f'  {nid}{opening}"{_text(label)}"{closing}')
        if cls == "fail" or (cls and nid not in self.classes):
            self.classes[nid] = cls
        return nid

    def link(self, source: str, target: str, label: str | None = None, dashed: bool = False, fail: bool = False) -> None:
        arrow = "-.->" if dashed else "-->"
        text = f'|"{_text(label)}"|' if label else ""
        self.body.append(f"  {source} {arrow}{text} {target}")
        if fail:
            self.failed_links.append(self.links)
        self.links += 1
        self.sources.add(source)

    def links_from(self, source: str) -> bool:
        return source in self.sources

    def lines(self) -> list[str]:
        out = ["```mermaid", "flowchart LR"] + self.body
        used = sorted(set(self.classes.values()))
        out += [f"  classDef {name} {CLASSES[name]}" for name in used]
        for name in used:
            out.append(f"  class {','.join(n for n, c in self.classes.items() if c == name)} {name}")
        if self.failed_links:
            out.append(f"  linkStyle {','.join(map(str, self.failed_links))} {FAIL_LINK}")
        return out + ["```"]


def _node_box(chart: Chart, node: str, nodes: Nodes, cls: str | None = None, address: bool = False) -> str:
    label = node
    if nodes.macs.get(node):
        label += "<br/>" + ", ".join(nodes.macs[node])
    if address and nodes.addresses.get(node):
        label += "<br/>" + ", ".join(nodes.addresses[node])
    return chart.node(node_id(node), label, cls=cls)


def _layer2(chart: Chart, service: dict, vip: str, nodes: Nodes) -> list[str]:
    """The ARP (IPv4) / NDP (IPv6) part; returns the nodes the client's traffic reaches."""
    leader = service["layer2"].get("leader")
    arp = "/".join(dict.fromkeys("NDP" if ":" in ip else "ARP" for ip in sorted(service["ingress_ips"], key=lambda ip: ":" in ip))) or "ARP"
    checks = [c for c in (service["wire"].get("leader") or {}).values() if c["status"] != SKIPPED]
    chart.link("client", vip)
    if not checks:
        if leader:
            chart.link(vip, _node_box(chart, leader, nodes), f"{arp} leader")
        return [leader] if leader else []
    answered: dict[str, bool] = {}  # who answered (a node name, or a MAC of no known node) -> is a node
    for check in checks:
        for responder in check["responders"]:
            answered.setdefault(responder["node"] or responder["mac"] or "?", bool(responder["node"]))
    if leader in answered:
        chart.link(vip, _node_box(chart, leader, nodes, "ok"), f"{arp} leader, answers")
    elif leader:
        chart.link(vip, _node_box(chart, leader, nodes, "fail"), f"{arp} leader (MetalLB), no answer", dashed=True, fail=True)
    for who, is_node in answered.items():
        if who == leader:
            continue
        if is_node:
            box = _node_box(chart, who, nodes, "fail")
        else:
            box = chart.node(node_id(f"mac_{who}"), f"unknown MAC<br/>{who}", cls="fail")
        chart.link(vip, box, f"answers {arp} too" if leader in answered else f"answers {arp}, not expected", fail=True)
    if not answered and not leader:
        chart.link(vip, chart.node("n_none", "no node answers", cls="fail"), f"no {arp} reply", dashed=True, fail=True)
    return [who for who, is_node in answered.items() if is_node]


def _bgp(chart: Chart, service: dict, vip: str, nodes: Nodes) -> list[str]:
    """The router's part; returns the nodes the router sends the VIP's traffic to."""
    bgp = service["bgp"]
    chart.node("router", "router (ECMP)", "[[]]")
    chart.link("client", "router")
    chart.link("router", vip)
    checks = [c for c in (service["wire"].get("routes") or {}).values() if c["status"] != SKIPPED]
    if not checks:
        for node in bgp["candidate_nodes"]:
            chart.link(vip, _node_box(chart, node, nodes, address=True), "BGP next hop")
        return list(bgp["candidate_nodes"])
    installed, reached = [], []
    for check in checks:
        for hop in check["expected"] + check["extra"]:
            if hop in installed:
                continue
            installed.append(hop)
            node = nodes.by_address.get(hop)
            if node:
                box = _node_box(chart, node, nodes, address=True)
            else:
                box = chart.node(node_id(f"hop_{hop}"), f"{hop}<br/>no known node")
            if hop in check["extra"]:
                chart.classes[box] = "fail"
                chart.link(vip, box, "extra next hop", fail=True)
            elif hop in check["missing"]:
                chart.classes[box] = "fail"
                chart.link(vip, box, "missing next hop", dashed=True, fail=True)
            else:
                chart.classes.setdefault(box, "ok")
                chart.link(vip, box, "next hop")
            if hop in (check["next_hops"] or []) and node:
                reached.append(node)
    if not installed:
        chart.link(vip, chart.node("n_no_hop", "no next hop", cls="fail"), "no route", dashed=True, fail=True)
    return reached


def _pods(chart: Chart, service: dict, vip: str, reached: list[str], nodes: Nodes) -> None:
    """The pods behind the nodes the traffic reaches, each edge with its share of the data path's answers."""
    endpoints, local = service["endpoint_nodes"], service["external_traffic_policy"] != "Cluster"
    probes = service["wire"].get("datapath") or []
    counts: dict[str, int] = {}
    for probe in probes:
        for node, count in (probe.get("by_node") or {}).items():
            counts[node] = counts.get(node, 0) + count
    total = sum(probe.get("requests") or 0 for probe in probes)
    reached = list(dict.fromkeys(reached))

    def label(text: str, node: str) -> str:
        return f"{text} {counts.get(node, 0)}/{total}" if probes else text

    def pods(node: str) -> str:
        stray = local and node in counts and node not in reached
        return chart.node(node_id(f"pods_{node}"), f"{endpoints.get(node, 0)} pod(s) on {node}", "(())", "fail" if stray else None)

    if not local:
        # kube-proxy on the node the traffic reaches forwards it to any pod, with SNAT
        sources, text = [node_id(node) for node in reached], "SNAT"
        if len(reached) > 1:
            hub = chart.node("kube_proxy", "kube-proxy on the receiving node: any pod, SNAT", "([])")
            for source in sources:
                chart.link(source, hub)
            sources, text = [hub], "any pod"
        for node in sorted(set(endpoints) | set(counts)) if sources else []:
            for source in sources:
                chart.link(source, pods(node), label(text, node))
        return
    for node in reached:
        if node in endpoints:
            # traffic through a node that should not have it (a second ARP responder, an extra next hop) fails with it
            wrong = chart.classes.get(node_id(node)) == "fail" and counts.get(node, 0) > 0
            box = pods(node)
            if wrong:
                chart.classes[box] = "fail"
            chart.link(node_id(node), box, label("client IP kept", node), fail=wrong)
        else:
            dropped = chart.node(node_id(f"pods_{node}"), "no local pod: traffic dropped", cls="fail")
            chart.link(node_id(node), dropped, dashed=True, fail=True)
    for node in sorted(set(counts) - set(reached)):
        chart.link(vip, pods(node), f"answered {counts[node]}/{total}, node does not announce", dashed=True, fail=True)


def flowchart(service: dict, nodes: Nodes | None = None) -> list[str]:
    """The Markdown lines of one Service's chart (a ``mermaid`` code block)."""
    nodes = nodes or Nodes()
    chart = Chart()
    chart.node("client", "client", "([])")
    ips = ", ".join(service["ingress_ips"]) or "no address"
    vip = chart.node(node_id(f"vip_{service['namespace']}_{service['name']}"), f"VIP {ips}", "{{}}")
    reached: list[str] = []
    if service.get("bgp"):
        reached += _bgp(chart, service, vip, nodes)
    if service.get("layer2"):
        reached += _layer2(chart, service, vip, nodes)
    if not chart.links_from(vip):
        chart.link(vip, chart.node("n_none", "no node", cls="fail"), "nobody announces", dashed=True, fail=True)
    _pods(chart, service, vip, reached, nodes)
    return chart.lines()
