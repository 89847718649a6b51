# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A running MetalLB moved from one BGP mode to another (native -> frr-k8s), in the order that keeps
the Services answering (docs/migrations.md).

* ``speaker_mode``: the mode a speaker DaemonSet runs (as read, or as the release has it): its
  METALLB_BGP_TYPE (frr, frr-k8s; absent: native).
* ``plan``: from the workloads running and the release's objects, whether this install switches
  modes, and the objects to apply and wait for first: into frr-k8s, every object of the release but
  MetalLB's speaker DaemonSet and controller Deployment, so that frr-k8s runs on every node before
  any speaker changes (a speaker in frr-k8s mode hands its BGP sessions to the frr-k8s of its node;
  when that is not up yet, the node's routes are gone until it is).
* ``router_problems``: BFD or graceful restart switched on at the router in the same run that moves
  the speakers off native: site.yml configures the router before MetalLB, so the router would ask for
  them while the native speakers still hold the sessions. Refused, naming both variables: the
  migration first, the router's features in the next run.
"""
from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.plan import waits_of

MODES = ("native", "frr", "frr-k8s")
FRR_MODES = ("frr", "frr-k8s")
BGP_TYPE_ENV = "METALLB_BGP_TYPE"
SPEAKER, CONTROLLER = ("DaemonSet", "speaker"), ("Deployment", "controller")


def _containers(obj: dict) -> list[dict]:
    return ((((obj.get("spec") or {}).get("template") or {}).get("spec") or {}).get("containers") or [])


def _is(obj: dict, kind_name: tuple[str, str]) -> bool:
    return (obj.get("kind"), (obj.get("metadata") or {}).get("name")) == kind_name


def speaker_mode(objects: list[dict]) -> str | None:
    """The BGP mode of the speaker DaemonSet among ``objects`` (None: no speaker DaemonSet)."""
    for obj in objects or []:
        if not _is(obj, SPEAKER):
            continue
        for container in _containers(obj):
            if container.get("name") != "speaker":
                continue
            env = {e.get("name"): e.get("value") for e in container.get("env") or []}
            value = str(env.get(BGP_TYPE_ENV) or "native").strip().lower()
            return value if value in MODES else "native"
        return "native"
    return None


def plan(running: list[dict], release: list[dict]) -> dict:
    """``{"running": mode or None, "target": mode or None, "migration": "native -> frr-k8s" or "",
    "first": [objects], "first_waits": [...], "lines": [text]}``. ``first``: the objects to apply
    before the rest, ``first_waits`` what to wait for after that (plan.waits_of); empty: one apply,
    as for an install or an unchanged mode."""
    before, after = speaker_mode(running), speaker_mode(release)
    out = {"running": before, "target": after, "migration": "", "first": [], "first_waits": [], "lines": []}
    if before is None or after is None or before == after:
        return out
    out["migration"] = f"{before} -> {after}"
    if after == "frr-k8s":
        out["first"] = [obj for obj in release if not (_is(obj, SPEAKER) or _is(obj, CONTROLLER))]
        out["first_waits"] = waits_of(out["first"])
        out["lines"].append(
            f"BGP mode {before} -> frr-k8s: frr-k8s first ({len(out['first'])} objects: its CRDs, daemon on every "
            f"node, webhook), waited for until ready; then MetalLB's controller and speakers (rolling, one node at "
            f"a time: each node's sessions move to its frr-k8s)")
    else:
        out["lines"].append(
            f"BGP mode {before} -> {after}: one apply; the speakers restart node by node and each node's BGP "
            f"sessions reset while its speaker restarts")
    if before == "frr-k8s":
        out["lines"].append(
            "frr-k8s's objects stay (CRDs, daemon, webhook): remove them after the speakers run "
            f"{after} (docs/migrations.md)")
    return out


def router_problems(running_mode: str | None, target_mode: str, bfd, graceful_restart) -> list[str]:
    """Sentences that stop site.yml before the router is touched: BFD or graceful restart asked of
    the router in the run that moves the speakers from native to an FRR-based mode."""
    target = str(target_mode or "").strip().lower()
    if running_mode != "native" or target not in FRR_MODES:
        return []
    asked = [name for name, value in (("bgp_router_bfd", bfd), ("bgp_router_graceful_restart", graceful_restart))
             if str(value).strip().lower() in ("true", "yes", "on", "1")]
    if not asked:
        return []
    return [f"metallb_bgp_mode: the cluster's speakers run native and this run switches them to {target}, while "
            f"{' and '.join(asked)} {'ask' if len(asked) > 1 else 'asks'} the router for what native speakers cannot speak; site.yml configures the "
            f"router before MetalLB, so the router would change first. Migrate first with {' and '.join(asked)} "
            f"false (metallb_bgp_mode: {target}), then set them true and run site.yml again (docs/migrations.md)"]
