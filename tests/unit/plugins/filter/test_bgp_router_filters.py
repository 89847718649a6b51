# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bgp_router filters are thin: the same result as module_utils/frr/inputs.py, and wrong input types named.

Filters are controller code, so their tests live here (ansible-test runs tests/unit/plugins/module_utils with only
module-side imports); the cases are module_utils/frr/test_router_inputs.yaml's."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.inputs import render_frr_conf, resolve_router_inputs
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import import_plugin, load_data

DATA = load_data(__file__, name="../module_utils/frr/test_router_inputs.yaml")
FRR_BASE = {"outbound": "deny_all", "ebgp_requires_policy": True, "ipv4_forwarding": True, "log_level": "informational",
            "frr_defaults": "traditional"}


def _opts(case: dict) -> dict:
    return {**DATA["base"], **case["opts"]}


def _resolve(case: dict) -> dict:
    inventory = DATA["inventory"]
    return resolve_router_inputs(_opts(case), inventory["groups"], inventory["hostvars"], "router")


def test_inputs_filter_gives_the_same_result():
    plugin = import_plugin("filter.bgp_router_inputs")
    case = next(case for case in DATA["cases"] if case["id"] == "group_neighbors_ipv4_and_ipv6")
    inventory = DATA["inventory"]
    assert plugin.FilterModule().filters()["bgp_router_inputs"](
        _opts(case), inventory["groups"], inventory["hostvars"], "router") == _resolve(case)


def test_inputs_filter_names_wrong_input_types():
    plugin = import_plugin("filter.bgp_router_inputs")
    with pytest.raises(plugin.AnsibleFilterError, match="bgp_router_inputs"):
        plugin.bgp_router_inputs([], {}, {}, "router")


def test_frr_conf_filter_renders_and_names_wrong_input_types():
    plugin = import_plugin("filter.bgp_router_frr_conf")
    case = DATA["frr_cases"][0]
    opts = {**FRR_BASE, **_opts(case)}
    inputs = _resolve({"opts": {**FRR_BASE, **case["opts"]}})
    assert plugin.FilterModule().filters()["bgp_router_frr_conf"](
        opts, inputs, case["cidrs"], case["hostname"], case["ipv6_forwarding"]
    ) == render_frr_conf(opts, inputs, case["cidrs"], case["hostname"], case["ipv6_forwarding"])
    with pytest.raises(plugin.AnsibleFilterError, match="bgp_router_frr_conf"):
        plugin.bgp_router_frr_conf(opts, [], case["cidrs"], "router", True)
