# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ServerSideApply against a fake of the dynamic client (cases in the YAML beside)."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.server_side_apply import (
    WAVE_OF_KIND,
    ApplyError,
    Outcome,
    ServerSideApply,
    Target,
    changed,
    check_definitions,
    diff_of,
    hide,
    result_of,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.dynamic_api_fake import FakeApplyApi
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)


class Clock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def fake_api(**kwargs) -> FakeApplyApi:
    return FakeApplyApi(DATA["served"], copy.deepcopy(DATA["objects"]), **kwargs)


def applier(api, dry_run=False, clock=None, **kwargs) -> ServerSideApply:
    clock = clock or Clock()
    return ServerSideApply(api, "baremetal.metallb", dry_run=dry_run, clock=clock, sleep=clock.sleep, **kwargs)


def stored_data(api: FakeApplyApi, label: str):
    kind, ref = label.split(" ", 1)
    namespace, name = ref.split("/")
    found = [o for o in api.objects["v1"][kind] if o["metadata"]["name"] == name and o["metadata"].get("namespace") == namespace]
    return found[0]["data"] if found else None


@parametrize_cases(DATA["cases"])
def test_apply(case):
    api = fake_api()
    dry_run = case.get("dry_run", False)
    outcomes = applier(api, dry_run=dry_run).run(check_definitions(case["definitions"], case.get("namespace")))
    assert {o.target.label: o.method for o in outcomes} == case["expect"]
    assert [o.target.index for o in outcomes] == list(range(len(case["definitions"])))
    assert all(o.changed == (o.method != "unchanged") for o in outcomes)
    assert sorted(o.target.label for o in outcomes if o.unverified) == sorted(case.get("unverified", []))
    assert all(call[1] is dry_run for call in api.calls)
    if "waves" in case:
        sent = [call[0] for call in api.calls]
        assert [sorted(set(sent) & set(wave)) for wave in case["waves"]] == [sorted(wave) for wave in case["waves"]]
        assert sent == [label for wave in case["waves"] for label in wave]
    for label, data in case.get("stored", {}).items():
        assert stored_data(api, label) == data, label


def test_a_wave_runs_its_objects_together_and_in_order_across_waves():
    definitions = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"c{i}", "namespace": "metallb-system"}}
                   for i in range(12)] + [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "metallb-system"}}]
    api = fake_api()
    applier(api, parallel=4).run(check_definitions(definitions))
    assert api.calls[0][0] == "Namespace metallb-system"
    assert sorted(call[0] for call in api.calls[1:]) == sorted(f"ConfigMap metallb-system/c{i}" for i in range(12))


def test_every_kind_named_in_the_waves_is_in_a_known_wave():
    assert set(WAVE_OF_KIND.values()) <= {0, 2, 3, 4}


@pytest.mark.parametrize("definitions, message", [
    ([{"kind": "ConfigMap", "metadata": {"name": "x"}}], "definitions[0]: apiVersion missing"),
    ([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {}}], "definitions[0]: metadata.name missing"),
    (["not an object"], "definitions[0]: must be a Kubernetes object (a dict), not str"),
    ([{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}},
      {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "a", "namespace": "n"}}],
     "definitions[1]: ConfigMap n/a is also definitions[0]"),
])
def test_bad_definitions_are_named_by_index(definitions, message):
    with pytest.raises(ValueError) as error:
        check_definitions(definitions)
    assert str(error.value).startswith(message)


