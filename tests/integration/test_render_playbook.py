# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/render.yml against the example inventories (inventories/examples/l2 and bgp).

No cluster and no host is needed: the pools are validated, the workloads checked and rendered
into a directory. Checked: the files and their Services (policy, affinity, MetalLB annotations,
edge-node placement), a re-run (changed=0), check mode (writes nothing), render_dir's default
(./rendered where ansible-playbook starts), a bad pool (nothing written), and that the example
inventories give the roles variables their argument specs accept.
"""

from __future__ import annotations

import json
import pathlib
import re
import subprocess
import sys

import pytest
import yaml

from metallb_lab.client import PlaybookRun, ansible_env, run_playbook

ROOT = pathlib.Path(__file__).resolve().parents[2]
PLAYBOOK = ROOT / "playbooks" / "render.yml"
EXAMPLES = ROOT / "inventories" / "examples"
BIN = pathlib.Path(sys.executable).parent

EXPECTED = {
    "l2": {
        "default_web-cluster.yaml": ("web-cluster", "Cluster", {"metallb.io/address-pool": "lan-vips"}),
        "default_web-local.yaml": (
            "web-local", "Local", {"metallb.io/address-pool": "lan-vips", "metallb.io/loadBalancerIPs": "198.51.100.210"},
        ),
    },
    "bgp": {
        "default_api-server.yaml": ("api-server", "Cluster", {"metallb.io/address-pool": "production-pool"}),
        "default_api-server-local.yaml": ("api-server-local", "Local", {"metallb.io/address-pool": "production-pool"}),
        "default_stateful-api.yaml": ("stateful-api", "Local", {"metallb.io/address-pool": "production-pool"}),
    },
}


def _render(tmp_path, example: str, *args: str, render_dir: pathlib.Path | None = None, cwd: pathlib.Path = ROOT) -> PlaybookRun:
    # PWD: the playbook takes a relative render_dir from where ansible-playbook started
    variables = {"render_dir": str(render_dir)} if render_dir is not None else None
    return run_playbook(PLAYBOOK, EXAMPLES / example, variables, args=args, expect_failure=None, cwd=cwd,
                        env={"TMPDIR": str(tmp_path), "PWD": str(cwd)})


def _objects(path: pathlib.Path) -> dict:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in yaml.safe_load_all(path.read_text()) if obj}


def _snapshot(render_dir: pathlib.Path) -> dict:
    return {path.name: (path.read_text(), path.stat().st_mtime_ns) for path in sorted(render_dir.iterdir())}


@pytest.fixture(params=sorted(EXPECTED))
def rendered(request, tmp_path):
    render_dir = tmp_path / "out"
    run = _render(tmp_path, request.param, render_dir=render_dir)
    assert run.rc == 0, run.stdout + run.stderr
    return request.param, render_dir, run


def test_render_writes_the_seeds_services(rendered):
    example, render_dir, run = rendered
    assert run.changed == 2  # the directory, and the loop over the files
    assert sorted(path.name for path in render_dir.iterdir()) == sorted(EXPECTED[example])
    for file_name, (name, policy, annotations) in EXPECTED[example].items():
        objects = _objects(render_dir / file_name)
        assert sorted(objects) == [("Deployment", name), ("Service", name)]
        service = objects["Service", name]
        assert service["spec"]["type"] == "LoadBalancer"
        assert service["spec"]["externalTrafficPolicy"] == policy, file_name
        assert service["metadata"]["annotations"] == annotations, file_name
        assert service["metadata"]["namespace"] == "default"


def test_bgp_local_services_stay_on_the_edge_nodes_and_affinity_is_kept(tmp_path):
    render_dir = tmp_path / "out"
    run = _render(tmp_path, "bgp", render_dir=render_dir)
    assert run.rc == 0, run.stdout + run.stderr
    stateful = _objects(render_dir / "default_stateful-api.yaml")
    assert stateful["Service", "stateful-api"]["spec"]["sessionAffinity"] == "ClientIP"
    assert stateful["Service", "stateful-api"]["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    for name in ("api-server-local", "stateful-api"):
        pod = _objects(render_dir / f"default_{name}.yaml")["Deployment", name]["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"node-role": "edge"}, name
    cluster = _objects(render_dir / "default_api-server.yaml")
    assert "nodeSelector" not in cluster["Deployment", "api-server"]["spec"]["template"]["spec"]
    assert "sessionAffinityConfig" not in cluster["Service", "api-server"]["spec"]


def test_findings_and_pools_are_printed(rendered):
    example, dummy, run = rendered
    count = len(EXPECTED[example])
    # With the inventory's cluster facts, the seeds' set-ups give no finding.
    assert f"{count} workload(s) checked: 0 error(s), 0 warning(s), 0 info finding(s)" in run.stdout
    assert "1 pool(s) valid: " + ("31 IPv4" if example == "l2" else "256 IPv4") in run.stdout
    assert f"{count} workload(s) rendered into " in run.stdout


def test_rerun_changes_nothing(tmp_path, rendered):
    example, render_dir, dummy = rendered
    before = _snapshot(render_dir)
    again = _render(tmp_path, example, render_dir=render_dir)
    assert again.rc == 0, again.stdout + again.stderr
    assert again.changed == 0
    assert _snapshot(render_dir) == before


@pytest.mark.parametrize("example", sorted(EXPECTED))
def test_check_mode_writes_nothing(tmp_path, example):
    render_dir = tmp_path / "out"
    run = _render(tmp_path, example, "--check", "--diff", render_dir=render_dir)
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed == 2
    assert not render_dir.exists()


def test_default_render_dir_is_rendered_where_the_run_starts(tmp_path):
    start = tmp_path / "start"
    start.mkdir()
    run = _render(tmp_path, "l2", cwd=start)
    assert run.rc == 0, run.stdout + run.stderr
    assert sorted(path.name for path in (start / "rendered").iterdir()) == sorted(EXPECTED["l2"])
    assert f"rendered into {start}/rendered:" in run.stdout


def test_invalid_pool_stops_before_any_file(tmp_path):
    render_dir = tmp_path / "out"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"metallb_pools": [{"name": "lan-vips", "protocol": "layer2", "addresses": ["198.51.100.5/24"]}]}))
    run = _render(tmp_path, "l2", "-e", f"@{bad}", render_dir=render_dir)
    assert run.rc != 0
    assert "host bits are set" in run.stdout
    assert not render_dir.exists()


VALIDATE = """
- name: The example inventory's values for the roles, against their argument specs
  hosts: "{{ target }}"
  gather_facts: false
  tasks:
    - name: Validate
      ansible.builtin.validate_argument_spec:
        argument_spec: "{{ (lookup('ansible.builtin.file', spec_file) | from_yaml).argument_specs.main.options }}"
