# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The filter metallb_rack_peering over metallb_config/racks.py, whose cases are in
tests/unit/plugins/module_utils/metallb_config/test_racks.py."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.metallb_config.test_racks import DATA
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import import_plugin


def test_the_filter_names_itself():
    plugin = import_plugin("filter.metallb_rack_peering")
    with pytest.raises(plugin.AnsibleFilterError, match="^metallb_rack_peering: metallb_racks"):
        plugin.metallb_rack_peering({}, {"rack1": {}}, DATA["label"])
    assert plugin.FilterModule().filters()["metallb_rack_peering"] is plugin.metallb_rack_peering
