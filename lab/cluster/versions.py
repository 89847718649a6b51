# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pinned versions and the cluster's address plan: the one place to change them.

Why these versions (measured in docs/lab-cluster-findings.md):
* Kubernetes v1.37.1: newest patch of the newest supported minor whose module *zip* the Go
  proxy serves (v1.37.2's .info exists but its zip is 403).
* etcd v3.7.3: k8s 1.37 expects etcd 3.7 (build/dependencies.yaml says 3.7.0); 3.7.3 is the
  newest 3.7 patch the proxy serves.
* kwok v0.8.0: newest served; it has no built-in stages, so its upstream stage files are
  passed from the module cache (STAGES below).
"""
from __future__ import annotations

import ipaddress

K8S_VERSION = "v1.37.1"
ETCD_VERSION = "v3.7.3"
KWOK_VERSION = "v0.8.0"
# MetalLB v0.16.1: v0.16.2 needs github.com/metallb/frr-k8s v0.0.27, whose zip the proxy does
# not serve (and it does not compile against v0.0.26). Built only on demand (`--metallb`).
METALLB_VERSION = "v0.16.1"
# The previous minor's newest patch the proxy serves (v0.15.2, v0.15.3): what an upgrade starts
# from (tests/integration/cluster/test_metallb_upgrade.py). Controller and speaker only; built on demand
# (`--metallb-previous`), cached like the others.
METALLB_PREVIOUS_VERSION = "v0.15.3"
# Every MetalLB version the lab may run, newest first (the supervisor picks by the image tag).
METALLB_VERSIONS = (METALLB_VERSION, METALLB_PREVIOUS_VERSION)

# Binaries built from k8s.io/kubernetes in one `go build` (kube-proxy and kubectl share almost
# every package with the control plane, so they cost ~nothing extra and later steps need them).
K8S_CMDS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubectl")

# kwok's upstream stages (kwokctl's defaults), read in place from the module cache.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/fast/pod-ready.yaml",
    "kustomize/stage/pod/fast/pod-complete.yaml",
    "kustomize/stage/pod/fast/pod-delete.yaml",
)

# Address plan. Everything Kubernetes allocates comes from 198.18.0.0/15 (RFC 2544 benchmarking
# space: never 10/8, 172.16/12 or 192.168/16, which real networks use).
CLUSTER_CIDR = ipaddress.ip_network("198.18.0.0/17")     # pod CIDR; KCM gives each Node a /24
SERVICE_CIDR = ipaddress.ip_network("198.18.128.0/17")   # ClusterIPs
KUBERNETES_SVC_IP = ipaddress.ip_address("198.18.128.1") # first service IP = kubernetes.default
KWOK_FALLBACK_CIDR = "198.19.255.0/24"  # kwok's --cidr, used only for a Node without podCIDR
NODE_CIDR_MASK = 24
# The IPv6 half (dual-stack, IPv4 first: a Service without ipFamilies stays IPv4 as before).
# Only 2001:db8::/32 (RFC 3849 documentation space), apart from the segment 2001:db8:100::/64
# and the VIPs 2001:db8:203::/48: pods 2001:db8:18::/56 (node1 2001:db8:18::/64, node2
# 2001:db8:18:1::/64, ...), ClusterIPs 2001:db8:19::/112 (the API server takes /108 or longer).
CLUSTER_CIDR6 = ipaddress.ip_network("2001:db8:18::/56")
SERVICE_CIDR6 = ipaddress.ip_network("2001:db8:19::/112")
NODE_CIDR_MASK6 = 64

# The control-plane host on the lab segment (router .1, nodes .11.., client .100).
CONTROL_HOST = "control"
CONTROL_ADDRESS = "198.51.100.2"
CONTROL_PREFIXLEN = 24
CONTROL_MAC = "02:00:c6:33:64:02"  # the lab's MAC scheme: 02:00 + the IPv4 address in hex
API_PORT = 6443
