# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: lb_verify_report
short_description: Merge MetalLB's expected announcements with the wire checks into a Markdown report
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the C(services) that P(baremetal.metallb.lb_status#module) returns (what should announce each Service,
    according to the API server) and what was seen on the wire, and returns each Service with its wire checks,
    its problems, and a Markdown report with a Mermaid flowchart per Service (client, VIP, announcing node(s), pods,
    the traffic policy and what it means for the client address).
  - Every wire verdict says what was found, who was expected and what it likely means. For ARP (leader_verify's
    statuses) - who answered, with node names and MACs; a V(duplicate) as a memberlist split brain, kube-proxy IPVS without
    strictARP, or a rogue responder (a MAC of no node, or a node that may not announce the VIP); a V(no_reply) as the
    leader's speaker down or its node off the segment; an V(unexpected_leader) as a stale leader or a rogue responder;
    an V(unknown_mac) as another host holding the address. For BGP (bgp_verify's differences) - the router's next hops
    against the expected ones, with their nodes; each missing next hop explained by its BGP session (not configured,
    not Established, or Established but not advertising), each extra one as a stale announcement or a speaker that is no
    node, and a route that is absent, not installed, or not from BGP.
  - A Service is C(ok) when every wire check that ran agrees and it has no finding of severity error.
options:
  _input:
    description: The C(services) list of P(baremetal.metallb.lb_status#module).
    type: list
    elements: dict
    required: true
  leaders:
    description:
      - The C(addresses) result of P(baremetal.metallb.leader_verify#module) (VIP to its verdict and leader), run from a
        client on the nodes' segment; omit when that check did not run.
    type: dict
  routes:
    description:
      - The C(prefixes) result of P(baremetal.metallb.bgp_verify#module) on the router (prefix to the next hops
        installed); omit when that check did not run.
    type: dict
  datapath:
    description:
      - The C(targets) result of P(baremetal.metallb.lb_probe#module) run from a client; each target's C(problems) count as
        its Service's. Omit when that check did not run.
    type: list
    elements: dict
  peers:
    description:
      - The C(peers) result of P(baremetal.metallb.bgp_verify#module), to explain a missing next hop by its BGP session.
    type: dict
  nodes:
    description: Node name to MAC address(es), to name who answers ARP (the C(nodes) given to leader_verify).
    type: dict
  node_addresses:
    description: Node name to address(es), to name the router's next hops.
    type: dict
  arp:
    description:
      - The whole registered result of the P(baremetal.metallb.leader_verify#module) task, instead of O(leaders); a skipped
        task counts as not run, a failed one without C(addresses) adds a note.
    type: dict
  bgp:
    description:
      - The whole registered result of the P(baremetal.metallb.bgp_verify#module) task, instead of O(routes) and O(peers).
      - A task looped over the O(plan)'s C(routers) (one run per router, C(item.host)) gives each router's verdict against
        the next hops of the nodes it peers with, and the report shows each router.
    type: dict
  probe:
    description: The whole registered result of the P(baremetal.metallb.lb_probe#module) task, instead of O(datapath).
    type: dict
  plan:
    description:
      - The P(baremetal.metallb.lb_verify_plan#filter) result the checks ran with, for the node MACs and addresses and the
        notes on checks that could not run (used where O(nodes) and O(node_addresses) are not given).
    type: dict
  title:
    description: The report's title.
    type: str
    default: MetalLB verification
"""

EXAMPLES = r"""
- name: Write the report
  ansible.builtin.copy:
    content: "{{ (status.services | baremetal.metallb.lb_verify_report(leaders=arp.addresses, nodes=node_macs)).markdown }}"
    dest: reports/metallb.md
    mode: "0644"

- name: Merge whole task results (skipped or failed checks become notes)
  ansible.builtin.set_fact:
    result: "{{ status.services | baremetal.metallb.lb_verify_report(arp=arp, bgp=routes, probe=probe, plan=plan) }}"
"""

RETURN = r"""
_value:
  description: The merged result.
  type: dict
  contains:
    services:
      description: The input Services, each with C(wire), C(problems) and C(ok) added.
      type: list
      elements: dict
    ok:
      description: Whether every Service is C(ok).
      type: bool
    summary:
      description: One line per Service - ok, or what is wrong, in words.
      type: list
      elements: str
    problems:
      description: Every problem of every Service, each prefixed with the Service.
      type: list
      elements: str
    notes:
      description: What was not checked, and why.
      type: list
      elements: str
    markdown:
      description: The report.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.status.plan import PlanError, router_results, wire_results
from ansible_collections.baremetal.metallb.plugins.module_utils.status.report import merge_checks, render_markdown
from ansible_collections.baremetal.metallb.plugins.module_utils.status.wire import Nodes


def lb_verify_report(services, leaders=None, routes=None, datapath=None, title="MetalLB verification", peers=None,
                     nodes=None, node_addresses=None, arp=None, bgp=None, probe=None, plan=None):
    if not isinstance(services, list) or not all(isinstance(s, dict) and "findings" in s for s in services):
        raise AnsibleFilterError("lb_verify_report: give the services list that baremetal.metallb.lb_status returns")
    plan = plan or {}
    notes = list(plan.get("notes") or [])
    try:
        if arp is not None:
            leaders = wire_results(arp, "addresses", "leader_verify", notes)
        routers = router_results(bgp, plan, notes)  # bgp_verify looped over every router
        if bgp is not None and routers is None:
            routes = wire_results(bgp, "prefixes", "bgp_verify", notes)
            peers = (bgp or {}).get("peers") if routes is not None else None
        if probe is not None:
            datapath = wire_results(probe, "targets", "lb_probe", notes)
    except PlanError as exc:
        raise AnsibleFilterError(f"lb_verify_report: {exc}") from None
    names = Nodes(nodes if nodes is not None else plan.get("node_macs"),
                  node_addresses if node_addresses is not None else plan.get("node_addresses"))
    merged = merge_checks(services, leaders, routes, datapath, peers, names, routers)
    summary = [
        f"{s['namespace']}/{s['name']} {', '.join(s['ingress_ips']) or '(no address)'}: "
        + ("ok" if s["ok"] else "; ".join(s["problems"]))
        for s in merged
    ]
    problems = [f"{s['namespace']}/{s['name']}: {p}" for s in merged for p in s["problems"]]
    return {"services": merged, "ok": all(s["ok"] for s in merged), "summary": summary, "problems": problems,
            "notes": notes, "markdown": render_markdown(merged, title, names, notes)}


class FilterModule:
    def filters(self):
        return {"lb_verify_report": lb_verify_report}
