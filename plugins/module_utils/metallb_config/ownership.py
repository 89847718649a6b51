# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How metallb_config marks what it manages: two labels on every object it applies.

Shared by the object builder (takeover and prune) and pool_validate (which
cluster pools this run replaces, and which belong to someone else).
"""

from __future__ import annotations

MANAGED_BY_KEY = "app.kubernetes.io/managed-by"
MANAGED_BY = "baremetal.metallb"
INSTANCE_KEY = "baremetal.metallb/config-instance"


def owner_labels(instance: str) -> dict:
    return {MANAGED_BY_KEY: MANAGED_BY, INSTANCE_KEY: instance}


def owned(labels: dict | None, instance: str) -> bool:
    """Whether an object with these labels is managed by this collection's metallb_config, instance ``instance``."""
    labels = labels or {}
    return labels.get(MANAGED_BY_KEY) == MANAGED_BY and labels.get(INSTANCE_KEY) == instance
