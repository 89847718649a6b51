# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""own_address_neighbors against the cases in test_own_address_neighbors.yaml."""

from __future__ import annotations

import importlib

import pytest

from ansible.module_utils import _internal as module_utils_internal

from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__, "cases")


@pytest.fixture(scope="module")
def plugin():
    """The filter module, imported without leaving the process in controller mode (see test_workload_manifests)."""
    was_controller = module_utils_internal.is_controller
    try:
        yield importlib.import_module("ansible_collections.baremetal.metallb.plugins.filter.own_address_neighbors")
    finally:
        module_utils_internal.is_controller = was_controller


@parametrize_cases(CASES)
def test_case(plugin, case):
    messages = plugin.own_address_neighbors(case["neighbors"], case["own"])
    assert len(messages) == len(case["messages"]), messages
    for expected, message in zip(case["messages"], messages):
        for text in expected:
            assert text in message, message


def test_wrong_input_types_are_named(plugin):
    with pytest.raises(plugin.AnsibleFilterError, match="own_address_neighbors"):
        plugin.own_address_neighbors({"address": "x"}, [])
