# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_validate through ansible-playbook, and the validate playbook users run."""

from __future__ import annotations

from metallb_lab.client import run_playbook


def _playbook(playbook: str, inventory: str | None = None, *args: str):
    return run_playbook(playbook, inventory, args=args, expect_failure=None)


def test_pool_validate_target():
    run = _playbook("tests/integration/targets/pool_validate/playbook.yml")
    assert run.rc == 0, run.stdout + run.stderr
    assert "failed=0" in run.stdout and "changed=0" in run.stdout


def test_validate_playbook_on_the_example_inventory():
    run = _playbook("playbooks/validate.yml", "inventories/example", "--check")
    assert run.rc == 0, run.stdout + run.stderr
    assert "3 pool(s) valid" in run.stdout
    assert "production-pool" in run.stdout and "203.0.113.0/26" in run.stdout


def test_validate_playbook_fails_on_a_bad_pool_before_anything_else():
    run = _playbook(
        "playbooks/validate.yml", "inventories/example",
        "-e", '{"metallb_pools": [{"name": "x", "addresses": ["198.51.100.13/32"]}]}',
    )
    assert run.rc != 0
    assert "contains node address 198.51.100.13" in run.stdout
