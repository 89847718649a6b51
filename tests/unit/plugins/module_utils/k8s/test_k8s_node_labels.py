# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""NodeLabels: input checks and the patch computation, against a fake Node API (cases in the YAML beside)."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.node_labels import (
    MANAGED_ANNOTATION,
    NodeApi,
    NodeLabels,
    NodeLabelsError,
    format_managed,
    parse_managed,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.k8s.node_api_fake import FakeNodeApi
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


def params(case_params: dict) -> dict:
    return {"nodes": [], "common_labels": {}, "labels": {}, "exclude_from_external_load_balancers": [],
            "missing_nodes": "fail", "ownership_annotation": MANAGED_ANNOTATION, "variable_names": {}, "concurrency": 4,
            **case_params}


@parametrize_cases(CASES["plan"])
def test_plan(case):
    p = params(case["params"])
    api = FakeNodeApi(case["cluster"], p["ownership_annotation"])
    service = NodeLabels(p, api)
    expect = case["expect"]
    if "errors" in expect:
        with pytest.raises(NodeLabelsError) as raised:
            service.run()
        for text in expect["errors"]:
            assert text in str(raised.value)
        assert api.patches == []
        return
    result = service.run()
    assert api.lists == 1
    if "patches" in expect:
        assert {name: body["metadata"] for name, body in api.patches} == expect["patches"]
        assert result["patched"] == len(expect["patches"]) and result["changed"] is bool(expect["patches"])
        assert result["changed_nodes"] == sorted(expect["patches"])
    if "unchanged" in expect:
        assert result["unchanged"] == expect["unchanged"]
    if "labels" in expect:
        assert result["labels"] == expect["labels"]
    if "missing_nodes" in expect:
        assert result["missing_nodes"] == expect["missing_nodes"]
    if "findings" in expect:
        assert [{k: f[k] for k in ("rule", "node")} for f in result["findings"]] == expect["findings"]
    for text in expect.get("warning_contains", []):
        assert any(text in warning for warning in service.warnings), service.warnings
    if "warnings" in expect:
        assert len(service.warnings) == expect["warnings"]
    # Declarative and idempotent: the same input against the patched cluster sends nothing.
    again = NodeLabels(p, api)
    before = len(api.patches)
    assert again.run()["changed"] is False and len(api.patches) == before


@parametrize_cases(CASES["validate"])
def test_bad_input_fails_before_any_api_call(case):
    api = FakeNodeApi({"node1": {"labels": {}}, "cp1": {"labels": {}}})
    with pytest.raises(NodeLabelsError) as raised:
        NodeLabels(params(case["params"]), api).run()
    for text in case["errors"]:
        assert text in str(raised.value), str(raised.value)
    assert api.lists == 0 and api.patches == []


def test_check_mode_lists_but_sends_no_patch_and_reports_the_diff():
    api = FakeNodeApi({"node1": {"labels": {"a": "1"}}, "node2": {"labels": {}}})
    result = NodeLabels(params({"nodes": ["node1"], "common_labels": {"node-role": "edge"}}), api).run(check_mode=True)
    assert api.patches == [] and result["patched"] == 0
    assert result["changed"] is True and result["changed_nodes"] == ["node1"]
    assert result["diff"]["before"] == {"node1": {"labels": {"a": "1"}, "managed": []}}
    assert result["diff"]["after"] == {"node1": {"labels": {"a": "1", "node-role": "edge"}, "managed": ["node-role"]}}


@pytest.mark.parametrize("concurrency, patched", [(4, "node1, node2, node4"), (1, "node1, node2")])
def test_failed_patch_names_what_was_done(concurrency, patched):
    cluster = {name: {"labels": {}} for name in ("node1", "node2", "node3", "node4")}
    api = FakeNodeApi(cluster, fail_on="node3")
    with pytest.raises(K8sError) as raised:
        NodeLabels(params({"nodes": sorted(cluster), "common_labels": {"a": "b"}, "concurrency": concurrency}), api).run()
    assert "HTTP 403" in str(raised.value) and f"Nodes patched: {patched};" in str(raised.value), str(raised.value)


def test_many_nodes_are_all_patched_concurrently_and_once():
    cluster = {f"node{index}": {"labels": {}} for index in range(200)}
    api = FakeNodeApi(cluster)
    result = NodeLabels(params({"nodes": sorted(cluster), "common_labels": {"node-role": "edge"}, "concurrency": 8}), api).run()
    assert result["patched"] == 200 and sorted(name for name, body in api.patches) == sorted(cluster)


def test_ownership_annotation_round_trip():
    assert parse_managed(format_managed({"b", "a/x", "c"})) == {"b", "a/x", "c"}
    assert format_managed({"b", "a"}) == "a,b"
    assert parse_managed(None) == set() and parse_managed("") == set()


class _Answer:
    def __init__(self, payload) -> None:
        self.data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()


class _RecordingNodes:
    """The dynamic client's Node resource, recording the calls NodeApi makes."""

    kind, namespaced = "Node", False

    def __init__(self, pages: dict) -> None:
        self.pages = pages
        self.calls: list[dict] = []

    def get(self, **kwargs):
        self.calls.append(kwargs)
        return _Answer(self.pages[kwargs.get("_continue")])

    def patch(self, **kwargs):
        self.calls.append(kwargs)
        return _Answer({"metadata": {"name": kwargs["name"]}})


def _node_api(pages: dict, page_size: int = 500):
    nodes = _RecordingNodes(pages)
    dynamic = SimpleNamespace(resources=SimpleNamespace(get=lambda api_version, kind: nodes))
    return NodeApi(K8sClient(api_client=None), page_size=page_size, dynamic=dynamic), nodes


def test_node_api_follows_continue_tokens_and_patches_with_the_merge_content_type():
    """NodeApi on a recording fake of the dynamic client: raw JSON pages, merge patches."""
    api, nodes = _node_api({None: {"metadata": {"continue": "t1"}, "items": [{"metadata": {"name": "node1"}}]},
                            "t1": {"metadata": {"continue": ""}, "items": [{"metadata": {"name": "node2"}}]}}, page_size=2)
    assert [item["metadata"]["name"] for item in api.list_nodes()] == ["node1", "node2"]
    assert [c.get("_continue") for c in nodes.calls] == [None, "t1"] and all(c["limit"] == 2 for c in nodes.calls)
    assert all(c["serialize"] is False and c["namespace"] is None for c in nodes.calls)
    nodes.calls.clear()
    api.patch_node("node1", {"metadata": {"labels": {"node-role": "edge"}}})
    assert nodes.calls == [{"body": {"metadata": {"labels": {"node-role": "edge"}}}, "name": "node1", "namespace": None,
                            "content_type": "application/merge-patch+json", "serialize": False}]


def test_node_api_turns_a_non_json_answer_into_an_error():
    api = _node_api({None: b"<html>"})[0]
    with pytest.raises(K8sError, match=r"reading Node \(v1\): the API server's answer is not JSON"):
        api.list_nodes()
