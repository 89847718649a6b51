# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verify report: Markdown with a Mermaid flowchart per Service, like the seeds' diagrams.

Input: the ``lb_status`` reports (what should announce, per the API server) and the
wire checks (``leader_verify`` from a client, ``bgp_verify`` on the router), merged by
``merge_checks``; output: plain text. No Ansible imports, so unit tests call it directly.
"""

from __future__ import annotations

import re

OK, FAIL, SKIPPED = "ok", "FAIL", "not checked"


def _node_id(text: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9_]", "_", text)


def merge_checks(services: list[dict], leaders: dict | None, routes: dict | None, datapath: list | None = None) -> list[dict]:
    """Adds ``wire`` to each Service report: ``leader`` (VIP -> {node, status}) from
    leader_verify's ``addresses`` result (VIP -> {status, leader, ...}), ``routes``
    (VIP -> {next_hops, status}) from bgp_verify's ``prefixes`` result (prefix ->
    {nexthops, ...}, keyed ``VIP/32`` or ``VIP/128``); ``None`` when that check did not
    run; ``datapath`` (``VIP:port`` -> result) from lb_probe's ``targets`` result, whose
    ``problems`` count as the Service's. ``ok`` tells whether everything checked agrees and
    no error finding is left."""
    probes = {f"{r['address']}:{r['port']}": r for r in datapath or []}
    merged = []
    for service in services:
        wire: dict = {"leader": None, "routes": None}
        problems = [f"{f['rule']}: {f['message']}" for f in service["findings"] if f["severity"] == "error"]
        layer2, bgp = service.get("layer2"), service.get("bgp")
        if layer2 and leaders is not None and service["ingress_ips"]:
            wire["leader"] = {}
            for ip in service["ingress_ips"]:
                seen = leaders.get(ip)
                if seen is None:
                    wire["leader"][ip] = {"node": None, "status": SKIPPED}
                    continue
                node = seen.get("leader")
                agrees = seen.get("status") == "ok" and node == layer2.get("leader")
                wire["leader"][ip] = {"node": node, "status": OK if agrees else FAIL, "detail": seen.get("status")}
                if not agrees:
                    problems.append(f"ARP for {ip} answered by {node or 'nobody'} ({seen.get('status')}), "
                                    f"MetalLB's leader is {layer2.get('leader') or 'unknown'}")
        if bgp and routes is not None and service["ingress_ips"]:
            wire["routes"] = {}
            for ip in service["ingress_ips"]:
                seen = routes.get(ip) or routes.get(f"{ip}/{128 if ':' in ip else 32}")
                if seen is None:
                    wire["routes"][ip] = {"next_hops": None, "status": SKIPPED}
                    continue
                hops = sorted(seen.get("nexthops") or [])
                agrees = hops == sorted(bgp["next_hops"])
                wire["routes"][ip] = {"next_hops": hops, "status": OK if agrees else FAIL}
                if not agrees:
                    problems.append(f"router routes {ip} via {', '.join(hops) or 'nothing'}, "
                                    f"expected {', '.join(bgp['next_hops']) or 'nothing'}")
        if datapath is not None:
            wire["datapath"] = [probes[key] for key in (f"{ip}:{port['port']}" for ip in service["ingress_ips"]
                                                        for port in service.get("ports") or []) if key in probes]
            problems += [f"data path {r['address']}:{r['port']}: {p}" for r in wire["datapath"] for p in r.get("problems") or []]
        merged.append(dict(service, wire=wire, problems=problems, ok=not problems))
    return merged


def _flowchart(service: dict) -> list[str]:
    ips = ", ".join(service["ingress_ips"]) or "no address"
    lines = ["```mermaid", "flowchart LR", '  client(["client"])']
    vip = _node_id(f"vip_{service['namespace']}_{service['name']}")
    lines.append(f'  {vip}{{{{"VIP {ips}"}}}}')
    policy = service["external_traffic_policy"]
    endpoints = service["endpoint_nodes"]
    announcing: list[tuple[str, str]] = []  # (node, edge label)
    if service.get("bgp"):
        lines.append('  router[["router (ECMP)"]]')
        lines.append(f"  client --> router --> {vip}")
        announcing += [(node, "BGP next hop") for node in service["bgp"]["candidate_nodes"]]
    if service.get("layer2"):
        lines.append(f"  client --> {vip}")
        leader = service["layer2"].get("leader")
        if leader:
            announcing.append((leader, "ARP leader"))
    if not announcing:
        lines.append(f'  {vip} -.->|"nobody announces"| none["no node"]')
    seen = set()
    for node, label in announcing:
        nid = _node_id(node)
        if nid not in seen:
            lines.append(f'  {nid}["{node}"]')
            seen.add(nid)
        lines.append(f'  {vip} -->|"{label}"| {nid}')
    if policy == "Cluster":
        # kube-proxy on the announcing node forwards to any pod, with SNAT
        for node, count in endpoints.items():
            pid = _node_id(f"pods_{node}")
            lines.append(f'  {pid}(("{count} pod(s) on {node}"))')
            for announcer in sorted(seen):
                lines.append(f'  {announcer} -->|"SNAT"| {pid}')
    else:
        for nid in sorted(seen):
            node = nid[2:]
            real = next((n for n in endpoints if _node_id(n) == nid), None)
            pid = _node_id(f"pods_{node}")
            if real:
                lines.append(f'  {pid}(("{endpoints[real]} pod(s) on {real}"))')
                lines.append(f'  {nid} -->|"client IP kept"| {pid}')
            else:
                lines.append(f'  {pid}["no local pod: traffic dropped"]')
                lines.append(f"  {nid} -.-> {pid}")
                lines.append(f"  style {pid} fill:#f88")
    lines.append("```")
    return lines


def describe_change(change: dict | None) -> str | None:
    """``moved from node3 to node1 at ...`` for a ``last_change`` of ``lb_status``."""
    if not change:
        return None
    to = ", ".join(change.get("to") or [])
    before = " or ".join(change.get("previously") or [change["from"]])
    text = {"moved": f"moved from {before} to {to}", "withdrawn": f"withdrawn by {before} (still via {to})",
            "stopped": f"stopped (last announced by {before})"}.get(change["event"], change["event"])
    return f"{text} at {change['at']}" if change.get("at") else text


def _change_lines(section: dict, waiting_means: str) -> list[str]:
    lines = []
    if section.get("waiting_for_pod"):
        lines.append(f"  - {', '.join(section['waiting_for_pod'])}: {waiting_means}")
    change = describe_change(section.get("last_change"))
    if change:
        lines.append(f"  - What MetalLB did last (its nodeAssigned Events): {change}")
    return lines


def render_markdown(services: list[dict], title: str = "MetalLB verification") -> str:
    """The report for ``merge_checks`` output."""
    good = sum(1 for s in services if s["ok"])
    out = [f"# {title}", "", f"{good} of {len(services)} Service(s) as expected.", ""]
    out += ["| Service | VIP | mode | policy | announced by | wire | findings |", "|---|---|---|---|---|---|---|"]
    for s in services:
        by = []
        if s.get("layer2"):
            by.append(f"leader {s['layer2'].get('leader') or '?'}")
        if s.get("bgp"):
            by.append("ECMP " + (", ".join(s["bgp"]["candidate_nodes"]) or "nobody"))
        wire = []
        for kind in ("leader", "routes"):
            checks = s["wire"].get(kind)
            if checks:
                wire.append(f"{'ARP' if kind == 'leader' else 'routes'} {', '.join(sorted({c['status'] for c in checks.values()}))}")
        if s["wire"].get("datapath"):
            broken = any(probe.get("problems") for probe in s["wire"]["datapath"])
            wire.append(f"data path {FAIL if broken else OK}")
        out.append(f"| {s['namespace']}/{s['name']} | {', '.join(s['ingress_ips']) or '-'} | {', '.join(s['modes']) or '-'} | "
                   f"{s['external_traffic_policy']} | {'; '.join(by) or '-'} | {'; '.join(wire) or SKIPPED} | "
                   f"{len(s['findings'])} |")
    for s in services:
        out += ["", f"## {s['namespace']}/{s['name']}: {'ok' if s['ok'] else 'PROBLEMS'}", ""]
        pool = s.get("expected_pool") or "(any)"
        origin = ", ".join(f"{ip} from {p or 'no pool'}" for ip, p in s["pools"].items()) or "no address"
        out.append(f"- Address: {origin}; expected pool {pool}")
        out.append(f"- externalTrafficPolicy {s['external_traffic_policy']}: source IP {s['source_ip']}; "
                   f"sessionAffinity {s['session_affinity']}")
        out.append(f"- Endpoints by node: {', '.join(f'{n}: {c}' for n, c in s['endpoint_nodes'].items()) or 'none'}")
        if s.get("layer2"):
            l2 = s["layer2"]
            out.append(f"- Layer 2: leader {l2.get('leader') or 'none recorded'} (ServiceL2Status); candidates "
                       f"{', '.join(l2['candidate_nodes']) or 'none'}")
            for ip, check in (s["wire"].get("leader") or {}).items():
                out.append(f"  - ARP from the client for {ip}: {check.get('node') or 'no answer'} ({check['status']})")
            out += _change_lines(l2, "out of the election until a pod is ready there (Local)")
        if s.get("bgp"):
            bgp = s["bgp"]
            out.append(f"- BGP: advertised by {', '.join(bgp['candidate_nodes']) or 'nobody'}; expected next hops "
                       f"{', '.join(bgp['next_hops']) or 'none'}")
            for ip, check in (s["wire"].get("routes") or {}).items():
                hops = ", ".join(check["next_hops"]) if check.get("next_hops") is not None else "-"
                out.append(f"  - Router's route for {ip}: {hops or 'none'} ({check['status']})")
            out += _change_lines(bgp, "route withdrawn: no ready pod there (Local)")
        for probe in s["wire"].get("datapath") or []:
            nodes = ", ".join(f"{n} {c}" for n, c in probe["by_node"].items()) or "none"
            pods = ", ".join(f"{n} {c}" for n, c in probe["by_pod"].items()) or "none"
            kept = {True: "preserved", False: "not preserved (SNAT)", None: "unknown"}[probe["client_ip_preserved"]]
            out.append(f"- Data path, {probe['answered']}/{probe['requests']} requests to {probe['address']}:{probe['port']}: "
                       f"by node {nodes}; by pod {pods}; client address {kept}; sources seen "
                       f"{', '.join(probe['sources']) or 'none'}")
        for f in s["findings"]:
            out.append(f"- **{f['severity']}** `{f['rule']}`: {f['message']}. Fix: {f['fix']}.")
        for p in s["problems"]:
            if not any(p.startswith(f"{f['rule']}:") for f in s["findings"]):
                out.append(f"- **wire**: {p}")
        out += [""] + _flowchart(s)
    return "\n".join(out) + "\n"
