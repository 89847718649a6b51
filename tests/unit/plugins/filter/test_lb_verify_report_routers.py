# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lb_verify_report with the plan's routers (one router, a plain bgp_verify result, and the looped
one); the plan's cases are in tests/unit/plugins/module_utils/status/test_routers.py."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.status.plan import router_results, verify_plan
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.status.test_routers import INVENTORY, _service
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import import_plugin


def test_one_router_keeps_its_single_result_shape():
    """A single router (the first layout): no neighbor group, every next hop expected, and the report filter still
    takes a plain (not looped) bgp_verify result."""
    services = [_service({})]
    inventory = {"k8s_nodes": ["node1", "node2"], "routers": ["router"]}
    plan = verify_plan(services, INVENTORY["hostvars"], inventory)
    assert plan["router"] == "router" and plan["check_bgp"]
    assert plan["routers"] == [{"host": "router", "nodes": None, "bgp_prefixes": plan["bgp_prefixes"],
                                "bgp_peers": ["198.51.100.11", "198.51.100.12"]}]
    assert router_results({"prefixes": {}}, plan, []) is None
    plugin = import_plugin("filter.lb_verify_report")
    single = {"prefixes": {"203.0.113.10/32": {"present": True, "installed": True, "protocol": "bgp",
                                               "nexthops": ["198.51.100.11", "198.51.100.12"]}}, "peers": {}}
    result = plugin.lb_verify_report(services, bgp=single, plan=plan)
    assert result["ok"], result["problems"]
    looped = plugin.lb_verify_report(services, bgp={"results": [dict(single, item=plan["routers"][0])]}, plan=plan)
    assert looped["ok"] and "  - router: BGP route for 203.0.113.10: via 198.51.100.11 (node1)" in looped["markdown"]
