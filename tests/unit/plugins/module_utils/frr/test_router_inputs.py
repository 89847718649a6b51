# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""resolve_router_inputs (the filter bgp_router_inputs) against the cases in test_router_inputs.yaml."""

from __future__ import annotations

import json
from pathlib import Path

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.inputs import render_frr_conf, resolve_router_inputs
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
CASES = DATA["cases"]


def _opts(case: dict) -> dict:
    return {**DATA["base"], **case["opts"]}


def _resolve(case: dict) -> dict:
    inventory = DATA["inventory"]
    return resolve_router_inputs(_opts(case), inventory["groups"], inventory["hostvars"], "router")


@parametrize_cases(CASES)
def test_case(case):
    result = _resolve(case)
    assert result["errors"] == case["errors"]
    for key, value in case.get("expect", {}).items():
        assert result[key] == value, key
    assert set(result) == {"errors", "neighbors", "asns", "pools", "router_id_ok", "families"}


@parametrize_cases(CASES)
def test_no_password_in_the_result(case):
    opts = _opts(case)
    secrets = [opts["password"]] + [entry.get("password") for entry in opts["neighbors"]]
    text = json.dumps(_resolve(case))
    for secret in filter(None, secrets):
        assert secret not in text and json.dumps(secret)[1:-1] not in text
    for neighbor in _resolve(case)["neighbors"]:
        assert "password" not in neighbor


FRR_CASES = DATA["frr_cases"]
FRR_BASE = {"outbound": "deny_all", "ebgp_requires_policy": True, "ipv4_forwarding": True, "log_level": "informational",
            "frr_defaults": "traditional"}


@parametrize_cases(FRR_CASES)
def test_frr_conf_is_what_the_template_rendered(case):
    """The golden files were rendered by frr.conf.j2 when it still held these decisions: byte for byte the same."""
    opts = {**FRR_BASE, **_opts(case)}
    inputs = _resolve({"opts": {**FRR_BASE, **case["opts"]}})
    expected = (Path(__file__).parent / "fixtures" / "frr_conf" / f"{case['id']}.conf").read_text(encoding="utf-8")
    assert render_frr_conf(opts, inputs, case["cidrs"], case["hostname"], case["ipv6_forwarding"]) == expected
