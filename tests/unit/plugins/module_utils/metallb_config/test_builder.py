# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ConfigBuilder against the cases in test_builder.yaml."""

from __future__ import annotations

import base64
import json

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, is_subset, load_data, parametrize_cases

CASES = load_data(__file__)


def _run(case: dict):
    params = dict(prefix="metallb_config_")
    params.update(case["input"])
    return ConfigBuilder(**params).run()


@parametrize_cases(CASES)
def test_case(case):
    result = _run(case)
    assert_matched(case.get("errors", []), result.errors, matches=lambda expected, error: expected in error, what="error")
    objects = {(obj["kind"], obj["metadata"]["name"]): obj for obj in result.objects + result.secrets}
    for expected in case.get("objects", []):
        key = (expected["kind"], expected["metadata"]["name"])
        assert key in objects, f"{key} not built; built: {sorted(objects)}"
        assert is_subset(expected, objects[key], deep=True), f"{objects[key]} does not contain {expected}"
    if "object_order" in case:
        assert [obj["kind"] for obj in result.objects] == case["object_order"]
    if "prune" in case:
        assert [(p["kind"], p["metadata"]["name"]) for p in result.prune] == [tuple(p) for p in case["prune"]]
    if "unresolved" in case:
        assert sorted((u["kind"], u["name"]) for u in result.unresolved) == sorted(tuple(u) for u in case["unresolved"])
    for absent in case.get("absent_fields", []):
        kind, name, field = absent
        assert field not in objects[(kind, name)]["spec"]


SECRET_PEERS = [
    {"name": "r1", "my_asn": 64500, "peer_asn": 64501, "peer_address": "198.51.100.1", "password": "Top-Secret-1"},
    {"name": "r2", "my_asn": 64500, "peer_asn": 64501, "peer_address": "198.51.100.1", "password": "Top-Secret-1",
     "password_secret": "mine"},
    {"name": "r3", "my_asn": 64500, "peer_asn": 99999999999, "peer_address": "198.51.100.1", "password": "Top-Secret-1"},
]


def test_password_is_only_in_the_secret():
    result = ConfigBuilder(bgp_peers=SECRET_PEERS[:1]).run()
    public = json.dumps(result.as_result())
    assert "Top-Secret-1" not in public
    assert base64.b64encode(b"Top-Secret-1").decode() not in public
    assert result.secrets[0]["data"]["password"] == base64.b64encode(b"Top-Secret-1").decode()
    assert result.objects[0]["spec"]["passwordSecret"] == {"name": "r1-bgp-password", "namespace": "metallb-system"}
    assert "password" not in result.objects[0]["spec"]


def test_password_never_in_error_messages():
    result = ConfigBuilder(bgp_peers=SECRET_PEERS).run()
    assert result.failed
    assert "Top-Secret-1" not in json.dumps(result.as_result())
