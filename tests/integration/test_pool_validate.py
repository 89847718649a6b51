# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_validate through ansible-playbook, and the validate playbook users run."""

from __future__ import annotations

import os
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANSIBLE_PLAYBOOK = pathlib.Path(sys.executable).with_name("ansible-playbook")


def _playbook(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1", ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"))
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    return subprocess.run([str(ANSIBLE_PLAYBOOK), *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)


def test_pool_validate_target():
    run = _playbook("tests/integration/targets/pool_validate/playbook.yml")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "failed=0" in run.stdout and "changed=0" in run.stdout


def test_validate_playbook_on_the_example_inventory():
    run = _playbook("-i", "inventories/example", "playbooks/validate.yml", "--check")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "3 pool(s) valid" in run.stdout
    assert "production-pool" in run.stdout and "203.0.113.0/26" in run.stdout


def test_validate_playbook_fails_on_a_bad_pool_before_anything_else():
    run = _playbook(
        "-i", "inventories/example", "playbooks/validate.yml",
        "-e", '{"metallb_pools": [{"name": "x", "addresses": ["198.51.100.13"]}]}',
    )
    assert run.returncode != 0
    assert "contains node address 198.51.100.13" in run.stdout
