# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""hostinit detaching namespace handles while another lab deletes one of them.

A new host's mount namespace starts as a copy of the machine's, with every lab's netns
handles in it; hostinit detaches them. When another lab deletes a namespace between
hostinit's listing and its umount, that handle vanishes from the copy: hostinit must
accept this for other labs' handles, and refuse it for its own lab's. The race is made
deterministic here: the listing is taken, the namespace deleted, then the umounts run.
"""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

LAB_PACKAGE = Path(__file__).resolve().parents[3] / "lab" / "metallb_lab"
# Runs in a mount namespace of its own (as hostinit does), so its umounts touch nothing else.
CHILD = """
import json, sys
sys.path.insert(0, sys.argv[1])
import hostinit
handles = hostinit.namespace_handle_mounts()
print("listed", flush=True)
sys.stdin.readline()
print(json.dumps(hostinit.detach_namespace_handles((sys.argv[2],), handles)))
"""


def detach_while_deleted(netns: str, own_prefix: str) -> subprocess.CompletedProcess:
    """List the handles in a new mount namespace, delete ``netns`` meanwhile, then detach."""
    subprocess.run(["ip", "netns", "add", netns], check=True)
    child = subprocess.Popen(
        ["unshare", "--mount", "--propagation", "private", "--", "/usr/bin/python3", "-c", CHILD, str(LAB_PACKAGE),
         own_prefix],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "listed\n", child.stderr.read()
        subprocess.run(["ip", "netns", "del", netns], check=True)
        out, err = child.communicate("go\n", timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        if Path(f"/run/netns/{netns}").exists():
            subprocess.run(["ip", "netns", "del", netns], check=False)
    return subprocess.CompletedProcess(child.args, child.returncode, out, err)


@pytest.fixture(autouse=True)
def _root():
    if os.geteuid() != 0:
        pytest.fail("needs root: network and mount namespaces")


def test_another_labs_handle_vanishing_is_tolerated():
    netns = f"hg{os.getpid()}-node1"
    done = detach_while_deleted(netns, own_prefix=f"/run/netns/hx{os.getpid()}-")
    assert done.returncode == 0, done.stderr
    assert f"/run/netns/{netns}" in json.loads(done.stdout.splitlines()[-1])


def test_own_labs_handle_vanishing_is_an_error():
    netns = f"hg{os.getpid()}-node1"
    done = detach_while_deleted(netns, own_prefix=f"/run/netns/hg{os.getpid()}-")
    assert done.returncode != 0
    assert f"hostinit: umount /run/netns/{netns} failed" in done.stderr
