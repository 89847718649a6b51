# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""survey_spec on the real argument specs of the bgp_router and lb_workload roles."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from ansible.module_utils import _internal as module_utils_internal

COLLECTION = pathlib.Path(__file__).resolve().parents[4]
ROLES = ("bgp_router", "lb_workload")
SPECS = {role: yaml.safe_load((COLLECTION / "roles" / role / "meta" / "argument_specs.yml").read_text()) for role in ROLES}
OPTIONS = {role: SPECS[role]["argument_specs"]["main"]["options"] for role in ROLES}
SCALAR_TYPES = {"str", "int", "bool", "float", "path"}


@pytest.fixture(scope="module")
def plugin():
    """The filter module, imported without leaving the process in controller mode (see test_workload_manifests)."""
    was_controller = module_utils_internal.is_controller
    try:
        yield importlib.import_module("ansible_collections.baremetal.metallb.plugins.filter.survey_spec")
    finally:
        module_utils_internal.is_controller = was_controller


@pytest.fixture
def survey_spec(plugin):
    return plugin.survey_spec


def _by_variable(survey: dict) -> dict:
    return {question["variable"]: question for question in survey["spec"]}


@pytest.mark.parametrize("role", ROLES)
def test_one_question_per_option_with_the_same_name_in_order(survey_spec, role):
    survey = survey_spec(SPECS[role])
    assert [question["variable"] for question in survey["spec"]] == list(OPTIONS[role])
    assert all(question["question_name"] == question["variable"] for question in survey["spec"])


@pytest.mark.parametrize("role", ROLES)
def test_types_required_defaults_and_choices_carried(survey_spec, role):
    questions = _by_variable(survey_spec(SPECS[role]))
    for option, spec in OPTIONS[role].items():
        question, kind = questions[option], spec.get("type", "str")
        assert question["required"] is bool(spec.get("required", False)), option
        if spec.get("no_log"):
            assert question["type"] == "password" and "default" not in question, option
        elif kind == "bool":
            assert (question["type"], question["choices"]) == ("multiplechoice", ["true", "false"]), option
            assert question.get("default") == (None if spec.get("default") is None else str(spec["default"]).lower()), option
        elif kind == "int":
            assert question["type"] == "integer" and question.get("default") == spec.get("default"), option
        elif kind == "str" and spec.get("choices"):
            assert (question["type"], question["choices"]) == ("multiplechoice", spec["choices"]), option
            assert question.get("default") == spec.get("default"), option
        elif kind in SCALAR_TYPES:
            assert question["type"] == "text" and question.get("default") == spec.get("default"), option
        else:
            assert question["type"] == "textarea", option
            if "default" in spec:
                assert yaml.safe_load(question["default"]) == spec["default"], option


def test_known_questions_of_bgp_router(survey_spec):
    questions = _by_variable(survey_spec(SPECS["bgp_router"]))
    assert questions["bgp_router_asn"]["type"] == "integer" and questions["bgp_router_asn"]["required"] is True
    assert "default" not in questions["bgp_router_asn"]
    assert questions["bgp_router_outbound"]["choices"] == ["deny_all", "default_route"]
    assert questions["bgp_router_outbound"]["default"] == "deny_all"
    assert questions["bgp_router_log_level"]["type"] == "multiplechoice"
    assert questions["bgp_router_bfd"] == {
        "variable": "bgp_router_bfd", "question_name": "bgp_router_bfd", "required": False, "new_question": True,
        "question_description": "Use BFD on every node session (the nodes need a matching MetalLB BFDProfile, named by the BGPPeer's "
                                "bfdProfile). Needs MetalLB in an FRR-based mode (bgp_router_metallb_mode).",
        "type": "multiplechoice", "choices": ["true", "false"], "default": "false",
    }
    # Unset by default: no default answer, so the role decides.
    assert "default" not in questions["bgp_router_ipv6_forwarding"]
    assert questions["bgp_router_pools"]["type"] == "textarea" and questions["bgp_router_pools"]["required"] is True


def test_password_is_a_password_question_without_default(survey_spec):
    password = _by_variable(survey_spec(SPECS["bgp_router"]))["bgp_router_password"]
    assert OPTIONS["bgp_router"]["bgp_router_password"]["default"] == ""  # the spec has one, the survey must not
    assert password["type"] == "password" and "default" not in password and password["required"] is False


