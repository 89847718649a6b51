# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_maintenance's main(): input checked before the client is built, check mode sends
nothing, each step sends only its own patches, a second run sends nothing (fake API)."""

from __future__ import annotations

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.baremetal.metallb.plugins.modules import node_maintenance
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.maintenance.test_maintenance_plan import (
    DATA,
    cluster,
    merge,
    pods,
)
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner

run = ModuleRunner(node_maintenance)
CASE = DATA["plan"][0]  # node2 leads an L2 VIP and is a BGP next hop; one pod to evict


class FakePodApi:
    def __init__(self, objects: dict, pod_list: list[dict]) -> None:
        self.objects, self.pods, self.api = objects, pod_list, None
        self.patches: list[tuple[str, dict]] = []
        self.evictions: list[str] = []

    def pods_on(self, nodes):
        return [p for p in self.pods if p["spec"]["nodeName"] in nodes]

    def pdbs(self):
        return []

    def patch_node(self, name, body):
        self.patches.append((name, body))
        merge(next(n for n in self.objects["nodes"] if n["metadata"]["name"] == name), body)

    def evict(self, namespace, name):
        self.evictions.append(f"{namespace}/{name}")
        self.pods = [p for p in self.pods if p["metadata"]["name"] != name]

    def pod_uid(self, namespace, name):
        return next((p["metadata"]["uid"] for p in self.pods if p["metadata"]["name"] == name), None)


@pytest.fixture
def fake(monkeypatch):
    api = fake_api = FakePodApi(cluster(CASE), pods(CASE))
    monkeypatch.setattr(K8sClient, "from_params", classmethod(lambda cls, params: object()))
    monkeypatch.setattr(node_maintenance, "PodApi", lambda client: api)
    monkeypatch.setattr(node_maintenance, "read_snapshot", lambda client, namespace, api=None: fake_api.objects)
    return api


def args(**extra) -> dict:
    return {"nodes": "node2", "state": "out", "router_addresses": {"router": "198.51.100.1"}, **extra}


def test_bad_input_fails_naming_the_option_before_the_client_is_built(capsys, monkeypatch):
    def no_client(cls, params):
        raise AssertionError("the client was built")

    monkeypatch.setattr(K8sClient, "from_params", classmethod(no_client))
    code, result, dummy = run(capsys, {"nodes": "node2, Bad_Name", "state": "out"})
    assert code == 1 and "nodes[1]: the node name 'Bad_Name'" in result["msg"] and "nothing was read or changed" in result["msg"]


def test_check_mode_shows_the_plan_and_sends_nothing(capsys, fake):
    code, result, dummy = run(capsys, args(step="announcement", _ansible_check_mode=True, _ansible_diff=True))
    assert code == 0 and result["changed"] is True
    assert fake.patches == [] and fake.evictions == []
    assert result["waits"]["l2"] == [{"from_node": "node2", "addresses": ["198.51.100.200"], "expected": {"198.51.100.200": "node1"}}]
    assert result["diff"]["after"]["node2"]["record"] == {"exclude_label": True}
    assert result["diff"]["after"]["node2"]["unschedulable"] is False  # this step does not cordon


def test_out_then_again_then_in(capsys, fake):
    code, result, dummy = run(capsys, args(step="announcement"))
    assert code == 0 and result["changed"] and [name for name, dummy in fake.patches] == ["node2"]
    assert "spec" not in fake.patches[0][1]  # no cordon before the routers were waited for
    code, result, dummy = run(capsys, args(step="scheduling"))
    assert code == 0 and result["changed"] and fake.patches[1][1]["spec"] == {"unschedulable": True}
    assert fake.evictions == ["demo/web-a"] and result["drain"]["evicted"] == ["demo/web-a"]
    for step in ("announcement", "scheduling"):  # idempotent: nothing sent the second time
        code, result, dummy = run(capsys, args(step=step))
        assert code == 0 and result["changed"] is False
    assert len(fake.patches) == 2 and fake.evictions == ["demo/web-a"]
    for step in ("scheduling", "announcement"):
        code, result, dummy = run(capsys, args(step=step, state="in"))
        assert code == 0 and result["changed"] is True
    node2 = next(n for n in fake.objects["nodes"] if n["metadata"]["name"] == "node2")
    assert "node.kubernetes.io/exclude-from-external-load-balancers" not in node2["metadata"]["labels"]
    assert not node2["spec"].get("unschedulable") and not node2["metadata"].get("annotations")
