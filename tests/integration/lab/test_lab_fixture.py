# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared fixtures other tests build on: ``lab`` and ``ansible_playbook``."""
from __future__ import annotations

import os
from pathlib import Path

from metallb_lab.client import labctl, parse_recap  # on sys.path: ../conftest.py

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"


def test_lab_fixture_describes_a_running_lab(lab):
    assert lab.inventory.joinpath("hosts.yml").is_file()
    assert set(lab.hosts) >= {"router", "node1", "client"}
    assert lab.nodes == [n for n in lab.hosts if n.startswith("node")]
    node1 = lab.hosts["node1"]
    assert (node1.address, node1.address6, node1.mac) == ("198.51.100.11", "2001:db8:100::11", "02:00:c6:33:64:0b")
    assert node1.group == "k8s_nodes" and node1.asn == 64500
    cp = lab.exec("node1", "hostname")
    assert cp.returncode == 0 and cp.stdout.strip() == "node1"
    assert lab.exec("node1", "false", check=False).returncode == 1


def test_ansible_playbook_counts_changes(lab, ansible_playbook):
    probe = f"lab-fixture-{os.getpid()}"
    first = ansible_playbook(PLAYBOOKS / "probe.yml", lab.inventory, extra_vars={"probe": probe})
    assert set(first.recap) == set(lab.hosts)
    assert first.changed == len(lab.hosts) and first.failed == 0
    second = ansible_playbook(PLAYBOOKS / "probe.yml", lab.inventory, extra_vars={"probe": probe})
    assert second.changed == 0
    checked = ansible_playbook(PLAYBOOKS / "probe.yml", lab.inventory, extra_vars={"probe": probe, "text": "other"},
                               check=True, diff=True)
    assert checked.changed == len(lab.hosts)
    assert "+other" in checked.stdout  # the diff
    # check mode changed nothing, and each host has its own copy in its own /var/tmp
    for name in lab.hosts:
        assert lab.exec(name, "cat", f"/var/tmp/{probe}").stdout == f"{name}\n"
    failed = ansible_playbook(PLAYBOOKS / "probe.yml", lab.inventory, extra_vars={"probe": probe, "fail_on": "node1"},
                              expect_failure=True, limit="node1,client")
    assert failed.rc != 0
    assert failed.recap["node1"]["failed"] == 1 and failed.recap["client"]["failed"] == 0
    for name in lab.hosts:
        lab.exec(name, "rm", "-f", f"/var/tmp/{probe}")


def test_parse_recap_reads_every_host():
    out = """
PLAY RECAP *********************************************************************
client                     : ok=2    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0
node1                      : ok=1    changed=0    unreachable=1    failed=2    skipped=3    rescued=0    ignored=4
"""
    recap = parse_recap(out)
    assert recap["client"] == {"ok": 2, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0,
                               "ignored": 0}
    assert recap["node1"]["failed"] == 2 and recap["node1"]["ignored"] == 4


def test_two_labs_with_the_same_addresses_never_meet(lab):
    other = f"o{os.getpid()}"
    labctl("up", "--name", other, "--nodes", "1")
    try:
        labctl("vip", "--name", other, "node1", "add", "198.51.100.201")
        # reachable inside its own lab ...
        labctl("exec", "--name", other, "client", "--", "ping", "-c", "1", "-W", "2", "198.51.100.201")
        # ... and not from the other one, though both use 198.51.100.0/24
        assert lab.exec("client", "ping", "-c", "1", "-W", "1", "198.51.100.201", check=False).returncode != 0
        assert lab.exec("client", "ping", "-c", "1", "-W", "2", "198.51.100.11").returncode == 0
    finally:
        labctl("down", "--name", other)
    assert lab.status()["up"]  # the session lab did not notice
