# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the lb_workload role decides between its module runs, as plain functions (the filters
workload_cluster_objects, workload_input_problems, workload_findings_text, workload_changes and
workload_render_files are thin shells around them; the role's tasks only pass data).

Each takes the registered results of the role's tasks as they are (a skipped task's result
has none of the keys a run's has) and returns data or sentences, never raises on a shape
Ansible produces."""

from __future__ import annotations

import posixpath
import re

import yaml

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "baremetal.metallb"
# Reads of gather.yml that are not for the policy check (apply.yml and diagnose.yml use them).
NOT_FOR_POLICY = ("namespaces", "endpoint_slices")
# workload_policy's variable paths that are role variables (workloads[0].ports -> lb_workload_workloads[0].ports).
_ROLE_VARIABLE = re.compile(r"(?<![\w.])(workloads|pools|cluster|fail_on|pod_labels|pod_annotations)(?=[\[.\s])")
BEFORE_ANY_CHANGE = "before any change"


def _key(namespace, name) -> str:
    return f"{namespace or 'default'}/{name}"


def cluster_objects(reads: dict, slices_after: dict | None = None) -> dict:
    """What gather.yml's k8s_batch_info read, as workload_policy's ``cluster_objects``: a kind whose
    API is not served is left out (unknown, not "none"); kube-proxy's configuration parsed (None
    without one); the speaker pods only once MetalLB is installed (before, the namespace's pods
    say nothing about speakers). With ``slices_after`` (diagnose.yml, after the apply), also the
    workloads' EndpointSlices: those it read again, or, when that read was skipped (the apply
    changed nothing), those gather.yml read."""
    found, resources = reads.get("api_found") or {}, reads.get("resources") or {}
    out: dict = {}
    if slices_after is not None:
        again = (slices_after.get("resources") or {}).get("endpoint_slices")
        out["endpoint_slices"] = again if again is not None else resources.get("endpoint_slices") or []
    for key, served in found.items():
        if key in NOT_FOR_POLICY:
            continue
        if key == "kube_proxy_config":
            maps = resources.get(key) or []
            text = ((maps[0].get("data") or {}).get("config.conf") or "") if maps else ""
            out[key] = yaml.safe_load(str(text)) if text else None
        elif key == "speaker_pods" and not found.get("l2_advertisements"):
            continue
        elif served:
            out[key] = resources.get(key) or []
    return out


def input_problems(policy: dict, pool_check: dict | None = None, remove: list | None = None) -> list[str]:
    """Why the role stops before anything is rendered or applied, as the lines of its message
    (empty when the input is fine): the pools' and the workloads' errors, each naming the role
    variable; else a workload both applied and removed."""
    pool_errors = (pool_check or {}).get("errors") or []
    policy_errors = policy.get("errors") or []
    if pool_errors:
        # workload_policy checks the pools again: pool_validate's words are the ones to show.
        policy_errors = [e for e in policy_errors if not str(e.get("variable", "")).startswith("pools[")]
    errors = [f"lb_workload_pools: {e['message']}" for e in pool_errors]
    errors += [_ROLE_VARIABLE.sub(r"lb_workload_\1", e["message"]) for e in policy_errors]
    if "errors" not in policy:  # the module failed before it could check (its message says why)
        errors.append(str(policy.get("msg", policy)))
    if errors:
        return ["lb_workload: invalid input; nothing was rendered or applied:", *errors]
    applied = {_key(w.get("namespace"), w.get("name")) for w in policy.get("workloads") or []}
    both = [index for index, item in enumerate(remove or []) if _key(item.get("namespace"), item.get("name")) in applied]
    if both:
        return [f"lb_workload_remove[{both[0]}]: this workload is also in lb_workload_workloads; keep it in one of the "
                "two lists. Nothing was rendered or applied."]
    return []


def _finding(finding: dict) -> str:
    return (f"{finding['rule']} ({finding.get('workload') or finding.get('object')}): {finding['reason']} "
            f"Fix: {finding['fix']}")


def findings_text(report: dict, fail_on: list, stage: str) -> dict:
    """workload_policy's findings as lines to print (``lines``), and the message to stop with
    (``fatal``, empty when no finding matches ``fail_on``)."""
    lines = [str(report.get("msg", "")).split("\n", maxsplit=1)[0]]
    lines += [f"[{f['severity']}] {_finding(f)}" for f in report.get("findings") or []]
    fatal = report.get("fatal") or []
    if not fatal:
        return {"lines": lines, "fatal": []}
    where = "; nothing was rendered or applied" if stage == BEFORE_ANY_CHANGE else " after the apply"
    head = f"lb_workload: {len(fatal)} finding(s) match lb_workload_fail_on ({', '.join(fail_on)}){where}"
    return {"lines": lines, "fatal": [head, *(_finding(f) for f in fatal)]}


def namespace_object(name: str) -> dict:
    # Labelled like every object this collection applies (it also gives the applier a field to own).
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": {MANAGED_BY_LABEL: MANAGED_BY}}}


def changes(workloads: list[dict], manifests: list[dict], namespaces: list[dict], create_namespaces: bool = True,
            remove: list | None = None, managed: dict | None = None) -> dict:
    """What apply.yml changes: the namespaces the workloads need that do not exist
    (``missing_namespaces``; ``problem`` says so when they may not be created), the objects to
    apply (``definitions``: those Namespaces first, then the workloads' objects; k8s_apply reports
    the objects in a new namespace as unverified in check mode), and the objects of
    ``remove`` that this collection manages (``removals``, from ``managed``, the registered
    result of the looped reads of the managed Deployments and Services; skipped without removals)."""
    existing = {(ns.get("metadata") or {}).get("name") for ns in namespaces or []}
    missing = sorted({w["namespace"] for w in workloads} - existing)
    problem = ""
    if missing and not create_namespaces:
        problem = (f"lb_workload_workloads: namespace(s) {', '.join(missing)} do not exist; create them, "
                   "or set lb_workload_create_namespaces: true")
    wanted_gone = {_key(item.get("namespace"), item.get("name")) for item in remove or []}
    removals = []
    for read in (managed or {}).get("results") or []:
        for obj in (read or {}).get("resources") or []:
            metadata = obj.get("metadata") or {}
            if _key(metadata.get("namespace"), metadata.get("name")) in wanted_gone:
                removals.append({"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                                 "metadata": {"name": metadata["name"], "namespace": metadata.get("namespace")}})
    return {"missing_namespaces": missing, "problem": problem, "removals": removals,
            "definitions": [namespace_object(name) for name in missing] + list(manifests)}


def conflict_message(failed: dict) -> str:
    """k8s_apply's failure in words: a field-manager conflict names each field and the two ways
    out; any other failure is passed on."""
    lines = [f"{c.get('object')} {c.get('field') or '?'}: {c.get('message') or ''}" for c in failed.get("conflicts") or []]
    if not lines:
        return str(failed.get("msg", failed))
    return (f"lb_workload_workloads: another field manager changed fields this role sets ({'; '.join(lines)}). "
            "Set lb_workload_force_conflicts: true to take them back, or change the workload variables to the values "
            "the cluster has now.")


def render_files(workloads: list[dict], render_dir: str, found: dict | None = None) -> dict:
    """The render directory without trailing slashes (``dir``), one file per workload
    (``files``: ``<dir>/<namespace>_<name>.yaml``), and the files rendered earlier for workloads
    no longer listed (``stale``, from ``found``, the result of the find of files this role wrote;
    a skipped find found none)."""
    directory = render_dir.rstrip("/") or "/"
    files = [posixpath.join(directory, f"{w['namespace']}_{w['name']}.yaml") for w in workloads]
    stale = sorted({f["path"] for f in (found or {}).get("files") or []} - set(files))
    return {"dir": directory, "files": files, "stale": stale}
