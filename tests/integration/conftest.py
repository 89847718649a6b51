# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared fixtures for the integration tests, on the lab client (lab/metallb_lab/client.py).

``lab``               one network-namespace lab for the whole pytest session (see lab/README.md)
``ansible_playbook``  run ansible-playbook from the repo's venv and read its PLAY RECAP
                      (``client.run_playbook``)

This file puts the repo's ``lab/`` directory on ``sys.path``, so test modules import
``metallb_lab.client`` directly; a module that needs a lab of its own builds one with
``LabClient.fresh(unique_name(BASE))``.

The session lab is named ``t<pid>`` so a test session never touches the developer's own
lab (``mlb``) or another session's, and it is torn down at the end even when tests fail.
Environment:

  METALLB_LAB_REUSE=NAME   use (and, if needed, start) lab NAME and leave it running
                           afterwards: fast edit-test loops. ``1`` means the default lab.
  METALLB_LAB_NODES=N      node hosts in the session lab (default 3)
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lab"))

from metallb_lab.client import LabClient, run_playbook, unique_name  # noqa: E402

# Test modules that need no lab: no network namespaces and nothing `make lab-build` makes.
# `make integration` runs them first (`make integration-no-lab`: `-m no_lab`, without lab-build),
# then the rest (`-m "not no_lab"`). A listed module that asks for a lab fixture is a usage error.
NO_LAB = {
    "test_awx_configure.py", "test_docs.py", "test_execution_environment.py", "test_input_first.py",
    "test_lb_workload_render.py", "test_pool_validate.py", "test_render_playbook.py", "test_report_mermaid.py",
    "cluster/test_supervisor_logic.py", "cluster/test_frr_pods_logic.py", "lab/test_lab_plan.py",
}
LAB_FIXTURES = {"lab", "kube_lab"}


def pytest_configure(config):
    config.addinivalue_line("markers", "no_lab: needs no lab and nothing lab-build makes (conftest.NO_LAB)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).resolve().parent
    for item in items:
        if Path(item.path).resolve().relative_to(here).as_posix() not in NO_LAB:
            continue
        used = sorted(LAB_FIXTURES & set(item.fixturenames))
        if used:
            raise pytest.UsageError(f"{item.nodeid} uses {', '.join(used)} but its module is in conftest.NO_LAB")
        item.add_marker(pytest.mark.no_lab)


@pytest.fixture(scope="session")
def lab():
    if os.geteuid() != 0:
        pytest.fail("the integration tests need root: the lab is built from network namespaces")
    reuse = os.environ.get("METALLB_LAB_REUSE", "")
    if reuse:
        name = os.environ.get("METALLB_LAB_NAME", "mlb") if reuse.lower() in ("1", "yes", "true") else reuse
        yield LabClient.up(name)  # starts it if needed, repairs it if damaged
        return
    with LabClient.fresh(unique_name("t"), nodes=int(os.environ.get("METALLB_LAB_NODES", "3"))) as session_lab:
        yield session_lab


@pytest.fixture(scope="session")
def ansible_playbook():
    """``run(playbook, inventory, extra_vars=None, *, check=False, diff=False, limit=None, args=(),
    expect_failure=False) -> PlaybookRun``.

    Fails the test when the run fails (or, with ``expect_failure``, when it succeeds). The
    recap counts are parsed, so a test asserts idempotence with ``run.changed == 0``.
    """
    return run_playbook


@pytest.fixture(scope="module")
def kube_lab(request):
    """A lab with the Kubernetes control plane (``clusterctl up``) for one test module, torn
    down after it. The module may set ``KUBE_LAB = {"base": "xyz", "nodes": 3, "metallb": True, "routers": 2}``
    (``metallb``: install MetalLB's release manifest and wait for the real processes).

    Yields ``{"lab": LabClient, "name": str, "kubeconfig": Path, "api": kubernetes ApiClient}``."""
    import subprocess  # noqa: PLC0415 (only the cluster tests need it)

    from kubernetes import config as k8s_config  # noqa: PLC0415

    opts = {"base": "kl", "nodes": 3, "metallb": False, **getattr(request.module, "KUBE_LAB", {})}
    clusterctl = [sys.executable, str(Path(__file__).resolve().parents[2] / "lab" / "clusterctl.py")]
    name = os.environ.get("KUBE_LAB_NAME") or unique_name(opts["base"])  # KUBE_LAB_NAME: one name, for debugging
    lab = LabClient.fresh(name, nodes=opts["nodes"], routers=opts.get("routers"))  # routers: 2+ for the routed layout
    try:
        steps = [["up", "--name", name]] + ([["metallb", "--name", name]] if opts["metallb"] else [])
        for step in steps:
            done = subprocess.run([*clusterctl, *step], capture_output=True, text=True, timeout=900, check=False)
            if done.returncode != 0:
                pytest.fail(f"clusterctl {' '.join(step)} failed:\n{done.stdout}\n{done.stderr}")
        kubeconfig = lab.inventory / ".kubeconfig"
        yield {"lab": lab, "name": name, "kubeconfig": kubeconfig,
               "api": k8s_config.new_client_from_config(config_file=str(kubeconfig))}
    finally:
        subprocess.run([*clusterctl, "down", "--name", name], capture_output=True, check=False)
        lab.down()
