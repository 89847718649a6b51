# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lb_workload's decisions between its module runs, through the filters the role calls (cases
in the YAML file beside)."""

from __future__ import annotations

import importlib

import pytest

from ansible.module_utils import _internal as module_utils_internal

from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)


@pytest.fixture(autouse=True)
def controller_mode_restored():
    """Importing controller code flips a process-wide switch later module tests must not see."""
    was_controller = module_utils_internal.is_controller
    try:
        yield
    finally:
        module_utils_internal.is_controller = was_controller


def flt(name):
    module = importlib.import_module(f"ansible_collections.baremetal.metallb.plugins.filter.{name}")
    return module.FilterModule().filters()[name]


@parametrize_cases(DATA["cluster_objects"])
def test_cluster_objects(case):
    assert flt("workload_cluster_objects")(case["reads"], case.get("slices_after")) == case["expect"]


@parametrize_cases(DATA["input_problems"])
def test_input_problems(case):
    found = flt("workload_input_problems")(case["policy"], case.get("pool_check"), case.get("remove"))
    assert found == case["expect"]


@parametrize_cases(DATA["findings_text"])
def test_findings_text(case):
    assert flt("workload_findings_text")(case["report"], case["fail_on"], case["stage"]) == case["expect"]


@parametrize_cases(DATA["changes"])
def test_changes(case):
    found = flt("workload_changes")(case["workloads"], case["manifests"], case["namespaces"], case["create_namespaces"],
                                    case["remove"], case["managed"])
    assert found == case["expect"]


@parametrize_cases(DATA["apply_failure"])
def test_apply_failure(case):
    assert flt("workload_apply_failure")(case["failed"]) == case["expect"]


@parametrize_cases(DATA["render_files"])
def test_render_files(case):
    assert flt("workload_render_files")(case["workloads"], case["render_dir"], case.get("found")) == case["expect"]