"""


@pytest.mark.parametrize(
    "example, target, role",
    [("l2", "localhost", "lb_workload"), ("bgp", "localhost", "lb_workload"), ("bgp", "routers", "bgp_router")],
)
def test_inventory_values_pass_the_roles_argument_specs(tmp_path, example, target, role):
    playbook = tmp_path / "validate.yml"
    playbook.write_text(VALIDATE)
    extra = {"target": target, "spec_file": str(ROOT / "roles" / role / "meta" / "argument_specs.yml")}
    run = run_playbook(playbook, EXAMPLES / example, extra, expect_failure=None, env={"TMPDIR": str(tmp_path)})
    assert run.rc == 0, run.stdout + run.stderr
    assert re.search(r"(localhost|router)\s+:\s+ok=1\s+changed=0\s+unreachable=0\s+failed=0", run.stdout), run.stdout


def test_bgp_router_values_of_the_bgp_example(tmp_path):
    command = [str(BIN / "ansible"), "-i", str(EXAMPLES / "bgp"), "router", "-m", "ansible.builtin.debug",
               "-a", "msg={{ [bgp_router_asn, bgp_router_node_asn, bgp_router_router_id, groups[bgp_router_neighbor_group]] | to_json }}"]
    run = subprocess.run(command, cwd=ROOT, env={**ansible_env(), "TMPDIR": str(tmp_path)}, capture_output=True, text=True, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    # Integers (not strings), so that the role's int options take them as they are.
    assert """msg: '[64501, 64500, "198.51.100.1", ["node1", "node2", "node3"]]'""" in run.stdout, run.stdout
