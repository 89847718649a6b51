# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The verify report: Markdown with a Mermaid flowchart per Service, like the seeds' diagrams.

Input: the ``lb_status`` reports (what should announce, per the API server) and the
wire checks (``leader_verify`` from a client, ``bgp_verify`` on the router, ``lb_probe``),
merged by ``merge_checks`` (each VIP's verdict in words: ``wire.py``); output: plain text
with one chart per Service (``mermaid.py``). No Ansible imports, so unit tests call it directly.
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.status.mermaid import flowchart
from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import (
    FAIL,
    OK,
    SKIPPED,
    Nodes,
    announcement,
    arp_check,
    family,
    route_check,
)

FAMILIES = ("IPv4", "IPv6")
KEPT = {True: "preserved", False: "not preserved (SNAT)", None: "unknown"}


def _route_of(routes: dict, ip: str) -> dict | None:
    return routes.get(ip) or routes.get(f"{ip}/{128 if ':' in ip else 32}")


def _router_view(bgp: dict, router: dict, address: str) -> dict:
    """A BGP section as one router should see it: the next hops the plan expects there (its own nodes'),
    and only those nodes' ServiceBGPStatus."""
    view = dict(bgp, next_hops=router["bgp_prefixes"].get(address, []))
    if bgp.get("announced_by") is not None and router.get("nodes") is not None:
        view["announced_by"] = {n: p for n, p in bgp["announced_by"].items() if n in router["nodes"]}
    return view


def combine_routes(address: str, checks: dict[str, dict]) -> dict:
    """One VIP's ``route_check`` on several routers (router -> check) as one check: FAIL when any router's
    fails; each router's check under ``routers`` and its text named by the router."""
    statuses = [check["status"] for check in checks.values()]

    def union(key: str) -> list[str]:
        return sorted({hop for check in checks.values() for hop in check.get(key) or []})

    return {"address": address, "status": FAIL if FAIL in statuses else OK if all(st == OK for st in statuses) else SKIPPED,
            "routers": checks, "expected": union("expected"), "missing": union("missing"), "extra": union("extra"),
            "next_hops": None if all(check["next_hops"] is None for check in checks.values()) else union("next_hops"),
            "differences": [dict(d, router=host) for host, check in checks.items() for d in check["differences"]],
            "peers": {}, "meaning": None, "text": "; ".join(f"{host}: {check['text']}" for host, check in checks.items())}


def merge_checks(services: list[dict], leaders: dict | None, routes: dict | None, datapath: list | None = None,
                 peers: dict | None = None, nodes: Nodes | None = None, routers: list[dict] | None = None) -> list[dict]:
    """Adds ``wire`` to each Service report: ``leader`` (VIP -> ``wire.arp_check``) from
    leader_verify's ``addresses`` result, ``routes`` (VIP -> ``wire.route_check``) from
    bgp_verify's ``prefixes`` result (keyed ``VIP/32`` or ``VIP/128``) and its ``peers``;
    ``None`` when that check did not run; ``datapath`` (``VIP:port`` results) from lb_probe's
    ``targets`` result, whose ``problems`` count as the Service's. ``nodes`` names MACs and
    next hops. ``routers`` (several routers): each with ``host``, ``nodes`` and ``bgp_prefixes`` (its
    ``lb_verify_plan`` entry) and ``routes``/``peers`` (its bgp_verify result, ``routes`` None when not run);
    then each VIP's ``routes`` check combines the routers' (``combine_routes``). ``ok`` tells whether
    everything checked agrees and no error finding is left; ``problems`` says what does not, in words."""
    nodes = nodes or Nodes()
    probes = {f"{r['address']}:{r['port']}": r for r in datapath or []}
    merged = []
    for service in services:
        wire: dict = {"leader": None, "routes": None}
        problems = [f"{f['rule']}: {f['message']}" for f in service["findings"] if f["severity"] == "error"]
        layer2, bgp = service.get("layer2"), service.get("bgp")
        if layer2 and leaders is not None and service["ingress_ips"]:
            wire["leader"] = {ip: arp_check(ip, leaders.get(ip), service, nodes) for ip in service["ingress_ips"]}
        ran = [r for r in routers or [] if r.get("routes") is not None]
        if bgp and ran and service["ingress_ips"]:
            wire["routes"] = {ip: combine_routes(ip, {r["host"]: route_check(ip, _route_of(r["routes"], ip), _router_view(bgp, r, ip),
                                                                             r.get("peers"), nodes) for r in ran})
                              for ip in service["ingress_ips"]}
        elif bgp and routes is not None and service["ingress_ips"]:
            wire["routes"] = {ip: route_check(ip, _route_of(routes, ip), bgp, peers, nodes) for ip in service["ingress_ips"]}
        for kind in ("leader", "routes"):
            problems += [check["text"] for check in (wire[kind] or {}).values() if check["status"] == FAIL]
        if datapath is not None:
            wire["datapath"] = [probes[key] for key in (f"{ip}:{port['port']}" for ip in service["ingress_ips"]
                                                        for port in service.get("ports") or []) if key in probes]
            problems += [f"data path {_target(r)}: {p}" for r in wire["datapath"] for p in r.get("problems") or []]
        wire["families"] = per_family(service, wire)
        merged.append(dict(service, wire=wire, problems=problems, ok=not problems))
    return merged


def _target(probe: dict) -> str:
    """``198.51.100.240:80``, ``[2001:db8:100::240]:80``."""
    address = probe["address"]
    return f"[{address}]:{probe['port']}" if family(address) == "IPv6" else f"{address}:{probe['port']}"


def _verdict(checks: list[dict]) -> str | None:
    """``ok``, ``FAIL`` or ``not checked`` for some checks of one family; None when there are none."""
    if not checks:
        return None
    if any(c["status"] == FAIL for c in checks):
        return FAIL
    return OK if all(c["status"] == OK for c in checks) else SKIPPED


def per_family(service: dict, wire: dict) -> dict:
    """Family -> what the wire showed for the Service's VIPs of that family: the announcement
    (``ARP``/``NDP`` leader or ``routes``) and its verdict, the data path's verdict, whether the
    pods saw the client's own address. Only the families the Service has a VIP of."""
    out = {}
    for fam in FAMILIES:
        ips = [ip for ip in service["ingress_ips"] if family(ip) == fam]
        if not ips:
            continue
        entry: dict = {"addresses": ips}
        leader = [c for ip, c in (wire.get("leader") or {}).items() if ip in ips]
        if service.get("layer2"):
            entry["announcement"] = announcement(ips[0])
            entry["leader"] = _verdict(leader) or SKIPPED
        if service.get("bgp"):
            entry["routes"] = _verdict([c for ip, c in (wire.get("routes") or {}).items() if ip in ips]) or SKIPPED
        probes = [r for r in wire.get("datapath") or [] if r["address"] in ips]
        if "datapath" in wire:
            entry["datapath"] = (FAIL if any(r.get("problems") for r in probes) else OK) if probes else SKIPPED
            kept = {r.get("client_ip_preserved") for r in probes}
            entry["client_ip_preserved"] = kept.pop() if len(kept) == 1 else None
        out[fam] = entry
    return out


def _family_line(service: dict) -> str | None:
    """``- Per family: IPv4 (198.51.100.240): ARP leader ok, data path ok, client address not preserved (SNAT); IPv6 (...)``,
    for a Service with an IPv6 VIP (a dual-stack one shows both)."""
    families = service["wire"].get("families") or {}
    if "IPv6" not in families:
        return None
    parts = []
    for fam, entry in families.items():
        said = []
        if "leader" in entry:
            said.append(f"{entry['announcement']} leader {entry['leader']}")
        if "routes" in entry:
            said.append(f"routes {entry['routes']}")
        if "datapath" in entry:
            said.append(f"data path {entry['datapath']}")
            if entry["datapath"] != SKIPPED:
                said.append(f"client address {KEPT[entry['client_ip_preserved']]}")
        parts.append(f"{fam} ({', '.join(entry['addresses'])}): {', '.join(said) or SKIPPED}")
    return f"- Per family{' (dual-stack)' if len(families) > 1 else ''}: " + "; ".join(parts)


def _wire_cell(service: dict) -> str:
    """The table's ``wire`` column: ``ARP ok``, ``ARP FAIL (duplicate: node1, node3)``, ``ARP ok; NDP ok``, ..."""
    cells = []
    leader = list((service["wire"].get("leader") or {}).values())
    groups = [("leader", proto, [c for c in leader if announcement(c["address"]) == proto]) for proto in ("ARP", "NDP")]
    groups.append(("routes", "routes", list((service["wire"].get("routes") or {}).values())))
    for kind, name, checks in groups:
        if not checks:
            continue
        failed = [c for c in checks if c["status"] == FAIL]
        if not failed:
            cells.append(f"{name} {', '.join(sorted({c['status'] for c in checks}))}")
        elif kind == "leader":
            cells.append(f"{name} {FAIL} (" + "; ".join(
                f"{c['verdict']}: {', '.join(r['node'] or r['mac'] for r in c['responders']) or 'nobody'}" for c in failed) + ")")
        else:
            cells.append(f"{name} {FAIL} (" + "; ".join(
                ", ".join(dict.fromkeys(d["kind"] for d in c["differences"])) for c in failed) + ")")
    probes = service["wire"].get("datapath") or []
    families = sorted({family(probe["address"]) for probe in probes})
    for fam in families:
        broken = any(probe.get("problems") for probe in probes if family(probe["address"]) == fam)
        # IPv4 alone keeps its short cell; with IPv6 each family has its own
        cells.append(f"data path {'' if families == ['IPv4'] else fam + ' '}{FAIL if broken else OK}")
    return "; ".join(cells) or SKIPPED


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


def render_markdown(services: list[dict], title: str = "MetalLB verification", nodes: Nodes | None = None,
                    notes: list[str] | None = None) -> str:
    """The report for ``merge_checks`` output; ``notes``: what was not checked, and why."""
    good = sum(1 for s in services if s["ok"])
    out = [f"# {title}", "", f"{good} of {len(services)} Service(s) as expected.", ""]
    out += [f"- Note: {note}" for note in notes or []] + ([""] if notes else [])
    out += ["| Service | VIP | mode | policy | announced by | wire | findings |", "|---|---|---|---|---|---|---|"]
    for s in services:
        by = []
        if s.get("layer2"):
            by.append(f"leader {s['layer2'].get('leader') or '?'}")
        if s.get("bgp"):
            by.append("ECMP " + (", ".join(s["bgp"]["candidate_nodes"]) or "nobody"))
        out.append(f"| {s['namespace']}/{s['name']} | {', '.join(s['ingress_ips']) or '-'} | {', '.join(s['modes']) or '-'} | "
                   f"{s['external_traffic_policy']} | {'; '.join(by) or '-'} | {_wire_cell(s)} | {len(s['findings'])} |")
    for s in services:
        out += ["", f"## {s['namespace']}/{s['name']}: {'ok' if s['ok'] else 'PROBLEMS'}", ""]
        pool = s.get("expected_pool") or "(any)"
        origin = ", ".join(f"{ip} from {p or 'no pool'}" for ip, p in s["pools"].items()) or "no address"
        out.append(f"- Address: {origin}; expected pool {pool}")
        out.append(f"- externalTrafficPolicy {s['external_traffic_policy']}: source IP {s['source_ip']}; "
                   f"sessionAffinity {s['session_affinity']}")
        out.append(f"- Endpoints by node: {', '.join(f'{n}: {c}' for n, c in s['endpoint_nodes'].items()) or 'none'}")
        shown = set()
        if s.get("layer2"):
            l2 = s["layer2"]
            out.append(f"- Layer 2: leader {l2.get('leader') or 'none recorded'} (ServiceL2Status); candidates "
                       f"{', '.join(l2['candidate_nodes']) or 'none'}")
            for check in (s["wire"].get("leader") or {}).values():
                out.append(f"  - {'**FAIL** ' if check['status'] == FAIL else ''}{check['text']}")
                shown.add(check["text"])
            out += _change_lines(l2, "out of the election until a pod is ready there (Local)")
        if s.get("bgp"):
            bgp = s["bgp"]
            out.append(f"- BGP: advertised by {', '.join(bgp['candidate_nodes']) or 'nobody'}; expected next hops "
                       f"{', '.join(bgp['next_hops']) or 'none'}")
            for check in (s["wire"].get("routes") or {}).values():
                shown.add(check["text"])
                for host, one in (check.get("routers") or {"": check}).items():
                    out.append(f"  - {'**FAIL** ' if one['status'] == FAIL else ''}{host + ': ' if host else ''}{one['text']}")
            out += _change_lines(bgp, "route withdrawn: no ready pod there (Local)")
        for probe in s["wire"].get("datapath") or []:
            by_node = ", ".join(f"{n} {c}" for n, c in probe["by_node"].items()) or "none"
            pods = ", ".join(f"{n} {c}" for n, c in probe["by_pod"].items()) or "none"
            kept = KEPT[probe["client_ip_preserved"]]
            v6 = family(probe["address"]) == "IPv6"
            out.append(f"- Data path{' (IPv6)' if v6 else ''}, {probe['answered']}/{probe['requests']} requests to {_target(probe)}: "
                       f"by node {by_node}; by pod {pods}; client address {kept}; sources seen "
                       f"{', '.join(probe['sources']) or 'none'}")
        line = _family_line(s)
        if line:
            out.append(line)
        for f in s["findings"]:
            out.append(f"- **{f['severity']}** `{f['rule']}`: {f['message']}. Fix: {f['fix']}.")
        for p in s["problems"]:
            if p not in shown and not any(p.startswith(f"{f['rule']}:") for f in s["findings"]):
                out.append(f"- **wire**: {p}")
        out += [""] + flowchart(s, nodes)
    return "\n".join(out) + "\n"
