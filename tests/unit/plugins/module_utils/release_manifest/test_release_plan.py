# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_release's decisions: the inputs' problems, the waits of the real v0.16.1 release in
every flavour (manifest and chart), what is pending, when to read, the wait loop and its
diagnostic. Cases in the YAML file beside."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.helm import helm_values
from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.plan import (
    ReleaseError, ReleasePlan, ReleaseWait, diagnostic, input_problems, kube_proxy_check, must_wait, pending, reads_for)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
VERSION = "v0.16.1"


@parametrize_cases(DATA["inputs"])
def test_input_problems_name_the_variable(case):
    found = input_problems({**DATA["base"], **case["inputs"]})
    assert len(found) == len(case["problems"]), found
    for sentence, want in zip(found, case["problems"]):
        assert want in sentence, sentence


def test_the_plan_fails_with_the_inputs_and_the_options_problems_together():
    with pytest.raises(ReleaseError) as failed:
        ReleasePlan({**DATA["base"], "version": "latest", "namespace": "Metal_LB",
                     "speaker_tolerations": [{"key": "edge", "operator": "Exists", "value": "x"}]})
    assert [p.split(":")[0] for p in failed.value.problems] == [
        "metallb_install_version", "metallb_install_namespace", "metallb_install_speaker_tolerations[0].value"]


def test_the_plan_of_good_inputs():
    plan = ReleasePlan({**DATA["base"], "method": "helm", "flavour": "frr-k8s", "namespace": "lb",
                        "kubeconfig": {"apiVersion": "v1"}, "unrelated": "ignored"})
    assert plan.namespace_object()["metadata"]["name"] == "lb"
    assert plan.helm_values()["frrk8s"] == {"enabled": True}
    assert plan.no_log and plan.chart_version == "0.16.1"
    assert plan.chart_source() == ("metallb", {"kind": "chart", "version": VERSION, "name": "chart", "sha256": "",
                                               "variable": "metallb_install_chart_sha256", "verify": True})
    manifest = ReleasePlan({**DATA["base"], "manifest_src": "/srv/m.yaml", "flavour": "frr"}, is_file=lambda path: True)
    assert manifest.helm_values() == {} and manifest.chart_source() is None and not manifest.no_log
    assert manifest.manifest_source()[0] == "/srv/m.yaml"
    assert manifest.manifest_source()[1]["name"] == "metallb-frr.yaml"


def test_a_bad_release_is_an_error_naming_it():
    plan = ReleasePlan(DATA["base"])
    with pytest.raises(ReleaseError, match="the release of MetalLB v0.16.1: the release is not valid YAML"):
        plan.release("a: [")
    with pytest.raises(ReleaseError, match="document 1 is not a Kubernetes object"):
        plan.release([1])


