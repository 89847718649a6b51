#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: lb_probe
short_description: Send requests to LoadBalancer VIPs and count which pods and nodes answer
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - For each target, sends O(count) HTTP GET requests, each on a new TCP connection (a new source port, so the router's
    ECMP hash and kube-proxy see a new flow each time), to a Service whose pods run an echo backend.
  - The backend must answer with a JSON object with at least C(pod), C(node) and C(source) (the address the pod saw
    the request come from). The collection's lab runs such a server for pods labelled
    C(lab.baremetal.metallb/datapath=echo); any echo service returning those fields works.
  - Reports, per target, how many requests each pod and node answered, which source addresses the pods saw, and whether
    the client's own address was preserved. With O(targets[].policy) given, it also says what breaks the policy's
    promise (Cluster - SNAT, the pods never see the client; Local - the client's address, only announcing nodes answer;
    ClientIP affinity - one pod per announcing node, since kube-proxy keeps the affinity per node and ECMP spreads a
    client's connections over the nodes).
  - Run it on a client outside the cluster (not on a node). Read-only; never changed.
options:
  targets:
    description: The VIPs and ports to probe.
    type: list
    elements: dict
    required: true
    suboptions:
      address:
        description: The VIP.
        type: str
        required: true
      port:
        description: The Service port.
        type: int
        required: true
      name:
        description: A label for the report, for example C(namespace/service).
        type: str
      policy:
        description: The Service's externalTrafficPolicy, to check its promise.
        type: str
        choices: [Cluster, Local]
      session_affinity:
        description: The Service's sessionAffinity.
        type: str
        choices: ["None", ClientIP]
        default: "None"
      announcing_nodes:
        description: The nodes that announce the VIP (the L2 leader, or the BGP next-hop nodes); checked under Local.
        type: list
        elements: str
        default: []
      endpoint_nodes:
        description: The nodes with a ready endpoint; answers from any other node are reported.
        type: list
        elements: str
        default: []
  count:
    description: Requests per target.
    type: int
    default: 30
  timeout:
    description: Seconds to wait for each connection and answer.
    type: float
    default: 2.0
  path:
    description: The HTTP path requested.
    type: str
    default: /
  fail_on_problems:
    description: Fail when a target breaks its policy's promise.
    type: bool
    default: false
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Read-only; the requests are sent in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
"""

EXAMPLES = r"""
- name: 30 requests to the web Service from the client
  baremetal.metallb.lb_probe:
    targets:
      - {name: demo/web-local, address: 198.51.100.210, port: 80, policy: Local, announcing_nodes: [node2]}
  delegate_to: client
  register: probe
"""

RETURN = r"""
targets:
  description: One result per target, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    address:
      description: The VIP.
      type: str
    port:
      description: The port.
      type: int
    name:
      description: The target's name, if given.
      type: str
    requests:
      description: Requests sent.
      type: int
    answered:
      description: Requests answered with an echo.
      type: int
    by_pod:
      description: Pod (C(namespace/name)) to the number of answers.
      type: dict
    by_node:
      description: Node to the number of answers.
      type: dict
    sources:
      description: Source address the pods saw, to the number of answers.
      type: dict
    client_addresses:
      description: This host's own address on each connection, to the number of answers.
      type: dict
    client_ip_preserved:
      description: Whether every answering pod saw this host's own address; null when nothing answered.
      type: bool
    errors:
      description: The first few errors.
      type: list
      elements: str
    problems:
      description: What breaks the policy's promise (only with O(targets[].policy)).
      type: list
      elements: str
    elapsed_ms:
      description: Time for all requests.
      type: float
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.module_utils.probe.echo_probe import expectations, probe

TARGET_OPTIONS = dict(
    address=dict(type="str", required=True),
    port=dict(type="int", required=True),
    name=dict(type="str"),
    policy=dict(type="str", choices=["Cluster", "Local"]),
    session_affinity=dict(type="str", choices=["None", "ClientIP"], default="None"),
    announcing_nodes=dict(type="list", elements="str", default=[]),
    endpoint_nodes=dict(type="list", elements="str", default=[]),
)


def main() -> None:
    module = AnsibleModule(
        argument_spec=dict(
            targets=dict(type="list", elements="dict", required=True, options=TARGET_OPTIONS),
            count=dict(type="int", default=30),
            timeout=dict(type="float", default=2.0),
            path=dict(type="str", default="/"),
            fail_on_problems=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["count"] < 1:
        module.fail_json(msg=f"count: is {params['count']}; give 1 or more requests per target")
    results = []
    for target in params["targets"]:
        if not 1 <= target["port"] <= 65535:
            module.fail_json(msg=f"targets[].port: {target['port']} is not a port (1-65535)")
        result = probe(target["address"], target["port"], params["count"], params["timeout"], params["path"])
        result["name"] = target.get("name")
        result["problems"] = (expectations(target["policy"], target["session_affinity"], target["announcing_nodes"],
                                           target["endpoint_nodes"], result) if target.get("policy") else [])
        results.append(result)
    problems = [f"{r['name'] or r['address']}: {p}" for r in results for p in r["problems"]]
    if problems and params["fail_on_problems"]:
        module.fail_json(msg="; ".join(problems), changed=False, targets=results)
    module.exit_json(changed=False, targets=results)


if __name__ == "__main__":
    main()
