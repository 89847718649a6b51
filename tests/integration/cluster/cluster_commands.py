# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands the cluster tests run (clusterctl, labctl, ip): a failure shows its output."""

from __future__ import annotations

import subprocess
import time


def sh(argv: list[str], timeout: float = 900) -> subprocess.CompletedProcess:
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    assert p.returncode == 0, f"{' '.join(argv)} failed:\n{p.stdout}\n{p.stderr}"
    return p


def timed(what: str, argv: list[str], timeout: float = 900, times: dict | None = None) -> subprocess.CompletedProcess:
    """``sh``, printing how long it took (and keeping it in ``times[what]``)."""
    t = time.monotonic()
    p = sh(argv, timeout)
    seconds = time.monotonic() - t
    if times is not None:
        times[what] = seconds
    print(f"\n[time] {what}: {seconds:.1f} s", flush=True)
    return p