@pytest.fixture(scope="module")
def metallb_module() -> Path:
    """go.universe.tf/metallb at VERSION in the Go module cache (the lab build puts it there;
    downloaded through the Go module proxy otherwise)."""
    done = subprocess.run(["go", "mod", "download", "-json", f"go.universe.tf/metallb@{VERSION}"],
                          capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, f"go mod download failed: {done.stdout}{done.stderr}"
    return Path(json.loads(done.stdout)["Dir"])


def chart_text(module: Path, values: dict | None) -> str:
    """helm template of the release's chart with ``values`` (None: none, the chart's defaults)."""
    helm = shutil.which("helm")
    assert helm, "helm is not on PATH: run `bash tools/install-helm.sh` (make setup does)"
    argv = [helm, "template", "metallb", str(module / "charts" / "metallb"), "--namespace", "metallb-system"]
    done = subprocess.run(argv + (["--values", "-"] if values is not None else []),
                          input=None if values is None else json.dumps(values),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout


def release_text(module: Path, source: str, flavour: str) -> str:
    if source == "manifest":
        return (module / "config" / "manifests" / f"metallb-{flavour}.yaml").read_text(encoding="utf-8")
    return chart_text(module, helm_values({}, flavour))


def test_the_frr_k8s_flavour_renders_the_chart_as_its_defaults_do(metallb_module):
    """metallb_install_flavour frr-k8s (site.yml's default mode) with no other option installs the
    chart as MetalLB's documentation does: the objects equal those of the chart with no values."""
    defaults = chart_text(metallb_module, None)
    assert "kind: DaemonSet\nmetadata:\n  name: metallb-frr-k8s\n" in defaults
    assert release_text(metallb_module, "chart", "frr-k8s") == defaults
    assert release_text(metallb_module, "chart", "native") != defaults


@parametrize_cases(DATA["releases"])
def test_the_waits_of_the_real_release(case, metallb_module):
    plan = ReleasePlan({**DATA["base"], "flavour": case["flavour"],
                        "method": "helm" if case["source"] == "chart" else "manifest"})
    release = plan.release(release_text(metallb_module, case["source"], case["flavour"]))
    waits = {wait["key"]: wait for wait in release["summary"]["waits"]}
    assert sorted(waits) == ["CustomResourceDefinition", "DaemonSet", "Deployment", "EndpointSlice"]
    for kind, names in case["waits"].items():
        assert waits[kind]["names"] == names, kind
        assert waits[kind]["namespace"] == "metallb-system"
    crds = waits["CustomResourceDefinition"]
    assert crds["namespace"] is None and "ipaddresspools.metallb.io" in crds["names"]
    assert sorted({name.split(".", 1)[1] for name in crds["names"]}) == case["crd_groups"]
    assert reads_for(release["summary"]["waits"])[1] == {"key": "Deployment", "api_version": "apps/v1",
                                                         "kind": "Deployment", "namespace": "metallb-system"}
    # MetalLB's own workloads and webhook ready is not enough in the frr-k8s flavour.
    metallb = case["metallb"]
    ready = {"CustomResourceDefinition": [established(name) for name in crds["names"]],
             "Deployment": [available(metallb["Deployment"])], "DaemonSet": [daemon(metallb["DaemonSet"], 3)],
             "EndpointSlice": [endpoint("metallb-webhook-service")]}
    found = pending(ready, release["summary"]["waits"])
    assert [line.split(":")[0] for line in found] == case["pending_with_metallb_ready"], found


def established(name):
    return {"metadata": {"name": name}, "status": {"conditions": [{"type": "Established", "status": "True"}]}}


def available(name):
    return {"metadata": {"name": name, "generation": 1}, "spec": {"replicas": 1},
            "status": {"observedGeneration": 1, "updatedReplicas": 1, "availableReplicas": 1,
                       "conditions": [{"type": "Available", "status": "True"}]}}


def daemon(name, ready):
    return {"metadata": {"name": name, "generation": 1},
            "status": {"observedGeneration": 1, "desiredNumberScheduled": 3, "numberReady": ready,
                       "updatedNumberScheduled": 3}}


def endpoint(service, ready=True):
    return {"metadata": {"name": f"{service}-x1", "labels": {"kubernetes.io/service-name": service}},
            "endpoints": [{"addresses": ["198.18.0.5"], "conditions": {"ready": ready}}]}


@parametrize_cases(DATA["must_wait"])
def test_must_wait(case):
    assert must_wait(case["applied"], DATA["must_wait_waits"]) is case["wait"]


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_the_wait_polls_until_ready():
    waits = DATA["must_wait_waits"][2:3]
    answers = iter([{"resources": {"DaemonSet": [daemon("speaker", 1)]}},
                    {"failed": True, "msg": "connection refused"},
                    {"resources": {"DaemonSet": [daemon("speaker", 3)]}}])
    seen = []
    clock = FakeClock()
    waiter = ReleaseWait(lambda reads: seen.append(reads) or next(answers), clock=clock, sleep=clock.sleep)
    assert waiter.run(waits, 10) == []
    assert len(seen) == 3 and clock.now == 4.0
    assert seen[0] == [{"key": "DaemonSet", "api_version": "apps/v1", "kind": "DaemonSet", "namespace": "lb"}]


def test_the_wait_times_out_with_what_is_pending_and_the_last_read_error():
    clock = FakeClock()
    waiter = ReleaseWait(lambda reads: {"failed": True, "msg": "Unauthorized"}, clock=clock, sleep=clock.sleep)
    found = waiter.run(DATA["must_wait_waits"][1:], 5)
    assert found == ["Deployment controller: not found", "DaemonSet speaker: not found",
                     "Service webhook: no ready endpoint yet (0 EndpointSlice(s))"]
    assert clock.now == 6.0 and waiter.read_error == "Unauthorized" and waiter.slices == []


def test_the_diagnostic():
    pods = [{"metadata": {"name": "speaker-a"}, "spec": {"nodeName": "node1"},
             "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "False"}]}},
            {"metadata": {"name": "controller-b"}, "spec": {}, "status": {"phase": "Pending"}}]
    events = [{"metadata": {"creationTimestamp": f"2026-01-01T00:00:{second:02d}Z"}, "type": "Normal", "reason": "R",
               "involvedObject": {"kind": "Pod", "name": f"p{second}"}, "message": f" m{second}\n"}
              for second in range(20, 0, -1)]
    lines = diagnostic(["DaemonSet speaker: no node to run on"], 4, "lb", pods, events,
                       [endpoint("webhook"), endpoint("other", ready=False),
                        {"metadata": {"name": "bare"}, "endpoints": None}], "Forbidden")
    assert lines[:5] == ["not ready after 4 s: DaemonSet speaker: no node to run on",
                         "reading the release objects failed: Forbidden", "pods in lb:",
                         "  speaker-a Running ready=False node=node1", "  controller-b Pending ready=? node=none"]
    assert lines[5] == "recent events:" and len(lines[6:21]) == 15
    assert lines[6] == "  Normal R Pod/p6: m6" and lines[20] == "  Normal R Pod/p20: m20"
    assert lines[21:] == ["endpoints:", "  webhook: 198.18.0.5 ready=True", "  other: 198.18.0.5 ready=False",
                          "  bare: no addresses ready="]
    assert diagnostic([], 1, "lb", [], [], []) == ["pods in lb: none", "recent events: none", "endpoints: none"]


@parametrize_cases(DATA["kube_proxy"])
def test_kube_proxy_check(case):
    note, problem = kube_proxy_check(case["config_maps"])
    assert (case["note"] in note) and (bool(note) == bool(case["note"])), note
    assert (case["problem"] in problem) and (bool(problem) == bool(case["problem"])), problem
