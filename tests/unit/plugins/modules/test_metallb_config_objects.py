# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The metallb_config_objects module's main(): results, failure, and the password kept out of both."""

from __future__ import annotations

import base64

from ansible_collections.baremetal.metallb.plugins.modules import metallb_config_objects
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner

PEER = {"name": "r", "my_asn": 64500, "peer_asn": 64501, "peer_address": "198.51.100.1", "password": "Pw-in-unit-test"}


run = ModuleRunner(metallb_config_objects)


def test_objects_without_the_password(capsys):
    code, result, out = run(capsys, {"pools": [{"name": "p", "addresses": ["203.0.113.0/28"]}], "bgp_peers": [PEER],
                                     "variable_prefix": "metallb_config_"})
    assert code == 0 and result["changed"] is False
    assert [o["kind"] for o in result["objects"]] == ["IPAddressPool", "BGPPeer"]
    assert result["secret_names"] == ["r-bgp-password"]
    assert "Pw-in-unit-test" not in out and base64.b64encode(b"Pw-in-unit-test").decode() not in out


def test_secrets_output_has_only_the_secrets(capsys):
    code, result, dummy = run(capsys, {"bgp_peers": [PEER], "output": "secrets"})
    assert code == 0
    assert set(result) >= {"secrets"} and "objects" not in result
    assert result["secrets"][0]["data"]["password"] == base64.b64encode(b"Pw-in-unit-test").decode()


def test_invalid_input_fails_naming_the_variable_and_not_the_password(capsys):
    code, result, out = run(capsys, {"bgp_peers": [dict(PEER, peer_asn=4294967296, password_secret="x")],
                                     "variable_prefix": "metallb_config_"})
    assert code == 1 and result["failed"] is True
    assert "metallb_config_bgp_peers[0].peer_asn: 4294967296 is not a valid ASN (1-4294967295)" in result["errors"]
    assert "Pw-in-unit-test" not in out


def test_secrets_output_of_invalid_input_says_nothing_else(capsys):
    code, result, out = run(capsys, {"bgp_peers": [dict(PEER, peer_port=0)], "output": "secrets"})
    assert code == 1 and "output=objects" in result["msg"]
    assert "Pw-in-unit-test" not in out