def test_a_conflict_names_the_field_and_the_other_manager():
    causes = [{"reason": "FieldManagerConflict", "message": 'conflict with "kubectl"', "field": ".spec.replicas"}]
    api = fake_api(conflicts={"Deployment demo/web": causes})
    definitions = [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "settings", "namespace": "metallb-system"},
                    "data": {"k": "v"}},
                   {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"}}]
    with pytest.raises(ApplyError) as error:
        applier(api).run(check_definitions(definitions))
    assert str(error.value).startswith("definitions[1] (Deployment demo/web): applying Deployment demo/web: HTTP 409")
    assert error.value.conflicts == [{"object": "Deployment demo/web", "field": ".spec.replicas", "message": 'conflict with "kubectl"'}]
    # the wave before it was applied and is reported
    assert [o.target.label for o in error.value.outcomes] == ["ConfigMap metallb-system/settings"]


def test_force_conflicts_takes_the_field():
    api = fake_api(conflicts={"Deployment demo/web": [{"reason": "FieldManagerConflict", "field": ".spec.replicas"}]})
    definitions = [{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"}}]
    (outcome,) = applier(api, force_conflicts=True).run(check_definitions(definitions))
    assert outcome.method == "create"


def test_a_kind_the_server_does_not_serve_is_an_error_with_the_fix():
    definitions = [{"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "p", "namespace": "metallb-system"}}]
    with pytest.raises(ApplyError) as error:
        applier(fake_api()).run(check_definitions(definitions))
    assert "definitions[0] (BGPPeer metallb-system/p): the API server does not serve BGPPeer in metallb.io/v1beta2: " \
           "install the CRD that defines it first" in str(error.value)


CRD = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": "bgppeers.metallb.io"},
       "spec": {"group": "metallb.io", "names": {"kind": "BGPPeer"}}}
PEER = {"apiVersion": "metallb.io/v1beta2", "kind": "BGPPeer", "metadata": {"name": "p", "namespace": "metallb-system"}}


def test_a_kind_whose_crd_is_applied_in_the_same_run_is_waited_for():
    api = fake_api(served_after={("metallb.io/v1beta2", "BGPPeer"): 3})
    clock = Clock()
    outcomes = applier(api, clock=clock).run(check_definitions([PEER, CRD]))
    assert [o.method for o in outcomes] == ["create", "create"]
    assert clock.now == 3.0


def test_a_kind_whose_crd_never_comes_fails_at_the_timeout():
    api = fake_api(served_after={("metallb.io/v1beta2", "BGPPeer"): 1000})
    with pytest.raises(ApplyError) as error:
        applier(api).run(check_definitions([PEER, CRD]), wait_timeout=10)
    assert "its CRD, applied in this run, is not served yet" in str(error.value)


def test_check_mode_reports_objects_of_a_kind_this_apply_defines_as_unverified():
    api = fake_api(served_after={("metallb.io/v1beta2", "BGPPeer"): 1000})
    outcomes = applier(api, dry_run=True).run(check_definitions([PEER, CRD]))
    assert [(o.method, o.unverified) for o in outcomes] == [("create", True), ("create", False)]


def deployment(generation: int, observed: int, available: int) -> dict:
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo", "generation": generation},
            "spec": {"replicas": 2},
            "status": {"observedGeneration": observed, "replicas": 2, "updatedReplicas": available, "availableReplicas": available,
                       "conditions": [{"type": "Available", "status": "True" if available == 2 else "False"}]}}


def test_wait_polls_a_deployment_until_it_is_available():
    api = fake_api()
    api.objects["apps/v1"] = {"Deployment": [deployment(2, 1, 0)]}
    clock = Clock()

    def roll_out(seconds):
        clock.sleep(seconds)
        if clock.now >= 2:
            api.objects["apps/v1"]["Deployment"] = [deployment(2, 2, 2)]

    ssa = ServerSideApply(api, "baremetal.metallb", clock=clock, sleep=roll_out)
    (outcome,) = ssa.run(check_definitions([{"apiVersion": "apps/v1", "kind": "Deployment",
                                             "metadata": {"name": "web", "namespace": "demo"}, "spec": {"replicas": 2}}]),
                         wait=True, wait_timeout=30)
    assert clock.now == 2.0
    assert outcome.after["status"]["availableReplicas"] == 2  # the object as it was once ready


def test_wait_times_out_saying_what_is_not_ready():
    api = fake_api()
    api.objects["apps/v1"] = {"Deployment": [deployment(2, 2, 1)]}
    with pytest.raises(ApplyError) as error:
        applier(api).run(check_definitions([{"apiVersion": "apps/v1", "kind": "Deployment",
                                             "metadata": {"name": "web", "namespace": "demo"}}]), wait=True, wait_timeout=5)
    assert str(error.value) == "wait_timeout: not ready after 5 s: Deployment web: 1/2 available, 1 updated (no Available condition yet)"


def test_no_wait_in_check_mode():
    api = fake_api()
    api.objects["apps/v1"] = {"Deployment": [deployment(2, 2, 0)]}
    clock = Clock()
    web = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "demo"}}
    applier(api, dry_run=True, clock=clock).run(check_definitions([web]), wait=True)
    assert clock.now == 0


@pytest.mark.parametrize("before, after, expected", [
    (None, {"metadata": {"name": "a"}}, True),
    ({"metadata": {"name": "a", "resourceVersion": "1", "generation": 1}, "spec": {"x": 1}},
     {"metadata": {"name": "a", "resourceVersion": "2", "generation": 2}, "spec": {"x": 1}}, False),
    ({"metadata": {"name": "a", "managedFields": [{"manager": "m", "time": "t1"}]}},
     {"metadata": {"name": "a", "managedFields": [{"manager": "m", "time": "t2"}]}}, False),
    ({"metadata": {"name": "a", "managedFields": [{"manager": "m"}]}},
     {"metadata": {"name": "a", "managedFields": [{"manager": "m"}, {"manager": "n"}]}}, True),
    ({"spec": {"x": 1}}, {"spec": {"x": 2}}, True),
])
def test_changed_leaves_aside_what_every_write_bumps(before, after, expected):
    assert changed(before, after) is expected


SECRET_BEFORE = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "peer", "namespace": "metallb-system",
                 "annotations": {"kubectl.kubernetes.io/last-applied-configuration": '{"data":{"password":"b2xk"}}'}},
                 "data": {"password": "b2xk", "user": "dQ=="}}
