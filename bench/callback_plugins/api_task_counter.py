# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Counts module runs that talk to the Kubernetes API (for bench/site_rerun_bench.py).

A task looped over N items counts N. Written to $API_TASK_COUNTER_FILE as JSON when the
play ends: {"api_module_runs": N, "by_action": {...}}.
"""
from __future__ import annotations

import json
import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: api_task_counter
type: aggregate
short_description: Count module runs that reach the Kubernetes API
description: Bench helper; counts kubernetes.core modules and this collection's Kubernetes modules.
"""

API_ACTIONS = ("kubernetes.core.", "baremetal.metallb.k8s_apply", "baremetal.metallb.k8s_batch_info", "baremetal.metallb.node_labels", "baremetal.metallb.lb_status")


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "api_task_counter"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.by_action: dict[str, int] = {}

    def _count(self, result):
        action = result._task.action or ""
        if action.startswith(API_ACTIONS):
            self.by_action[action] = self.by_action.get(action, 0) + 1

    # A looped task reports each item, then once more for the whole loop: only items count.
    # (Not told by a "results" key: k8s_apply returns one of its own.)
    @staticmethod
    def _looped(result) -> bool:
        return bool(result._task.loop or result._task.loop_with)

    def v2_runner_on_ok(self, result):
        if not self._looped(result):
            self._count(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        if not self._looped(result):
            self._count(result)

    def v2_runner_item_on_ok(self, result):
        self._count(result)

    def v2_runner_item_on_failed(self, result):
        self._count(result)

    def v2_playbook_on_stats(self, stats):
        path = os.environ.get("API_TASK_COUNTER_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump({"api_module_runs": sum(self.by_action.values()), "by_action": self.by_action}, out)
