# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role checks all of its input before it contacts a cluster or a router (issue 15, item 5).

No lab is needed: the kubeconfig points at a closed local port and the router is an SSH host
on a closed local port, so a task that reached for either would fail as unreachable. For each
role, bad input must fail the run with the variable named, and every task that ran must be a
task of the role's validation files (tasks/validate.yml, and what it imports), nothing else.
site.yml's validation stage (`--tags validate`) must catch the same errors before anything else.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from metallb_lab.client import run_playbook

REPO = Path(__file__).resolve().parents[2]
PLAYBOOK = REPO / "tests/integration/targets/input_first/playbook.yml"
# The auto-inserted argument spec check of a role's entry point is a validation step too.
SPEC_CHECK = "Validating arguments against arg spec"

POOLS = [{"name": "lan-vips", "protocol": "layer2", "addresses": ["198.51.100.200-198.51.100.230"]},
         {"name": "production-pool", "protocol": "bgp", "addresses": ["203.0.113.0/24"]}]
WORKLOAD = {"name": "web", "namespace": "demo", "image": "registry.example/web:1",
            "ports": [{"name": "http", "port": 80, "target_port": 8080}], "address_pool": "lan-vips"}


def validation_task_names(role: str) -> set[str]:
    """The names of the tasks in the role's validation files (validate.yml and the files it imports)."""
    names, todo, seen = set(), ["validate.yml"], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for task in yaml.safe_load((REPO / "roles" / role / "tasks" / name).read_text()) or []:
            names.add(task["name"])
            for key in ("ansible.builtin.import_tasks", "ansible.builtin.include_tasks"):
                if key in task:
                    todo.append(task[key])
    return names


@pytest.fixture(scope="module")
def unreachable(tmp_path_factory):
    """An inventory whose router and cluster cannot be reached (closed ports on this machine)."""
    base = tmp_path_factory.mktemp("input-first")
    kubeconfig = base / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "closed",
        "clusters": [{"name": "closed", "cluster": {"server": "https://127.0.0.1:9", "insecure-skip-tls-verify": True}}],
        "users": [{"name": "closed", "user": {"token": "not-a-secret"}}],
        "contexts": [{"name": "closed", "context": {"cluster": "closed", "user": "closed"}}]}))
    # The lab's addresses, but ssh's ProxyCommand fails at once: a task that connected would be
    # unreachable, and no packet leaves this machine.
    closed_ssh = {"ansible_connection": "ssh", "ansible_ssh_common_args": "-o ProxyCommand=false"}
    inventory = base / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {"children": {
        # lab_address: every host of the lab's inventory has it (bgp_router_router_id in inventories/lab)
        "routers": {"hosts": {"router": {**closed_ssh, "ansible_host": "198.51.100.1", "lab_address": "198.51.100.1"}}},
        "k8s_nodes": {"hosts": {f"node{i}": {**closed_ssh, "ansible_host": f"198.51.100.1{i}", "lab_address": f"198.51.100.1{i}"}
                                for i in (1, 2, 3)}},
    }}}))
    manifests = base / "manifests"
    manifests.mkdir()
    for mode in ("native", "frr", "frr-k8s"):  # the lab inventory picks the one of metallb_bgp_mode
        (manifests / f"metallb-{mode}.yaml").write_text("# not read: validation only checks that the file exists\n")
    return {"inventory": inventory, "kubeconfig": str(kubeconfig), "manifests": str(manifests)}


def role_vars(role: str, kubeconfig: str) -> dict:
    """Valid variables for each role; a case spoils one of them."""
    return {
        "bgp_router": {"bgp_router_asn": 64501, "bgp_router_router_id": "198.51.100.1", "bgp_router_node_asn": 64500,
                       "bgp_router_neighbors": [{"address": "198.51.100.11"}], "bgp_router_pools": POOLS},
        "edge_nodes": {"edge_nodes_names": ["node1", "node3"], "edge_nodes_kubeconfig": kubeconfig},
        "lb_workload": {"lb_workload_apply": True, "lb_workload_pools": POOLS, "lb_workload_workloads": [WORKLOAD],
                        "lb_workload_kubeconfig": kubeconfig},
        "metallb_install": {"metallb_install_version": "v0.16.1", "metallb_install_kubeconfig": kubeconfig},
        "metallb_config": {"metallb_config_pools": [{"name": "lan-vips", "addresses": ["198.51.100.200-198.51.100.230"]}],
                           "metallb_config_kubeconfig": kubeconfig},
        "lb_verify": {"lb_verify_kubeconfig": kubeconfig},
    }[role]


def _workload(**changes) -> dict:
    return {**WORKLOAD, **changes}


