# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment definitions, with ansible-builder (no container runtime needed).

- ``execution-environment.yml`` (version 3): ``ansible-builder create`` accepts it and writes a
  Containerfile with the base image, ansible-core ~=2.19.0 and the collections from requirements.yml.
- ``meta/execution-environment.yml``: the collection *as built and installed from its tarball* (so
  build_ignore cannot drop the files) declares its Python and system needs; both ansible-builder's
  ``introspect`` and the very script the Containerfile runs during a build find them.
"""

from __future__ import annotations

import pathlib
import shutil
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
BUILDER = BIN / "ansible-builder"
GALAXY = BIN / "ansible-galaxy"

PYTHON_REQS = ["netaddr>=1.3,<2", "kubernetes>=24.2.0"]
SYSTEM_REQS = ["iputils-arping [platform:dpkg]", "iputils [platform:rpm]", "iproute2 [platform:dpkg]", "iproute [platform:rpm]"]


def _run(*command, cwd=ROOT) -> subprocess.CompletedProcess:
    run = subprocess.run([str(part) for part in command], cwd=cwd, capture_output=True, text=True, check=False)
    assert run.returncode == 0, f"{command}\n{run.stdout}\n{run.stderr}"
    return run


def _lines(text: str) -> list[str]:
    """Requirement lines without comments, as written by ansible-builder's introspection."""
    return [line.split("#", 1)[0].strip() for line in text.splitlines() if line.split("#", 1)[0].strip()]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> pathlib.Path:
    """The collection built into a tarball and installed into a fresh collections path."""
    if not BUILDER.exists():
        pytest.fail(f"{BUILDER} is missing: ansible-builder belongs in test-requirements.txt")
    work = tmp_path_factory.mktemp("ee")
    _run(GALAXY, "collection", "build", "--force", "--output-path", work / "dist", ROOT)
    tarball = next((work / "dist").glob("baremetal-metallb-*.tar.gz"))
    _run(GALAXY, "collection", "install", "--no-deps", "--force", "-p", work / "collections", tarball)
    return work / "collections"


@pytest.fixture(scope="module")
def context(tmp_path_factory) -> pathlib.Path:
    build_context = tmp_path_factory.mktemp("context")
    shutil.rmtree(build_context)
    _run(BUILDER, "create", "-f", ROOT / "execution-environment.yml", "-c", build_context, "--output-filename", "Containerfile")
    return build_context


def test_definitions_are_what_builder_expects():
    definition = yaml.safe_load((ROOT / "execution-environment.yml").read_text())
    assert definition["version"] == 3
    assert definition["dependencies"]["ansible_core"] == {"package_pip": "ansible-core~=2.19.0"}
    galaxy = yaml.safe_load((ROOT / definition["dependencies"]["galaxy"]).read_text())
    assert {"baremetal.metallb", "kubernetes.core"} <= {item["name"] for item in galaxy["collections"]}

    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"] == {"python": "meta/ee-requirements.txt", "system": "meta/ee-bindep.txt"}
    assert _lines((ROOT / "meta" / "ee-requirements.txt").read_text()) == PYTHON_REQS
    assert _lines((ROOT / "meta" / "ee-bindep.txt").read_text()) == SYSTEM_REQS
    # The EE's Python needs are the controller's (requirements.txt), not the test tooling.
    assert _lines((ROOT / "requirements.txt").read_text()) == PYTHON_REQS


def test_create_writes_a_containerfile(context):
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="registry.example.com/ee/fedora:41"' in containerfile
    assert 'ARG ANSIBLE_INSTALL_REFS="ansible-core~=2.19.0 ansible-runner"' in containerfile
    assert 'ARG PKGMGR="/usr/bin/dnf"' in containerfile
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    # The collections' needs are introspected during the build, then installed.
    assert "introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in containerfile
    assert "/output/scripts/install-from-bindep" in containerfile
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert [item["name"] for item in requirements["collections"]] == ["baremetal.metallb", "kubernetes.core"]


def test_builder_introspects_the_installed_collection(installed):
    for name in ("execution-environment.yml", "ee-requirements.txt", "ee-bindep.txt"):
        assert (installed / "ansible_collections" / "baremetal" / "metallb" / "meta" / name).is_file(), name
    run = _run(BUILDER, "introspect", "--sanitize", installed)
    data = yaml.safe_load(run.stdout)
    assert data["python"] == [f"{req}  # from collection baremetal.metallb" for req in PYTHON_REQS]
    assert data["system"] == [f"{req}  # from collection baremetal.metallb" for req in SYSTEM_REQS]


def test_the_build_script_of_the_context_finds_the_requirements(context, installed, tmp_path):
    """Runs the context's own introspect.py, as the Containerfile's builder stage does."""
    pip_out, bindep_out = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    _run(sys.executable, context / "_build" / "scripts" / "introspect.py", "introspect",
         f"--write-pip={pip_out}", f"--write-bindep={bindep_out}", installed)
    assert _lines(pip_out.read_text()) == PYTHON_REQS
    assert _lines(bindep_out.read_text()) == SYSTEM_REQS
