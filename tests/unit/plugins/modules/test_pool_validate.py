# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pool_validate module's main(): argument handling, results, failure."""

from __future__ import annotations

import json

from ansible_collections.baremetal.metallb.plugins.modules import pool_validate
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner


run = ModuleRunner(pool_validate)


def test_valid_pools_are_ok_and_never_changed(capsys):
    code, result, dummy = run(capsys, {"pools": [{"name": "a", "addresses": ["192.0.2.0/28"]}], "_ansible_check_mode": True})
    assert code == 0
    assert result["changed"] is False
    assert result["pools"][0]["cidrs"] == ["192.0.2.0/28"]
    assert result["pools"][0]["protocol"] == "layer2"


def test_invalid_pools_fail_with_every_error(capsys):
    code, result, dummy = run(
        capsys,
        {"pools": [{"name": "a", "addresses": ["192.0.2.5/24"]}, {"name": "a", "addresses": ["bogus"]}]},
    )
    assert code == 1
    assert result["failed"] is True
    assert sorted(e["code"] for e in result["errors"]) == ["duplicate_name", "host_bits_set", "invalid_syntax"]
    assert "pool 'a' entry '192.0.2.5/24'" in result["msg"]


def test_warnings_are_ansible_warnings(capsys):
    code, result, dummy = run(
        capsys, {"pools": [{"name": "v6", "protocol": "bgp", "avoid_buggy_ips": True, "addresses": ["2001:db8::/120"]}]}
    )
    assert code == 0
    assert "avoid_buggy_ips has no effect" in json.dumps(result["warnings"])


def test_unknown_protocol_is_refused_by_the_argument_spec(capsys):
    code, result, dummy = run(capsys, {"pools": [{"name": "a", "protocol": "layer3", "addresses": ["192.0.2.1/32"]}]})
    assert code == 1
    assert "protocol" in result["msg"] and "layer2" in result["msg"]


def test_missing_netaddr_names_the_library(capsys, monkeypatch):
    monkeypatch.setattr(pool_validate, "HAS_NETADDR", False)
    code, result, dummy = run(capsys, {"pools": [{"name": "a", "addresses": ["192.0.2.1/32"]}]})
    assert code == 1
    assert "netaddr" in result["msg"]


def test_bare_address_and_cluster_pools_through_the_module(capsys):
    """The module's argument spec carries cluster_pools and instance to the validator as given."""
    foreign = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
               "metadata": {"name": "by-hand", "namespace": "metallb-system"}, "spec": {"addresses": ["192.0.2.8/29"]}}
    code, result, dummy = run(capsys, {"pools": [{"name": "a", "addresses": ["192.0.2.0/28", "203.0.113.6"]}],
                                       "cluster_pools": [foreign], "instance": "edge", "_ansible_check_mode": True})
    assert code == 1
    assert sorted(e["code"] for e in result["errors"]) == ["missing_prefix", "overlaps_cluster_pool"]
    assert "write 203.0.113.6/32" in result["msg"]
    assert "IPAddressPool 'by-hand' (entry '192.0.2.8/29') on 192.0.2.8-192.0.2.15" in result["msg"]
    assert "baremetal.metallb/config-instance=edge" in result["msg"]
    assert result["foreign_pools"] == ["by-hand"]
