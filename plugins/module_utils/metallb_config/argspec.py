# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The metallb_config_objects argument spec, shared by the module's documentation and its action plugin.

The object lists are plain lists of dicts here: ConfigBuilder checks every field
itself, so that each problem is reported with its full variable path, all at once.
"""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import BGP_MODES
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.argspec import POOL_VALIDATE_ARGSPEC

METALLB_CONFIG_OBJECTS_ARGSPEC = dict(
    namespace=dict(type="str", default="metallb-system"),
    instance=dict(type="str", default="default"),
    bgp_mode=dict(type="str", default="native", choices=list(BGP_MODES)),
    variable_prefix=dict(type="str", default=""),
    pools=dict(type="list", elements="dict", default=[]),
    l2_advertisements=dict(type="list", elements="dict", default=[]),
    # peers may hold passwords: the result never contains them (output=objects), see the builder
    bgp_peers=dict(type="list", elements="dict", default=[]),
    bgp_advertisements=dict(type="list", elements="dict", default=[]),
    bfd_profiles=dict(type="list", elements="dict", default=[]),
    communities=dict(type="list", elements="dict", default=[]),
    cluster=dict(type="dict"),
    pool_node_addresses=POOL_VALIDATE_ARGSPEC["node_addresses"],
    pool_reserved=POOL_VALIDATE_ARGSPEC["reserved"],
    output=dict(type="str", default="objects", choices=["objects", "secrets"]),
)