# role, the variables that spoil the input, the text the failure must show (the variable named)
CASES = [
    ("bgp_router", {"bgp_router_neighbors": [{"address": "198.51.100.1"}]},
     ["bgp_router_neighbors[0] is 198.51.100.1, the router's own address (bgp_router_router_id", "remove bgp_router_neighbors[0]"]),
    ("bgp_router", {"bgp_router_keepalive": "often"}, ["bgp_router_keepalive"]),
    ("bgp_router", {"bgp_router_hold_time": 2}, ["bgp_router_hold_time is 2"]),
    ("edge_nodes", {"edge_nodes_label": {"Node Role!": "edge"}}, ["edge_nodes_label", "Node Role!"]),
    ("edge_nodes", {"edge_nodes_names": ["Node_1"]}, ["edge_nodes_names[0]"]),
    ("lb_workload", {"lb_workload_workloads": [_workload(ports=[{"name": "http", "port": 70000}])]},
     ["lb_workload_workloads[0]", "70000"]),
    ("lb_workload", {"lb_workload_workloads": [WORKLOAD, WORKLOAD]}, ["lb_workload_workloads[1]", "web"]),
    ("lb_workload", {"lb_workload_workloads": [_workload(namespace="Demo")]}, ["lb_workload_workloads[0]", "Demo"]),
    ("lb_workload", {"lb_workload_wait_timeout": "a while"}, ["lb_workload_wait_timeout"]),
    ("metallb_install", {"metallb_install_version": "0.16"}, ["metallb_install_version"]),
    ("metallb_install", {"metallb_install_wait": "perhaps"}, ["metallb_install_wait"]),
    ("metallb_config", {"metallb_config_pools": [{"name": "lan-vips", "addresses": ["198.51.100.5/24"]}]},
     ["metallb_config_pools", "198.51.100.5/24"]),
    ("metallb_config", {"metallb_config_prune": "sometimes"}, ["metallb_config_prune"]),
    ("lb_verify", {"lb_verify_bgp_timeout": "soon"}, ["lb_verify_bgp_timeout"]),
]


@pytest.mark.parametrize(("role", "bad", "expected"), CASES,
                         ids=[f"{case[0]}-{next(iter(case[1]))}-{index}" for index, case in enumerate(CASES)])
def test_bad_input_stops_the_role_before_any_contact(unreachable, role, bad, expected):
    hosts = "routers" if role == "bgp_router" else "localhost"
    run = run_playbook(PLAYBOOK, unreachable["inventory"],
                       {**role_vars(role, unreachable["kubeconfig"]), **bad, "input_first_role": role,
                        "input_first_hosts": hosts}, expect_failure=True, timeout=300)
    out = run.stdout
    for text in expected:
        assert text in out, out
    assert "UNREACHABLE" not in out and "127.0.0.1:9" not in out and "ProxyCommand" not in out, out
    ran = re.findall(rf"^TASK \[baremetal\.metallb\.{role} : (.+?)\] \*+$", out, re.M)
    allowed = validation_task_names(role)
    assert ran, out
    assert [task for task in ran if task not in allowed and not task.startswith(SPEC_CHECK)] == [], out


def test_valid_input_reaches_the_cluster_only_after_the_checks(unreachable):
    """The control: with valid input the same run gets past validation and fails on the closed port."""
    run = run_playbook(PLAYBOOK, unreachable["inventory"],
                       {**role_vars("lb_workload", unreachable["kubeconfig"]), "input_first_role": "lb_workload",
                        "input_first_hosts": "localhost"}, expect_failure=True, timeout=300)
    assert "Read what the policy check needs from the cluster" in run.stdout
    assert "invalid input" not in run.stdout


def site_validate(unreachable, extra: dict):
    lab_vars = {"lab_router_address": "198.51.100.1", "lab_segment": "198.51.100.0/24",
                "lab_kubeconfig": unreachable["kubeconfig"], "lab_metallb_version": "v0.16.1",
                "lab_metallb_manifests": unreachable["manifests"]}
    return run_playbook("playbooks/site.yml", None,
                        {**lab_vars, **extra}, expect_failure=None, timeout=300,
                        args=("-i", str(unreachable["inventory"]), "-i", str(REPO / "inventories/lab/metallb.yml"),
                              "--tags", "validate"))


def test_site_validate_tag_alone_is_clean_for_the_lab_inventory(unreachable):
    run = site_validate(unreachable, {})
    # Nothing reached the cluster or the router; every role's input was checked.
    assert run.rc == 0, run
    assert "UNREACHABLE" not in run.stdout
    for role in ("bgp_router", "metallb_install", "metallb_config", "edge_nodes", "lb_workload", "lb_verify"):
        assert f"baremetal.metallb.{role} : Validate and convert the inputs" in run.stdout, role
    # A role's checks on a host where they are skipped (metallb_install's on the router) template
    # nothing of its inputs: a keyword that did showed as "Invalid no_log value".
    assert "Invalid no_log value" not in run.stdout + run.stderr, run.stdout + run.stderr


