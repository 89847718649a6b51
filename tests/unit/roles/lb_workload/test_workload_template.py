# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The role's manifest template, rendered by Ansible's template module, against the Kubernetes API models.

Each rendered object must deserialize into the kubernetes client's model
(V1Deployment, V1Service) and serialize back unchanged: a misspelt or
misplaced field would be dropped by the model and the comparison fail.
"""

from __future__ import annotations

import inspect
import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml
from kubernetes.client import ApiClient

import ansible_collections
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.manifests import workload_manifests
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workload_policy import WorkloadPolicy
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

ROLE = pathlib.Path(__file__).resolve().parents[4] / "roles" / "lb_workload"
CASES = load_data(__file__)
MARKER = "# Managed by baremetal.metallb.lb_workload"
MODELS = {"Deployment": "V1Deployment", "Service": "V1Service"}
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - ansible.builtin.template:
        src: "{{ template }}"
        dest: "{{ out }}/{{ case.0.id }}-{{ case.1 }}.yaml"
        mode: "0644"
      loop: "{{ cases | product(['1', '2']) | list }}"
      loop_control:
        loop_var: case
      vars:
        item: "{{ case.0.workload }}"
"""


def _normalized(workload: dict) -> dict:
    """The workload as the role passes it to the template: through workload_policy."""
    result = WorkloadPolicy(workloads=[workload], fail_on=[]).run()
    assert not result.errors, result.errors
    return result.workloads[0]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, list[str]]:
    """Every case rendered twice by ansible-playbook's template module, as the role renders it."""
    work = tmp_path_factory.mktemp("template")
    (work / "playbook.yml").write_text(PLAYBOOK)
    cases = [{"id": case["id"], "workload": _normalized(case["workload"])} for case in CASES]
    (work / "vars.json").write_text(json.dumps({"cases": cases, "template": str(ROLE / "templates" / "workload.yaml.j2"), "out": str(work)}))
    # In import order: the first root holding baremetal.metallb is the one under test.
    roots = list(dict.fromkeys(str(pathlib.Path(path).parent) for path in ansible_collections.__path__))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(roots), ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(work / "none.cfg"))
    # The same interpreter and ansible-core as the tests, wherever the ansible-playbook script is (or is not).
    run = subprocess.run(
        [sys.executable, "-m", "ansible.cli.playbook", "playbook.yml", "-e", "@vars.json"],
        cwd=work, env=env, capture_output=True, text=True, check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return {case["id"]: [(work / f"{case['id']}-{round_}.yaml").read_text() for round_ in ("1", "2")] for case in CASES}


class _Response:
    def __init__(self, text: str):
        self.data = text


def _round_trip(obj: dict) -> dict:
    client = ApiClient()
    text = json.dumps(obj)
    # kubernetes >= 35 takes the response text, older releases a response object.
    if "response_text" in inspect.signature(client.deserialize).parameters:
        model = client.deserialize(text, MODELS[obj["kind"]], "application/json")
    else:
        model = client.deserialize(_Response(text), MODELS[obj["kind"]])
    return client.sanitize_for_serialization(model)


def _lookup(objects: dict, path: str):
    """A value by dotted path; list items by index. Paths stop before keys that contain dots."""
    kind, *parts = path.split(".")
    value = objects[kind]
    for part in parts:
        value = value[int(part)] if isinstance(value, list) else value[part]
    return value


@parametrize_cases(CASES)
def test_rendered_objects_are_valid_kubernetes_objects(rendered, case):
    workload = _normalized(case["workload"])
    text, again = rendered[case["id"]]

    assert text.startswith(MARKER), "the first line marks files the role may remove"
    assert text == again, "rendering must be stable"
    documents = [document for document in yaml.safe_load_all(text) if document is not None]
    assert [document["kind"] for document in documents] == ["Deployment", "Service"]
    # The template adds nothing to the objects the filter builds.
    assert documents == workload_manifests([workload])

    for document in documents:
        assert _round_trip(document) == document, f"{document['kind']} has fields the API model does not know"


@parametrize_cases(CASES)
def test_rendered_fields(rendered, case):
    deployment, service = [d for d in yaml.safe_load_all(rendered[case["id"]][0]) if d]
    objects = {"deployment": deployment, "service": service}
    for path, expected in case.get("expect", {}).items():
        assert _lookup(objects, path) == expected, path
    for path in case.get("absent", []):
        with pytest.raises(KeyError):
            _lookup(objects, path)


def test_a_misspelt_field_is_caught_by_the_round_trip():
    """The check itself can fail: an unknown field does not survive the model."""
    deployment = workload_manifests([_normalized({"name": "web", "image": "web:1", "ports": [{"port": 80}]})])[0]
    deployment["spec"]["template"]["spec"]["topologySpreadConstraint"] = deployment["spec"]["template"]["spec"].pop("topologySpreadConstraints")
    assert _round_trip(deployment) != deployment
