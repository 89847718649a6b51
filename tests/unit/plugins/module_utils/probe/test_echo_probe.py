# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""echo_probe: counting answers from a fake echo backend, and the policies' promises."""

from __future__ import annotations

import itertools
import json

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.probe.echo_probe import expectations, probe

CLIENT = "198.51.100.100"


class FakeConnection:
    """Answers from a cycle of (pod, node, source) tuples; None raises a connection error."""

    def __init__(self, answers):
        self._answers = answers

    def __call__(self, address, port, timeout):
        self.answer = next(self._answers)
        self.sock = type("S", (), {"getsockname": lambda s: (CLIENT, 40000)})()
        return self

    def request(self, method, path, headers=None):
        if self.answer is None:
            raise ConnectionRefusedError("refused")

    def getresponse(self):
        pod, node, source = self.answer
        body = json.dumps({"pod": pod, "node": node, "source": source}).encode()
        return type("R", (), {"read": lambda s: body})()

    def close(self):
        pass


def run(answers, count=6):
    return probe("198.51.100.210", 80, count, connect=FakeConnection(itertools.cycle(answers)))


def test_counts_pods_nodes_and_sources():
    result = run([("demo/a", "node1", "198.51.100.11"), ("demo/b", "node2", "198.51.100.11")])
    assert result["answered"] == 6 and result["by_pod"] == {"demo/a": 3, "demo/b": 3}
    assert result["by_node"] == {"node1": 3, "node2": 3} and result["sources"] == {"198.51.100.11": 6}
    assert result["client_ip_preserved"] is False and result["client_addresses"] == {CLIENT: 6}


def test_errors_are_counted_not_fatal():
    result = run([("demo/a", "node1", CLIENT), None])
    assert result["answered"] == 3 and len(result["errors"]) == 3 and "refused" in result["errors"][0]
    assert result["client_ip_preserved"] is True


@pytest.mark.parametrize("policy, affinity, answers, announcing, problem", [
    ("Cluster", "None", [("demo/a", "node1", "198.51.100.11"), ("demo/b", "node2", "198.51.100.11")], ["node1"], None),
    ("Cluster", "None", [("demo/a", "node1", CLIENT)], ["node1"], "expected SNAT"),
    ("Local", "None", [("demo/a", "node2", CLIENT)], ["node2"], None),
    ("Local", "None", [("demo/a", "node2", CLIENT), ("demo/c", "node3", CLIENT)], ["node2"], "node3 answered"),
    ("Local", "None", [("demo/a", "node2", "198.51.100.12")], ["node2"], "instead of the client's address"),
    ("Cluster", "ClientIP", [("demo/a", "node1", "198.51.100.11"), ("demo/b", "node2", "198.51.100.11")], [], "2 pods answered"),
    ("Cluster", "ClientIP", [("demo/a", "node1", "198.51.100.11")], [], None),
    # BGP, ECMP over two nodes: affinity holds per node, so two pods for one client are fine, three are not
    ("Local", "ClientIP", [("demo/a", "node1", CLIENT), ("demo/b", "node3", CLIENT)], ["node1", "node3"], None),
    ("Local", "ClientIP", [("demo/a", "node1", CLIENT), ("demo/b", "node3", CLIENT), ("demo/c", "node3", CLIENT)],
     ["node1", "node3"], "3 pods answered one client (at most 2"),
    ("Cluster", "None", [None], [], "no answer to 6 request(s)"),
])
def test_expectations(policy, affinity, answers, announcing, problem):
    problems = expectations(policy, affinity, announcing, ["node1", "node2", "node3"], run(answers))
    assert (problem is None and problems == []) or any(problem in p for p in problems), problems


def test_answers_from_a_node_without_endpoint_are_reported():
    problems = expectations("Cluster", "None", [], ["node1"], run([("demo/a", "node2", "198.51.100.12")]))
    assert problems == ["answers from node2, which have no ready endpoint"]
