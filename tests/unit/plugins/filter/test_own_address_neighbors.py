# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""own_address_neighbors against the cases in test_own_address_neighbors.yaml."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.plugins.filter.own_address_neighbors import own_address_neighbors

CASES = yaml.safe_load((pathlib.Path(__file__).parent / "test_own_address_neighbors.yaml").read_text())["cases"]


@pytest.mark.parametrize("case", CASES, ids=[case["id"] for case in CASES])
def test_case(case):
    messages = own_address_neighbors(case["neighbors"], case["own"])
    assert len(messages) == len(case["messages"]), messages
    for expected, message in zip(case["messages"], messages):
        for text in expected:
            assert text in message, message


def test_wrong_input_types_are_named():
    with pytest.raises(AnsibleFilterError, match="own_address_neighbors"):
        own_address_neighbors({"address": "x"}, [])
