#!/usr/bin/env python3
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""pool_validate's validation core against a pairwise netaddr comparison.

Generates N pools (IPv4 and IPv6, ranges, CIDRs and single addresses, one
planted overlap), validates them with PoolValidator at N=10,000 and 20,000,
and runs the pairwise check people write by hand (every entry against every
other, netaddr objects) on the same input. Prints times, the ratio and the
scaling factor time(20k)/time(10k). Both must find the planted overlap.

    python bench/pool_validate_bench.py [--sizes 10000 20000] [--pairwise-budget 120]

The pairwise loop is quadratic; past --pairwise-budget seconds it stops and
its time is extrapolated from the share of pairs it did compare (the output
says so).
"""

from __future__ import annotations

import argparse
import gc
import pathlib
import random
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / ".build" / "dev"), str(ROOT / ".build" / "collections")]

import netaddr  # noqa: E402

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.validator import PoolValidator  # noqa: E402


def generate(n: int, seed: int = 7) -> list[dict]:
    """n disjoint pools, shuffled, then one entry of pool n-1 planted inside pool 0."""
    rng = random.Random(seed)
    v4_base = int(netaddr.IPAddress("198.18.0.0"))  # 198.18.0.0/15 has room for 10k+ /28 blocks
    v6_base = int(netaddr.IPAddress("2001:db8::"))
    pools = []
    for i in range(n):
        if i % 2 == 0:
            block = v4_base + (i // 2) * 64
            kind = i % 3
            if kind == 0:
                entry = f"{netaddr.IPAddress(block)}/28"
            elif kind == 1:
                entry = f"{netaddr.IPAddress(block + 1)} - {netaddr.IPAddress(block + 1 + rng.randrange(3, 40))}"
            else:
                entry = f"{netaddr.IPAddress(block + 7)}/32"  # one address: MetalLB wants the prefix length
        else:
            block = v6_base + (i << 16)
            entry = f"{netaddr.IPAddress(block, 6)}/{rng.choice((112, 116, 120))}"
        pools.append({"name": f"pool-{i}", "addresses": [entry], "protocol": "bgp", "avoid_buggy_ips": False, "auto_assign": True})
    first_v4 = pools[0]["addresses"][0]
    inside = netaddr.IPNetwork(first_v4) if "-" not in first_v4 else netaddr.IPAddress(first_v4.split("-")[0].strip())
    pools[-1]["addresses"].append(f"{inside[3] if isinstance(inside, netaddr.IPNetwork) else inside}/32")
    rng.shuffle(pools)
    return pools


def ours(pools: list[dict]) -> tuple[float, set]:
    gc.collect()
    start = time.perf_counter()
    result = PoolValidator(pools=pools).run()
    elapsed = time.perf_counter() - start
    return elapsed, {frozenset((e["pool"], e["other_pool"])) for e in result.errors if e["code"] == "overlap"}


def pairwise(pools: list[dict], budget: float) -> tuple[float, set, float]:
    """The hand-written check: netaddr objects, every entry against every other."""
    gc.collect()
    start = time.perf_counter()
    entries = []
    for pool in pools:
        for text in pool["addresses"]:
            if "/" in text:
                net = netaddr.IPNetwork(text)
                span = netaddr.IPRange(net.first, net.last)
            elif "-" in text:
                first, last = (part.strip() for part in text.split("-"))
                span = netaddr.IPRange(first, last)
            else:
                span = netaddr.IPRange(text, text)
            entries.append((pool["name"], span))
    found = set()
    total_pairs = len(entries) * (len(entries) - 1) // 2
    done_pairs = 0
    for i, (name_a, a) in enumerate(entries):
        for name_b, b in entries[i + 1:]:
            if a.version == b.version and a.first <= b.last and b.first <= a.last:
                found.add(frozenset((name_a, name_b)))
        done_pairs += len(entries) - i - 1
        if time.perf_counter() - start > budget:
            break
    elapsed = time.perf_counter() - start
    share = done_pairs / total_pairs if total_pairs else 1.0
    return elapsed / share, found, share


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 20_000])
    parser.add_argument("--repeat", type=int, default=5, help="runs of our validator per size (median reported)")
    parser.add_argument("--pairwise-budget", type=float, default=120.0, help="seconds the pairwise loop may run per size")
    args = parser.parse_args()

    print(f"python {sys.version.split()[0]}, netaddr {netaddr.__version__}")
    print(f"{'N':>7} {'ours (median)':>14} {'pairwise':>12} {'ratio':>8}  planted overlap found (ours/pairwise)")
    times = {}
    for n in args.sizes:
        pools = generate(n)
        runs = [ours(pools) for _ in range(args.repeat)]
        ours_time = statistics.median(t for t, _ in runs)
        ours_found = runs[0][1]
        pair_time, pair_found, share = pairwise(pools, args.pairwise_budget)
        times[n] = ours_time
        planted = frozenset((f"pool-0", f"pool-{n - 1}"))
        note = "" if share >= 1 else f"  (pairwise extrapolated from {share:.1%} of the pairs)"
        print(
            f"{n:>7} {ours_time:>13.3f}s {pair_time:>11.1f}s {pair_time / ours_time:>7.0f}x  "
            f"{planted in ours_found}/{planted in pair_found if share >= 1 else 'n/a'}{note}"
        )
        if planted not in ours_found or len(ours_found) != 1:
            print(f"ERROR: expected exactly the planted overlap, got {sorted(map(sorted, ours_found))}")
            return 1
    if len(args.sizes) >= 2:
        small, large = args.sizes[0], args.sizes[1]
        print(f"scaling: time({large})/time({small}) = {times[large] / times[small]:.2f} (input grew {large / small:.1f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
