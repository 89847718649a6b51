# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Declarative Node labels: one LIST, then a JSON merge patch for each Node that differs.

Ownership: the keys this code set on a Node are recorded in an annotation on that Node
(``baremetal.metallb/managed-labels``: the keys, comma-separated and sorted). A key recorded
there and no longer wanted is removed; a label that was never recorded is never touched,
unless the caller names it with the value ``None`` (explicit removal).

Why a merge patch without a resourceVersion precondition: the patch names only the
label keys this run owns and the ownership annotation, and the API server applies it to
the Node as it is at that moment, so labels and annotations that others change between
the LIST and the PATCH are kept. A precondition would turn every kubelet status update
in that window into a conflict and a retry, for nothing: the keys we write are ours by
definition, and the annotation is only written by this code.

``NodeLabels`` takes plain data and an ``api`` object with ``list_nodes() -> [node dict]``
and ``patch_node(name, body)``, so unit tests run it against a fake.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, Read
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.model.names import (
    dns1123_subdomain,
    label_value,
    qualified_name,
)

MANAGED_ANNOTATION = "baremetal.metallb/managed-labels"
EXCLUDE_LB_LABEL = "node.kubernetes.io/exclude-from-external-load-balancers"
MISSING_NODES_CHOICES = ("fail", "warn", "ignore")
RULE_EXCLUDED_EDGE = "labelled_node_excluded_from_lb"


class NodeLabelsError(Exception):
    """Invalid input (``errors`` lists every problem) or a failed API call."""

    def __init__(self, msg: str, errors: list[str] | None = None) -> None:
        super().__init__(msg)
        self.errors = errors or [msg]


def parse_managed(annotation) -> set[str]:
    """The keys an ownership annotation lists; entries that are not label keys are ignored."""
    if not isinstance(annotation, str):
        return set()
    return {key.strip() for key in annotation.split(",") if key.strip() and qualified_name(key.strip()) is None}


def format_managed(keys) -> str:
    return ",".join(sorted(keys))


