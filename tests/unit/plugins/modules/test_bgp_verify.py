# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bgp_verify module's main() against test_bgp_verify.yaml, vtysh replayed from recordings."""

from __future__ import annotations

import pathlib

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.modules import bgp_verify
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE.parent / "module_utils" / "frr" / "fixtures"
CASES = load_data(__file__)
RUN = ModuleRunner(bgp_verify)


@parametrize_cases(CASES)
def test_case(capsys, monkeypatch, case):
    vtysh = case.get("vtysh", {})

    def run_command(self, argv, **kwargs):
        name = vtysh.get(argv[2])
        if name is None:
            return 1, "", "Exiting: failed to connect to any daemons."
        return 0, (FIXTURES / name).read_text(), ""

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    code, result, dummy = RUN(capsys, dict(case["args"], vtysh_path="/usr/bin/vtysh"))
    expect = case["expect"]
    assert_expected(code, result, expect)
    assert result.get("changed", False) is False  # read-only, whatever happens
    for address, fields in expect.get("peer", {}).items():
        for key, value in fields.items():
            assert result["peers"][address][key] == value
    for prefix, hops in expect.get("nexthops", {}).items():
        assert result["prefixes"][prefix]["nexthops"] == hops
