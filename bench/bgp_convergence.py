#!/usr/bin/env python3
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""How fast the router's FIB follows the nodes, with the bgp_router role's configuration.

Brings up its own lab (lab/labctl.py, name 'bgpb<pid>' unless --lab names one),
configures the router with the role (keepalive 3 s, hold 9 s, as the lab speakers), has
every node announce a VIP, then times, side by side, the events of the seed's BGP claims:

  withdraw        a node withdraws the VIP (externalTrafficPolicy: Local, no local pod)
  announce        it announces it again
  link down       a node's link goes down silently: only the hold timer can notice
  link up         the link comes back: session re-established, path back
  link down+BFD   the same with BFD 100 ms x 3 on both sides (role: bgp_router_bfd)
  link up+BFD

Each time runs from the event to the moment the router's kernel FIB (`ip -j route show
VIP` in its namespace, polled every ~3-5 ms) has the expected next hops. The events go
through the lab's Python API in this process (no labctl start-up in the way): a
withdraw or announce is one vtysh command on the node (50-70 ms of which are vtysh
itself, as for a speaker), a link change is one `ip link` on the switch port. The table gives min, median and max in milliseconds and each
detection's ratio to the hold-timer case. Printed, never asserted.

    sudo python3 bench/bgp_convergence.py [--repeat 5] [--hold-repeat 3] [--lab NAME]
"""

from __future__ import annotations

import argparse
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "lab"), str(ROOT / "tests" / "integration" / "targets" / "bgp_router")]

from metallb_lab.client import LabClient, unique_name  # noqa: E402
from bgp_target import apply, verify  # noqa: E402

VIP = "203.0.113.30"


def wait_for(lab: LabClient, want: list[str], start: float, timeout: float = 60.0) -> float:
    took = lab.wait_for_nexthops("router", VIP, want, start, timeout, interval=0.003)
    if took is None:
        raise RuntimeError(f"FIB never reached {sorted(want)} within {timeout} s: {lab.kernel_nexthops('router', VIP)}")
    return took * 1000


def settle(lab: LabClient) -> None:
    """All paths back and every session up before the next round."""
    verified = verify(lab, peers=lab.node4, prefixes={VIP: lab.node4}, timeout=60)
    if verified.get("failed"):
        raise RuntimeError(f"lab did not settle: {verified.get('msg')}")
    time.sleep(1)


def measure(lab: LabClient, results: dict, label: str, repeat: int, event, recover_label: str, recover) -> None:
    """``event``/``recover`` do the change and return the monotonic time they started it."""
    survivors = lab.node4[:2]
    for i in range(repeat):
        results.setdefault(label, []).append(wait_for(lab, survivors, event()))
        results.setdefault(recover_label, []).append(wait_for(lab, lab.node4, recover()))
        settle(lab)
        print(f"  {label}: round {i + 1}/{repeat}: {results[label][-1]:.0f} ms, {recover_label}: {results[recover_label][-1]:.0f} ms",
              flush=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--repeat", type=int, default=5, help="rounds of the fast events (default 5)")
    ap.add_argument("--hold-repeat", type=int, default=3, help="rounds of the hold-timer event, ~15 s each (default 3)")
    ap.add_argument("--lab", help="name of the lab it builds and removes (default bgpb<pid>: one of its own)")
    args = ap.parse_args()

    name = args.lab or unique_name("bgpb")
    results: dict[str, list[float]] = {}
    print(f"lab {name}: up, role applied, VIP {VIP} announced by node1..node3", flush=True)
    with LabClient.fresh(name, nodes=3) as lab:
        run = apply(lab)[0]
        if run.rc != 0:
            raise RuntimeError(f"bgp_router failed:\n{run.stdout}{run.stderr}")
        lab.announce(f"{VIP}/32")
        settle(lab)

        measure(lab, results, "withdraw", args.repeat, lambda: lab.timed_speaker("node3", "withdraw", f"{VIP}/32"),
                "announce", lambda: lab.timed_speaker("node3", "announce", f"{VIP}/32"))
        measure(lab, results, "link down", args.hold_repeat, lambda: lab.timed_link("node3", "down"),
                "link up", lambda: lab.timed_link("node3", "up"))

        for host in lab.nodes:
            lab.speaker(host, "configure", bfd=True)
        run = apply(lab, bgp_router_bfd=True, bgp_router_bfd_receive_interval=100, bgp_router_bfd_transmit_interval=100)[0]
        if run.rc != 0:
            raise RuntimeError(f"bgp_router (BFD) failed:\n{run.stdout}{run.stderr}")
        settle(lab)
        measure(lab, results, "link down+BFD", args.repeat, lambda: lab.timed_link("node3", "down"),
                "link up+BFD", lambda: lab.timed_link("node3", "up"))

    hold = statistics.median(results["link down"])
    print("\nrouter FIB convergence, ms (keepalive 3 s, hold 9 s; BFD 100 ms x 3); ratio = median / median of 'link down'")
    print(f"{'event':16} {'n':>3} {'min':>8} {'median':>8} {'max':>8} {'ratio':>7}")
    for label in ("withdraw", "announce", "link down", "link up", "link down+BFD", "link up+BFD"):
        values = results[label]
        med = statistics.median(values)
        print(f"{label:16} {len(values):>3} {min(values):>8.0f} {med:>8.0f} {max(values):>8.0f} {med / hold:>7.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
