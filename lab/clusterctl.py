#!/usr/bin/env python3
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Kubernetes control plane + kwok nodes for the network-namespace lab.

    python3 lab/clusterctl.py build                          # cached per version
    python3 lab/clusterctl.py up     [--name NAME] [--inventory DIR] [--timeout S]
    python3 lab/clusterctl.py status [--name NAME] [--json]
    python3 lab/clusterctl.py down   [--name NAME]
    python3 lab/clusterctl.py kubectl [--name NAME] -- get pods -A   # the built kubectl
    python3 lab/clusterctl.py metallb [--name NAME]          # apply MetalLB's manifest, wait
    python3 lab/clusterctl.py datapath [--name NAME] [--status]  # wait for kube-proxy; echo pods
    python3 lab/clusterctl.py restart [--name NAME] [--down-for S] kube-apiserver  # crash + restart

`up` also starts the MetalLB supervisor: installing MetalLB in the cluster (any way) runs its
real controller and speakers (cluster/supervisor.py); and the data path: kube-proxy on every
node, and a network namespace with an echo server for each pod labelled
lab.baremetal.metallb/datapath=echo (cluster/datapath.py).

`up` needs `labctl up --name NAME` first. See lab/cluster/README.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cluster.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
