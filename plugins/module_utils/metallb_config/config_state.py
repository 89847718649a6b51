# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB's own verdict on its configuration: the ConfigurationState objects (metallb.io/v1beta1, v0.15.3+).

MetalLB's webhook checks each object on its own and leaves out what may not exist yet (a
BGPPeer's ``passwordSecret`` and ``bfdProfile``); the controller and every speaker then parse
the whole configuration again, and a speaker that refuses it keeps running its previous one.
That refusal shows nowhere but in its log, the ``metallb_k8s_client_config_stale_bool`` metric
and its ConfigurationState: ``controller`` (the controller's pool reconciler) and
``speaker-<node>`` (each speaker's config and pool reconcilers), labelled
``metallb.io/component-type`` and ``metallb.io/node-name``. Each reconciler writes one condition
(``configReconcilerValid``, ``poolReconcilerValid``) on every reconcile, with
``lastTransitionTime`` set to the moment of that reconcile; ``reason: ConfigurationError`` with
``status: "False"`` means the configuration was refused, with the parser's error as the message.
``status.result`` and ``status.errorSummary`` are derived from the conditions a moment later.

``judge`` compares the objects read before an apply with those read after it: a speaker has
answered the new configuration when one of its conditions is newer than any it had before (the
times are the speaker's own clock on both sides). Every speaker reconciles on any change of
MetalLB's objects; the controller only on pool changes, so it is judged but not waited for.
"""

from __future__ import annotations

from datetime import datetime

COMPONENT_LABEL = "metallb.io/component-type"
NODE_LABEL = "metallb.io/node-name"
CONFIG_ERROR = "ConfigurationError"


def _time(value) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None


def _latest(state: dict) -> datetime | None:
    times = [_time(c.get("lastTransitionTime")) for c in (state.get("status") or {}).get("conditions") or []
             if isinstance(c, dict)]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def describe(state: dict) -> dict:
    """One ConfigurationState as the module returns it: who, the verdict, the errors."""
    meta = state.get("metadata") or {}
    labels = meta.get("labels") or {}
    status = state.get("status") or {}
    name = meta.get("name", "")
    component = labels.get(COMPONENT_LABEL) or ("speaker" if name.startswith("speaker-") else name or "unknown")
    conditions = [c for c in status.get("conditions") or [] if isinstance(c, dict)]
    refused = [str(c.get("message") or "").strip() for c in conditions
               if str(c.get("status")) == "False" and c.get("reason") == CONFIG_ERROR]
    other = [f"{c.get('type')}: {str(c.get('message') or c.get('reason') or '').strip()}" for c in conditions
             if str(c.get("status")) == "False" and c.get("reason") != CONFIG_ERROR]
    if conditions:
        # the conditions are what status.result is computed from, and are written first
        result = "Invalid" if refused else "Valid"
    else:
        result = status.get("result") or "Unknown"
        if result == "Invalid" and status.get("errorSummary"):
            refused = [line.strip() for line in str(status["errorSummary"]).splitlines() if line.strip()]
    latest = _latest(state)
    return {
        "name": name,
        "component": component,
        "node": labels.get(NODE_LABEL, ""),
        "result": result,
        "errors": refused,
        "other_problems": other,
        "last_reconcile": latest.isoformat().replace("+00:00", "Z") if latest else None,
    }


def judge(before: list | None, after: list | None, changed: bool) -> dict:
    """Whether every speaker answered (``settled``), who refused the configuration (``invalid``).

    ``before``: the ConfigurationState objects read before the apply; ``after``: read now;
    ``changed``: whether the apply changed anything (when not, what is there is the answer)."""
    earlier = {}
    for state in before or []:
        if isinstance(state, dict):
            earlier[(state.get("metadata") or {}).get("name")] = _latest(state)
    states = [describe(s) for s in after or [] if isinstance(s, dict)]
    pending = []
    for state, raw in zip(states, [s for s in after or [] if isinstance(s, dict)]):
        if state["component"] != "speaker" or not changed:
            continue
        now, then = _latest(raw), earlier.get(state["name"])
        if now is None or (then is not None and now <= then):
            pending.append(state["name"])
    speakers = [s for s in states if s["component"] == "speaker"]
    settled = not pending and (bool(speakers) or not changed)
    invalid = [s for s in states if s["result"] == "Invalid"]
    return {"settled": settled, "pending": sorted(pending), "invalid": invalid, "states": states}


def message(verdict: dict, namespace: str) -> str:
    """The failure message: every refusing component and MetalLB's own error text."""
    parts = []
    for state in verdict["invalid"]:
        who = state["name"] + (f" (speaker on node {state['node']})" if state["node"] else f" ({state['component']})")
        parts.append(f"{who}: {' | '.join(state['errors']) or 'Invalid, without an error summary'}")
    return ("metallb_config: MetalLB refused the configuration that was applied; the refusing components keep running "
            "their previous one (ConfigurationState in namespace " + namespace + "): " + "; ".join(parts)
            + ". Fix the objects named in the error (a BGPPeer's passwordSecret or bfdProfile is only checked here, "
            "not by MetalLB's webhook), then run the role again.")


def pending_warning(verdict: dict, timeout: int) -> str:
    names = ", ".join(verdict["pending"]) or "no speaker has a ConfigurationState yet"
    return (f"metallb_config: MetalLB's speakers did not report on the new configuration within {timeout} s "
            f"({names}); their verdict is unknown (a speaker that is not running never reports)")
