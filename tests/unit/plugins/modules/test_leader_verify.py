# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The leader_verify module's main(): argument spec, docs, the Service lookup, results.

The probing itself runs on a simulated segment here (arping_sim); the integration tests
run the module on the lab segment with real ARP.
"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import leader as leader_utils
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s import module as k8s_module
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient, K8sError
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.metallb import L2Leader
from ansible_collections.baremetal.metallb.plugins.modules import leader_verify
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner
from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.arping.arping_sim import SimSegment, ip_runner


NODES = {"node1": "02:00:c6:33:64:0b", "node2": "02:00:c6:33:64:0c", "node3": "02:00:c6:33:64:0d"}
TOKEN = "s3cr3t-t0ken-value"
KUBECONFIG = {"users": [{"name": "admin", "user": {"token": TOKEN}}]}


@pytest.fixture
def segment(monkeypatch):
    """Run main() against a simulated segment and the lab client's recorded `ip -j` answers."""
    sim = SimSegment({
        "198.51.100.200": [{"mac": NODES["node1"], "delay_ms": 1}],
        "198.51.100.201": [{"mac": NODES["node1"], "delay_ms": 1}, {"mac": NODES["node2"], "delay_ms": 2}],
    })

    class SimVerify(leader_utils.LeaderVerify):
        def __init__(self, params, runner=None, find_binary=None):
            super().__init__(params, runner=ip_runner(), find_binary=lambda name: f"/usr/sbin/{name}",
                             transports={"raw": lambda settings, path: sim}, clock=sim.clock)

    monkeypatch.setattr(leader_verify, "LeaderVerify", SimVerify)
    return sim


run = ModuleRunner(leader_verify)


def test_ok_is_never_changed_and_check_mode_is_the_same(capsys, segment):
    for check in (False, True):
        code, result = run(capsys, {"addresses": ["198.51.100.200"], "nodes": NODES,
                                    "expected": {"198.51.100.200": "node1"}, "_ansible_check_mode": check})[:2]
        assert code == 0, result["msg"]
        assert result["changed"] is False
        assert result["addresses"]["198.51.100.200"]["leader"] == "node1"
        assert result["expected_source"] == "option"
        assert result["prober"] == "sim"


def test_duplicate_fails_naming_vip_macs_and_nodes(capsys, segment):
    code, result = run(capsys, {"addresses": ["198.51.100.201"], "nodes": NODES})[:2]
    assert code == 1 and result["failed"] is True
    assert result["failed_addresses"] == ["198.51.100.201"]
    assert "198.51.100.201: 2 MACs answer: 02:00:c6:33:64:0b (node1), 02:00:c6:33:64:0c (node2)" in result["msg"]
    assert result["addresses"]["198.51.100.201"]["status"] == "duplicate"


def test_fail_on_empty_only_reports(capsys, segment):
    code, result = run(capsys, {"addresses": ["198.51.100.201"], "nodes": NODES, "fail_on": []})[:2]
    assert code == 0
    assert result["addresses"]["198.51.100.201"]["status"] == "duplicate"


def test_bad_input_names_the_option(capsys, segment):
    code, result = run(capsys, {"addresses": ["198.51.100.200"], "nodes": {"node1": "not-a-mac"}})[:2]
    assert code == 1
    assert result["msg"].startswith("nodes: node1: 'not-a-mac' is not a MAC address")


@pytest.mark.parametrize(
    "args, message",
    [
        ({"addresses": ["198.51.100.200"], "wait_for": "change"}, "wait_for is change but all of the following are missing: from_node"),
        ({"addresses": ["198.51.100.200"], "expected": {"198.51.100.200": "node1"}, "service": {"name": "web"}},
         "parameters are mutually exclusive: expected|service"),
        ({"addresses": ["198.51.100.200"], "prober": "busybox"}, "value of prober must be one of: auto, raw, iputils, habets"),
        ({"addresses": ["198.51.100.200"], "fail_on": ["changed"]}, "value of fail_on must be one or more of"),
        ({"nodes": NODES}, "missing required arguments: addresses"),
    ],
)
def test_argument_spec_rules(capsys, segment, args, message):
    code, result = run(capsys, args)[:2]
    assert code == 1
    assert message in result["msg"]


