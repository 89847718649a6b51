#!/usr/bin/env python3
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""leader_verify's probers side by side on the lab segment (real ARP and NDP).

Brings up its own lab (lab/labctl.py, name 'l2b<pid>' unless --lab names a running
one), puts VIPs on the nodes, and runs leader_verify's logic (LeaderVerify.run(): route
lookup, probing, verdict; no Ansible around it) inside the client host's namespaces
with each prober:

  raw      the module's AF_PACKET prober (all VIPs on one socket)
  iputils  iputils arping -b, one process per probe
  habets   Thomas Habets' arping -d, one process per probe
  ndisc6   ndisc6 -m, one process per probe (IPv6 VIPs only)

Scenarios: one VIP whose leader answers; 20 VIPs at once; a VIP nobody answers
(timeout 0.5 s); two holders (duplicate); each for IPv4 (ARP: raw, iputils, habets)
and IPv6 (NDP on 2001:db8:100::/64: raw, ndisc6). Each is repeated; the table gives the median
and the 95th percentile wall time of run() in milliseconds and the ratios to raw. For
context it also times a plain `arping -c 3 -I eth0 VIP`, the command MetalLB's
troubleshooting guide suggests (it takes seconds and cannot see a second holder).

    sudo python3 bench/leader_verify_bench.py [--lab NAME] [--repeat 15]

Targets from the issue: a verdict within 100 ms when the leader answers, 20 VIPs
within 0.5 s, and a no-reply verdict bounded by the timeout. Printed, not asserted.
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
# the lab client is stdlib only: --inner imports it too, under the hosts' /usr/bin/python3
sys.path.insert(0, str(ROOT / "lab"))

from metallb_lab.client import LabClient, unique_name  # noqa: E402

HABETS = ROOT / ".cache" / "habets-arping" / "usr" / "sbin" / "arping"
PROBERS = {"raw": None, "iputils": "/usr/bin/arping", "habets": str(HABETS)}
ONE = "198.51.100.201"
NOBODY = "198.51.100.202"
TWO = "198.51.100.203"
TWENTY = [f"198.51.100.{n}" for n in range(210, 230)]
NO_REPLY_TIMEOUT = 0.5
ONE6 = "2001:db8:100::201"
NOBODY6 = "2001:db8:100::202"
TWO6 = "2001:db8:100::203"
TWENTY6 = [f"2001:db8:100::{n}" for n in range(210, 230)]
PROBERS6 = {"raw": None, "ndisc6": None}


def _collections_path() -> list[str]:
    configured = os.environ.get("ANSIBLE_COLLECTIONS_PATH")
    if configured:
        return [entry for entry in configured.split(os.pathsep) if entry]
    return [str(ROOT / ".build" / "dev"), str(ROOT / ".build" / "collections")]


# ---------------------------------------------------------------- inside the client

