# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The roles' copies of a module's schema, generated from the module's documentation.

A role's ``meta/argument_specs.yml`` is plain YAML and cannot use doc fragments. Where a role hands
an option to a module unchanged, the option's sub-options there are generated from the module's
DOCUMENTATION (with this collection's doc fragments merged in, as ansible-doc merges them), which
ansible-test's validate-modules holds to the module's argument spec. ``test_schemas.py`` fails
when a generated copy is not current; rewrite them with (from the checkout)::

    PYTHONPATH=<a path holding ansible_collections/baremetal/metallb> .venv/bin/python tests/unit/plugins/schema_sync.py

Option references are renamed for the role: ``O(pod_labels)`` becomes ``O(lb_workload_pod_labels)``.
"""

from __future__ import annotations

import importlib
import pathlib
import re
import sys

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[3]
COLLECTION = "baremetal.metallb"
PACKAGE = "ansible_collections.baremetal.metallb.plugins"

# (role, role option): (module, module option). The role option's sub-options are generated.
GENERATED = {
    ("lb_workload", "lb_workload_workloads"): ("workload_policy", "workloads"),
    ("lb_workload", "lb_workload_pools"): ("workload_policy", "pools"),
}
MARKER = "# generated from {module}'s DOCUMENTATION ({option}) by tests/unit/plugins/schema_sync.py: edit it there"
# The keys of an option, in the order the roles write them.
KEYS = ("type", "elements", "required", "choices", "default", "description", "options")
_OPTION_REF = re.compile(r"\bO\((?P<name>[a-z_][a-z0-9_]*)(?P<rest>[^)]*)\)")


class _FlowList(list):
    """A list written inline (choices, defaults), as the roles write them."""


class _Dumper(yaml.SafeDumper):
    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)  # a list under a key is indented, as yamllint wants


# Strings a reader could take for something else are quoted ("None" is a string to YAML, not to everyone).
_QUOTED = {"None", "True", "False", "null", "yes", "no", "on", "off"}
_Dumper.add_representer(str, lambda dumper, data: dumper.represent_scalar(
    "tag:yaml.org,2002:str", data, style='"' if data in _QUOTED else None))
_Dumper.add_representer(_FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=True))


def module_doc(module: str) -> dict:
    """The module's DOCUMENTATION with this collection's doc fragments merged in (the module's keys winning)."""
    doc = yaml.safe_load(importlib.import_module(f"{PACKAGE}.modules.{module}").DOCUMENTATION)
    for slug in doc.get("extends_documentation_fragment", []):
        if not slug.startswith(COLLECTION + "."):
            continue
        name, dummy, var = slug[len(COLLECTION) + 1:].partition(".")
        fragment_class = importlib.import_module(f"{PACKAGE}.doc_fragments.{name}").ModuleDocFragment
        fragment = yaml.safe_load(getattr(fragment_class, (var or "documentation").upper()))
        for key, value in (fragment.get("options") or {}).items():
            doc["options"][key] = dict(value, **doc["options"].get(key, {}))
    return doc


def _role_text(text: str, prefix: str, top_level: set) -> str:
    def rename(match):
        name = match.group("name")
        if name not in top_level:
            raise ValueError(f"O({name}{match.group('rest')}) names no option of the module")
        return f"O({prefix}{name}{match.group('rest')})"

    return _OPTION_REF.sub(rename, text)


def _role_option(doc_option: dict, prefix: str, top_level: set) -> dict:
    option = {}
    for key in KEYS:
        if key == "options":
            value = doc_option.get("suboptions")
            if value:
                option[key] = {name: _role_option(sub, prefix, top_level) for name, sub in value.items()}
            continue
        if key not in doc_option:
            continue
        value = doc_option[key]
        if key == "description":
            value = [_role_text(line, prefix, top_level) for line in value] if isinstance(value, list) else _role_text(value, prefix, top_level)
        elif isinstance(value, list):
            value = _FlowList(value)
        option[key] = value
    return option


def generated(role: str, option: str) -> dict:
    """The sub-options the role option should have: the module option's, in a role's words."""
    module, module_option = GENERATED[(role, option)]
    doc = module_doc(module)
    return {name: _role_option(sub, f"{role}_", set(doc["options"])) for name, sub in doc["options"][module_option]["suboptions"].items()}


def _plain(value):
    """``generated()`` without the list subclass, to compare with what yaml.safe_load reads."""
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def expected(role: str, option: str) -> dict:
    return _plain(generated(role, option))


def rewrite(text: str, role: str, option: str) -> str:
    """``text`` (the role's argument_specs.yml) with the option's ``options:`` block generated anew."""
    module, module_option = GENERATED[(role, option)]
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() == f"      {option}:"), None)
    if start is None:
        raise ValueError(f"roles/{role}/meta/argument_specs.yml: no option {option} at the entry point's indentation")
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip()) > 6):
        end += 1
    block = lines[start + 1:end]
    marker = MARKER.format(module=module, option=module_option)
    first = next((i for i, line in enumerate(block) if line.strip() in ("options:", marker)), len(block))
    last = first
    if first < len(block):
        last = first + (2 if block[first].strip() == marker else 1)
        while last < len(block) and (not block[last].strip() or len(block[last]) - len(block[last].lstrip()) > 8):
            last += 1
    body = yaml.dump(generated(role, option), Dumper=_Dumper, sort_keys=False, width=110, indent=2, default_flow_style=False, allow_unicode=True)
    new = [f"        {marker}\n", "        options:\n"] + [f"          {line}\n" for line in body.splitlines()]
    return "".join(lines[:start + 1] + block[:first] + new + block[last:] + lines[end:])


def main() -> int:
    for role, option in sorted(GENERATED):
        path = ROOT / "roles" / role / "meta" / "argument_specs.yml"
        text = path.read_text()
        new = rewrite(text, role, option)
        if new != text:
            path.write_text(new)
            print(f"{path.relative_to(ROOT)}: {option} written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
