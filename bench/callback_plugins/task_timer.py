# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Wall time per task of a playbook run (for bench/scale_bench.py).

A task's time runs from its start to the next task's start (or the end of the play), as
ansible.posix's profile_tasks counts it; tasks of the same name add up. Written to
$TASK_TIMER_FILE as JSON when the playbook ends: {"tasks": {"<role> : <task>": seconds}}.
"""
from __future__ import annotations

import json
import os
import time

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: task_timer
type: aggregate
short_description: Wall time per task name, as JSON
description: Bench helper; sums each task's wall time by its name (role included).
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "task_timer"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self.tasks: dict[str, float] = {}
        self.current: tuple[str, float] | None = None

    def _close(self):
        if self.current:
            name, started = self.current
            self.tasks[name] = self.tasks.get(name, 0.0) + time.monotonic() - started
            self.current = None

    def _start(self, task):
        self._close()
        self.current = (task.get_name(), time.monotonic())  # "<role> : <task>" in a role

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._start(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._start(task)

    def v2_playbook_on_play_start(self, play):
        self._close()

    def v2_playbook_on_stats(self, stats):
        self._close()
        path = os.environ.get("TASK_TIMER_FILE")
        if path:
            with open(path, "w", encoding="utf-8") as out:
                json.dump({"tasks": self.tasks}, out)
