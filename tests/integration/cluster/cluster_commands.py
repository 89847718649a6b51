# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Commands the cluster tests run (clusterctl, labctl, ip): a failure shows its output; the client's traffic."""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

TRAFFIC = Path(__file__).with_name("maintenance_traffic.py")


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


class Traffic:
    """maintenance_traffic.py on the lab's client host: per target (name -> ``VIP:port``) a stream of new
    connections every ``interval`` seconds and ``held`` long-lived ones; ``result()`` stops it and returns
    its JSON document (per target: ``new`` [wall time, ok, node or error, seconds], ``held``)."""

    def __init__(self, lab, tmp: Path, targets: dict[str, str], *, interval: float, timeout: float, held: int) -> None:
        tmp.mkdir(parents=True, exist_ok=True)
        self.stop_file = tmp / "stop"
        self.proc = subprocess.Popen([*lab.hosts["client"].enter, "/usr/bin/python3", str(TRAFFIC),
                                      "--stop-file", str(self.stop_file), "--interval", str(interval),
                                      "--timeout", str(timeout), "--held", str(held),
                                      *(f"{name}={target}" for name, target in targets.items())],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        first = self.proc.stdout.readline()
        assert first.startswith('{"started"'), first + self.proc.stderr.read()

    def result(self) -> dict:
        self.stop_file.write_text("")
        out, err = self.proc.communicate(timeout=60)
        assert self.proc.returncode == 0, err
        return json.loads(out.strip().splitlines()[-1])
