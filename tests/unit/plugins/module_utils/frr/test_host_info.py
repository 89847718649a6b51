# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""HostInfo on recorded hosts (cases in the YAML beside)."""

from __future__ import annotations

from ansible_collections.baremetal.metallb.plugins.module_utils.frr.host_info import HostInfo, parse_daemons_file
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

CASES = load_data(__file__)


def host(case: dict) -> tuple[HostInfo, list]:
    calls = []

    def run(argv):
        calls.append(argv)
        rc, out = case["commands"].get(" ".join(argv[:2]).replace("/bin/", ""), (127, ""))
        return rc, out, ""

    def find(name):
        return f"/bin/{name}" if name in case["binaries"] else None

    return HostInfo(run, case["files"].get, find), calls


@parametrize_cases(CASES)
def test_read(case):
    info, calls = host(case)
    assert info.read(["frr", "frr-pythontools"], "/etc/frr/daemons") == case["expect"]
    # one package query at most, with every package in it; nothing but reads
    queries = [argv for argv in calls if argv[0].endswith(("dpkg-query", "rpm"))]
    assert len(queries) <= 1 and all(argv[-2:] == ["frr", "frr-pythontools"] for argv in queries)


def test_dpkg_is_asked_before_rpm():
    info, calls = host({"binaries": ["dpkg-query", "rpm"], "commands": {}, "files": {}})
    info.packages(["frr"])
    assert [argv[0] for argv in calls] == ["/bin/dpkg-query"]


def test_no_packages_asks_nothing():
    info, calls = host({"binaries": ["dpkg-query"], "commands": {}, "files": {}})
    assert info.packages([]) == {} and calls == []


def test_the_last_setting_of_a_daemon_wins():
    assert parse_daemons_file("bgpd=yes\nbgpd=no\n# bgpd=yes\n") == {"bgpd": "no"}
