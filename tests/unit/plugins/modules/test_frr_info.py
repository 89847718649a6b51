# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The frr_info module's main() on a faked host (cases in the YAML beside).

HostInfo's reading of recorded hosts is tested in module_utils/frr/test_host_info.py; the
integration tests run the module on the lab's routers.
"""

from __future__ import annotations

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.modules import frr_info
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

CASES = load_data(__file__)
run = ModuleRunner(frr_info)


@parametrize_cases(CASES)
def test_case(capsys, monkeypatch, tmp_path, case):
    daemons = tmp_path / "daemons"
    if case.get("daemons_is_a_directory"):
        daemons.mkdir()
    elif "daemons" in case:
        daemons.write_text(case["daemons"])
    args = dict(case["args"], daemons_path=str(daemons))
    if "vtysh" in case:
        vtysh = tmp_path / "vtysh"
        vtysh.write_text("")
        vtysh.chmod(0o755 if case["vtysh"]["executable"] else 0o644)
        args["vtysh_path"] = str(vtysh)
    calls = []

    def run_command(self, argv, **kwargs):
        calls.append(argv)
        key = " ".join([argv[0].rsplit("/", 1)[-1], *argv[1:2]])
        rc, out = case.get("commands", {}).get(key, (127, ""))
        return rc, out, ""

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *a, **k: f"/usr/bin/{name}" if name in case["binaries"] else None)
    code, result, dummy = run(capsys, args)
    expect = case["expect"]
    assert_expected(code, result, expect)
    # a read-only module: it asks the package tool and vtysh, and nothing else
    assert all(argv[0].rsplit("/", 1)[-1] in ("dpkg-query", "rpm", "vtysh") for argv in calls), calls


def test_read_file(tmp_path):
    """The module's reader: text (undecodable bytes replaced), or None for a missing file."""
    path = tmp_path / "daemons"
    path.write_bytes(b"bgpd=yes\n\xff\n")
    assert frr_info.read_file(str(path)) == "bgpd=yes\n\ufffd\n"
    assert frr_info.read_file(str(tmp_path / "missing")) is None
