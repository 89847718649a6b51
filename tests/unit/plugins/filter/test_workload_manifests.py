# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The workload_manifests filter: what it accepts, what it refuses."""

from __future__ import annotations

import importlib

import pytest

from ansible.module_utils import _internal as module_utils_internal

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.workload_policy import WorkloadPolicy


@pytest.fixture(autouse=True)
def plugin():
    """The filter module, imported without leaving the process in controller mode.

    Importing controller code (ansible.errors) flips a process-wide switch that
    routes module warnings to the controller's display; module tests that run
    later in the same process would then miss their warnings.
    """
    was_controller = module_utils_internal.is_controller
    try:
        yield importlib.import_module("ansible_collections.baremetal.metallb.plugins.filter.workload_manifests")
    finally:
        module_utils_internal.is_controller = was_controller


def workload_manifests(*args, **kwargs):
    module = importlib.import_module("ansible_collections.baremetal.metallb.plugins.filter.workload_manifests")
    return module.workload_manifests(*args, **kwargs)


def _filter_error():
    return importlib.import_module("ansible.errors").AnsibleFilterError


WEB = {"name": "web", "image": "nginx:1.27", "ports": [{"name": "http", "port": 80, "target_port": 8080}], "external_traffic_policy": "Local"}


def test_registered_under_its_name(plugin):
    assert plugin.FilterModule().filters() == {"workload_manifests": plugin.workload_manifests}


def test_one_workload_or_a_list():
    single = workload_manifests(WEB)
    assert [obj["kind"] for obj in single] == ["Deployment", "Service"]
    assert workload_manifests([WEB, dict(WEB, name="api")])[2]["metadata"]["name"] == "api"
    assert workload_manifests([]) == []


def test_defaults_are_filled_like_the_module():
    deployment, service = workload_manifests(WEB)
    assert deployment["metadata"]["namespace"] == "default"
    assert deployment["spec"]["replicas"] == 2
    assert service["spec"]["sessionAffinity"] == "None"
    assert service["spec"]["ports"] == [{"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}]


def test_workload_policy_output_gives_the_same_objects():
    """The role feeds the module's normalized workloads (with nulls for unset options) to the filter."""
    result = WorkloadPolicy(workloads=[WEB], pod_labels={"example.com/lab": "yes"}).run()
    # Through the action plugin, unset options travel as null.
    normalized = [dict(result.workloads[0], mode=None, ip_families=None, readiness_probe=None, long_sessions=None)]
    objects = workload_manifests(normalized)
    assert objects[0]["spec"]["template"]["metadata"]["labels"] == {"app.kubernetes.io/name": "web", "example.com/lab": "yes"}
    assert workload_manifests(normalized) == objects


def test_common_pod_labels_as_arguments():
    deployment = workload_manifests(dict(WEB, pod_labels={"b": "own"}), pod_labels={"a": "1", "b": "common"})[0]
    assert deployment["spec"]["template"]["metadata"]["labels"] == {"a": "1", "app.kubernetes.io/name": "web", "b": "own"}


@pytest.mark.parametrize(
    "workload, text",
    [
        (dict(WEB, external_traffic_policy="local"), "external_traffic_policy must be one of: Cluster, Local"),
        (dict(WEB, replica=3), "replica"),
        ({"name": "web", "ports": [{"port": 80}]}, "image"),
        (dict(WEB, replicas=-2), "workloads[0].replicas (default/web) is -2: replicas must be 0 or more"),
        (dict(WEB, ports=[{"port": 65536}]), "workloads[0].ports[0].port (default/web) is 65536"),
        (dict(WEB, pod_labels={"bad key": "x"}), "workloads[0].pod_labels['bad key']"),
    ],
)
def test_invalid_input_raises_naming_the_problem(workload, text):
    with pytest.raises(_filter_error()) as caught:
        workload_manifests(workload)
    assert text in str(caught.value)


def test_not_a_workload():
    with pytest.raises(_filter_error(), match="give a workload"):
        workload_manifests(["web"])