def inner(repeat: int) -> dict:
    """Runs in the client's namespaces: time LeaderVerify.run() per prober and scenario."""
    sys.path[:0] = _collections_path()
    from ansible_collections.baremetal.metallb.plugins.module_utils.arping.leader import LeaderVerify  # pylint: disable=import-outside-toplevel

    nodes = json.loads(os.environ["LV_BENCH_NODES"])
    scenarios = {}
    for family, (one, twenty, nobody, two, probers) in {
        "": (ONE, TWENTY, NOBODY, TWO, PROBERS),
        "IPv6 ": (ONE6, TWENTY6, NOBODY6, TWO6, PROBERS6),
    }.items():
        scenarios |= {
            f"{family}single VIP, leader answers": (dict(addresses=[one], expected={one: "node1"}), probers),
            f"{family}20 VIPs at once": (dict(addresses=twenty, expected={vip: "node2" for vip in twenty}), probers),
            f"{family}no reply (timeout {NO_REPLY_TIMEOUT} s)": (dict(addresses=[nobody], timeout=NO_REPLY_TIMEOUT, fail_on=[]), probers),
            f"{family}two holders (duplicate)": (dict(addresses=[two], fail_on=[]), probers),
        }
    out: dict = {}
    for name, (params, probers) in scenarios.items():
        for prober, path in probers.items():
            times, probing, statuses = [], [], set()
            for _run in range(repeat if "no reply" not in name else max(3, repeat // 3)):
                full = dict(nodes=nodes, prober=prober, arping_path=path, count=3, reply_window=0.02, timeout=1.0,
                            wait_for="stable", deadline=30.0, interface=None, from_node=None)
                full.update(params)
                started = time.perf_counter()
                result = LeaderVerify(full).run()
                times.append((time.perf_counter() - started) * 1000.0)
                probing.append(max(r["elapsed_ms"] for r in result["addresses"].values()))
                statuses.update(r["status"] for r in result["addresses"].values())
            out.setdefault(name, {})[prober] = {"times": times, "probing": probing, "statuses": sorted(statuses)}
    plain = []
    for _run in range(3):
        started = time.perf_counter()
        run = subprocess.run(["arping", "-c", "3", "-I", "eth0", TWO], capture_output=True, text=True, check=False)
        plain.append((time.perf_counter() - started) * 1000.0)
    macs = sorted({line.split("[")[1].split("]")[0] for line in run.stdout.splitlines() if "reply from" in line})
    out["plain"] = {"times": plain, "macs_seen": macs, "rc": run.returncode}
    return out


# ---------------------------------------------------------------- outside

def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def report(data: dict) -> None:
    targets = {}
    for family in ("", "IPv6 "):
        targets |= {
            f"{family}single VIP, leader answers": ("< 100 ms", lambda ms: ms < 100.0),
            f"{family}20 VIPs at once": ("< 500 ms", lambda ms: ms < 500.0),
            # The scheduler stops at the timeout; what comes after is wake-up latency (raw) or
            # the stopped arping printing its summary and exiting.
            f"{family}no reply (timeout {NO_REPLY_TIMEOUT} s)": (f"probing <= {NO_REPLY_TIMEOUT * 1000:.0f} + 5 ms",
                                                                 lambda ms: ms <= NO_REPLY_TIMEOUT * 1000.0 + 5.0),
        }
    print()
    print(f"{'scenario':37} {'prober':8} {'median':>8} {'p95':>8} {'probing':>8} {'x raw':>7}  status      target")
    for name, by_prober in data.items():
        if name == "plain":
            continue
        raw_median = statistics.median(by_prober["raw"]["times"])
        for prober, numbers in by_prober.items():
            median = statistics.median(numbers["times"])
            probing = statistics.median(numbers["probing"])
            verdict = ""
            if name in targets:
                label, ok = targets[name]
                measured = pct(numbers["probing"], 1.0) if "no reply" in name else pct(numbers["times"], 0.95)
                verdict = f"{label}: {'met' if ok(measured) else 'MISSED'}"
            if "no reply" in name:
                verdict += f" (worst {pct(numbers['probing'], 1.0) - NO_REPLY_TIMEOUT * 1000:+.1f} ms)"
            print(f"{name:37} {prober:8} {median:8.1f} {pct(numbers['times'], 0.95):8.1f} {probing:8.1f} "
                  f"{median / raw_median:7.2f}  {','.join(numbers['statuses']):10}  {verdict}")
        print()
    pairs = [(name, f"IPv6 {name}") for name in data if name != "plain" and f"IPv6 {name}" in data]
    print("raw prober, IPv6 (NDP) / IPv4 (ARP) median: " + "; ".join(
        f"{v4} {statistics.median(data[v6]['raw']['times']) / statistics.median(data[v4]['raw']['times']):.2f}"
        for v4, v6 in pairs))
    plain = data["plain"]
    print(f"plain `arping -c 3 -I eth0 {TWO}` (two holders): median {statistics.median(plain['times']):.0f} ms, "
          f"exit {plain['rc']}, MACs printed {plain['macs_seen']} (after the first broadcast it probes unicast)")
    print("median/p95: wall time of LeaderVerify.run() (route lookup + probing + verdict), ms;"
          " probing: median of the slowest VIP's elapsed_ms as the module reports it; x raw: median / raw median")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--lab", help="use this running lab instead of bringing up one of its own ('l2b<pid>')")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.inner:
        print(json.dumps(inner(args.repeat)))
        return 0
    if os.geteuid() != 0:
        print("the lab needs root", file=sys.stderr)
        return 2

    own_lab = args.lab is None
    lab = LabClient.fresh(unique_name("l2b"), nodes=3) if own_lab else LabClient(args.lab)
    placed = [(ONE, "node1"), (TWO, "node1"), (TWO, "node2"), *((vip, "node2") for vip in TWENTY),
              (ONE6, "node1"), (TWO6, "node1"), (TWO6, "node2"), *((vip, "node2") for vip in TWENTY6)]
    try:
        nodes = {host: lab.hosts[host].mac for host in lab.nodes}
        for vip, host in placed:
            lab.vip(host, "add", vip)
        env = dict(os.environ, LV_BENCH_NODES=json.dumps(nodes), ANSIBLE_COLLECTIONS_PATH=os.pathsep.join(_collections_path()))
        # The hosts' own Python, as Ansible uses there (the lab hosts have a private /root).
        run = lab.exec("client", "/usr/bin/python3", str(pathlib.Path(__file__).resolve()), "--inner", "--repeat",
                       str(args.repeat), check=False, timeout=None, env=env)
        if run.returncode != 0:
            print(run.stdout, run.stderr, file=sys.stderr)
            return 1
        print(f"lab {lab.name}: client 198.51.100.100 / 2001:db8:100::100 probing node1..3; {args.repeat} runs per cell")
        report(json.loads(run.stdout.strip().splitlines()[-1]))
    finally:
        if own_lab:
            lab.down()
        else:
            for vip, host in placed:
                lab.labctl("vip", host, "del", vip, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
