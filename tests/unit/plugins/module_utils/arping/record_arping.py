# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Record real runs of both arping tools and ndisc6 on the lab segment, for test_arping_parsers.yaml.

Run as root with a lab up (``python3 lab/labctl.py up --name l2rec``):

    python3 tests/unit/plugins/module_utils/arping/record_arping.py --lab l2rec [--inventory DIR] [--tools ndisc6] > /tmp/recorded.yaml

It puts the VIP on no node, on one node and on two nodes, runs each tool the
way leader_verify does (stopped with SIGINT) and the ways people usually do,
and prints every run as a YAML case with ``holders``: the MACs that really hold
the VIP, from the lab inventory. The expectations in the test file are checked
by hand against these runs; this script only records.
"""

from __future__ import annotations

import argparse
import pathlib
import signal
import subprocess
import sys
import time

import yaml

ROOT = pathlib.Path(__file__).resolve().parents[5]
LABCTL = [sys.executable, str(ROOT / "lab" / "labctl.py")]
HABETS = str(ROOT / ".cache" / "habets-arping" / "usr" / "sbin" / "arping")
VIP = "198.51.100.240"  # lab segment, L2 test range
SOURCE = "198.51.100.100"
VIP6 = "2001:db8:100::240"  # lab segment 2001:db8:100::/64
SOURCE6 = "2001:db8:100::100"


def labctl(lab: str, *args: str) -> str:
    return subprocess.run([*LABCTL, args[0], "--name", lab, *args[1:]], check=True, capture_output=True, text=True).stdout


def run_in_client(netns: str, argv: list[str], stop_after: float | None) -> tuple[int, str, str]:
    # nsenter execs the command in place, so SIGINT to this pid reaches arping itself.
    proc = subprocess.Popen(
        ["nsenter", f"--net=/run/netns/{netns}", "--", *argv],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={"LC_ALL": "C", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"},
    )
    try:
        out, err = proc.communicate(timeout=stop_after if stop_after else 30)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate()
    return proc.returncode, out, err


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lab", required=True)
    parser.add_argument("--inventory", help="the lab's inventory directory (default: <state dir>/inventory)")
    parser.add_argument("--tools", default="iputils,habets,ndisc6", help="which tools to record (comma-separated)")
    args = parser.parse_args()
    wanted = set(args.tools.split(","))
    lab = args.lab
    inventory_dir = pathlib.Path(args.inventory or f"/run/metallb-lab/{lab}/inventory")
    inventory = yaml.safe_load((inventory_dir / "hosts.yml").read_text())
    macs = {name: host["lab_mac"] for name, host in inventory["all"]["children"]["k8s_nodes"]["hosts"].items()}
    netns = inventory["all"]["children"]["clients"]["hosts"]["client"]["lab_netns"]

    iputils = [
        ("stopped", ["arping", "-b", "-c", "1", "-I", "eth0", "-s", SOURCE, VIP], 0.3),
        ("natural", ["arping", "-b", "-c", "2", "-I", "eth0", VIP], None),
        ("unicast", ["arping", "-c", "3", "-I", "eth0", VIP], None),
        ("first_reply", ["arping", "-c", "1", "-w", "1", "-I", "eth0", VIP], None),
    ]
    habets = [
        ("stopped", [HABETS, "-d", "-c", "1", "-W", "1", "-i", "eth0", "-S", SOURCE, VIP], 0.4),
        ("natural_d", [HABETS, "-d", "-c", "2", "-W", "0.05", "-i", "eth0", VIP], None),
        ("natural", [HABETS, "-c", "2", "-W", "0.05", "-i", "eth0", VIP], None),
    ]
    ndisc6 = [
        # As leader_verify runs it: never signalled (SIGINT kills it without output).
        ("leader_verify", ["ndisc6", "-m", "-n", "-r", "1", "-w", "300", "-s", SOURCE6, VIP6, "eth0"], None),
        ("single", ["ndisc6", "-1", "-n", "-r", "1", "-w", "300", VIP6, "eth0"], None),
    ]
    cases = []
    holders_for = {"none": [], "one": ["node1"], "two": ["node1", "node2"]}
    current: list[str] = []
    for state, holders in holders_for.items():
        for node in set(current) - set(holders):
            labctl(lab, "vip", node, "del", VIP)
            labctl(lab, "vip", node, "del", VIP6)
        for node in set(holders) - set(current):
            labctl(lab, "vip", node, "add", VIP)
            labctl(lab, "vip", node, "add", VIP6)
        current = holders
        time.sleep(0.5)
        for tool, runs in (("iputils", iputils), ("habets", habets), ("ndisc6", ndisc6)):
            if tool not in wanted:
                continue
            for name, argv, stop in runs:
                rc, out, err = run_in_client(netns, argv, stop)
                cases.append({
                    "id": f"{tool}_{state}_{name}", "tool": tool, "argv": argv, "stopped": stop is not None,
                    "holders": sorted(macs[node] for node in holders), "rc": rc, "stdout": out, "stderr": err,
                })
    for node in current:
        labctl(lab, "vip", node, "del", VIP)
        labctl(lab, "vip", node, "del", VIP6)
    errors = [
        ("iputils", ["arping", "-b", "-c", "1", "-I", "nosuch0", VIP]),
        ("iputils", ["arping", "-b", "-c", "1", "-I", "lo", VIP]),
        ("iputils", ["arping", "-b", "-c", "1", "-w", "0.5", "-I", "eth0", VIP]),
        ("habets", [HABETS, "-d", "-c", "1", "-i", "nosuch0", VIP]),
        ("habets", ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
                    HABETS, "-d", "-c", "1", "-i", "eth0", VIP]),
        ("iputils", ["arping", "-V"]),
        ("habets", [HABETS, "-V"]),
        ("ndisc6", ["ndisc6", "-m", "-n", "-r", "1", "-w", "300", VIP6, "nosuch0"]),
        ("ndisc6", ["ndisc6", "-m", "-n", "-r", "1", "-w", "300", "-s", "2001:db8:100::999", VIP6, "eth0"]),
        ("ndisc6", ["ndisc6", "-V"]),
    ]
    for tool, argv in errors:
        if tool not in wanted:
            continue
        rc, out, err = run_in_client(netns, argv, None)
        cases.append({"id": f"{tool}_error", "tool": tool, "argv": argv, "rc": rc, "stdout": out, "stderr": err})
    yaml.safe_dump(cases, sys.stdout, sort_keys=False, width=200, default_style=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
