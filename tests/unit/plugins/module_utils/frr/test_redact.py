# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""find_secrets() and redact() against test_redact.yaml."""

from __future__ import annotations

import pathlib

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.redact import MASK, find_secrets, redact
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
CASES = load_data(__file__)


@parametrize_cases(CASES)
def test_case(case):
    secrets = find_secrets(case["config"])
    assert sorted(secrets) == sorted(case["secrets"])
    text = (HERE / "fixtures" / case["fixture"]).read_text() if "fixture" in case else case["text"]
    out = redact(text, secrets)
    for needle in case.get("has", []):
        assert needle in out
    for needle in case.get("lacks", []):
        assert needle not in out


def test_longest_secret_is_masked_whole():
    assert redact("abcdef and abc", ["abc", "abcdef"]) == f"{MASK} and {MASK}"


def test_empty_text_stays_empty():
    assert redact("", ["x"]) == ""
