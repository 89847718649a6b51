# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The frr_config module's main() against test_frr_config.yaml: real files in tmp_path, tools replayed."""

from __future__ import annotations

import grp
import json
import os
import pathlib
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.baremetal.metallb.plugins.modules import frr_config
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
FIXTURES = HERE.parent / "module_utils" / "frr" / "fixtures"
CASES = load_data(__file__)
RUN = ModuleRunner(frr_config)


def _classify(argv):
    if argv[1:] == ["-c", "show daemons"]:
        return "show_daemons"
    if argv[1] == "-C":
        return "check"
    return "test" if "--test" in argv else "reload"


def _run(capsys, monkeypatch, tmp_path, case):
    etc = tmp_path / "etc-frr"
    etc.mkdir()
    conf = etc / "frr.conf"
    if case["current"] is not None:
        conf.write_text(case["current"])
        conf.chmod(0o644)
    tools = tmp_path / "bin"
    tools.mkdir()
    vtysh, reload_script = tools / "vtysh", tools / "frr-reload.py"
    if not case.get("no_tools"):
        vtysh.write_text("")
        reload_script.write_text("")
    answers = {name: list(a) for name, a in case.get("run", {}).items()}
    calls = []

    def run_command(self, argv, **kwargs):
        assert kwargs.get("umask") == 0o077  # temporary files frr-reload.py writes stay private
        tool = _classify(argv)
        calls.append(tool)
        queue = answers.get(tool) or [{}]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if "fixture" in answer:
            name = answer["fixture"]
            return 0, (FIXTURES / f"reload_test_{name}.stdout").read_text(), (FIXTURES / f"reload_test_{name}.stderr").read_text()
        return answer.get("rc", 0), answer.get("out", ""), answer.get("err", "")

    monkeypatch.setattr(AnsibleModule, "run_command", run_command)
    args = {
        "path": str(conf),
        "owner": pwd.getpwuid(os.getuid()).pw_name,
        "group": grp.getgrgid(os.getgid()).gr_name,
        "vtysh_path": str(vtysh),
        "reload_script": str(reload_script),
    }
    args.update(case["args"])
    code, result, out = RUN(capsys, args)
    return code, result, out, conf, calls


@parametrize_cases(CASES)
def test_case(capsys, monkeypatch, tmp_path, case):
    code, result, raw, conf, _calls = _run(capsys, monkeypatch, tmp_path, case)
    expect = case["expect"]
    assert_expected(code, result, expect)
    for text in expect.get("warnings_have", []):
        assert text in json.dumps(result.get("warnings", [])), result.get("warnings")
    prepared = result.get("diff", {}).get("prepared", "")
    for text in expect.get("diff_has", []):
        assert text in prepared, prepared
    if expect.get("no_diff"):
        assert "diff" not in result
    for secret in expect.get("lacks", []):
        assert secret not in raw
    # the candidate itself is never echoed back
    assert case["args"]["content"] not in raw
    if expect.get("file") == "content":
        assert conf.read_text() == case["args"]["content"]
    elif expect.get("file") == "current":
        assert conf.read_text() == case["current"]
    if "mode" in expect:
        assert oct(stat.S_IMODE(conf.stat().st_mode)) == oct(int(expect["mode"], 8))
    backups = [p for p in conf.parent.iterdir() if p.name.startswith("frr.conf.") and p.name.endswith("~")]
    assert bool(backups) == expect.get("backup", False)
    for backup in backups:
        assert backup.read_text() == case["current"]
        assert stat.S_IMODE(backup.stat().st_mode) == 0o640  # it holds the same secrets
    assert not [p for p in conf.parent.iterdir() if p.name.startswith(".frr_config.")]
