# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/awx/configure.yml without a controller: syntax, the generated surveys and job templates.

``--tags surveys -e awx_survey_dump_dir=DIR`` runs only the survey generation and writes what the
job templates would get (survey.json, job_templates.json); the tests compare it with the roles'
argument specs. Needs the awx.awx collection (tools/install-collections.sh).
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "awx" / "configure.yml"
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")
ROLES = ("bgp_router", "lb_workload")
OPTIONS = {
    name: spec
    for role in ROLES
    for name, spec in yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"].items()
}
STRUCTURED = {name for name, spec in OPTIONS.items() if spec.get("type") in ("list", "dict")}
# site.yml sets these itself; as survey answers (extra vars) they would override it
SITE_WIRED = {"lb_workload_apply", "lb_workload_fail_on", "lb_workload_kubeconfig", "lb_workload_kube_context",
              "bgp_router_metallb_mode"}


def _playbook(tmp_path: pathlib.Path, *args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), TMPDIR=str(tmp_path))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    for name in ("awx_controller_host", "awx_controller_oauthtoken", "awx_controller_username", "awx_controller_password"):
        env.pop(name.upper(), None)
    return subprocess.run([str(ANSIBLE_PLAYBOOK), str(PLAYBOOK), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def _dump(tmp_path: pathlib.Path, *args: str) -> tuple[dict, list]:
    out = tmp_path / "surveys"
    out.mkdir()
    run = _playbook(tmp_path, "--tags", "surveys", "-e", json.dumps({"awx_survey_dump_dir": str(out)}), *args)
    assert run.returncode == 0, run.stdout + run.stderr
    return json.loads((out / "survey.json").read_text()), json.loads((out / "job_templates.json").read_text())


def test_syntax_check(tmp_path):
    run = _playbook(tmp_path, "--syntax-check")
    assert run.returncode == 0, "awx.awx must be installed (tools/install-collections.sh)\n" + run.stdout + run.stderr
    assert f"playbook: {PLAYBOOK}" in run.stdout


def test_survey_asks_for_every_scalar_option_of_both_roles(tmp_path):
    survey, dummy = _dump(tmp_path)
    questions = {question["variable"]: question for question in survey["spec"]}
    assert list(questions) == [name for name in OPTIONS if name not in STRUCTURED | SITE_WIRED]
    assert STRUCTURED >= {"bgp_router_pools", "lb_workload_workloads", "lb_workload_cluster"}
    for name, question in questions.items():
        spec = OPTIONS[name]
        assert question["question_name"] == name
        assert question["required"] is bool(spec.get("required", False)), name
        if spec.get("choices"):
            assert question["choices"] == spec["choices"], name
    assert questions["bgp_router_asn"]["type"] == "integer" and questions["bgp_router_asn"]["required"] is True
    force = dict(questions["lb_workload_force_conflicts"])
    assert force.pop("question_description")
    assert force == {
        "variable": "lb_workload_force_conflicts", "question_name": "lb_workload_force_conflicts", "required": False,
        "new_question": True, "type": "multiplechoice", "choices": ["true", "false"], "default": "false",
    }
    password = questions["bgp_router_password"]
    assert password["type"] == "password" and "default" not in password


def test_structured_options_as_textarea_when_asked(tmp_path):
    survey, dummy = _dump(tmp_path, "-e", "awx_survey_structured=textarea")
    questions = {question["variable"]: question for question in survey["spec"]}
    assert list(questions) == [name for name in OPTIONS if name not in SITE_WIRED]
    assert {name for name, question in questions.items() if question["type"] == "textarea"} == STRUCTURED - SITE_WIRED
    assert json.loads(questions["lb_workload_remove"]["default"]) == []


def test_site_wired_variables_are_asked_only_when_included(tmp_path):
    survey, dummy = _dump(tmp_path, "-e", '{"awx_survey_include": ["lb_workload_apply", "bgp_router_bfd"]}')
    assert [question["variable"] for question in survey["spec"]] == ["lb_workload_apply", "bgp_router_bfd"]


def test_job_templates_site_verify_check(tmp_path):
    survey, templates = _dump(tmp_path)
    assert [(t["name"], t["playbook"], t["job_type"], t["diff_mode"], t["survey_enabled"]) for t in templates] == [
        ("MetalLB site", "playbooks/site.yml", "run", False, True),
        ("MetalLB verify", "playbooks/verify.yml", "run", True, False),
        ("MetalLB check", "playbooks/site.yml", "check", True, True),
    ]
    assert templates[0]["survey_spec"] == survey == templates[2]["survey_spec"]
    assert templates[1]["survey_spec"] == {}


def test_without_controller_settings_it_stops_before_any_controller_call(tmp_path):
    run = _playbook(tmp_path)
    assert run.returncode != 0
    assert "Give awx_controller_host, and awx_controller_oauthtoken" in run.stdout
    assert "TASK [Execution environment]" not in run.stdout


@pytest.mark.parametrize("option", ["bgp_router_password"])
def test_no_secret_default_reaches_the_survey(tmp_path, option):
    survey, dummy = _dump(tmp_path, "-e", "awx_survey_structured=textarea")
    question = next(question for question in survey["spec"] if question["variable"] == option)
    assert OPTIONS[option].get("no_log") is True
    assert question["type"] == "password" and "default" not in question
    # Nested secrets (bgp_router_neighbors[].password) are inside a textarea, which has no default secret either.
    assert "password" not in json.dumps([q.get("default", "") for q in survey["spec"]])


def test_survey_dump_creates_its_directory_and_is_idempotent(tmp_path):
    # docs/awx.md's recipe names a directory that need not exist yet.
    out = tmp_path / "not" / "there" / "surveys"
    args = ("--tags", "surveys", "-e", json.dumps({"awx_survey_dump_dir": str(out)}))
    first = _playbook(tmp_path, *args)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr
    assert json.loads((out / "survey.json").read_text())["spec"]
    assert [t["name"] for t in json.loads((out / "job_templates.json").read_text())] == ["MetalLB site", "MetalLB verify", "MetalLB check"]
    second = _playbook(tmp_path, *args)
    assert second.returncode == 0 and "changed=0" in second.stdout, second.stdout[-3000:]


def test_survey_dump_check_mode_writes_nothing(tmp_path):
    out = tmp_path / "surveys"
    run = _playbook(tmp_path, "--check", "--tags", "surveys", "-e", json.dumps({"awx_survey_dump_dir": str(out)}))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr
    assert not out.exists()


def test_survey_dump_error_names_the_file_not_the_survey(tmp_path):
    out = tmp_path / "surveys"
    (out / "survey.json").mkdir(parents=True)  # cannot be written as a file
    run = _playbook(tmp_path, "--tags", "surveys", "-e", json.dumps({"awx_survey_dump_dir": str(out)}))
    assert run.returncode != 0
    failed = run.stdout[run.stdout.index("TASK [Write the survey"):]
    assert "item: survey.json" in failed and "can not use content with a dir as dest" in failed, failed
    assert "question_description" not in run.stdout + run.stderr  # the survey itself is not in the error
    assert len(failed) < 2000, failed
