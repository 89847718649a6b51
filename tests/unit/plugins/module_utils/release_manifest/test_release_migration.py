# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""release_manifest.migration: the BGP mode a speaker runs, the order of a mode switch (frr-k8s
first), and the router features refused in the switching run. Cases in test_release_migration.yaml."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest import migration
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)


def objects(spec: dict) -> list[dict]:
    """{"DaemonSet/speaker": METALLB_BGP_TYPE or ""} as the API server returns them (a sidecar beside)."""
    out = []
    for where, bgp_type in spec.items():
        kind, name = where.split("/")
        main = {"name": "speaker" if name == "speaker" else "controller", "image": f"quay.io/metallb/{name}:v0.16.1",
                "env": [{"name": "METALLB_NODE_NAME", "valueFrom": {}}]
                + ([{"name": "METALLB_BGP_TYPE", "value": bgp_type}] if bgp_type else [])}
        out.append({"kind": kind, "metadata": {"name": name, "namespace": "metallb-system"},
                    "spec": {"template": {"spec": {"containers": [{"name": "frr", "image": "frr:10"}, main]}}}})
    return out


def names(objs: list[dict]) -> list[str]:
    return [f"{o['kind']}/{o['metadata']['name']}" for o in objs]


def words_match(lines: list[str], words: list[list[str]]) -> None:
    assert len(lines) == len(words), lines
    for line, want in zip(lines, words):
        assert all(word in line for word in want), (line, want)


@parametrize_cases(DATA["speaker_mode"])
def test_speaker_mode(case):
    assert migration.speaker_mode(objects(case["objects"])) == case["mode"]


@parametrize_cases(DATA["plan"])
def test_plan(case):
    got = migration.plan(objects(case["running"]), objects(case["release"]))
    assert got["migration"] == case["migration"]
    assert names(got["first"]) == case["first"]
    assert [w["kind"] for w in got["first_waits"]] == case.get("waits", [])
    words_match(got["lines"], case["lines"])


@parametrize_cases(DATA["router_problems"])
def test_router_problems(case):
    words_match(migration.router_problems(*case["args"]), case["problems"])
