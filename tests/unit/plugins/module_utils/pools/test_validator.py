# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""PoolValidator against the cases in test_validator.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.validator import PoolValidator
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, is_subset, load_data, parametrize_cases

CASES = load_data(__file__)


def _run(case: dict):
    defaults = dict(protocol="layer2", avoid_buggy_ips=False, auto_assign=True)
    params = dict(case["input"])
    params["pools"] = [dict(defaults, **pool) for pool in params["pools"]]
    return PoolValidator(**params).run()


@parametrize_cases(CASES)
def test_case(case):
    result = _run(case)

    assert_matched(case["errors"], result.errors, what="error")
    assert result.failed == bool(case["errors"])

    summary = result.summary()
    for text in case.get("messages", []):
        assert text in summary

    for expected, actual in zip(case.get("pools", []), result.pools):
        assert is_subset(expected, actual), f"{expected} != {actual}"
    assert len(result.pools) == len(case["input"]["pools"])

    if "foreign_pools" in case:
        assert result.foreign_pools == case["foreign_pools"]
        assert result.as_result()["foreign_pools"] == case["foreign_pools"]

    expected_warnings = case.get("warnings", [])
    assert len(result.warnings) == len(expected_warnings)
    for text, warning in zip(expected_warnings, result.warnings):
        assert text in warning


def test_every_error_names_pool_entry_and_code():
    """The contract of `errors`: each item has pool, entry, code and message."""
    for case in CASES:
        for error in _run(case).errors:
            assert {"pool", "entry", "code", "message"} <= set(error)
            assert error["message"]


def test_every_documented_code_is_exercised():
    codes = {error["code"] for case in CASES for error in case["errors"]}
    assert codes >= {
        "missing_name", "invalid_name", "duplicate_name", "empty_pool", "invalid_syntax", "reversed_range",
        "mixed_family", "host_bits_set", "ipv4_mapped", "overlap", "overlaps_node", "overlaps_reserved",
        "outside_l2_network", "includes_network_or_broadcast",
    }


def test_totals_and_result_shape():
    result = PoolValidator(
        pools=[
            dict(name="a", addresses=["192.0.2.0/28"], protocol="bgp"),
            dict(name="b", addresses=["2001:db8::/64"], protocol="bgp"),
        ]
    ).run()
    shaped = result.as_result()
    assert shaped["changed"] is False
    assert shaped["total_ipv4"] == 16
    assert shaped["total_ipv6"] == str(2**64)
    assert shaped["errors"] == []
    assert "2 pool(s) valid" in shaped["msg"]
