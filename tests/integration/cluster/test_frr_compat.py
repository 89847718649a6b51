# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Does the lab's FRR load what frr-k8s renders? (lab/cluster/frr_compat.py, issue 17)

Every golden file of the frr-k8s module MetalLB's go.mod pins goes through a throw-away
Debian FRR of its own (private namespaces, the pod's startup files, ``frrinit.sh start``,
``vtysh -f`` and the reloader's ``frr-reload.py --test``). The test pins today's finding: the
versions it was made with and exactly which files FRR refuses and why. A new FRR or frr-k8s
version makes it fail, on purpose: look at the report (``python3 lab/cluster/frr_compat.py``)
and update the finding and lab/cluster/README.md together.
"""
from __future__ import annotations

import os
import time

import pytest

from cluster import frr_compat as F  # lab/ on sys.path: conftest.py

FRR = "8.4.4"
FRR_K8S = "v0.0.25"  # what MetalLB v0.16.1's go.mod requires
GOLDEN_FILES = 24
# The finding: file -> what FRR refuses in it (values replaced, see frr_compat.line_kind).
REFUSED = {
    # upstream keeps this one broken on purpose (its docker test expects the gate to fail)
    "TestDockerTestfails.golden": {"parse: Unknown command: wrong line",
                                   "apply: Unknown command"},
    # `permit 192.168.3.0/24 ge 16`: ge below the prefix length. FRR 8.4's northbound refuses
    # the whole transaction vtysh grouped it into (all of the file's prefix-lists and
    # route-maps) and vtysh still exits 0.
    "TestTwoSessionsAcceptV4AndV6.golden": {
        "apply: configuration failed: Invalid prefix range for A: Make sure that mask length <= ge <= le "
        "(rejected with its transaction)"},
}
CULPRIT = "ip prefix-list 192.168.1.2-inpl-ipv4 seq 5 permit 192.168.3.0/24 ge 16"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="makes namespaces and bind mounts: root only")


@pytest.fixture(scope="module")
def report() -> dict:
    t = time.monotonic()
    rep = F.check()
    print(f"\nfrr_compat: {len(rep['files'])} golden files in {time.monotonic() - t:.1f} s")
    return rep


def test_versions_are_the_ones_the_finding_was_made_with(report):
    assert report["frr"].startswith(FRR + "-"), (
        f"the machine's FRR is {report['frr']}, the finding is for {FRR}: re-evaluate it")
    assert report["frr_k8s"] == F.frr_k8s_version() == FRR_K8S, (
        f"MetalLB now pins frr-k8s {report['frr_k8s']}, the finding is for {FRR_K8S}: re-evaluate it")
    assert len(report["files"]) == GOLDEN_FILES
    assert all(r["seconds"] > 0 for r in report["files"])


def test_frr_refuses_exactly_the_known_lines(report):
    assert F.refused(report) == REFUSED, F.format_report(report)


def test_the_reloader_gate_fails_only_on_the_unknown_command(report):
    # the gate (frr-reload.py --test) refuses a file as a whole; only the broken one here
    by_file = {r["file"]: r for r in report["files"]}
    bad = by_file["TestDockerTestfails.golden"]
    assert not bad["parse_ok"] and bad["parse_errors"] == [
        {"lineno": 18, "line": "wrong line", "error": "Unknown command"}]
    assert [r["file"] for r in report["files"] if not r["parse_ok"]] == ["TestDockerTestfails.golden"]


def test_a_refused_transaction_drops_good_lines_too_and_they_do_not_run(report):
    r = {r["file"]: r for r in report["files"]}["TestTwoSessionsAcceptV4AndV6.golden"]
    assert r["parse_ok"] and r["apply_rc"] == 0 and not r["apply_ok"]
    rejected = [e["line"] for e in r["apply_errors"]]
    assert CULPRIT in rejected
    assert "ip prefix-list 192.168.1.2-allowed-ipv4 seq 1 deny any" in rejected  # a valid line
    # and the daemons really do not run them: the reloader's diff still wants to add them
    assert CULPRIT in r["not_running"]
    assert "route-map 192.168.1.2-in permit 3" in r["not_running"]


def test_every_other_file_loads(report):
    ok = [r["file"] for r in report["files"] if r["parse_ok"] and r["apply_ok"]]
    assert sorted(ok) == sorted(r["file"] for r in report["files"] if r["file"] not in REFUSED)
    assert len(ok) == GOLDEN_FILES - len(REFUSED)
