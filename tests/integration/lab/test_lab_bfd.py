# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""``up --bfd``: the stand-in speakers start with BFD, in canonical form (a lab of its own, 1 node)."""
from __future__ import annotations

import os
from pathlib import Path

from metallb_lab.client import LabClient, labctl  # on sys.path: ../conftest.py


def test_up_with_bfd_starts_canonical_bfd_speakers():
    name = f"bfd{os.getpid()}"
    try:
        labctl("up", "--name", name, "--nodes", "1", "--bfd")
        lab = LabClient(name)
        st = lab.status()
        assert st["bfd"] is True and st["up"]
        assert st["hosts"]["node1"]["frr"]["bfdd"]
        assert "bfdd=yes" in lab.exec("node1", "cat", "/etc/frr/daemons").stdout.splitlines()
        peers = lab.vtysh_json("node1", "show bfd peers")
        assert sorted(p["peer"] for p in peers) == ["198.51.100.1", "2001:db8:100::1"]
        assert {(p["receive-interval"], p["transmit-interval"], p["detect-multiplier"]) for p in peers} == {(100, 100, 3)}
        diff = lab.exec("node1", "/usr/lib/frr/frr-reload.py", "--test", "--stdout", "/etc/frr/frr.conf").stdout
        assert "Lines To" not in diff, diff
        # the router is still untouched: BFD on the router is the bgp_router role's business
        assert "bfdd=no" in lab.exec("router", "cat", "/etc/frr/daemons").stdout.splitlines()
        assert "nothing to do" in labctl("up", "--name", name).stdout
    finally:
        labctl("down", "--name", name, check=False)
    assert not Path(f"/run/metallb-lab/{name}").exists()
