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
  title:
    description: The report's title.
    type: str
    default: MetalLB verification
"""

EXAMPLES = r"""
- name: Write the report
  ansible.builtin.copy:
    content: "{{ (status.services | baremetal.metallb.lb_verify_report(leaders=arp.addresses)).markdown }}"
    dest: reports/metallb.md
    mode: "0644"
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
      description: One line per Service.
      type: list
      elements: str
    markdown:
      description: The report.
      type: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.module_utils.status.report import merge_checks, render_markdown


def lb_verify_report(services, leaders=None, routes=None, datapath=None, title="MetalLB verification"):
    if not isinstance(services, list) or not all(isinstance(s, dict) and "findings" in s for s in services):
        raise AnsibleFilterError("lb_verify_report: give the services list that baremetal.metallb.lb_status returns")
    merged = merge_checks(services, leaders, routes, datapath)
    summary = [
        f"{s['namespace']}/{s['name']} {', '.join(s['ingress_ips']) or '(no address)'}: "
        + ("ok" if s["ok"] else "; ".join(s["problems"]))
        for s in merged
    ]
    return {"services": merged, "ok": all(s["ok"] for s in merged), "summary": summary,
            "markdown": render_markdown(merged, title)}


class FilterModule:
    def filters(self):
        return {"lb_verify_report": lb_verify_report}
