# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes naming rules and label selectors."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.model import names
from ansible_collections.baremetal.metallb.plugins.module_utils.model.selectors import (
    any_selector_matches,
    check_selector,
    describe_selectors,
    selector_matches,
)


@pytest.mark.parametrize(
    "key, valid",
    [
        ("app", True),
        ("app.kubernetes.io/name", True),
        ("node.kubernetes.io/exclude-from-external-load-balancers", True),
        ("example.com/A_b.c-9", True),
        ("a" * 63, True),
        ("a" * 64, False),
        ("x" * 250 + ".com/a", False),  # prefix over 253
        ("-a", False),
        ("a-", False),
        ("a b", False),
        ("Example.com/a", False),
        ("/a", False),
        ("a/", False),
        ("a/b/c", False),
        ("", False),
    ],
)
def test_qualified_name(key, valid):
    assert (names.qualified_name(key) is None) is valid


@pytest.mark.parametrize(
    "value, valid",
    [("", True), ("edge", True), ("A.b_c-9", True), ("a" * 63, True), ("a" * 64, False), ("-a", False), ("a b", False), (3, False), (True, False)],
)
def test_label_value(value, valid):
    assert (names.label_value(value) is None) is valid


@pytest.mark.parametrize(
    "check, text, valid",
    [
        (names.dns1035_label, "web-1", True),
        (names.dns1035_label, "1web", False),
        (names.dns1035_label, "a" * 64, False),
        (names.dns1123_label, "1web", True),
        (names.dns1123_label, "web.shop", False),
        (names.dns1123_subdomain, "lan-vips.v4", True),
        (names.dns1123_subdomain, "Lan", False),
        (names.port_name, "http", True),
        (names.port_name, "h2c-9", True),
        (names.port_name, "80", False),
        (names.port_name, "a--b", False),
        (names.port_name, "sixteen-chars-xx", False),
        (names.env_name, "LOG_LEVEL", True),
        (names.env_name, "9LIVES", False),
    ],
)
def test_object_names(check, text, valid):
    assert (check(text) is None) is valid


LABELS = {"node-role": "edge", "zone": "a"}


@pytest.mark.parametrize(
    "selector, matches",
    [
        ({}, True),
        ({"matchLabels": {"node-role": "edge"}}, True),
        ({"matchLabels": {"node-role": "edge", "zone": "b"}}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a", "b"]}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, False),
        ({"matchExpressions": [{"key": "rack", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "node-role", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "node-role", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"node-role": "edge"}, "matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}, False),
    ],
)
def test_selector_matches(selector, matches):
    assert selector_matches(selector, LABELS) is matches


def test_a_list_of_selectors_is_an_or_and_empty_selects_all():
    assert any_selector_matches([], {})
    assert any_selector_matches([{"matchLabels": {"x": "y"}}, {"matchLabels": {"zone": "a"}}], LABELS)
    assert not any_selector_matches([{"matchLabels": {"x": "y"}}], LABELS)


def test_check_and_describe_selectors():
    assert check_selector({"matchLabels": {"a": "b"}}) is None
    assert "unknown keys" in check_selector({"nodeSelectorTerms": []})
    assert "without values" in check_selector({"matchExpressions": [{"key": "a", "operator": "In"}]})
    assert "takes none" in check_selector({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["x"]}]})
    assert describe_selectors([]) == "any node"
    assert describe_selectors([{"matchLabels": {"b": "2", "a": "1"}}, {"matchExpressions": [{"key": "c", "operator": "DoesNotExist"}]}]) == "a=1,b=2 or !c"