def _fake_lookup(monkeypatch, leader=None, error=None):
    calls = []

    def from_params(params):
        calls.append(dict(params))
        return SimpleNamespace()

    def l2_leader(client, name, namespace, metallb_namespace):
        calls.append((name, namespace, metallb_namespace))
        if error:
            raise error
        return leader

    monkeypatch.setattr(K8sClient, "from_params", staticmethod(from_params))
    monkeypatch.setattr(leader_verify, "l2_leader", l2_leader)
    return calls


def test_expected_node_from_metallb(capsys, segment, monkeypatch):
    calls = _fake_lookup(monkeypatch, L2Leader(node="node2", source="servicel2status", ingress_ips=["198.51.100.200"]))
    code, result, out = run(capsys, {
        "addresses": ["198.51.100.200"], "nodes": NODES, "service": {"name": "web", "namespace": "shop"},
        "kubeconfig": KUBECONFIG, "context": "lab-admin",
    })
    assert code == 1
    assert result["expected_source"] == "servicel2status"
    assert result["addresses"]["198.51.100.200"]["status"] == "unexpected_leader"
    assert "answered by 02:00:c6:33:64:0b (node1); expected node2 to answer" in result["msg"]
    assert calls[0]["kubeconfig"] == KUBECONFIG and calls[0]["context"] == "lab-admin"
    assert calls[1] == ("web", "shop", "metallb-system")
    assert TOKEN not in out  # no_log: the kubeconfig never comes back


def test_service_default_namespace_and_event_source(capsys, segment, monkeypatch):
    calls = _fake_lookup(monkeypatch, L2Leader(node="node1", source="event", ingress_ips=["198.51.100.200"]))
    code, result = run(capsys, {"addresses": ["198.51.100.200"], "nodes": NODES, "service": {"name": "web"},
                                "metallb_namespace": "lb"})[:2]
    assert code == 0, result["msg"]
    assert result["expected_source"] == "event"
    assert calls[1] == ("web", "default", "lb")


def test_address_not_of_the_service(capsys, segment, monkeypatch):
    _fake_lookup(monkeypatch, L2Leader(node="node1", source="servicel2status", ingress_ips=["198.51.100.210"]))
    code, result = run(capsys, {"addresses": ["198.51.100.200"], "nodes": NODES, "service": {"name": "web"}})[:2]
    assert code == 1
    assert result["msg"] == (
        "addresses: 198.51.100.200 not load-balancer IP(s) of Service default/web (its IPs: 198.51.100.210); "
        "check the addresses or the service"
    )


def test_service_without_ip(capsys, segment, monkeypatch):
    _fake_lookup(monkeypatch, L2Leader(node="node1", source="servicel2status", ingress_ips=[]))
    code, result = run(capsys, {"addresses": ["198.51.100.200"], "nodes": NODES, "service": {"name": "web"}})[:2]
    assert code == 1
    assert "has no load-balancer IP yet" in result["msg"]


def test_api_error_is_the_message(capsys, segment, monkeypatch):
    _fake_lookup(monkeypatch, error=K8sError("service: there is no Service default/web", status=404))
    code, result = run(capsys, {"addresses": ["198.51.100.200"], "nodes": NODES, "service": {"name": "web"},
                                "kubeconfig": KUBECONFIG})[:2]
    assert code == 1
    assert result["msg"] == "service: there is no Service default/web"


def test_missing_kubernetes_library(capsys, segment, monkeypatch):
    monkeypatch.setattr(k8s_module, "HAS_KUBERNETES", False)
    code, result = run(capsys, {"addresses": ["198.51.100.200"], "service": {"name": "web"}})[:2]
    assert code == 1
    assert "kubernetes" in result["msg"] and "Python" in result["msg"]


def test_kubeconfig_without_service_is_not_used(capsys, segment, monkeypatch):
    """Set for the whole k8s action group, it must not trigger an API lookup."""
    calls = _fake_lookup(monkeypatch, error=AssertionError("no lookup expected"))
    code, result, out = run(capsys, {"addresses": ["198.51.100.200"], "nodes": NODES, "kubeconfig": KUBECONFIG})
    assert code == 0, result["msg"]
    assert not calls and result["expected_source"] is None
    assert TOKEN not in out
