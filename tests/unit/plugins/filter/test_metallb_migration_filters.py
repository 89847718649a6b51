# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filters of the BGP mode switch (metallb_migration, metallb_migration_router_problems) over
release_manifest/migration.py, whose own cases are in tests/unit/plugins/module_utils/release_manifest."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.release_manifest.test_release_migration import (
    names, objects, words_match)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import import_plugin


def test_filters_wire_the_plan_and_the_router_refusal():
    """The filters site.yml and metallb_install use: the speaker read goes in as a list, bad input is refused."""
    plan_filter = import_plugin("filter.metallb_migration").FilterModule().filters()["metallb_migration"]
    router = import_plugin("filter.metallb_migration_router_problems").FilterModule().filters()[
        "metallb_migration_router_problems"]
    native, release = objects({"DaemonSet/speaker": ""}), objects({"DaemonSet/speaker": "frr-k8s",
                                                                   "DaemonSet/frr-k8s-daemon": ""})
    assert names(plan_filter(native, release)["first"]) == ["DaemonSet/frr-k8s-daemon"]
    words_match(router(native, "frr-k8s", "true"), [["bgp_router_bfd", "native"]])
    assert router([], "frr-k8s", True, True) == []
    with pytest.raises(AnsibleFilterError, match="as lists"):
        plan_filter({"kind": "DaemonSet"}, release)
    with pytest.raises(AnsibleFilterError, match="as a list"):
        router(None, "frr-k8s")