class NodeLabels:
    """Compute and apply the wanted labels of every Node.

    ``params``: ``nodes`` (names), ``common_labels`` (put on every name in ``nodes``),
    ``labels`` (name -> {key: value or None}, over ``common_labels``),
    ``exclude_from_external_load_balancers`` (names), ``missing_nodes``,
    ``ownership_annotation``, ``variable_names`` (option -> the name used in messages),
    ``concurrency`` (PATCH requests in flight at once).
    """

    def __init__(self, params: dict, api=None) -> None:
        self.params = params
        self.api = api
        self.names = dict(params.get("variable_names") or {})
        self.warnings: list[str] = []
        self.findings: list[dict] = []

    def name(self, option: str) -> str:
        return self.names.get(option, option)

    # ------------------------------------------------------------------ input
    def wanted(self) -> dict[str, dict]:
        """Node -> {key: value or None} after validation; raises NodeLabelsError listing every problem."""
        errors: list[str] = []
        annotation = self.params.get("ownership_annotation") or MANAGED_ANNOTATION
        problem = qualified_name(annotation)
        if problem:
            errors.append(f"{self.name('ownership_annotation')}: '{annotation}' {problem}")
        missing = self.params.get("missing_nodes") or "fail"
        if missing not in MISSING_NODES_CHOICES:
            errors.append(f"{self.name('missing_nodes')}: '{missing}' is not one of {', '.join(MISSING_NODES_CHOICES)}")

        common = self.params.get("common_labels") or {}
        if not isinstance(common, dict):
            errors.append(f"{self.name('common_labels')}: must be a dict of label key to value, not {type(common).__name__}")
            common = {}
        errors += self._check_labels(common, self.name("common_labels"), allow_null=False)

        wanted: dict[str, dict] = {}
        for node in self._node_list("nodes", errors):
            wanted.setdefault(node, {}).update(common)
        per_node = self.params.get("labels") or {}
        if not isinstance(per_node, dict):
            errors.append(f"{self.name('labels')}: must be a dict of node name to a dict of labels, not {type(per_node).__name__}")
            per_node = {}
        for node, labels in per_node.items():
            where = f"{self.name('labels')}['{node}']"
            problem = dns1123_subdomain(node) if isinstance(node, str) else "must be a string"
            if problem:
                errors.append(f"{where}: the node name {problem}")
                continue
            if labels is None:
                labels = {}
            if not isinstance(labels, dict):
                errors.append(f"{where}: must be a dict of label key to value (None removes the label), not {type(labels).__name__}")
                continue
            errors += self._check_labels(labels, where, allow_null=True)
            wanted.setdefault(node, {}).update(labels)
        for node in self._node_list("exclude_from_external_load_balancers", errors):
            labels = wanted.setdefault(node, {})
            if EXCLUDE_LB_LABEL in labels and labels[EXCLUDE_LB_LABEL] != "":
                errors.append(
                    f"{self.name('exclude_from_external_load_balancers')}: node '{node}' is listed, but "
                    f"{self.name('labels')}['{node}'] sets {EXCLUDE_LB_LABEL} to {labels[EXCLUDE_LB_LABEL]!r}; "
                    "keep the node in one of the two"
                )
            labels[EXCLUDE_LB_LABEL] = ""
        if errors:
            raise NodeLabelsError("invalid input; nothing was changed: " + "; ".join(errors), errors)
        return wanted

    def _node_list(self, option: str, errors: list[str]) -> list[str]:
        nodes = self.params.get(option) or []
        if not isinstance(nodes, list):
            errors.append(f"{self.name(option)}: must be a list of node names")
            return []
        good = []
        for index, node in enumerate(nodes):
            problem = dns1123_subdomain(node) if isinstance(node, str) else "must be a string"
            if problem:
                errors.append(f"{self.name(option)}[{index}]: the node name {node!r} {problem}")
            else:
                good.append(node)
        return good

    @staticmethod
    def _check_labels(labels: dict, where: str, allow_null: bool) -> list[str]:
        errors = []
        for key, value in labels.items():
            problem = qualified_name(key) if isinstance(key, str) else "must be a string"
            if problem:
                errors.append(f"{where}: the label key {key!r} {problem}; Kubernetes would reject it")
                continue
            if value is None:
                if not allow_null:
                    errors.append(f"{where}['{key}']: has no value; give a string (remove a label per node in labels with None)")
                continue
            problem = label_value(value)
            if problem:
                errors.append(f"{where}['{key}']: the value {value!r} {problem}; Kubernetes would reject it")
        return errors

    # ------------------------------------------------------------------ plan
    def plan(self, wanted: dict[str, dict], nodes: list[dict]) -> dict:
        """What to patch, from the wanted labels and the Nodes as listed (plain dicts)."""
        annotation = self.params.get("ownership_annotation") or MANAGED_ANNOTATION
        by_name = {node["metadata"]["name"]: node["metadata"] for node in nodes}
        missing = sorted(set(wanted) - set(by_name))
        if missing:
            policy = self.params.get("missing_nodes") or "fail"
            where = self._where_listed(missing)
            text = (f"{where}: node(s) {', '.join(missing)} do not exist in the cluster "
                    f"({len(by_name)} Nodes: {self._sample(sorted(by_name))})")
            if policy == "fail":
                raise NodeLabelsError(
                    f"{text}; fix the names, or set {self.name('missing_nodes')} to warn or ignore to skip them. Nothing was changed."
                )
            if policy == "warn":
                self.warnings.append(f"{text}; they were skipped")
        patches, diff_before, diff_after = {}, {}, {}
        result_labels = {}
        for name in sorted(by_name):
            meta = by_name[name]
            labels = dict(meta.get("labels") or {})
            managed = parse_managed((meta.get("annotations") or {}).get(annotation))
            want = wanted.get(name, {})
            if not want and not managed:
                continue
            new = dict(labels)
            for key in managed - set(want):
                new.pop(key, None)
            for key, value in want.items():
                if value is None:
                    new.pop(key, None)
                else:
                    new[key] = value
            new_managed = {key for key, value in want.items() if value is not None}
            label_patch = {key: new.get(key) for key in set(labels) | set(new) if labels.get(key) != new.get(key)}
            body = {}
            if label_patch:
                body["labels"] = label_patch
            if new_managed != managed or (not new_managed and annotation in (meta.get("annotations") or {})):
                body["annotations"] = {annotation: format_managed(new_managed) if new_managed else None}
            result_labels[name] = {key: new[key] for key in sorted(new_managed)}
            if body:
                patches[name] = {"metadata": body}
                diff_before[name] = {"labels": dict(sorted(labels.items())), "managed": sorted(managed)}
                diff_after[name] = {"labels": dict(sorted(new.items())), "managed": sorted(new_managed)}
            self._check_excluded(name, want, new)
        return {
            "patches": patches,
            "missing_nodes": missing,
            "labels": result_labels,
            "diff": {"before": diff_before, "after": diff_after},
            "unchanged": len(by_name) - len(patches),
        }

    def _check_excluded(self, node: str, want: dict, new_labels: dict) -> None:
        """A node this run labels that MetalLB will skip because of the exclude label: a finding."""
        labelled = [key for key, value in want.items() if value is not None and key != EXCLUDE_LB_LABEL]
        if not labelled or EXCLUDE_LB_LABEL not in new_labels or EXCLUDE_LB_LABEL in want:
            return
        shown = ", ".join(f"{key}={want[key]}" for key in sorted(labelled))
        finding = {
            "rule": RULE_EXCLUDED_EDGE,
            "severity": "warning",
            "node": node,
            "reason": (
                f"node {node} is labelled {shown} but carries {EXCLUDE_LB_LABEL} (kubeadm puts it on control-plane nodes), "
                "so MetalLB will not announce from it, silently"
            ),
            "fix": (
                f"remove the label: set {self.name('labels')}['{node}']['{EXCLUDE_LB_LABEL}'] to null "
                f"(or kubectl label node {node} {EXCLUDE_LB_LABEL}-), or list the node in "
                f"{self.name('exclude_from_external_load_balancers')} if it is meant to be excluded"
            ),
        }
        self.findings.append(finding)
        self.warnings.append(f"{finding['reason']}. Fix: {finding['fix']}.")

    def _where_listed(self, missing: list[str]) -> str:
        options = []
        for option in ("nodes", "labels", "exclude_from_external_load_balancers"):
            listed = self.params.get(option) or []
            if any(node in listed for node in missing):
                options.append(self.name(option))
        return ", ".join(options) or self.name("labels")

    @staticmethod
    def _sample(names: list[str], limit: int = 10) -> str:
        if len(names) <= limit:
            return ", ".join(names) or "none"
        return ", ".join(names[:limit]) + f", ... ({len(names) - limit} more)"

    # ------------------------------------------------------------------ run
    def run(self, check_mode: bool = False) -> dict:
        wanted = self.wanted()  # before any API call
        plan = self.plan(wanted, self.api.list_nodes())
        patched = 0
        if not check_mode and plan["patches"]:
            patched = self._send(plan["patches"])
        return {
            "changed": bool(plan["patches"]),
            "changed_nodes": sorted(plan["patches"]),
            "patched": patched,
            "unchanged": plan["unchanged"],
            "missing_nodes": plan["missing_nodes"],
            "labels": plan["labels"],
            "findings": self.findings,
            "diff": plan["diff"],
        }

    def _send(self, patches: dict[str, dict]) -> int:
        """Every patch, ``concurrency`` in flight at once (a round trip each; the API server works in parallel)."""
        workers = max(1, min(int(self.params.get("concurrency") or 1), len(patches)))
        done, failed = [], []

        def send(item):
            name, body = item
            try:
                self.api.patch_node(name, body)
            except K8sError as exc:
                failed.append((name, exc))
            else:
                done.append(name)

        if workers == 1:
            for item in patches.items():
                send(item)
                if failed:
                    break
        else:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(send, patches.items()))
        if failed:
            name, exc = sorted(failed, key=lambda pair: pair[0])[0]
            others = f" and {len(failed) - 1} more" if len(failed) > 1 else ""
            raise K8sError(f"{exc}{others} (Nodes patched: {', '.join(sorted(done)) or 'none'}; run again to finish)", status=exc.status)
        return len(done)


class NodeApi:
    """``NodeLabels``'s API on a ``K8sClient``: pages of raw JSON, merge patches, no model objects.

    Through the dynamic client, like ``k8s_batch_info``: the generated ``CoreV1Api`` alone
    takes most of a second to import.
    """

    NODES = Read(key="nodes", kind="Node")

    def __init__(self, client, page_size: int = 500, dynamic=None) -> None:
        self.api = DynamicApi(client, dynamic)
        self.reader = BatchRead(self.api, page_size=page_size)

    def list_nodes(self) -> list[dict]:
        return self.reader.read(self.NODES)[1]

    def patch_node(self, name: str, body: dict) -> None:
        self.api.merge_patch(f"nodes: patching Node {name}", self.api.resource(self.NODES), name, body=body)
