# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""lb_workload in render mode through ansible-playbook, as GitOps users run it.

Renders the seeds' workloads (targets/lb_workload_render/seeds.yml) into a
temporary directory and checks the files between runs: create, re-run
(changed=0), a change (one file, shown by --diff), check mode (reports, writes
nothing), a removed workload (its file goes, foreign files stay), and bad
input (fails naming the variable, before any file is written).
"""

from __future__ import annotations

import pathlib
import re

import pytest
import yaml

from metallb_lab.client import PlaybookRun, run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[2]
TARGET = ROOT / "tests" / "integration" / "targets" / "lb_workload_render"
SEEDS = yaml.safe_load((TARGET / "seeds.yml").read_text())
FILES = ["demo_api-server.yaml", "demo_stateful-api.yaml", "demo_web-cluster.yaml", "demo_web-local.yaml"]


def _playbook(tmp_path: pathlib.Path, render_dir: pathlib.Path | None, *args: str, extra: dict | None = None) -> PlaybookRun:
    # TMPDIR: kubernetes.core's discovery cache stays in the test's directory.
    variables = {"lb_workload_render_dir": str(render_dir or ""), **(extra or {})}
    return run_playbook(TARGET / "playbook.yml", None, variables, args=args, expect_failure=None,
                        env={"TMPDIR": str(tmp_path)})


def _objects(path: pathlib.Path) -> dict:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in yaml.safe_load_all(path.read_text()) if obj}


def _snapshot(render_dir: pathlib.Path) -> dict:
    return {path.name: (path.read_text(), path.stat().st_mtime_ns) for path in sorted(render_dir.iterdir())}


def _with_replicas(name: str, replicas: int) -> dict:
    workloads = [dict(w, replicas=replicas) if w["name"] == name else w for w in SEEDS["lb_workload_workloads"]]
    return {"lb_workload_workloads": workloads}


@pytest.fixture
def rendered(tmp_path):
    """The seeds rendered once into a fresh directory."""
    render_dir = tmp_path / "manifests"
    run = _playbook(tmp_path, render_dir)
    assert run.rc == 0, run.stdout + run.stderr
    return render_dir, run


def test_create_writes_one_file_per_workload(rendered):
    render_dir, run = rendered
    assert run.changed == 2  # the directory, and the loop over the files
    assert sorted(path.name for path in render_dir.iterdir()) == FILES

    web = _objects(render_dir / "demo_web-local.yaml")
    deployment, service = web["Deployment", "web-local"], web["Service", "web-local"]
    assert deployment["spec"]["replicas"] == 3
    spread = deployment["spec"]["template"]["spec"]["topologySpreadConstraints"][0]
    assert (spread["maxSkew"], spread["topologyKey"], spread["whenUnsatisfiable"]) == (1, "kubernetes.io/hostname", "DoNotSchedule")
    assert service["spec"]["externalTrafficPolicy"] == "Local"
    assert service["metadata"]["annotations"] == {"metallb.io/address-pool": "lan-vips", "metallb.io/loadBalancerIPs": "198.51.100.210"}

    stateful = _objects(render_dir / "demo_stateful-api.yaml")["Service", "stateful-api"]
    assert stateful["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    assert _objects(render_dir / "demo_api-server.yaml")["Service", "api-server"]["spec"]["externalTrafficPolicy"] == "Cluster"
    for name in FILES:
        assert (render_dir / name).read_text().startswith("# Managed by baremetal.metallb.lb_workload")
        assert oct((render_dir / name).stat().st_mode & 0o777) == "0o644"


def test_findings_are_printed_with_reason_and_fix(rendered):
    dummy, run = rendered
    assert "4 workload(s) checked: 0 error(s), 0 warning(s), 2 info finding(s)" in run.stdout
    # Without cluster facts the node rules say what they could not evaluate.
    assert "[info] context_missing (cluster.nodes): cluster.nodes is not known" in run.stdout


def test_rerun_is_unchanged(tmp_path, rendered):
    render_dir, dummy = rendered
    before = _snapshot(render_dir)
    again = _playbook(tmp_path, render_dir)
    assert again.rc == 0, again.stdout + again.stderr
    assert again.changed == 0
    assert _snapshot(render_dir) == before


def test_changing_replicas_changes_one_file_and_the_diff_shows_it(tmp_path, rendered):
    render_dir, dummy = rendered
    before = _snapshot(render_dir)
    run = _playbook(tmp_path, render_dir, "--diff", extra=_with_replicas("web-local", 5))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed == 1
    assert "-  replicas: 3\n+  replicas: 5" in run.stdout
    assert "changed: [localhost] => (item=demo/web-local)" in run.stdout
    after = _snapshot(render_dir)
    assert [name for name in FILES if after[name] != before[name]] == ["demo_web-local.yaml"]
    assert _objects(render_dir / "demo_web-local.yaml")["Deployment", "web-local"]["spec"]["replicas"] == 5


def test_check_mode_reports_the_change_without_writing(tmp_path, rendered):
    render_dir, dummy = rendered
    before = _snapshot(render_dir)
    run = _playbook(tmp_path, render_dir, "--check", "--diff", extra=_with_replicas("api-server", 1))
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed == 1
    assert "-  replicas: 3\n+  replicas: 1" in run.stdout
    assert _snapshot(render_dir) == before


def test_check_mode_on_a_fresh_directory_creates_nothing(tmp_path):
    render_dir = tmp_path / "not-yet"
    run = _playbook(tmp_path, render_dir, "--check")
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed == 2
    assert not render_dir.exists()


def test_removed_workload_loses_its_file_and_foreign_files_stay(tmp_path, rendered):
    render_dir, dummy = rendered
    (render_dir / "kustomization.yaml").write_text("resources: []\n")
    (render_dir / "other.yaml").write_text("# hand-written\napiVersion: v1\nkind: ConfigMap\n")
    workloads = [w for w in SEEDS["lb_workload_workloads"] if w["name"] != "web-cluster"]
    run = _playbook(tmp_path, render_dir, "--diff", extra={"lb_workload_workloads": workloads})
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed == 1
    assert "state: absent" in run.stdout
    names = sorted(path.name for path in render_dir.iterdir())
    assert names == sorted([name for name in FILES if name != "demo_web-cluster.yaml"] + ["kustomization.yaml", "other.yaml"])

    # Removing the last workloads empties the directory of our files only.
    run = _playbook(tmp_path, render_dir, extra={"lb_workload_workloads": []})
    assert run.rc == 0, run.stdout + run.stderr
    assert sorted(path.name for path in render_dir.iterdir()) == ["kustomization.yaml", "other.yaml"]


BAD_WORKLOAD = {
    "name": "web",
    "namespace": "demo",
    "image": "nginx:1.27",
    "replicas": -1,
    "ports": [{"name": "http", "port": 70000}],
    "pod_labels": {"bad key!": "x"},
    "address_pool": "lan-vips",
    "load_balancer_ips": ["203.0.113.5"],
}


@pytest.mark.parametrize(
    "extra, texts",
    [
        pytest.param(
            {"lb_workload_workloads": [BAD_WORKLOAD, dict(BAD_WORKLOAD, replicas=1, ports=[{"port": 80}], pod_labels={}, load_balancer_ips=[])]},
            [
                "lb_workload_workloads[0].replicas (demo/web) is -1: replicas must be 0 or more",
                "lb_workload_workloads[0].ports[0].port (demo/web) is 70000: a port must be between 1 and 65535",
                "lb_workload_workloads[0].pod_labels['bad key!'] (demo/web) is not a valid label key",
                "lb_workload_workloads[0].load_balancer_ips[0] (demo/web) is 203.0.113.5, which pool 'lan-vips' does not hold",
                "lb_workload_workloads[1].name (demo/web) 'web' is already used in namespace 'demo' by lb_workload_workloads[0]",
            ],
            id="workload_cross_field_errors",
        ),
        pytest.param(
            {"lb_workload_workloads": [dict(BAD_WORKLOAD, replicas=1, ports=[{"port": 80}], external_traffic_policy="local")]},
            ["value of external_traffic_policy must be one of: Cluster, Local, got: local found in lb_workload_workloads"],
            id="unknown_policy_value",
        ),
        pytest.param(
            {"lb_workload_pools": [{"name": "lan-vips", "addresses": ["198.51.100.5/24"]}]},
            ["lb_workload_pools: pool 'lan-vips' entry '198.51.100.5/24': host bits are set"],
            id="invalid_pool",
        ),
        pytest.param(
            {"lb_workload_cluster": {"bgp_peers": [{"name": "upstream", "address": "198.51.100.1", "password": "Sw0rdfish-x", "password_secret": "bgp"}]}},
            ["lb_workload_cluster.bgp_peers[0] (peer upstream) sets both password and password_secret"],
            id="bgp_peer_password_and_secret",
        ),
        pytest.param(
            {"lb_workload_fail_on": ["error", "warnings"]},
            ["lb_workload_fail_on[1] is 'warnings': use a severity (error, warning, info) or a rule id"],
            id="unknown_fail_on",
        ),
    ],
)
def test_bad_input_fails_naming_the_variable_before_any_file(tmp_path, extra, texts):
    render_dir = tmp_path / "manifests"
    run = _playbook(tmp_path, render_dir, extra=extra)
    output = run.stdout + run.stderr
    assert run.rc != 0
    assert run.changed == 0
    flat = re.sub(r"\s+", " ", output)
    for text in texts:
        assert text in flat, output
    assert "Sw0rdfish-x" not in output
    assert not render_dir.exists()


def test_fatal_findings_stop_before_any_file(tmp_path):
    render_dir = tmp_path / "manifests"
    extra = {
        "lb_workload_fail_on": ["error", "l2_local_fewer_replicas_than_nodes"],
        "lb_workload_cluster": {
            "nodes": [{"name": f"node{index}"} for index in (1, 2, 3, 4)],
            "l2_advertisements": [{"name": "all"}],
            "bgp_advertisements": [{"name": "all"}],
            "kube_proxy": {"mode": "ipvs", "strict_arp": True},
        },
    }
    run = _playbook(tmp_path, render_dir, extra=extra)
    assert run.rc != 0
    flat = re.sub(r"\s+", " ", run.stdout)
    assert "[warning] l2_local_fewer_replicas_than_nodes (demo/web-local): In layer2 mode with Local" in flat
    assert "lb_workload: 1 finding(s) match lb_workload_fail_on (error, l2_local_fewer_replicas_than_nodes); nothing was rendered or applied" in flat
    assert "Fix: Set replicas to at least 4 with topology_spread" in flat
    assert not render_dir.exists()