SECRET_AFTER = {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "peer", "namespace": "metallb-system", "annotations": {}},
                "data": {"password": "bmV3", "user": "dQ=="}}


def test_a_secret_never_shows_its_values():
    target = Target(0, SECRET_AFTER)
    outcome = Outcome(target, SECRET_BEFORE, SECRET_AFTER, changed(SECRET_BEFORE, SECRET_AFTER))
    shown = repr(diff_of(outcome, ["metadata.managedFields"])) + repr(result_of(outcome, ["metadata.managedFields"]))
    for value in ("b2xk", "bmV3", "dQ==", "old", "new"):
        assert value not in shown
    assert diff_of(outcome, [])["after"] == {"data": {"password": "(hidden, changed)"}}
    assert result_of(outcome, [])["object"]["data"] == "(2 keys hidden)"


def test_hidden_fields_leave_the_output_but_not_the_decision():
    before = {"kind": "Deployment", "metadata": {"name": "w", "managedFields": [{"manager": "a"}]}, "status": {"ready": 1}}
    after = {"kind": "Deployment", "metadata": {"name": "w", "managedFields": [{"manager": "a"}]}, "status": {"ready": 2}}
    outcome = Outcome(Target(0, after), before, after, changed(before, after))
    assert outcome.changed
    assert hide(after, ["metadata.managedFields", "status", "no.such.path"]) == {"kind": "Deployment", "metadata": {"name": "w"}}
    assert diff_of(outcome, ["status"]) == {"before_header": "Deployment w", "after_header": "Deployment w", "before": {}, "after": {}}


def test_the_diff_of_a_created_object_is_all_of_it():
    after = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n", "managedFields": []}, "data": {"k": "v"}}
    outcome = Outcome(Target(0, after), None, after, True)
    assert diff_of(outcome, ["metadata.managedFields"]) == {
        "before_header": "ConfigMap n/c", "after_header": "ConfigMap n/c (created)", "before": {},
        "after": {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c", "namespace": "n"}, "data": {"k": "v"}}}
    assert result_of(outcome, [])["method"] == "create"
