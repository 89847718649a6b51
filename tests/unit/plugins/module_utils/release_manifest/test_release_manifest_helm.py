# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The install options as Helm chart values (cases in the YAML file beside)."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.helm import helm_values
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.options import OptionsError
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


@parametrize_cases(CASES, id_key="name")
def test_helm_values(case):
    assert helm_values(case["options"], case["flavour"]) == case["values"]


def test_unknown_flavour_names_the_variable():
    with pytest.raises(ValueError, match="metallb_install_flavour: 'bird' is not one of native, frr, frr-k8s"):
        helm_values({}, "bird")


def test_options_are_checked_as_for_the_manifest():
    with pytest.raises(OptionsError, match=r"metallb_install_speaker_tolerations\[0\]"):
        helm_values({"speaker_tolerations": [{"key": "a", "operator": "Sometimes"}]})
