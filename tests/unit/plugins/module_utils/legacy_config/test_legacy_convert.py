# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The legacy ConfigMap converter against configmaptocrs' semantics (test_legacy_convert.yaml), and its variables
through metallb_config's own builder (the objects the migration applies)."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.legacy_config.convert import (
    LegacyConfigError,
    convert,
    go_duration_seconds,
    parse_config,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import ConfigBuilder
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import is_subset, load_data, parametrize_cases

CASES = load_data(__file__, "cases")
ERRORS = load_data(__file__, "errors")
DURATIONS = load_data(__file__, "durations")


@parametrize_cases(CASES)
def test_convert(case):
    result = convert(parse_config(case["config"]))
    assert result["variables"] == {**{k: [] for k in ("pools", "l2_advertisements", "bgp_advertisements", "bgp_peers",
                                                      "bfd_profiles", "communities")}, **case["variables"]}
    assert result["notes"] == case.get("notes", [])
    built = ConfigBuilder(bgp_mode=case.get("bgp_mode", "native"), **result["variables"]).run()
    assert built.errors == [], built.errors
    for expected in case.get("objects", []):
        assert any(is_subset(expected, obj, deep=True) for obj in built.objects), (expected, built.objects)
    for obj in built.objects:  # a password only ever in a Secret
        assert "password" not in obj.get("spec", {})


@parametrize_cases(ERRORS)
def test_refused_naming_where(case):
    with pytest.raises(LegacyConfigError) as error:
        convert(parse_config(case["config"]))
    assert str(error.value) == case["error"]


@pytest.mark.parametrize("text,seconds", [(d["text"], d["seconds"]) for d in DURATIONS])
def test_go_durations(text, seconds):
    assert go_duration_seconds(text, "x") == seconds
