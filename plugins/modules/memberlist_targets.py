#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: memberlist_targets
short_description: Plan the memberlist reachability probes between the nodes (what each node probes, with which ping)
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - MetalLB's speakers find each other with memberlist on the nodes' addresses, port 7946 TCP and UDP unless
    C(METALLB_ML_BIND_PORT) says otherwise. Speakers that cannot reach each other each declare the other dead, and in
    layer 2 mode both then answer ARP for the same VIPs (split brain).
  - Reads the Nodes, MetalLB's speaker DaemonSet (memberlist on or off, port, bind address, the Secret it mounts at
    C(METALLB_ML_SECRET_KEY_PATH)), the speaker pods and that Secret, and returns one target per node - its memberlist
    address (the speaker pod's IP, or the Node's InternalIP before MetalLB runs), the port, whether a speaker runs
    there, and a memberlist ping for it, encrypted with the cluster's memberlist key (derived as MetalLB derives it).
  - The key is never returned; the nodes get only the encrypted pings (M(baremetal.metallb.memberlist_probe)), and
    M(baremetal.metallb.metallb_preflight) reads the key again to check the answers.
  - Before MetalLB is installed there is no speaker and no key - the ping is unencrypted, and an ICMP port unreachable
    or a TCP reset from the node's kernel shows that the path is open.
  - A cluster that cannot be read gives no targets and the reason (the preflight reports the unreadable cluster).
options:
  metallb_namespace:
    description:
      - MetalLB's namespace (its speaker DaemonSet, pods and memberlist Secret).
    type: str
    default: metallb-system
extends_documentation_fragment:
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
attributes:
  check_mode:
    support: full
    details: Read-only; it runs the same in check mode.
  diff_mode:
    support: none
  platform:
    platforms: all
seealso:
  - module: baremetal.metallb.memberlist_probe
  - module: baremetal.metallb.metallb_preflight
"""

EXAMPLES = r"""
- name: Plan the memberlist probes
  baremetal.metallb.memberlist_targets:
    kubeconfig: "{{ metallb_kubeconfig }}"
  register: memberlist_plan
"""

RETURN = r"""
enabled:
  description: Whether the speakers run memberlist (true before MetalLB is installed - its manifests turn it on).
  returned: always
  type: bool
port:
  description: The memberlist port.
  returned: always
  type: int
  sample: 7946
keyed:
  description: Whether the pings are encrypted with the cluster's memberlist key.
  returned: always
  type: bool
reason:
  description: Why something is not probed, or where the facts came from; empty otherwise.
  returned: always
  type: str
targets:
  description: One per node - C(node), C(address), C(port), C(seq) (the ping's sequence number), C(listening) (a speaker
    runs there), C(keyed), C(packet) (the ping, base64; null when UDP cannot be probed).
  returned: always
  type: list
  elements: dict
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.memberlist import plan
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.read import read_memberlist


def main() -> None:
    module = K8sModule(argument_spec=dict(metallb_namespace=dict(type="str", default="metallb-system")), supports_check_mode=True)
    try:
        objects = read_memberlist(module.client(), module.params["metallb_namespace"])
    except K8sError as exc:
        module.exit_json(changed=False, enabled=False, port=0, keyed=False, targets=[],
                         reason=f"the cluster could not be read, so nothing is probed ({exc})")
    result = plan(objects["nodes"], objects["daemonsets"], objects["speaker_pods"], objects["secret"])
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
