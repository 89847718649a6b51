# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ConfigApplier against test_apply.yaml: FRR's tools replayed, files faked in memory."""

from __future__ import annotations

import json
import pathlib

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.apply import ConfigApplier, failure_message
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrError, FrrTools
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

HERE = pathlib.Path(__file__).parent
CASES = load_data(__file__)
PATH = "/etc/frr/frr.conf"


class ReplayRunner:
    """Answers each tool from the case's list, in order, and records the calls."""

    def __init__(self, tools: dict):
        self.answers = {name: list(answers) for name, answers in tools.items()}
        self.calls: list[str] = []
        self.argv: list[list[str]] = []

    @staticmethod
    def classify(argv: list[str]) -> str:
        if argv[0].endswith("vtysh") and argv[1:] == ["-c", "show daemons"]:
            return "show_daemons"
        if argv[0].endswith("vtysh") and argv[1] == "-C":
            return "check"
        if "--test" in argv:
            return "test"
        if "--reload" in argv:
            return "reload"
        raise AssertionError(f"unexpected command {argv}")

    def __call__(self, argv):
        tool = self.classify(argv)
        self.calls.append(tool)
        self.argv.append(argv)
        queue = self.answers.get(tool) or [{}]
        answer = queue.pop(0) if len(queue) > 1 else queue[0]
        if "fixture" in answer:
            name = answer["fixture"]
            out = (HERE / "fixtures" / f"reload_test_{name}.stdout").read_text()
            err = (HERE / "fixtures" / f"reload_test_{name}.stderr").read_text()
            return (1 if name == "bad" else 0), out, err
        return answer.get("rc", 0), answer.get("out", ""), answer.get("err", "")


class MemoryFiles:
    def __init__(self, current):
        self.files = {} if current is None else {PATH: current}
        self.temps = 0
        self.installed = self.backup_made = self.restored = False

    def read(self, path):
        return self.files.get(path)

    def write_temp(self, content):
        self.temps += 1
        name = f"/etc/frr/.tmp{self.temps}"
        self.files[name] = content
        return name

    def backup(self, path):
        self.backup_made = True
        self.files[path + ".bak"] = self.files[path]
        return path + ".bak"

    def install(self, temp_path, path):
        self.installed = True
        self.files[path] = self.files.pop(temp_path)

    def restore(self, previous, path):
        self.restored = True
        self.files[path] = previous

    def remove(self, path):
        self.files.pop(path, None)


@parametrize_cases(CASES)
def test_case(case):
    runner = ReplayRunner(case.get("tools", {}))
    files = MemoryFiles(case["current"])
    applier = ConfigApplier(FrrTools(runner, vtysh="/usr/bin/vtysh"), files)
    expect = case["expect"]
    result, error = None, None
    try:
        result = applier.apply(case["content"], PATH, check_mode=case.get("check_mode", False))
    except FrrError as exc:
        error = failure_message(exc, case["content"])

    if "error" in expect:
        assert error is not None and expect["error"] in error, error
    else:
        assert error is None, error
        for key, value in expect["result"].items():
            assert result[key] == value, f"{key}: {result[key]!r} != {value!r}"
    assert runner.calls == expect["calls"]
    assert files.installed == expect.get("installed", False)
    assert files.backup_made == expect.get("backup", files.backup_made)
    assert files.restored == expect.get("restored", False)
    if files.installed and not files.restored:
        assert files.files[PATH] == case["content"]
    else:  # never installed, or rolled back
        assert files.files.get(PATH) == case["current"]
    # the candidate's temporary copy never stays behind
    assert not [name for name in files.files if ".tmp" in name]
    if "warning" in expect:
        assert any(expect["warning"] in w for w in result["warnings"]), result["warnings"]
    dumped = json.dumps(result) + str(error)
    for secret in expect.get("lacks", []):
        assert secret not in dumped


def test_reload_is_run_on_the_installed_file_with_its_confdir():
    """frr-reload.py writes running-config over <confdir>/frr.conf when given any other file."""
    case = next(c for c in CASES if c["id"] == "neighbor_added_is_applied_incrementally")
    runner = ReplayRunner(case["tools"])
    ConfigApplier(FrrTools(runner, vtysh="/usr/bin/vtysh"), MemoryFiles(case["current"])).apply(case["content"], PATH)
    reload_argv = runner.argv[runner.calls.index("reload")]
    assert reload_argv[-1] == PATH
    assert reload_argv[reload_argv.index("--confdir") + 1] == "/etc/frr"
    assert "--stdout" in reload_argv  # keeps applied commands out of /var/log/frr/frr-reload.log
    assert reload_argv[reload_argv.index("--bindir") + 1] == "/usr/bin"
