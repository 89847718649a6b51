#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
module: role_inputs
short_description: A role's variables validated and converted by its argument spec, for the role to act on
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Reads the options of the calling role's C(meta/argument_specs.yml) entry point (or O(argument_spec)), takes
    each option's variable as the task sees it, and validates B(and converts) them with ansible's
    C(ArgumentSpecValidator) (types, choices, required options, defaults, sub-options).
  - Returns every option's value, converted, under the option's name without the role's prefix
    (C(bgp_router_bfd) is returned as C(bfd)); the role registers the result (C(register) as V(_bgp_router_opts), a name ansible-lint accepts in a role) and
    reads C(_bgp_router_opts.bfd) instead of C(bgp_router_bfd).
  - Why. Ansible checks role variables against the argument spec but does not convert them, so a role that
    reads its variables directly acts on the raw value. An AWX survey sends every answer as a string; V("false")
    passes the check as a bool and is true in a Jinja condition. Survey answers are extra variables, which
    C(set_fact) cannot override, so the converted values need a name of their own.
  - Two survey shapes are normalized before the validation. An empty answer to a C(bool), C(int) or C(float)
    option that is not required means that the option is not given (its default applies). A C(list) or C(dict)
    option given as JSON or YAML text (a survey C(textarea)) is parsed when the text is a list or mapping.
  - Invalid input fails the task with every problem, each naming the variable; values of C(no_log) options are
    never shown. The task result is never displayed (it may hold secrets, such as an inline kubeconfig).
  - Runs in the controller's process (an action plugin); no connection to the target host is made.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.controller_check
options:
  role:
    description:
      - The role's short name, the prefix of its option names. The role the task is in when not given.
      - Without O(argument_spec) it must be the role the task is in.
    type: str
  entry_point:
    description: The entry point of the role's argument spec.
    type: str
    default: main
  argument_spec:
    description:
      - The options to validate, in the shape of an argument spec entry point's C(options), instead of the role's
        own C(meta/argument_specs.yml) (for a playbook, or a task file outside a role). Needs O(role).
    type: dict
notes:
  - Options named like a task result key (C(changed), C(failed), C(msg), ...) after the prefix is removed are refused.
seealso:
  - name: Role argument validation
    description: How Ansible checks role variables against C(meta/argument_specs.yml).
    link: https://docs.ansible.com/ansible/latest/playbook_guide/playbooks_reuse_roles.html#role-argument-validation
"""

EXAMPLES = r"""
# First task of roles/bgp_router/tasks/validate.yml; the tasks and templates then read _bgp_router_opts.*
- name: Validate and convert the role's variables
  baremetal.metallb.role_inputs:
  register: _bgp_router_opts

- name: Enable bfdd only when BFD is really wanted (an AWX "false" is false here)
  ansible.builtin.lineinfile:
    path: /etc/frr/daemons
    regexp: "^bfdd="
    line: bfdd=yes
  when: _bgp_router_opts.bfd

# Outside a role: give the options
- name: Normalize a playbook's own inputs
  baremetal.metallb.role_inputs:
    role: site
    argument_spec:
      site_dry_run: {type: bool, default: false}
      site_retries: {type: int, default: 3}
  register: _site
"""

RETURN = r"""
_key_:
  description:
    - One key per option of the entry point, named like the option without the role's prefix and C(_), holding
      the converted value (the default when the variable is not set, null when there is none).
  returned: success
  type: raw
  sample:
    bfd: false
    keepalive: 30
    neighbor_group: k8s_nodes
errors:
  description: Every problem found, each naming the variable.
  returned: failure
  type: list
  elements: str
  sample:
    - "bgp_router: argument 'bgp_router_keepalive' is of type str and we were unable to convert to int: ..."
"""
