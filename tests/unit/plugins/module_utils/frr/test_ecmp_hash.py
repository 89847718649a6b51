# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""EcmpHashPlan on recorded hosts (cases in the YAML beside)."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.ecmp_hash import (
    EcmpHashError, EcmpHashPlan, render_file)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


def files_of(case: dict) -> dict:
    out = {}
    for path, content in case["files"].items():
        if content.startswith("RENDERED "):  # "RENDERED <policy> <families...>": the file this module writes
            policy, *families = content.split()[1:]
            content = render_file(policy, families)
        out[path] = content
    return out


@parametrize_cases(CASES)
def test_plan(case):
    plan = EcmpHashPlan(files_of(case).get)
    if "error" in case:
        with pytest.raises(EcmpHashError) as err:
            plan.plan(case["policy"], case["path"])
        assert case["error"] in str(err.value)
        return
    got = plan.plan(case["policy"], case["path"])
    assert got["writes"] == case["writes"]
    assert (got["file"] is not None) == case["file_written"]
    assert got["families"] == case["families"]
    assert got["changed"] == case["changed"]
    if got["file"] is not None:
        assert got["file"] == render_file(case["policy"], case["families"])
    # the planned state is what the policy asks for, per family the host has
    assert set(got["after"]["sysctl"].values()) <= {{"l3": 0, "l4": 1, "l3_inner": 2}[case["policy"]]}


def test_rendered_file_is_sysctl_syntax():
    text = render_file("l4", ["ipv4", "ipv6"])
    settings = [ln for ln in text.splitlines() if ln and not ln.startswith("#")]
    assert settings == ["net.ipv4.fib_multipath_hash_policy = 1", "net.ipv6.fib_multipath_hash_policy = 1"]
