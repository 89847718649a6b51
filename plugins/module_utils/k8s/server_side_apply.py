# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Server-side apply of many objects in one module run, in waves, several at a time.

``kubernetes.core.k8s`` applies a list of definitions one after the other, a GET and a
PATCH each: MetalLB's release (26 objects) takes 4-5 s on a small machine although nothing
changes. ``ServerSideApply`` sends the objects of one wave at the same time and the waves in
an order that lets each object find what it refers to (``WAVE_OF_KIND``): Namespaces and CRDs
first, MetalLB's pools before what selects them, workloads last.

Whether an object changed is decided in one place (``changed``), for a real apply and for a
dry run (check mode) alike: the object before and the API server's answer, compared without
what every write bumps (resourceVersion, generation, managedFields times). The diff shows
only the fields that differ, without ``hidden_fields``; a Secret's values never leave.
"""

from __future__ import annotations

import copy
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ansible.module_utils.common.dict_transformations import recursive_diff

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import Read
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.readiness import PENDING

APPLY_ARG_SPEC = {
    "definitions": {"type": "list", "elements": "dict", "required": True},
    "field_manager": {"type": "str", "required": True},
    "force_conflicts": {"type": "bool", "default": False},
    "namespace": {"type": "str"},
    "hidden_fields": {"type": "list", "elements": "str", "default": ["metadata.managedFields"]},
    "wait": {"type": "bool", "default": False},
    "wait_timeout": {"type": "int", "default": 120},
    "parallel": {"type": "int", "default": 8},
}

# An object is applied once every object of the waves before it has been; within a wave,
# several at a time. Kinds not listed are in wave 1.
WAVE_OF_KIND = {
    "Namespace": 0,
    "CustomResourceDefinition": 0,
    # MetalLB objects that others name: pools (advertisements), BFD profiles (peers), communities.
    "IPAddressPool": 2,
    "BFDProfile": 2,
    "Community": 2,
    "L2Advertisement": 3,
    "BGPAdvertisement": 3,
    "BGPPeer": 3,
    # Workloads last: the ServiceAccounts, ConfigMaps and Secrets their pods use exist when they start.
    "Deployment": 4,
    "DaemonSet": 4,
    "StatefulSet": 4,
    "ReplicaSet": 4,
    "Job": 4,
    "CronJob": 4,
    "Pod": 4,
}
DEFAULT_WAVE = 1
# Secrets whose type names an object of an earlier wave. Kubernetes' token controller deletes a
# service-account-token Secret whose ServiceAccount does not exist yet, so one applied in the same
# wave as its ServiceAccount is lost now and then (a race, seen under load).
WAVE_OF_SECRET_TYPE = {"kubernetes.io/service-account-token": 2}
SECRET_FIELDS = ("data", "stringData")
HIDDEN = "(hidden)"
CHANGED_HIDDEN = "(hidden, changed)"
POLL_SECONDS = 1.0


@dataclass
class Target:
    """One definition to apply; ``index`` is its place in ``definitions``."""

    index: int
    definition: dict

    @property
    def api_version(self) -> str:
        return self.definition["apiVersion"]

    @property
    def kind(self) -> str:
        return self.definition["kind"]

    @property
    def name(self) -> str:
        return self.definition["metadata"]["name"]

    @property
    def namespace(self) -> str | None:
        return self.definition["metadata"].get("namespace")

    @property
    def label(self) -> str:
        where = f"{self.namespace}/" if self.namespace else ""
        return f"{self.kind} {where}{self.name}"

    @property
    def group_kind(self) -> tuple[str, str]:
        """(API group, kind): what a CRD defines, and what identifies an object with its name."""
        return _group(self.api_version), self.kind

    @property
    def wave(self) -> int:
        if self.kind == "Secret" and self.definition.get("type") in WAVE_OF_SECRET_TYPE:
            return WAVE_OF_SECRET_TYPE[self.definition["type"]]
        return WAVE_OF_KIND.get(self.kind, DEFAULT_WAVE)

    @property
    def read(self) -> Read:
        return Read(key=self.label, kind=self.kind, api_version=self.api_version, namespace=self.namespace)


@dataclass
class Outcome:
    """What applying one target did: ``method`` is create, update or unchanged."""

    target: Target
    before: dict | None
    after: dict
    changed: bool
    # True when a dry run could not ask the API server (its namespace or CRD would be created first).
    unverified: bool = False

    @property
    def method(self) -> str:
        if self.before is None:
            return "create"
        return "update" if self.changed else "unchanged"


class ApplyError(K8sError):
    """Some objects could not be applied; ``outcomes`` holds those that were, ``conflicts`` the
    fields another field manager owns (server-side apply's FieldManagerConflict)."""

    def __init__(self, msg: str, outcomes: list[Outcome], conflicts: list[dict]) -> None:
        super().__init__(msg)
        self.outcomes = outcomes
        self.conflicts = conflicts


def _group(api_version: str) -> str:
    """The API group of an apiVersion (empty for the core group, v1)."""
    return api_version.split("/")[0] if "/" in api_version else ""


def check_definitions(definitions: list, namespace: str | None = None) -> list[Target]:
    """The definitions as targets; a malformed or repeated one is an error naming its index."""
    targets, seen = [], {}
    for index, definition in enumerate(definitions):
        where = f"definitions[{index}]"
        if not isinstance(definition, dict):
            raise ValueError(f"{where}: must be a Kubernetes object (a dict), not {type(definition).__name__}")
        missing = [key for key in ("apiVersion", "kind") if not definition.get(key)]
        metadata = definition.get("metadata")
        if not isinstance(metadata, dict) or not metadata.get("name"):
            missing.append("metadata.name")
        if missing:
            raise ValueError(f"{where}: {', '.join(missing)} missing; every definition needs apiVersion, kind and metadata.name")
        if namespace and not metadata.get("namespace"):
            definition = dict(definition, metadata=dict(metadata, namespace=namespace))
        target = Target(index, definition)
        key = (*target.group_kind, target.namespace, target.name)
        if key in seen:
            raise ValueError(f"{where}: {target.label} is also definitions[{seen[key]}]; give each object once")
        seen[key] = index
        targets.append(target)
    return targets


def _without_volatile(obj: dict) -> dict:
    """``obj`` without what a write bumps even when nothing else changes."""
    out = copy.deepcopy(obj)
    metadata = out.get("metadata") or {}
    metadata.pop("resourceVersion", None)
    metadata.pop("generation", None)
    for entry in metadata.get("managedFields") or []:
        entry.pop("time", None)
    return out


def changed(before: dict | None, after: dict) -> bool:
    """Whether the apply changed (or, dry run, would change) the object: the one rule for both modes."""
    return before is None or _without_volatile(before) != _without_volatile(after)


def hide(obj: dict | None, hidden_fields: list[str]) -> dict | None:
    """A copy without ``hidden_fields`` (dotted paths) and, for a Secret, with its data replaced by a key count."""
    if obj is None:
        return None
    out = copy.deepcopy(obj)
    for path in hidden_fields:
        *parents, last = path.split(".")
        node = out
        for part in parents:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    if out.get("kind") == "Secret":
        for name in SECRET_FIELDS:
            if isinstance(out.get(name), dict):
                out[name] = f"({len(out[name])} keys hidden)"
        # kubectl's last-applied annotation holds the data too.
        annotations = (out.get("metadata") or {}).get("annotations") or {}
        annotations.pop("kubectl.kubernetes.io/last-applied-configuration", None)
    return out


def diff_of(outcome: Outcome, hidden_fields: list[str]) -> dict:
    """Ansible's diff for one changed object: the fields that differ (all of it for a new object)."""
    before, after = hide(outcome.before, hidden_fields), hide(outcome.after, hidden_fields)
    header = outcome.target.label
    if before is None:
        return {"before_header": header, "after_header": f"{header} (created)", "before": {}, "after": after}
    before_part, after_part = recursive_diff(_without_volatile(before), _without_volatile(after)) or ({}, {})
    changed_keys = _changed_secret_keys(outcome.before, outcome.after)
    if changed_keys:  # named, never shown
        before_part["data"] = {name: HIDDEN for name in changed_keys}
        after_part["data"] = {name: CHANGED_HIDDEN for name in changed_keys}
    return {"before_header": header, "after_header": header, "before": before_part, "after": after_part}


def _changed_secret_keys(before: dict, after: dict) -> list[str]:
    """The keys of a Secret's data whose values differ: the diff says so without showing them."""
    if after.get("kind") != "Secret":
        return []
    old, new = before.get("data") or {}, after.get("data") or {}
    return [name for name in new if name in old and old[name] != new[name]]


def result_of(outcome: Outcome, hidden_fields: list[str]) -> dict:
    """One entry of the module's ``results``."""
    target = outcome.target
    return {
        "apiVersion": target.api_version, "kind": target.kind, "name": target.name, "namespace": target.namespace,
        "method": outcome.method, "changed": outcome.changed, "unverified": outcome.unverified,
        "object": hide(outcome.after, hidden_fields),
    }


def _defined_kind(target: Target) -> tuple[str, str]:
    """The (group, kind) a CustomResourceDefinition target defines."""
    spec = target.definition.get("spec") or {}
    return spec.get("group"), (spec.get("names") or {}).get("kind")


def _crd_kinds(targets: list[Target]) -> set[tuple[str, str]]:
    """(group, kind) of every CRD among the targets."""
    return {_defined_kind(target) for target in targets if target.kind == "CustomResourceDefinition"}


class ServerSideApply:
    """Apply targets wave by wave; ``api`` is a DynamicApi (or a fake in the unit tests)."""

    def __init__(self, api, field_manager: str, force_conflicts: bool = False, dry_run: bool = False,
                 parallel: int = 8, clock=time.monotonic, sleep=time.sleep) -> None:
        self.api = api
        self.field_manager = field_manager
        self.force_conflicts = force_conflicts
        self.dry_run = dry_run
        self.parallel = max(1, parallel)
        self.clock = clock
        self.sleep = sleep

    def run(self, targets: list[Target], wait: bool = False, wait_timeout: int = 120) -> list[Outcome]:
        """Outcomes in the order of ``targets``; ``ApplyError`` when any object fails."""
        deadline = self.clock() + wait_timeout
        crd_kinds = _crd_kinds(targets)
        outcomes: dict[int, Outcome] = {}
        for wave in sorted({target.wave for target in targets}):
            batch = [target for target in targets if target.wave == wave]
            done, errors = self._wave(batch, outcomes, crd_kinds, deadline)
            outcomes.update(done)
            if errors:
                self._fail(errors, outcomes)
        ordered = [outcomes[target.index] for target in targets]
        if wait and not self.dry_run:
            self._wait(ordered, deadline, wait_timeout)
        return ordered

    def _wave(self, batch: list[Target], outcomes: dict, crd_kinds: set, deadline: float):
        done, errors, work = {}, [], []
        new_namespaces = {o.target.name for o in outcomes.values() if o.target.kind == "Namespace" and o.before is None}
        new_kinds = {_defined_kind(o.target) for o in outcomes.values()
                     if o.target.kind == "CustomResourceDefinition" and o.before is None}
        for target in batch:
            if self.dry_run and (target.namespace in new_namespaces or target.group_kind in new_kinds):
                # A dry run cannot reach into a namespace (or a kind) that only this apply would create.
                done[target.index] = Outcome(target, None, target.definition, True, unverified=True)
                continue
            try:
                resource = self._resource(target, crd_kinds, deadline)
            except K8sError as exc:
                errors.append((target, exc))
                continue
            work.append((target, resource))
        # Discovery above runs in this thread (its cache is not thread-safe); only requests run in parallel.
        with ThreadPoolExecutor(max_workers=min(self.parallel, max(1, len(work)))) as pool:
            futures = [(target, pool.submit(self._apply_one, target, resource)) for target, resource in work]
            for target, future in futures:
                try:
                    done[target.index] = future.result()
                except K8sError as exc:
                    errors.append((target, exc))
        return done, errors

    def _resource(self, target: Target, crd_kinds: set, deadline: float):
        """The API resource for the target's kind; waits for a kind whose CRD is applied in this run."""
        while True:
            resource = self.api.resource(target.read)
            if resource is not None:
                return resource
            defined_here = target.group_kind in crd_kinds
            if not defined_here or self.dry_run or self.clock() >= deadline:
                why = ("its CRD, applied in this run, is not served yet" if defined_here
                       else "install the CRD that defines it first, or correct apiVersion")
                raise K8sError(f"the API server does not serve {target.kind} in {target.api_version}: {why}")
            self.sleep(POLL_SECONDS)

    def _apply_one(self, target: Target, resource) -> Outcome:
        namespaced = getattr(resource, "namespaced", True)
        namespace = target.namespace if namespaced else None
        if namespaced and not namespace:
            raise K8sError(f"{target.kind} is namespaced: set metadata.namespace, or the module's namespace option")
        if not namespaced and "namespace" in target.definition["metadata"]:
            metadata = {k: v for k, v in target.definition["metadata"].items() if k != "namespace"}
            target = Target(target.index, dict(target.definition, metadata=metadata))
        body = target.definition
        try:
            before = self.api.get(target.read, resource, namespace, name=target.name)
        except K8sError as exc:
            if exc.status != 404:
                raise
            before = None
        after = self.api.apply(f"applying {target.label}", resource, body, namespace, self.field_manager,
                               force_conflicts=self.force_conflicts, dry_run=self.dry_run)
        return Outcome(target, before, after, changed(before, after))

    def _fail(self, errors: list, outcomes: dict) -> None:
        errors.sort(key=lambda error: error[0].index)
        conflicts = [{"object": target.label, "field": cause.get("field"), "message": cause.get("message")}
                     for target, exc in errors for cause in exc.causes if cause.get("reason") == "FieldManagerConflict"]
        lines = [f"definitions[{target.index}] ({target.label}): {exc}" for target, exc in errors]
        applied = sorted(outcomes.values(), key=lambda outcome: outcome.target.index)
        raise ApplyError("; ".join(lines), applied, conflicts)

    def _wait(self, outcomes: list[Outcome], deadline: float, wait_timeout: int) -> None:
        """Until every applied workload (and CRD) is ready: first judged on the apply's own answer."""
        waiting = {o.target.index: o for o in outcomes if o.target.kind in PENDING and o.target.kind != "EndpointSlice"}
        latest = {index: o.after for index, o in waiting.items()}
        while True:
            why = {index: PENDING[waiting[index].target.kind]([obj], [waiting[index].target.name])
                   for index, obj in latest.items()}
            why = {index: lines for index, lines in why.items() if lines}
            if not why:
                # The results show the objects as they were once ready, as after kubernetes.core's wait.
                for index, obj in latest.items():
                    waiting[index].after = obj
                return
            if self.clock() >= deadline:
                lines = [line for index in sorted(why) for line in why[index]]
                raise ApplyError(f"wait_timeout: not ready after {wait_timeout} s: {'; '.join(lines)}",
                                 outcomes, [])
            self.sleep(POLL_SECONDS)
            for index in why:
                target = waiting[index].target
                resource = self.api.resource(target.read)
                latest[index] = self.api.get(target.read, resource, target.namespace, name=target.name)