BFD_PEER = {
    "metallb_config_bgp_peers": [
        {"name": "router", "my_asn": 64500, "peer_asn": 64501, "peer_address": "198.51.100.1", "bfd_profile": "fast"}],
    "metallb_config_bfd_profiles": [{"name": "fast", "receive_interval": 100, "transmit_interval": 100}],
}


@pytest.mark.parametrize("mode, bfd, extra, needle", [
    ("native", "true", {}, "bgp_router_bfd is true but bgp_router_metallb_mode is native (metallb_bgp_mode in site.yml)"),
    (" FRR-K8s ", "true", BFD_PEER, None),
    ("frr-k8s", "true", {}, "bgp_router_bfd is true but metallb_config_bgp_peers[0] (peer_address 198.51.100.1) has no bfd_profile"),
    ("frr-k8s", "false", BFD_PEER, "metallb_config_bgp_peers[0] (peer_address 198.51.100.1) has bfd_profile but bgp_router_bfd is false"),
    ("native", "false", {}, None),
], ids=["native_refuses_bfd", "frr_k8s_bfd_on_both_sides", "frr_k8s_bfd_on_the_router_only", "frr_k8s_bfd_on_metallb_only",
        "native_without_bfd"])
def test_site_validate_decides_bfd_by_metallb_bgp_mode(unreachable, mode, bfd, extra, needle):
    """One setting (metallb_bgp_mode, AWX-style strings) decides for both sides: BFD on the router toward MetalLB's
    native speakers is refused in the validation stage, naming both variables, before the router is touched; in an
    FRR-based mode BFD must be on both sides (the router and MetalLB's BGPPeer toward it) or neither."""
    run = site_validate(unreachable, {"metallb_bgp_mode": mode, "bgp_router_bfd": bfd, **extra})
    refused = needle is not None
    if refused:
        assert needle in run.stdout, run.stdout
    else:
        assert "bgp_router: invalid input" not in run.stdout, run.stdout
    # refused: the stage stops every host (the cluster side too); otherwise the run gets past it
    assert ("Check the pools against each other" not in run.stdout) is refused, run.stdout
    if refused:
        assert run.rc != 0 and "invalid input on router" in run.stdout, run.stdout
        assert "Configure the upstream router" not in run.stdout, run.stdout
    else:
        # past the validation stage, the later plays' headers print (--tags validate), but none of their tasks runs
        assert run.rc == 0, run.stdout
    assert "UNREACHABLE" not in run.stdout, run.stdout


def test_site_validate_tag_catches_a_bad_port_and_a_bad_router_option_in_one_run(unreachable):
    with (REPO / "inventories/lab/metallb.yml").open() as handle:
        workloads = yaml.safe_load(handle)["all"]["vars"]["metallb_workloads"]
    workloads[0]["ports"][0]["port"] = 70000
    run = site_validate(unreachable, {"metallb_workloads": workloads, "bgp_router_hold_time": 2})
    assert run.rc != 0
    assert "lb_workload_workloads[0]" in run.stdout and "70000" in run.stdout, run.stdout
    assert "bgp_router_hold_time is 2" in run.stdout, run.stdout
    assert "UNREACHABLE" not in run.stdout
    # the stage ran nothing else: no play after it started
    assert "Install and configure MetalLB" not in run.stdout and "Configure the upstream router" not in run.stdout
    assert json.dumps(run.stdout).count("fatal:") >= 2


def test_no_secret_in_verbose_output_of_the_checks(unreachable):
    """role_inputs returns the converted passwords for the role to use: never displayed, even with -vvv."""
    secrets = ("Glob-S3cret-abc", "Nbr-S3cret-xyz")
    run = run_playbook(PLAYBOOK, unreachable["inventory"],
                       {**role_vars("bgp_router", unreachable["kubeconfig"]), "input_first_role": "bgp_router",
                        "input_first_hosts": "routers", "bgp_router_password": secrets[0], "bgp_router_hold_time": 2,
                        "bgp_router_neighbors": [{"address": "198.51.100.11", "password": secrets[1]}]},
                       expect_failure=True, timeout=300, args=("-vvv",))
    assert "Validate and convert the inputs" in run.stdout and "bgp_router_hold_time is 2" in run.stdout
    for secret in secrets:
        assert secret not in run.stdout + run.stderr
