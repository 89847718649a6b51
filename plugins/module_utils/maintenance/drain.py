# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Evict pods through the eviction API until none is left, as ``kubectl drain`` does.

``api``: ``evict(namespace, name)`` (raises ``K8sError``; HTTP 429: a PodDisruptionBudget allows
no disruption now) and ``pod_uid(namespace, name)`` (``None`` when the pod is gone). Every pod is
asked in turn; a refused one is asked again every ``poll`` seconds, so each budget lets pods go
as fast as their replacements become ready elsewhere, never faster. Then the evicted pods are
waited for until they are gone (a pod of that name with another uid, a StatefulSet's
replacement, counts as gone).
"""

from __future__ import annotations

import time

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError

BLOCKED = 429  # a PodDisruptionBudget refuses the eviction for now
GONE = 404


class DrainError(Exception):
    """The drain did not finish: the message names the pods and why."""


class Drain:
    def __init__(self, api, timeout: float, poll: float = 1.0, clock=time.monotonic, sleep=time.sleep) -> None:
        self.api, self.timeout, self.poll, self.clock, self.sleep = api, timeout, poll, clock, sleep

    def run(self, pods: list[dict]) -> dict:
        """``pods``: ``{namespace, name, uid, terminating}`` (the plan's ``evictions.evict``)."""
        start = self.clock()
        deadline = start + max(self.timeout, 0)
        pending = [pod for pod in pods if not pod.get("terminating")]
        evicted, refusals, last_refusal = [], 0, {}
        while pending:
            for pod in list(pending):
                try:
                    self.api.evict(pod["namespace"], pod["name"])
                except K8sError as exc:
                    if exc.status == GONE:
                        pending.remove(pod)
                        continue
                    if exc.status != BLOCKED:
                        raise DrainError(f"{exc} (evicted so far: {_names(evicted) or 'none'})") from None
                    refusals += 1
                    last_refusal[_name(pod)] = str(exc)
                    continue
                pending.remove(pod)
                evicted.append(pod)
            if pending:
                if self.clock() >= deadline:
                    raise DrainError(
                        f"after {self.timeout:g} s the eviction of {_names(pending)} is still refused: "
                        + "; ".join(last_refusal.get(_name(pod), "?") for pod in pending)
                        + " (a PodDisruptionBudget allows no disruption until the pods' replacements are ready elsewhere; "
                        "raise the drain timeout, or check the budget)")
                self.sleep(self.poll)
        waiting = list(evicted) + [pod for pod in pods if pod.get("terminating")]
        while waiting:
            waiting = [pod for pod in waiting if self._still_there(pod)]
            if not waiting:
                break
            if self.clock() >= deadline:
                raise DrainError(f"after {self.timeout:g} s {_names(waiting)} still terminating (evicted, not yet gone)")
            self.sleep(min(self.poll, 0.5))
        return {"evicted": [_name(pod) for pod in evicted], "refusals": refusals, "seconds": round(self.clock() - start, 2)}

    def _still_there(self, pod: dict) -> bool:
        uid = self.api.pod_uid(pod["namespace"], pod["name"])
        return uid is not None and (not pod.get("uid") or uid == pod["uid"])


def _name(pod: dict) -> str:
    return f"{pod['namespace']}/{pod['name']}"


def _names(pods: list[dict]) -> str:
    return ", ".join(_name(pod) for pod in pods)
