#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: memberlist_probe
short_description: From this node, probe the other nodes' MetalLB memberlist port over TCP and UDP
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Runs on a Kubernetes node (Python's standard library only). For every target it opens a TCP connection to the
    memberlist address and port, and sends the target's UDP packet (a memberlist ping, encrypted on the controller by
    M(baremetal.metallb.memberlist_targets); the node never sees the key) on a connected socket, so that ICMP errors
    are seen.
  - Reports raw outcomes only, judged on the controller by M(baremetal.metallb.metallb_preflight) (O(targets) as given
    there, option C(memberlist_probes)). TCP - C(connected), C(refused) (the node's kernel answered, nothing listens),
    C(unreachable) (ICMP unreachable or prohibited), C(timeout) (dropped). UDP - C(answered) (the reply, base64),
    C(refused) (ICMP port unreachable), C(unreachable), C(silent) (no answer after O(attempts) datagrams within O(timeout)),
    C(not_probed) (the target has no packet).
  - All targets are probed at once; a run takes about O(timeout) seconds twice (TCP, then UDP) when a port is dropped.
options:
  source:
    description:
      - This node's name (its Kubernetes Node name); the target of that name is skipped.
    type: str
    required: true
  targets:
    description:
      - M(baremetal.metallb.memberlist_targets)' C(targets) - C(node), C(address), C(port), C(packet) (base64 or
        null), and the keys it passes through (C(seq), C(listening), C(keyed)).
    type: list
    elements: dict
    required: true
  timeout:
    description:
      - Seconds to wait for the TCP connection and for a UDP answer, per target.
    type: float
    default: 2.0
  attempts:
    description:
      - UDP datagrams sent per target within O(timeout) (UDP may lose one).
    type: int
    default: 3
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Changes nothing; it probes in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
seealso:
  - module: baremetal.metallb.memberlist_targets
  - module: baremetal.metallb.metallb_preflight
"""

EXAMPLES = r"""
- name: Plan the probes (controller)
  baremetal.metallb.memberlist_targets:
    kubeconfig: "{{ metallb_kubeconfig }}"
  delegate_to: localhost
  run_once: true
  register: plan

- name: Probe the other nodes' memberlist port
  baremetal.metallb.memberlist_probe:
    source: "{{ inventory_hostname }}"
    targets: "{{ plan.targets }}"
  register: memberlist_probe
"""

RETURN = r"""
source:
  description: O(source).
  returned: always
  type: str
results:
  description: Per target (O(source) left out) its keys without C(packet), plus C(tcp), C(tcp_detail), C(udp),
    C(udp_detail), C(reply) (the UDP answer, base64, or null) and C(seconds).
  returned: always
  type: list
  elements: dict
  sample:
    - {node: node2, address: 198.51.100.12, port: 7946, seq: 4711, listening: true, keyed: true,
       tcp: timeout, tcp_detail: "no answer in 2 s", udp: silent, udp_detail: "no answer in 2 s (3 datagrams)", reply: null,
       seconds: 4.0}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.probe import probe_all


def main() -> None:
    module = AnsibleModule(argument_spec=dict(
        source=dict(type="str", required=True),
        targets=dict(type="list", elements="dict", required=True),
        timeout=dict(type="float", default=2.0),
        attempts=dict(type="int", default=3),
    ), supports_check_mode=True)
    params = module.params
    problems = [f"targets[{index}]: needs node, address and port (memberlist_targets' targets)"
                for index, target in enumerate(params["targets"]) if not all(target.get(k) for k in ("node", "address", "port"))]
    if params["timeout"] <= 0 or params["attempts"] < 1:
        problems.append("timeout must be > 0 and attempts >= 1")
    if problems:
        module.fail_json(msg="memberlist_probe: invalid input; nothing was probed: " + "; ".join(problems))
    targets = [t for t in params["targets"] if t.get("node") != params["source"]]
    module.exit_json(changed=False, source=params["source"], results=probe_all(targets, params["timeout"], params["attempts"]))


if __name__ == "__main__":
    main()
