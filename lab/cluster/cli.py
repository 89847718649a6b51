# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Command line of lab/clusterctl.py."""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from . import build


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="clusterctl", description=__doc__)
    sub = ap.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or find cached) kube-*, etcd, kwok")
    b.add_argument("--metallb", action="store_true", help="also MetalLB's controller and speaker")
    b.add_argument("--metallb-previous", action="store_true",
                   help="also the previous minor's controller and speaker (versions.METALLB_PREVIOUS_VERSION)")
    b.add_argument("--frr-k8s", action="store_true", help="also frr-k8s (the version MetalLB's go.mod pins)")
    default_name = os.environ.get("METALLB_LAB_NAME", "mlb")
    for cmd in ("up", "down", "status", "kubectl", "metallb", "datapath", "restart"):
        p = sub.add_parser(cmd)
        p.add_argument("--name", default=default_name)
        if cmd == "up":
            p.add_argument("--inventory", type=Path, default=None,
                           help="where .kubeconfig and lab_cluster.yml go (default: the lab's inventory dir)")
            p.add_argument("--timeout", type=float, default=180.0)
        if cmd == "status":
            p.add_argument("--json", action="store_true")
        if cmd == "restart":  # a control-plane process crashes and comes back (fault tests)
            p.add_argument("component", help="etcd, kube-apiserver, kube-controller-manager, kube-scheduler or kwok")
            p.add_argument("--down-for", type=float, default=0.0, help="seconds without it before the restart")
        if cmd == "datapath":  # datapath.py: kube-proxy per node + echo pods
            p.add_argument("--status", action="store_true", help="print the data path's status (JSON)")
        if cmd == "kubectl":
            p.add_argument("args", nargs=argparse.REMAINDER, help="kubectl arguments (after --)")
    args = ap.parse_args(argv)
    try:
        if args.cmd == "build":
            build.build_all(metallb=args.metallb, frr_k8s=args.frr_k8s, metallb_previous=args.metallb_previous)
            return 0
        from . import control
        if args.cmd == "up":
            for line in control.up(args.name, args.inventory, timeout=args.timeout):
                print(line)
        elif args.cmd == "restart":
            for line in control.restart(args.name, args.component, down_for=args.down_for):
                print(line)
        elif args.cmd == "metallb":
            from . import metallb
            for line in metallb.up(args.name):
                print(line)
        elif args.cmd == "datapath":
            from . import datapath
            if args.status:
                print(json.dumps(datapath.read_status(control.Cluster(args.name)), indent=1))
            else:
                for line in datapath.start(args.name):
                    print(line)
        elif args.cmd == "kubectl":
            # the built kubectl with the root-namespace kubeconfig of this lab
            kcs = control.status(args.name)["kubeconfigs"]
            if not kcs:
                raise RuntimeError(f"cluster {args.name!r} is not up")
            argv = [a for a in args.args if a != "--"] if args.args[:1] == ["--"] else args.args
            cache = Path(control.Cluster(args.name).state) / "kubectl-cache"  # not ~/.kube/cache
            os.execv(str(build.binaries()["kubectl"]),
                     ["kubectl", f"--kubeconfig={kcs[0]}", f"--cache-dir={cache}", *argv])
        elif args.cmd == "down":
            for line in control.down(args.name):
                print(line)
        else:
            st = control.status(args.name)
            if args.json:
                print(json.dumps(st, indent=2))
            else:
                print(control.format_status(st))
                from .frr_pods import format_nodes
                print("\n".join(format_nodes((st.get("metallb") or {}).get("pods", []))))
            return 0 if st.get("healthy") else 1
    except (build.BuildError, RuntimeError) as e:
        print(f"clusterctl {args.cmd}: {e}", file=sys.stderr)
        return 1
    return 0
