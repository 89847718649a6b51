# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A real Kubernetes control plane for the network-namespace lab (issue 5).

``build``    Kubernetes/etcd/kwok binaries from the Go module proxy, cached per version
``control``  ``up``/``down``/``status`` of the control plane in ``NAME-control``
``pki``      the cluster's certificates (openssl), only in the lab's state dir
``forward``  the TCP relay that makes the API server reachable from the root namespace

Stdlib only (Python 3.11); driven by ``lab/clusterctl.py``. See README.md here.
"""