def test_secret_looking_name_without_no_log_is_a_password(survey_spec):
    document = {"argument_specs": {"main": {"options": {
        "demo_api_token": {"type": "str", "default": "not-a-real-token"},
        "demo_name": {"type": "str", "default": "x"},
    }}}}
    questions = _by_variable(survey_spec(document))
    assert questions["demo_api_token"]["type"] == "password" and "default" not in questions["demo_api_token"]
    assert questions["demo_name"]["type"] == "text"
    assert _by_variable(survey_spec(document, secret_pattern="nothing"))["demo_api_token"]["type"] == "text"


def test_lb_workload_questions(survey_spec):
    questions = _by_variable(survey_spec(SPECS["lb_workload"]))
    assert questions["lb_workload_workloads"]["type"] == "textarea" and questions["lb_workload_workloads"]["required"] is True
    assert questions["lb_workload_mode"]["choices"] == ["layer2", "bgp"] and "default" not in questions["lb_workload_mode"]
    assert questions["lb_workload_fail_on"]["default"] == '["error"]'
    assert questions["lb_workload_wait_timeout"] == dict(questions["lb_workload_wait_timeout"], type="integer", default=180)
    # Markup is gone from descriptions.
    assert questions["lb_workload_kubeconfig"]["question_description"] == (
        "Path of the kubeconfig to use; empty for the kubernetes library's default ($KUBECONFIG, ~/.kube/config)."
    )


def test_multiselect_for_a_list_of_choices(survey_spec):
    document = {"argument_specs": {"main": {"options": {
        "demo_families": {"type": "list", "elements": "str", "choices": ["IPv4", "IPv6"], "default": ["IPv4"]},
    }}}}
    assert survey_spec(document)["spec"][0] == {
        "variable": "demo_families", "question_name": "demo_families", "question_description": "", "required": False,
        "new_question": True, "type": "multiselect", "choices": ["IPv4", "IPv6"], "default": "IPv4",
    }


def test_two_roles_skip_include_and_exclude(survey_spec):
    both = survey_spec([SPECS["bgp_router"], SPECS["lb_workload"]], name="MetalLB", structured="skip")
    variables = [question["variable"] for question in both["spec"]]
    assert both["name"] == "MetalLB"
    assert "bgp_router_asn" in variables and "lb_workload_apply" in variables
    assert "bgp_router_pools" not in variables and "lb_workload_workloads" not in variables
    assert not [question for question in both["spec"] if question["type"] == "textarea"]

    chosen = survey_spec(SPECS["bgp_router"], include=["bgp_router_bfd", "bgp_router_asn"], exclude=["bgp_router_bfd"])
    assert [question["variable"] for question in chosen["spec"]] == ["bgp_router_asn"]


@pytest.mark.parametrize(
    "call, text",
    [
        pytest.param(lambda survey_spec: survey_spec({"options": {}}), "a dict with 'argument_specs'", id="not_argument_specs"),
        pytest.param(lambda survey_spec: survey_spec(SPECS["bgp_router"], entry_point="other"), "no entry point 'other'", id="entry_point"),
        pytest.param(lambda survey_spec: survey_spec([SPECS["bgp_router"], SPECS["bgp_router"]]), "'bgp_router_asn' is given by two roles", id="duplicate"),
        pytest.param(lambda survey_spec: survey_spec(SPECS["bgp_router"], include=["bgp_router_nope"]), "no such option(s): bgp_router_nope", id="include"),
        pytest.param(lambda survey_spec: survey_spec(SPECS["bgp_router"], structured="json"), "structured must be textarea or skip", id="structured"),
        pytest.param(lambda survey_spec: survey_spec(SPECS["bgp_router"], secret_pattern="("), "not a regular expression", id="pattern"),
    ],
)
def test_errors(plugin, call, text):
    with pytest.raises(plugin.AnsibleFilterError) as error:
        call(plugin.survey_spec)
    assert text in str(error.value)


def test_filter_is_registered(plugin):
    assert plugin.FilterModule().filters()["survey_spec"] is plugin.survey_spec
