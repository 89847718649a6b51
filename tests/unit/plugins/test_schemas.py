# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Each schema written once: a role option that hands its value to a module is the module's option.

The argument specs in ``plugins/module_utils/*/argspec.py`` are the one source of the pool and
workload schemas. A module's DOCUMENTATION is held to its spec by ansible-test's validate-modules
(the pool sub-options come from the ``baremetal.metallb.pools`` doc fragment); a role's
``meta/argument_specs.yml``, which Ansible reads as plain YAML and which cannot use doc
fragments, is held to it here. Compared, recursively: option names, ``type``, ``elements``,
``choices``, ``default``, ``required``, ``no_log`` and sub-options. Where a role differs on
purpose, ``ROLE_OPTIONS`` says how and why; any other difference fails.

Where a role hands an option on unchanged, its sub-options are not even written by hand: they are
generated from the module's documentation by ``schema_sync.py`` (beside this file), and
``test_generated_copy_is_current`` fails when the copy is stale.
"""

from __future__ import annotations

import copy
import pathlib

import pytest
import yaml

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.argspec import METALLB_CONFIG_OBJECTS_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.builder import COMMON, FIELDS, REQUIRED
from ansible_collections.baremetal.metallb.plugins.module_utils.policy.argspec import WORKLOAD_POLICY_ARGSPEC
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.argspec import POOL_OPTIONS, POOL_VALIDATE_ARGSPEC
from ansible_collections.baremetal.metallb.tests.unit.plugins import schema_sync

ROLES = pathlib.Path(__file__).resolve().parents[3] / "roles"
DROPPED = "the role has no such option"

# role option -> (the module option it is handed to, {sub-option path: what the role has instead}).
ROLE_OPTIONS = {
    "lb_workload_workloads": (WORKLOAD_POLICY_ARGSPEC["workloads"], {}),
    "lb_workload_pools": (WORKLOAD_POLICY_ARGSPEC["pools"], {}),
    "lb_workload_mode": (WORKLOAD_POLICY_ARGSPEC["mode"], {}),
    "lb_workload_fail_on": (WORKLOAD_POLICY_ARGSPEC["fail_on"], {}),
    "lb_workload_pod_labels": (WORKLOAD_POLICY_ARGSPEC["pod_labels"], {}),
    "lb_workload_pod_annotations": (WORKLOAD_POLICY_ARGSPEC["pod_annotations"], {}),
    # Handed over as given: workload_policy checks every field and names it.
    "lb_workload_cluster": (WORKLOAD_POLICY_ARGSPEC["cluster"], {"": {"default": {}, "options": None}}),
    # The router takes BGP pools: a pool without a protocol is one (pool_validate's default is layer2).
    "bgp_router_pools": (POOL_VALIDATE_ARGSPEC["pools"], {"protocol": {"default": "bgp"}}),
    # An IPAddressPool (metallb_config_objects checks the fields itself, see FIELDS in its builder):
    # name and addresses required, no protocol (the advertisements that select a pool decide),
    # autoAssign and avoidBuggyIPs left out of the object when not set (MetalLB's defaults apply).
    "metallb_config_pools": (dict(METALLB_CONFIG_OBJECTS_ARGSPEC["pools"], options=POOL_OPTIONS), {
        "name": {"required": True},
        "addresses": {"required": True},
        "protocol": DROPPED,
        "auto_assign": {"default": None},
        "avoid_buggy_ips": {"default": None},
        "service_allocation": {"type": "dict"},
        "labels": {"type": "dict"},
    }),
}


def _role_options(role: str) -> dict:
    return yaml.safe_load((ROLES / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]["main"]["options"]


def canonical(spec: dict | None) -> dict:
    """What an argument spec entry means, whoever wrote it (``type`` defaults to ``str`` in both kinds of spec)."""
    spec = spec or {}
    options = spec.get("options")
    return {
        "type": spec.get("type", "str"),
        "elements": spec.get("elements"),
        "choices": list(spec["choices"]) if spec.get("choices") is not None else None,
        "default": spec.get("default"),
        "required": bool(spec.get("required", False)),
        "no_log": bool(spec.get("no_log", False)),
        "options": {name: canonical(sub) for name, sub in options.items()} if options else None,
    }


def expected(module_spec: dict, differences: dict) -> dict:
    """The module's option as canonical(), with the role's declared differences applied."""
    want = canonical(module_spec)
    for path, change in differences.items():
        *parents, name = path.split(".") if path else [""]
        node = want
        for parent in parents:
            node = node["options"][parent]
        if not name:
            node.update(change)
        elif change is DROPPED:
            del node["options"][name]
        else:
            node["options"][name] = dict(node["options"].get(name) or canonical({}), **change)
    return want


def differences(want, have, path: str = "") -> list[str]:
    """Every place where two canonical() specs disagree, as 'path: field: want != have'."""
    found = []
    for field in ("type", "elements", "choices", "default", "required", "no_log"):
        if want[field] != have[field]:
            found.append(f"{path or '(the option)'}: {field}: module {want[field]!r}, role {have[field]!r}")
    want_options, have_options = want["options"] or {}, have["options"] or {}
    for name in sorted(set(want_options) | set(have_options)):
        where = f"{path}.{name}" if path else name
        if name not in have_options:
            found.append(f"{where}: the module has it, the role does not")
        elif name not in want_options:
            found.append(f"{where}: the role has it, the module does not")
        else:
            found.extend(differences(want_options[name], have_options[name], where))
    return found


@pytest.mark.parametrize("option", sorted(ROLE_OPTIONS))
def test_role_option_is_the_module_option(option):
    role = next(path.name for path in ROLES.iterdir() if option.startswith(path.name + "_"))
    module_spec, declared = ROLE_OPTIONS[option]
    have = canonical(_role_options(role)[option])
    assert differences(expected(copy.deepcopy(module_spec), declared), have) == []


@pytest.mark.parametrize("role, option", sorted(schema_sync.GENERATED))
def test_generated_copy_is_current(role, option):
    have = _role_options(role)[option].get("options")
    assert have == schema_sync.expected(role, option), (
        f"roles/{role}/meta/argument_specs.yml: {option} is not what the module documents; regenerate it: "
        "PYTHONPATH=<collections path> .venv/bin/python tests/unit/plugins/schema_sync.py")


def test_generating_again_changes_nothing():
    role, option = sorted(schema_sync.GENERATED)[0]
    text = (ROLES / role / "meta" / "argument_specs.yml").read_text()
    once = schema_sync.rewrite(text, role, option)
    assert schema_sync.rewrite(once, role, option) == once
    assert yaml.safe_load(once)["argument_specs"]["main"]["options"][option]["options"] == schema_sync.expected(role, option)


@pytest.mark.parametrize("kind", sorted(FIELDS))
def test_metallb_config_objects_have_the_builders_fields(kind):
    # metallb_config hands its object lists to metallb_config_objects as they are; the builder's
    # FIELDS, COMMON and REQUIRED are what it accepts.
    options = _role_options("metallb_config")[f"metallb_config_{kind}"]["options"]
    assert sorted(options) == sorted(set(COMMON) | set(FIELDS[kind]))
    assert sorted(name for name, spec in options.items() if spec.get("required")) == sorted({"name", *REQUIRED.get(kind, ())})


def test_a_difference_is_found():
    # The comparison itself: a changed default, a missing sub-option and a changed type each show.
    want = canonical(WORKLOAD_POLICY_ARGSPEC["workloads"])
    have = copy.deepcopy(want)
    have["options"]["replicas"]["default"] = 3
    del have["options"]["ports"]["options"]["protocol"]
    have["options"]["env"]["type"] = "list"
    assert differences(want, have) == [
        "env: type: module 'dict', role 'list'",
        "ports.protocol: the module has it, the role does not",
        "replicas: default: module 2, role 3",
    ]
