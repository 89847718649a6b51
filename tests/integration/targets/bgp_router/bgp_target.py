# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""This target's playbooks on a lab, through the lab client (lab/metallb_lab/client.py).

apply.yml (the role, with the lab's facts as inputs) and verify.yml (bgp_verify) save
their module's result to the file named by ``bgp_result_file``; these read it back.
Used by test_bgp_router.py, test_bgp_convergence.py and bench/bgp_convergence.py.
"""
from __future__ import annotations

from pathlib import Path

TARGET = Path(__file__).resolve().parent
RESULT_VAR = "bgp_result_file"


def apply(lab, *args: str, **extra_vars):
    """The role with ``extra_vars``: the run, whatever its outcome (the caller judges it), and
    frr_config's result (None when the play failed before it)."""
    return lab.playbook_result(TARGET / "apply.yml", RESULT_VAR, extra_vars, args=args, expect_failure=None)


def verify(lab, peers=(), prefixes: dict | None = None, timeout: float = 0, poll_interval: float = 0.1) -> dict:
    """bgp_verify on the router: its result, failed or not."""
    expect = {"peers": list(peers), "prefixes": prefixes or {}, "timeout": timeout, "poll_interval": poll_interval}
    run, result = lab.playbook_result(TARGET / "verify.yml", RESULT_VAR, {"bgp_expect": expect}, expect_failure=None)
    if result is None:
        raise AssertionError(f"verify.yml did not run:\n{run}")
    return result
