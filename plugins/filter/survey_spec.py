# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: survey_spec
short_description: An AWX / Automation Controller survey from roles' argument specs
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Turns the options of a role's C(meta/argument_specs.yml) entry point into the C(survey_spec) of a job template
    (for C(awx.awx.job_template)), one question per option, with the option's name as the survey variable, so that the
    role validates what the survey answers.
  - Types map as follows. C(str) with choices becomes C(multiplechoice); C(str), C(path) and C(raw) scalars become
    C(text); C(bool) becomes C(multiplechoice) with V(true) and V(false); C(int) becomes C(integer); C(float) becomes
    C(float); a C(list) of strings with choices becomes C(multiselect); any other C(list) or C(dict) becomes C(textarea)
    holding JSON or YAML (or is left out, see O(structured)).
  - Options with C(no_log), or whose name looks like a secret (O(secret_pattern)), become C(password) questions without
    a default, so no secret is ever stored in the survey.
  - C(required) and C(default) are carried over; a default of a textarea is written as JSON. Ansible documentation
    markup is removed from descriptions.
options:
  _input:
    description:
      - The parsed contents of a C(meta/argument_specs.yml) file (a dict with the key C(argument_specs)), or a list of
        them to make one survey of several roles. An option name given by two roles is an error.
    type: raw
    required: true
  entry_point:
    description: The entry point of each role.
    type: str
    default: main
  include:
    description: Option names to ask for, in this order; all of them (in the order of the file) when empty.
    type: list
    elements: str
    default: []
  exclude:
    description: Option names to leave out.
    type: list
    elements: str
    default: []
  structured:
    description:
      - What to do with list and dict options that are not a list of choices. V(textarea) asks for JSON or YAML text;
        V(skip) leaves them out, for data that belongs in the inventory.
      - A textarea answer reaches the playbook as a string; the playbook has to parse it (C(from_yaml)) before the role
        validates it.
    type: str
    choices: [textarea, skip]
    default: textarea
  secret_pattern:
    description: Regular expression (searched in the option name) that marks an option as secret, in addition to C(no_log).
    type: str
    default: (password|passwd|secret|token|private_key)
  name:
    description: The survey's name.
    type: str
    default: ""
  description:
    description: The survey's description.
    type: str
    default: ""
"""

EXAMPLES = r"""
- name: A job template whose survey asks for the bgp_router role's variables
  awx.awx.job_template:
    name: MetalLB router
    project: MetalLB
    playbook: playbooks/site.yml
    survey_enabled: true
    survey_spec: >-
      {{ lookup('ansible.builtin.file', 'roles/bgp_router/meta/argument_specs.yml') | from_yaml
         | baremetal.metallb.survey_spec(structured='skip', exclude=['bgp_router_packages']) }}

# Two roles in one survey
# "{{ [bgp_router_specs, lb_workload_specs] | baremetal.metallb.survey_spec(name='MetalLB') }}"
"""

RETURN = r"""
_value:
  description: The survey, with C(name), C(description) and C(spec), the list of questions.
  type: dict
  contains:
    spec:
      description:
        - The questions, each with C(variable), C(question_name), C(question_description), C(type), C(required), and
          where they apply C(default), C(choices), C(min) and C(max).
      type: list
      elements: dict
"""

import json
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

TEXT_MAX = 1024
TEXTAREA_MAX = 65536
_MARKUP = re.compile(r"\b([BCIMOPRUV]|RV|E|L)\(([^()]*)\)")


def _plain(description) -> str:
    """An option's description as one paragraph of plain text."""
    paragraphs = description if isinstance(description, list) else [description or ""]
    text = " ".join(to_text(item).strip() for item in paragraphs if item)
    previous = None
    while previous != text:
        previous, text = text, _MARKUP.sub(lambda match: match.group(2).split(",")[0], text)
    return text


def _json(value) -> str:
    return json.dumps(value, sort_keys=False)


def _question(option: str, spec: dict, structured: str, secret: re.Pattern) -> dict | None:
    kind = spec.get("type", "str")
    question = {
        "variable": option,
        "question_name": option,
        "question_description": _plain(spec.get("description")),
        "required": bool(spec.get("required", False)),
        "new_question": True,
    }
    default = spec.get("default")
    if spec.get("no_log") or secret.search(option):
        question.update(type="password", min=0, max=TEXT_MAX)
        return question
    if kind == "bool":
        question.update(type="multiplechoice", choices=["true", "false"])
        if default is not None:
            question["default"] = "true" if default else "false"
    elif kind == "int":
        question["type"] = "integer"
        if default is not None:
            question["default"] = int(default)
    elif kind == "float":
        question["type"] = "float"
        if default is not None:
            question["default"] = float(default)
    elif kind == "list" and spec.get("choices") and spec.get("elements", "str") == "str":
        question.update(type="multiselect", choices=[to_text(choice) for choice in spec["choices"]])
        if default:
            question["default"] = "\n".join(to_text(item) for item in default)
    elif kind in ("list", "dict"):
        if structured == "skip":
            return None
        question.update(type="textarea", min=0, max=TEXTAREA_MAX)
        if default is not None:
            question["default"] = _json(default)
    elif spec.get("choices"):
        question.update(type="multiplechoice", choices=[to_text(choice) for choice in spec["choices"]])
        if default is not None:
            question["default"] = to_text(default)
    else:
        question.update(type="text", min=0, max=TEXT_MAX)
        if default is not None:
            question["default"] = to_text(default)
    return question


def _options(document, entry_point: str) -> dict:
    if not isinstance(document, dict) or not isinstance(document.get("argument_specs"), dict):
        raise AnsibleFilterError("survey_spec: give the contents of a meta/argument_specs.yml file (a dict with 'argument_specs')")
    entry = document["argument_specs"].get(entry_point)
    if not isinstance(entry, dict):
        raise AnsibleFilterError(f"survey_spec: no entry point {entry_point!r} (there are: {', '.join(sorted(document['argument_specs']))})")
    return entry.get("options") or {}


def survey_spec(documents, entry_point="main", include=None, exclude=None, structured="textarea",
                secret_pattern=r"(password|passwd|secret|token|private_key)", name="", description=""):
    if structured not in ("textarea", "skip"):
        raise AnsibleFilterError(f"survey_spec: structured must be textarea or skip, got {structured!r}")
    try:
        secret = re.compile(secret_pattern)
    except re.error as exc:
        raise AnsibleFilterError(f"survey_spec: secret_pattern is not a regular expression: {exc}") from exc
    options = {}
    for document in documents if isinstance(documents, list) else [documents]:
        for option, spec in _options(document, entry_point).items():
            if option in options:
                raise AnsibleFilterError(f"survey_spec: option {option!r} is given by two roles")
            options[option] = spec or {}
    unknown = [option for option in list(include or []) + list(exclude or []) if option not in options]
    if unknown:
        raise AnsibleFilterError(f"survey_spec: no such option(s): {', '.join(unknown)}")
    names = list(include) if include else list(options)
    questions = []
    for option in names:
        if option in (exclude or []):
            continue
        question = _question(option, options[option], structured, secret)
        if question is not None:
            questions.append(question)
    return {"name": name, "description": description, "spec": questions}


class FilterModule:
    def filters(self):
        return {"survey_spec": survey_spec}
