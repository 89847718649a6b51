# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The maintenance plan (which VIPs a node leads or next-hops, the ordered patches, the pods to
evict) and the drain loop, from the cases in the YAML beside."""

from __future__ import annotations

import json

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.maintenance.drain import Drain, DrainError
from ansible_collections.baremetal.metallb.plugins.module_utils.maintenance.plan import (
    RECORD_ANNOTATION,
    MaintenanceError,
    build_plan,
    normalize,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.announcers.cluster_objects import (
    endpoint_slice,
    objects_from_case,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.test_k8s_server_side_apply import Clock
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import is_subset, load_data, parametrize_cases

DATA = load_data(__file__)


def cluster(case: dict) -> dict:
    """The announcer cases' compact cluster, plus several Services, each node's state and its pods."""
    objects = objects_from_case(case)
    for node in objects["nodes"]:
        state = (case.get("node_state") or {}).get(node["metadata"]["name"]) or {}
        node["metadata"]["labels"].update(state.get("labels") or {})
        if state.get("unschedulable"):
            node["spec"]["unschedulable"] = True
        if "record" in state:
            node["metadata"]["annotations"] = {RECORD_ANNOTATION: json.dumps(state["record"])}
    objects["services"], objects["endpoint_slices"] = [], []
    for svc in case.get("services") or []:
        objects["services"].append({
            "metadata": {"name": svc["name"], "namespace": "demo", "annotations": {"metallb.io/address-pool": svc["pool"]}},
            "spec": {"type": "LoadBalancer", "externalTrafficPolicy": svc.get("policy", "Cluster")},
            "status": {"loadBalancer": {"ingress": [{"ip": ip} for ip in svc["ips"]]}}})
        objects["endpoint_slices"].append(endpoint_slice("demo", svc["name"], svc.get("endpoints") or {}))
    return objects


def pods(case: dict) -> list[dict]:
    out = []
    for pod in case.get("pods") or []:
        meta = {"name": pod["name"], "namespace": pod.get("namespace", "demo"), "uid": f"uid-{pod['name']}",
                "labels": pod.get("labels") or {}}
        if pod.get("owner"):
            kind, name = pod["owner"].split("/")
            meta["ownerReferences"] = [{"kind": kind, "name": name, "controller": True}]
        if pod.get("mirror"):
            meta["annotations"] = {"kubernetes.io/config.mirror": "x"}
        if pod.get("terminating"):
            meta["deletionTimestamp"] = "2026-12-07T10:00:00Z"
        out.append({"metadata": meta, "spec": {"nodeName": pod["node"]}})
    return out


def pdbs(case: dict) -> list[dict]:
    return [{"metadata": {"name": pdb["name"], "namespace": pdb.get("namespace", "demo")},
             "spec": {"selector": pdb.get("selector")}, "status": {"disruptionsAllowed": pdb.get("allowed", 0)}}
            for pdb in case.get("pdbs") or []]


@parametrize_cases(DATA["plan"])
def test_plan(case):
    expect = case.get("expect") or {}
    if "errors" in case:
        with pytest.raises(MaintenanceError) as raised:
            build_plan(cluster(case), pods(case), pdbs(case), normalize(case["params"], case.get("names")))
        for text in case["errors"]:
            assert text in str(raised.value)
        return
    plan = build_plan(cluster(case), pods(case), pdbs(case), normalize(case["params"], case.get("names")))
    for step, patches in (expect.get("patches") or {}).items():
        assert plan["patches"][step] == patches, (step, plan["patches"][step])
    if "waits" in expect:
        assert is_subset(expect["waits"], plan["waits"]), plan["waits"]
    if "evict" in expect:
        assert [f"{e['namespace']}/{e['name']}" for e in plan["evictions"]["evict"]] == expect["evict"]
    if "evict_pdbs" in expect:
        assert {e["name"]: e["pdbs"] for e in plan["evictions"]["evict"]} == expect["evict_pdbs"]
    if "skipped" in expect:
        assert [e["name"] for e in plan["evictions"]["skipped"]] == expect["skipped"]
    if "findings" in expect:
        assert [f["rule"] for f in plan["findings"]] == expect["findings"], plan["findings"]
    if "changed" in expect:
        assert plan["changed"] == expect["changed"]
    for index, text in (expect.get("steps") or {}).items():
        assert text in plan["steps"][index], plan["steps"]
    for text in expect.get("notes") or []:
        assert any(text in note for note in plan["waits"]["notes"]), plan["waits"]["notes"]


@parametrize_cases(DATA["normalize"])
def test_normalize(case):
    if "errors" in case:
        with pytest.raises(MaintenanceError) as raised:
            normalize(case["params"], case.get("names"))
        for text in case["errors"]:
            assert text in str(raised.value)
        assert len(raised.value.errors) == len(case["errors"])
        return
    assert is_subset(case["expect"], normalize(case["params"]))


def test_the_undo_of_a_step_is_its_reverse():
    """out then in (each step's patch applied to the Node as the API server would) leaves the Node as it was."""
    case = DATA["plan"][0]
    objects = cluster(case)
    original = json.dumps(objects["nodes"], sort_keys=True)
    for state, steps in (("out", ("announcement", "scheduling")), ("in", ("scheduling", "announcement"))):
        for step in steps:
            plan = build_plan(objects, [], [], normalize(dict(case["params"], state=state)))
            for node in objects["nodes"]:
                patch = plan["patches"][step].get(node["metadata"]["name"])
                if patch:
                    merge(node, patch)
    assert json.dumps(objects["nodes"], sort_keys=True).replace('"annotations": {}, ', "") == original


def merge(target: dict, patch: dict) -> None:
    """RFC 7386."""
    for key, value in patch.items():
        if value is None:
            target.pop(key, None)
        elif isinstance(value, dict):
            merge(target.setdefault(key, {}), value)
        else:
            target[key] = value


class FakeEvictions:
    """``refuse``: pod -> how many evictions the budget refuses first; ``linger``: pod -> polls it stays after eviction."""

    def __init__(self, case: dict) -> None:
        self.refuse = dict(case.get("refuse") or {})
        self.linger = dict(case.get("linger") or {})
        self.fail = case.get("fail") or {}
        self.calls: list[str] = []
        self.evicted: set[str] = set()

    def evict(self, namespace, name):
        self.calls.append(name)
        if name in self.fail:
            raise K8sError(f"evicting Pod {namespace}/{name}: HTTP {self.fail[name]}: boom", status=self.fail[name])
        if self.refuse.get(name, 0) > 0:
            self.refuse[name] -= 1
            raise K8sError(f"evicting Pod {namespace}/{name}: HTTP 429: Cannot evict pod as it would violate the pod's "
                           "disruption budget.", status=429)
        self.evicted.add(name)

    def pod_uid(self, namespace, name):
        if name in self.evicted or name.startswith("gone"):
            if self.linger.get(name, 0) > 0:
                self.linger[name] -= 1
                return f"uid-{name}"
            return None
        return f"uid-{name}"


@parametrize_cases(DATA["drain"])
def test_drain(case):
    api, clock = FakeEvictions(case), Clock()
    drain = Drain(api, timeout=case.get("timeout", 60), poll=1.0, clock=clock, sleep=clock.sleep)
    pods_in = [{"namespace": "demo", "name": name, "uid": f"uid-{name}", "terminating": name.startswith("gone")}
               for name in case["pods"]]
    if "error" in case:
        with pytest.raises(DrainError) as raised:
            drain.run(pods_in)
        assert case["error"] in str(raised.value)
        return
    result = drain.run(pods_in)
    assert result["evicted"] == [f"demo/{name}" for name in case["expect"]["evicted"]]
    assert result["refusals"] == case["expect"]["refusals"]
    assert api.calls == case["expect"]["calls"]
    assert clock.now == case["expect"]["seconds"]
