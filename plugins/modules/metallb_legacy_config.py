#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: metallb_legacy_config
short_description: Read MetalLB's legacy ConfigMap configuration, show its custom resources, remove it once migrated
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - MetalLB v0.12 and older read their configuration from a ConfigMap (C(config) in C(metallb-system), key C(config) with
    C(peers), C(address-pools), C(bgp-communities), C(bfd-profiles)); v0.13 and later ignore it, so an upgraded cluster
    announces nothing until it is converted to IPAddressPools, L2Advertisements, BGPAdvertisements, BGPPeers, BFDProfiles
    and Communities.
  - With O(state=present) (read-only) it reads the ConfigMap, converts it with the semantics of MetalLB's
    C(configmaptocrs) tool into the C(metallb_config) role's variables (RV(variables)) and builds from them the objects
    C(metallb_config) would apply (RV(objects), every field checked as C(metallb_config) checks it; peers' passwords go to
    Secrets, never into the objects). An invalid configuration fails, naming where, before anything is changed.
  - With O(state=absent) it deletes the ConfigMap (after the migration is verified, as
    C(playbooks/migrate_legacy_config.yml) does); check mode says so without deleting; nothing to delete is not a change.
  - The apply itself goes through the C(metallb_config) role with RV(variables); take the passwords from the
    C(baremetal.metallb.legacy_metallb_config) filter (this module's result masks them).
options:
  name:
    description: The legacy ConfigMap's name.
    type: str
    default: config
  namespace:
    description: Its namespace, and the namespace of the objects built.
    type: str
    default: metallb-system
  state:
    description:
      - V(present) reads and converts (read-only); V(absent) deletes the ConfigMap.
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - Convert this C(data.config) (YAML text or a mapping) instead of reading the ConfigMap; nothing is read then.
    type: raw
  instance:
    description: The C(metallb_config) instance the objects are built for (its ownership label).
    type: str
    default: default
  bgp_mode:
    description:
      - How MetalLB's speakers run BGP, as C(metallb_config_bgp_mode); V(native) refuses what only FRR does
        (C(keepalive-time), BFD profiles), naming the variable.
    type: str
    choices: [native, frr, frr-k8s]
    default: native
extends_documentation_fragment:
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
attributes:
  check_mode:
    support: full
    details: O(state=present) is read-only; O(state=absent) reports the deletion without doing it.
  diff_mode:
    support: full
    details: O(state=absent) shows the ConfigMap's name and keys before and nothing after (never its content, which may hold passwords).
  platform:
    platforms: all
"""

EXAMPLES = r"""
- name: What the legacy configuration becomes
  baremetal.metallb.metallb_legacy_config:
    kubeconfig: "{{ metallb_kubeconfig }}"
  register: legacy

- name: Remove it once the migration is verified
  baremetal.metallb.metallb_legacy_config:
    kubeconfig: "{{ metallb_kubeconfig }}"
    state: absent
"""

RETURN = r"""
found:
  description: Whether the ConfigMap exists (with O(config), always true).
  returned: always
  type: bool
variables:
  description: The C(metallb_config) role's variables (C(pools), C(l2_advertisements), C(bgp_advertisements), C(bgp_peers),
    C(bfd_profiles), C(communities)), passwords masked; empty when nothing was found.
  returned: with O(state=present)
  type: dict
objects:
  description: The objects C(metallb_config) would apply from RV(variables), as it builds them (no passwords).
  returned: with O(state=present)
  type: list
  elements: dict
secret_names:
  description: The password Secrets C(metallb_config) would create (names only).
  returned: with O(state=present)
  type: list
  elements: str
summary:
  description: One line per object (C(Kind namespace/name)), then the notes.
  returned: with O(state=present)
  type: list
  elements: str
notes:
  description: Names changed to Kubernetes names, keys ignored, pools without a protocol.
  returned: with O(state=present)
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import (
    HAS_KUBERNETES,
    K8S_AUTH_ARG_SPEC,
    KUBERNETES_IMPORT_ERROR,
    K8sClient,
    K8sError,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.legacy_config.convert import (
    LegacyConfigError,
    convert,
    parse_config,
    passwords,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder

EMPTY = {"pools": [], "l2_advertisements": [], "bgp_advertisements": [], "bgp_peers": [], "bfd_profiles": [], "communities": []}


def argument_spec() -> dict:
    return dict(
        name=dict(type="str", default="config"),
        namespace=dict(type="str", default="metallb-system"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
        config=dict(type="raw"),
        instance=dict(type="str", default="default"),
        bgp_mode=dict(type="str", choices=["native", "frr", "frr-k8s"], default="native"),
        **K8S_AUTH_ARG_SPEC,
    )


def read_configmap(client: K8sClient, namespace: str, name: str) -> dict | None:
    try:
        return client.request(f"reading ConfigMap {namespace}/{name}", client.core().read_namespaced_config_map, name, namespace).to_dict()
    except K8sError as exc:
        if exc.status == 404:
            return None
        raise


def present(module: AnsibleModule, data) -> dict:
    found = data is not None
    try:
        converted = convert(parse_config(data)) if found else {"variables": dict(EMPTY), "notes": []}
    except LegacyConfigError as exc:
        module.fail_json(msg=f"metallb_legacy_config: {module.params['namespace']}/{module.params['name']}: {exc}; nothing was changed")
    variables = converted["variables"]
    for secret in passwords(variables):
        module.no_log_values.add(secret)
    built = ConfigBuilder(namespace=module.params["namespace"], instance=module.params["instance"],
                          bgp_mode=module.params["bgp_mode"], **variables).run().as_result()
    if built["errors"]:
        module.fail_json(msg="metallb_legacy_config: the converted configuration is not valid for MetalLB; nothing was changed: "
                         + "; ".join(built["errors"]), errors=built["errors"], variables=variables, notes=converted["notes"])
    return {"changed": False, "found": found, "variables": variables, "objects": built["objects"],
            "secret_names": built["secret_names"], "notes": converted["notes"],
            "summary": built["object_names"] + [f"Secret {module.params['namespace']}/{n}" for n in built["secret_names"]]
            + [f"note: {n}" for n in converted["notes"]]}


def main() -> None:
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    params = module.params
    if params["config"] is not None and params["state"] == "absent":
        module.fail_json(msg="metallb_legacy_config: config is only for state=present (converting given data); remove config or state")
    if params["config"] is not None:
        module.exit_json(**present(module, params["config"]))
    if not HAS_KUBERNETES:
        module.fail_json(msg=missing_required_lib("kubernetes"), exception=KUBERNETES_IMPORT_ERROR)
    where = f"{params['namespace']}/{params['name']}"
    try:
        client = K8sClient.from_params(params)
        configmap = read_configmap(client, params["namespace"], params["name"])
        if params["state"] == "present":
            data = None if configmap is None else (configmap.get("data") or {}).get("config")
            if configmap is not None and data is None:
                module.fail_json(msg=f"metallb_legacy_config: ConfigMap {where} has no key 'config': not MetalLB's legacy configuration")
            module.exit_json(**present(module, data))
        if configmap is None:
            module.exit_json(changed=False, found=False)
        diff = {"before": {"configmap": where, "keys": sorted((configmap.get("data") or {}).keys())}, "after": {}}
        if not module.check_mode:
            client.request(f"deleting ConfigMap {where}", client.core().delete_namespaced_config_map, params["name"], params["namespace"])
        module.exit_json(changed=True, found=True, diff=diff, msg=f"ConfigMap {where} deleted")
    except K8sError as exc:
        module.fail_json(msg=str(exc))


if __name__ == "__main__":
    main()
