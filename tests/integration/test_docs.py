# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every module and role of the installed collection renders with ansible-doc."""

from __future__ import annotations

import json
import re
import os
import pathlib
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANSIBLE_DOC = pathlib.Path(sys.executable).with_name("ansible-doc")
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))


def _doc(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    return subprocess.run([str(ANSIBLE_DOC), *args], env=env, capture_output=True, text=True, check=False)


@pytest.mark.parametrize("module", MODULES)
def test_module_docs_render(module):
    run = _doc("--json", f"baremetal.metallb.{module}")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)[f"baremetal.metallb.{module}"]
    assert doc["doc"]["short_description"]
    assert doc["examples"].strip()
    assert doc["return"] is not None
    assert {"check_mode", "diff_mode"} <= set(doc["doc"]["attributes"])
    assert "WARNING" not in run.stderr


def test_every_role_documents_its_entry_points():
    # One test over all roles (rather than one per role) so that a collection
    # without roles yet is a pass, not an empty, skipped parameter set.
    listed = _doc("-t", "role", "-l", "baremetal.metallb")
    assert listed.returncode == 0, listed.stderr
    for role in ROLES:
        assert f"baremetal.metallb.{role}" in listed.stdout
        run = _doc("-t", "role", f"baremetal.metallb.{role}")
        assert run.returncode == 0, run.stderr
        assert re.search(r"ENTRY POINT: \W*main\b", run.stdout), run.stdout[:300]
        assert "WARNING" not in run.stderr


def test_collection_lists_every_module():
    run = _doc("-l", "baremetal.metallb")
    assert run.returncode == 0, run.stderr
    for module in MODULES:
        assert f"baremetal.metallb.{module}" in run.stdout
