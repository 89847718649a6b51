#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: metallb_config_state
short_description: MetalLB's own verdict on its configuration, from its ConfigurationState objects
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Reads MetalLB's C(ConfigurationState) objects (C(metallb.io/v1beta1), MetalLB v0.15.3 and later) and fails, with
    MetalLB's own error text, when the controller or a speaker reports the configuration C(Invalid).
  - MetalLB's webhook checks each object alone and leaves out references that may not exist yet (a BGPPeer's
    C(passwordSecret) and C(bfdProfile)); the controller and each speaker parse the whole configuration again, and
    one that refuses it keeps its previous configuration. Without this check that shows only in the speaker's log
    and its C(metallb_k8s_client_config_stale_bool) metric.
  - After a change (O(changed)), waits up to O(timeout) seconds until every speaker has reconciled again, that is
    until one of its conditions is newer than in O(before), the objects read before the change. The controller
    reconciles on pool changes only; it is judged, not waited for.
  - A speaker that does not report in time is a warning, not a failure (its verdict is unknown).
  - The role P(baremetal.metallb.metallb_config#role) runs it after every apply.
options:
  namespace:
    description: The namespace MetalLB runs in.
    type: str
    default: metallb-system
  before:
    description:
      - The C(ConfigurationState) objects as read before the change (for example with
        M(baremetal.metallb.k8s_batch_info)); empty when there were none.
    type: list
    elements: dict
    default: []
  changed:
    description:
      - Whether MetalLB's objects were just changed. When V(false), the objects as they are now are the verdict,
        without waiting.
    type: bool
    default: true
  timeout:
    description: Seconds to wait for every speaker's reconcile after a change.
    type: int
    default: 30
  fail_on_invalid:
    description: Fail when a component reports the configuration C(Invalid); otherwise only warn.
    type: bool
    default: true
extends_documentation_fragment:
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
attributes:
  check_mode:
    support: full
    details: Read-only. In check mode nothing was applied, so it reads once, never waits, and only warns.
  diff_mode:
    support: none
  platform:
    platforms: all
notes:
  - Needs C(list) on C(configurationstates.metallb.io) in the namespace.
  - On MetalLB before v0.15.3 (no such kind) it returns RV(api_found=false) and checks nothing.
seealso:
  - module: baremetal.metallb.k8s_batch_info
"""

EXAMPLES = r"""
- name: Read MetalLB's verdicts before the change
  baremetal.metallb.k8s_batch_info:
    reads:
      - {key: states, api_version: metallb.io/v1beta1, kind: ConfigurationState, namespace: metallb-system}
  register: before

- name: Fail when the controller or a speaker refuses the new configuration
  baremetal.metallb.metallb_config_state:
    before: "{{ before.resources.states }}"
    changed: "{{ applied is changed }}"
"""

RETURN = r"""
api_found:
  description: Whether the API server serves C(ConfigurationState) (MetalLB v0.15.3 and later).
  returned: always
  type: bool
settled:
  description: Whether every speaker reported on the configuration (always V(true) without a change).
  returned: always
  type: bool
pending:
  description: The speakers' C(ConfigurationState) names that did not report within O(timeout).
  returned: always
  type: list
  elements: str
states:
  description: Every component's verdict.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The object's name, C(controller) or C(speaker-<node>).
      type: str
    component:
      description: C(controller) or C(speaker).
      type: str
    node:
      description: The speaker's node; empty for the controller.
      type: str
    result:
      description: C(Valid), C(Invalid) or C(Unknown).
      type: str
    errors:
      description: MetalLB's parse errors, when C(Invalid).
      type: list
      elements: str
    last_reconcile:
      description: The newest condition time (the component's last reconcile).
      type: str
  sample: [{"name": "speaker-node1", "component": "speaker", "node": "node1", "result": "Invalid",
            "errors": ["configuration error: password not specified in the secret \"metallb-system\"/\"auth\""],
            "last_reconcile": "2026-12-07T19:30:01Z"}]
invalid:
  description: The entries of RV(states) whose result is C(Invalid).
  returned: always
  type: list
  elements: dict
"""

import time

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, check_reads
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.config_state import judge, message, pending_warning

INTERVAL = 1.0


def main() -> None:
    module = K8sModule(
        argument_spec=dict(
            namespace=dict(type="str", default="metallb-system"),
            before=dict(type="list", elements="dict", default=[]),
            changed=dict(type="bool", default=True),
            timeout=dict(type="int", default=30),
            fail_on_invalid=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if params["timeout"] < 0:
        module.fail_json(msg="timeout must be 0 or more seconds")
    changed = params["changed"] and not module.check_mode
    reads = check_reads([{"key": "states", "api_version": "metallb.io/v1beta1", "kind": "ConfigurationState",
                          "namespace": params["namespace"], "name": None, "label_selectors": [],
                          "field_selectors": [], "metadata_only": False}])
    deadline = time.monotonic() + params["timeout"]
    with module.api_errors(changed=False):
        reader = BatchRead(DynamicApi(module.client()))
        while True:
            read = reader.run(reads)
            if not read["api_found"]["states"]:
                module.exit_json(changed=False, api_found=False, settled=True, pending=[], states=[], invalid=[],
                                 msg="MetalLB has no ConfigurationState API (before v0.15.3): nothing checked")
            verdict = judge(params["before"], read["resources"]["states"], changed)
            if verdict["settled"] or time.monotonic() >= deadline:
                break
            time.sleep(INTERVAL)
    result = dict(changed=False, api_found=True, **verdict)
    warnings = []
    if not verdict["settled"]:
        warnings.append(pending_warning(verdict, params["timeout"]))
    if verdict["invalid"]:
        text = message(verdict, params["namespace"])
        if params["fail_on_invalid"] and not module.check_mode:
            module.fail_json(msg=text, **result)
        warnings.append(text)
    for warning in warnings:
        module.warn(warning)
    result["msg"] = (f"MetalLB accepts the configuration ({len(verdict['states'])} components)"
                     if not verdict["invalid"] else "MetalLB refuses the configuration")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
