# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Client traffic for test_maintenance.py, run on the lab's client host (stdlib only).

    maintenance_traffic.py --stop-file PATH [--interval S] [--held N] NAME=VIP:PORT ...

Per target, until the stop file exists: a steady stream of new TCP connections (one HTTP
request each, a new source port each, one every --interval seconds), and --held long-lived
connections asking again every 0.2 s. Then one JSON document on stdout: per target, every new
connection as [wall time, ok, answering node or error], and every held connection with the
node it first reached and when (wall time) and why it broke, if it did.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
from pathlib import Path

# the lab's echo client: one HTTP request on an open connection (lab/cluster/echo.py, stdlib only)
sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "lab" / "cluster"))
from echo import _request as request  # noqa: E402


def new_connections(host: str, port: int, interval: float, timeout: float, stop: threading.Event, out: list) -> None:
    while not stop.is_set():
        started = time.time()
        try:
            with socket.create_connection((host, port), timeout=timeout) as sock:
                answer = request(sock, host, bytearray())
            out.append([started, True, answer["node"], round(time.time() - started, 3)])
        except (OSError, ValueError, StopIteration) as exc:
            out.append([started, False, f"{type(exc).__name__}: {exc}", round(time.time() - started, 3)])
        stop.wait(max(0.0, interval - (time.time() - started)))


def held_connections(host: str, port: int, count: int, timeout: float, stop: threading.Event, out: list) -> None:
    conns = []
    for dummy in range(count):
        sock = socket.create_connection((host, port), timeout=timeout)
        buf = bytearray()
        conns.append({"sock": sock, "buf": buf, "first_node": request(sock, host, buf)["node"], "source": None,
                      "ok": 1, "broke": None, "error": ""})
    while not stop.is_set():
        for conn in conns:
            if conn["broke"] is not None:
                continue
            try:
                request(conn["sock"], host, conn["buf"])
                conn["ok"] += 1
            except (OSError, ValueError, StopIteration) as exc:
                conn["broke"], conn["error"] = time.time(), f"{type(exc).__name__}: {exc}"
                conn["sock"].close()
        stop.wait(0.2)
    for conn in conns:
        conn["sock"].close()
        out.append({key: conn[key] for key in ("first_node", "ok", "broke", "error")})


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--interval", type=float, default=0.05)
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--held", type=int, default=10)
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args()
    stop = threading.Event()
    results, threads = {}, []
    for target in args.targets:
        name, dummy, address = target.partition("=")
        host, dummy, port = address.rpartition(":")
        results[name] = {"new": [], "held": []}
        threads.append(threading.Thread(target=held_connections, daemon=True,
                                        args=(host, int(port), args.held, args.timeout, stop, results[name]["held"])))
        threads.append(threading.Thread(target=new_connections, daemon=True,
                                        args=(host, int(port), args.interval, args.timeout, stop, results[name]["new"])))
    for thread in threads:
        thread.start()
    print(json.dumps({"started": time.time()}), flush=True)
    while not os.path.exists(args.stop_file):
        time.sleep(0.1)
    stop.set()
    for thread in threads:
        thread.join(timeout=10)
    print(json.dumps(results), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
