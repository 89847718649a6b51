# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""labctl.py command line. See lab/README.md."""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

from . import plan as P
from .lab import Lab
from .system import LabError


def build_parser() -> argparse.ArgumentParser:
    name_help = f"lab name (default: $METALLB_LAB_NAME or {P.DEFAULT_NAME!r}); prefixes its namespaces"
    default_name = os.environ.get("METALLB_LAB_NAME", P.DEFAULT_NAME)

    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--name", default=default_name, help=name_help)

    ap = argparse.ArgumentParser(
        prog="labctl.py",
        description="The baremetal.metallb network-namespace lab: router, node1..N and client "
                    "on one bridged segment (198.51.100.0/24, 2001:db8:100::/64). Root only.",
    )
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("up", parents=[common], help="build the lab, or check and repair a running one")
    p.add_argument("--nodes", type=int, default=None, help=f"number of node hosts (default {P.DEFAULT_NODES})")
    p.add_argument("--bfd", action=argparse.BooleanOptionalAction, default=None,
                   help="stand-in speakers with BFD (profile 100 ms x 3)")
    p.add_argument("--routers", type=int, default=None,
                   help=f"2..{P.MAX_ROUTERS}: the routed layout, router1..N between the nodes' segment and "
                        f"an upstream one ({P.UPSTREAM4}) with the client, nodes peering per rack "
                        "(default 1: one router, client beside the nodes)")
    p.add_argument("--racks", type=int, default=None,
                   help="racks of the routed layout, nodes and routers dealt round-robin (default: one per router)")
    p.add_argument("--inventory", type=Path, default=None,
                   help="where to write the Ansible inventory (default: inventories/lab for the "
                        "default lab name, else <state dir>/inventory)")

    sub.add_parser("down", parents=[common], help="end the lab's processes, remove namespaces, mounts and state")

    p = sub.add_parser("status", parents=[common], help="show hosts, processes and BGP sessions")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = sub.add_parser("exec", parents=[common], help="run CMD inside HOST (net+mount+UTS namespaces)")
    p.add_argument("host")
    p.add_argument("cmd", nargs=argparse.REMAINDER, help="-- CMD [ARGS...]")

    p = sub.add_parser("speaker", parents=[common], help="drive a node's stand-in BGP speaker")
    p.add_argument("host")
    sp = p.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action in ("announce", "withdraw"):
        a = sp.add_parser(action, help=f"{action} PREFIX (IPv4 or IPv6), incrementally through vtysh")
        a.add_argument("prefix")
    c = sp.add_parser("configure", help="re-render the speaker's frr.conf and reload it")
    c.add_argument("--asn", type=int)
    c.add_argument("--router-asn", type=int)
    c.add_argument("--bfd", action=argparse.BooleanOptionalAction, default=None)
    c.add_argument("--hold", type=int, help="BGP hold time in seconds (keepalive = hold / 3)")

    p = sub.add_parser("link", parents=[common], help="take a host's segment link down or up (silent failure)")
    p.add_argument("host")
    p.add_argument("state", choices=("up", "down"))

    p = sub.add_parser("vip", parents=[common], help="add or remove an L2 VIP on a host's segment interface")
    p.add_argument("host")
    p.add_argument("action", choices=("add", "del"))
    p.add_argument("address")
    return ap


def print_status(st: dict) -> None:
    if "hosts" not in st:
        print(f"lab {st['name']}: not up")
        return
    print(f"lab {st['name']}: {'up' if st['up'] else 'DEGRADED'}  ({st['nodes']} nodes, "
          f"bfd {'on' if st['bfd'] else 'off'}, {st.get('routers', 1)} router(s), state {st['state_dir']})")
    print(f"inventory: {', '.join(st['inventories'])}")
    print(f"{'host':8} {'address':15} {'address6':18} {'mac':17} {'link':4} {'sshd':>7}  frr / bgp")
    for name, h in st["hosts"].items():
        frr = h["frr"]
        if not any(frr.values()):
            frr_text = "not running"
        elif all(frr.values()):
            frr_text = "running (" + ", ".join(d for d in frr if d != "watchfrr") + ")"
        else:
            frr_text = "partly running: " + ", ".join(f"{d}={p or '-'}" for d, p in frr.items())
        if "speaker" in h and h["speaker"].get("standin", "on") != "on":
            frr_text = f"stand-in speaker {h['speaker']['standin']}"
        elif "speaker" in h:
            sp = h["speaker"]
            sessions = " ".join(f"{peer}={state}" for peer, state in sp["sessions"].items())
            frr_text += f"; AS{sp['asn']} {sessions}; announces {', '.join(sp['networks']) or 'nothing'}"
        sshd = h["processes"].get("sshd") or "-"
        frr_text += f" [{h['rack']}]" if h.get("rack") else ""
        print(f"{name:8} {h['address']:15} {h['address6']:18} {h['mac']:17} {h['link']:4} {sshd:>7}  {frr_text}")
    for p in st["problems"]:
        print(f"problem: {p}")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if os.geteuid() != 0:
        print("labctl.py: the lab builds network namespaces and needs root", file=sys.stderr)
        return 2
    try:
        lab = Lab(args.name)
        if args.command == "up":
            t0 = time.monotonic()
            changes = lab.up(args.nodes, args.bfd, args.inventory, args.routers, args.racks)
            for c in changes:
                print(f"  {c}")
            took = time.monotonic() - t0
            st = lab.meta()
            if changes:
                nodes = f"{st['nodes']} node{'s' if st['nodes'] != 1 else ''}"
                print(f"lab {args.name}: up ({nodes}) in {took:.1f} s; "
                      f"inventory {', '.join(st['inventories'])}")
            else:
                print(f"lab {args.name}: already up, nothing to do ({took:.1f} s)")
        elif args.command == "down":
            t0 = time.monotonic()
            changes = lab.down()
            for c in changes:
                print(f"  {c}")
            took = time.monotonic() - t0
            print(f"lab {args.name}: down in {took:.1f} s" if changes else f"lab {args.name}: not up, nothing to do")
        elif args.command == "status":
            st = lab.status()
            if args.json:
                json.dump(st, sys.stdout, indent=1)
                print()
            else:
                print_status(st)
            return 0 if st.get("up") else 1
        elif args.command == "exec":
            cmd = args.cmd[1:] if args.cmd[:1] == ["--"] else args.cmd
            if not cmd:
                raise LabError("exec: no command (usage: exec HOST -- CMD [ARGS...])")
            argv = lab.exec_argv(args.host, cmd)
            sys.stdout.flush()
            os.execvp(argv[0], argv)  # the command's exit code is ours
        elif args.command == "speaker":
            print(lab.speaker(args.host, args.action, getattr(args, "prefix", None),
                              asn=getattr(args, "asn", None), router_asn=getattr(args, "router_asn", None),
                              bfd=getattr(args, "bfd", None), hold=getattr(args, "hold", None)))
        elif args.command == "link":
            print(lab.link(args.host, args.state))
        elif args.command == "vip":
            print(lab.vip(args.host, args.action, args.address))
    except BrokenPipeError:  # e.g. `status | head`
        sys.stderr.close()
        return 0
    except (LabError, KeyError, ValueError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
        print(f"labctl.py {args.command}: {msg}", file=sys.stderr)
        return 1
    return 0
