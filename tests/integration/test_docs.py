# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every plugin and role of the installed collection renders with ansible-doc, and the docs say so.

What the collection ships is read from the tree (``shipped()``), never listed here: a new
module, role, filter, lookup, action plugin or playbook is checked the moment it exists.

- every plugin and role renders with ``ansible-doc -t <its type>`` (ansible-doc exits 0 when a
  name is not found, so the output is read, not the exit code);
- every ``ansible-doc`` command written in README.md and docs/ works as written;
- README's contents table names exactly what the collection ships, each under its kind.
"""

from __future__ import annotations

import ast
import collections
import json
import re
import os
import pathlib
import shlex
import subprocess
import sys

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
ANSIBLE_DOC = pathlib.Path(sys.executable).with_name("ansible-doc")
MODULES = sorted(p.stem for p in (ROOT / "plugins" / "modules").glob("*.py") if p.stem != "__init__")
ROLES = sorted(p.parent.parent.name for p in (ROOT / "roles").glob("*/meta/argument_specs.yml"))
COLLECTION = "baremetal.metallb"

# plugins/<directory> -> the plugin type ansible-doc documents it as (``-t``).
DOC_TYPES = {
    "modules": "module", "filter": "filter", "test": "test", "lookup": "lookup", "inventory": "inventory",
    "callback": "callback", "connection": "connection", "become": "become", "cache": "cache", "vars": "vars",
    "cliconf": "cliconf", "httpapi": "httpapi", "netconf": "netconf", "shell": "shell", "strategy": "strategy",
}
# plugins/<directory> with no ansible-doc type of their own: an action plugin is documented by the
# module of the same name; the others are code and documentation shared by plugins.
UNDOCUMENTED_DIRS = {"action", "module_utils", "plugin_utils", "doc_fragments"}
# The methods that name the Jinja2 plugins a file exports, and the class that has them.
_JINJA_EXPORTS = {"filter": ("FilterModule", "filters"), "test": ("TestModule", "tests")}
_HEADER = re.compile(r"^> [A-Z]+:? \*?(?P<name>[\w.]+?)\*? \(", re.MULTILINE)
_PLACEHOLDER = re.compile(r"<(?P<kind>[\w-]+)>")


def _jinja_exports(path: pathlib.Path, kind: str) -> list[str]:
    """The names a filter or test plugin file exports: the keys of the dict its filters()/tests() returns."""
    cls_name, method = _JINJA_EXPORTS[kind]
    for cls in ast.parse(path.read_text()).body:
        if isinstance(cls, ast.ClassDef) and cls.name == cls_name:
            for func in cls.body:
                if isinstance(func, ast.FunctionDef) and func.name == method:
                    returned = [node.value for node in ast.walk(func) if isinstance(node, ast.Return)]
                    if len(returned) == 1 and isinstance(returned[0], ast.Dict):
                        return [ast.literal_eval(key) for key in returned[0].keys]
    raise AssertionError(f"{path.relative_to(ROOT)}: {cls_name}.{method}() must return a dict literal naming its {kind}s")


def _is_playbook(path: pathlib.Path) -> bool:
    """A list of plays (not a vars or tasks file kept beside the playbooks)."""
    plays = yaml.safe_load(path.read_text())
    markers = {"hosts", "import_playbook", "ansible.builtin.import_playbook"}
    return isinstance(plays, list) and all(isinstance(play, dict) and (markers & set(play)) for play in plays)


def shipped() -> dict[str, list[str]]:
    """What the collection ships, by kind: ansible-doc types, plus ``action`` and ``playbook``."""
    found = collections.defaultdict(set)
    for directory in sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir() and p.name != "__pycache__"):
        if directory.name in UNDOCUMENTED_DIRS - {"action"}:
            continue
        kind = "action" if directory.name == "action" else DOC_TYPES.get(directory.name)
        assert kind, f"plugins/{directory.name}: unknown plugin directory; add it to DOC_TYPES or UNDOCUMENTED_DIRS in {__file__}"
        for path in sorted(directory.glob("*.py")):
            if path.stem == "__init__":
                continue
            found[kind].update(_jinja_exports(path, kind) if kind in _JINJA_EXPORTS else [path.stem])
    found["role"].update(p.name for p in (ROOT / "roles").iterdir() if p.is_dir())
    found["playbook"].update(str(p.relative_to(ROOT)) for p in (ROOT / "playbooks").rglob("*.y*ml") if _is_playbook(p))
    return {kind: sorted(names) for kind, names in found.items()}


SHIPPED = shipped()
DOCUMENTED = {kind: names for kind, names in SHIPPED.items() if kind not in ("action", "playbook")}


def _doc(*args: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".build" / "collections"))
    return subprocess.run([str(ANSIBLE_DOC), *args], env=env, capture_output=True, text=True, check=False)


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


def _rendered(doc_type: str, names: list[str]) -> tuple[subprocess.CompletedProcess, set[str]]:
    """One ansible-doc run for several names of one type, as a user would type it; the names it rendered."""
    run = _doc("-t", doc_type, *(f"{COLLECTION}.{name}" for name in names))
    assert run.returncode == 0, run.stderr
    assert "not found" not in run.stdout + run.stderr, f"ansible-doc -t {doc_type}: {run.stderr.strip()}"
    return run, {match["name"] for match in _HEADER.finditer(run.stdout)}


@pytest.mark.parametrize("doc_type", sorted(DOCUMENTED))
def test_every_plugin_and_role_renders_with_its_type(doc_type):
    names = DOCUMENTED[doc_type]
    run, rendered = _rendered(doc_type, names)
    assert rendered == {f"{COLLECTION}.{name}" for name in names}, run.stdout[:500]
    # Each one's page has a body, not only its header line.
    pages = _HEADER.split(run.stdout)[1:]
    assert all(len(body.strip().splitlines()) > 3 for body in pages[1::2]), run.stdout[:500]
    assert "WARNING" not in run.stderr, run.stderr
    described = _doc("-t", doc_type, "--json", *(f"{COLLECTION}.{name}" for name in names))
    assert described.returncode == 0 and "WARNING" not in described.stderr, described.stderr
    for name in names:
        doc = json.loads(described.stdout)[f"{COLLECTION}.{name}"]
        if doc_type == "role":
            assert doc["entry_points"]["main"]["short_description"], name
            continue
        assert doc["doc"]["short_description"] and doc["examples"].strip(), name
        if doc_type == "module":
            assert doc["return"] is not None, name
            assert {"check_mode", "diff_mode"} <= set(doc["doc"]["attributes"]), name


def test_every_action_plugin_is_documented_by_its_module():
    # ansible-doc has no type for action plugins: `ansible-doc baremetal.metallb.X` shows the module's docs.
    assert set(SHIPPED.get("action", [])) <= set(SHIPPED["module"]), "an action plugin without a module of the same name is undocumented"


def _doc_commands() -> list[tuple[str, str]]:
    """Every ansible-doc command in README.md and docs/ (inline code and code blocks): (file, command)."""
    commands = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        text = path.read_text()
        blocks = re.findall(r"^```[^\n]*\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)
        inline = re.sub(r"^```[^\n]*\n.*?^```", "", text, flags=re.MULTILINE | re.DOTALL)
        found = [line.split(" #")[0] for block in blocks for line in block.splitlines() if line.strip().startswith("ansible-doc ")]
        found += re.findall(r"`(ansible-doc\s[^`]+)`", inline)
        commands += [(str(path.relative_to(ROOT)), " ".join(command.split())) for command in found]
    return commands


def _expand(command: str) -> tuple[str, bool, list[str]]:
    """A documented command's type, whether it lists, and its names; <module>, <role>, <filter>, ... stand for
    every name of that type, any other placeholder (<name>) for every name the collection documents, of any type."""
    args = shlex.split(command)[1:]
    doc_type, listing, names = "module", False, []
    while args:
        arg = args.pop(0)
        if arg in ("-t", "--type"):
            doc_type = args.pop(0)
        elif arg.startswith("--type="):
            doc_type = arg.split("=", 1)[1]
        elif arg in ("-l", "--list"):
            listing = True
        elif not arg.startswith("-"):
            names.append(arg)
    if listing:
        return doc_type, listing, names
    expanded = []
    for name in names:
        placeholder = _PLACEHOLDER.search(name)
        if not placeholder:
            expanded.append(name)
            continue
        kind = placeholder["kind"]
        every = DOCUMENTED[kind] if kind in DOCUMENTED else [n for kind_names in DOCUMENTED.values() for n in kind_names]
        expanded += [name.replace(placeholder.group(0), each) for each in every]
    return doc_type, listing, expanded


def test_every_ansible_doc_command_in_the_docs_works():
    commands = _doc_commands()
    assert any(path == "README.md" for path, dummy in commands), "README.md should say how to read the docs with ansible-doc"
    wanted = collections.defaultdict(dict)
    for path, command in commands:
        doc_type, listing, names = _expand(command)
        assert names, f"{path}: {command!r} names no plugin"
        if listing:
            run = _doc("-t", doc_type, "-l", *names)
            listed = set(re.findall(rf"^{re.escape(COLLECTION)}\.(\w+)", run.stdout, flags=re.MULTILINE))
            assert names == [COLLECTION] and listed == set(DOCUMENTED[doc_type]), f"{path}: {command!r} lists {sorted(listed)}"
            continue
        for name in names:
            assert name.startswith(f"{COLLECTION}."), f"{path}: {command!r}: {name} is not one of this collection's"
            wanted[doc_type].setdefault(name, f"{path}: {command!r}")
    for doc_type, names in sorted(wanted.items()):
        run = _doc("-t", doc_type, *names)
        assert run.returncode == 0, run.stderr
        rendered = {match["name"] for match in _HEADER.finditer(run.stdout)}
        missing = [f"{where} -> {name} not found with -t {doc_type}" for name, where in names.items() if name not in rendered]
        assert not missing and "not found" not in run.stderr, "\n".join(missing) + "\n" + run.stderr


def _contents_table() -> dict[str, set[str]]:
    """README's contents table: kind -> the names in backticks in its rows (several kinds may share a row's cell)."""
    section = (ROOT / "README.md").read_text().split("\n## Contents\n", 1)[1].split("\n## ", 1)[0]
    table = collections.defaultdict(set)
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) >= 2 and line.startswith("|") and not set(cells[0]) <= set("-: "):
            for kind in re.findall(r"[a-z]+", cells[0]):
                table[kind].update(re.findall(r"`([^`]+)`", cells[1]))
    return table


def test_readme_contents_table_names_everything_the_collection_ships():
    table = _contents_table()
    problems = []
    for kind, names in sorted(SHIPPED.items()):
        expected = set(names) if kind == "playbook" else {f"{COLLECTION}.{name}" for name in names}
        listed = table.get(kind, set())
        problems += [f"{kind} {name} is shipped but not in README's contents table" for name in sorted(expected - listed)]
        problems += [f"{kind} {name} is in README's contents table but not shipped" for name in sorted(listed - expected)]
    assert not problems, "\n".join(problems)
