# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the preflights read: one LIST per kind through ``BatchRead``, a kind the API server does not serve as ``None``."""

from __future__ import annotations

import base64

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.batch_read import BatchRead, Read
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.dynamic_api import DynamicApi
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.snapshot import METALLB_KINDS
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.memberlist import SECRET_FILE, speaker_settings

# key -> (api versions, newest first; kind)
FOREIGN_KINDS = {
    "cilium_lb_pools": (("cilium.io/v2", "cilium.io/v2alpha1"), "CiliumLoadBalancerIPPool"),
    "cilium_l2_policies": (("cilium.io/v2", "cilium.io/v2alpha1"), "CiliumL2AnnouncementPolicy"),
    "cilium_bgp_peering_policies": (("cilium.io/v2alpha1",), "CiliumBGPPeeringPolicy"),
    "cilium_bgp_cluster_configs": (("cilium.io/v2", "cilium.io/v2alpha1"), "CiliumBGPClusterConfig"),
    # Calico's own CRDs; its API server serves the same kinds as projectcalico.org/v3
    "calico_bgp_peers": (("crd.projectcalico.org/v1", "projectcalico.org/v3"), "BGPPeer"),
    "calico_bgp_configurations": (("crd.projectcalico.org/v1", "projectcalico.org/v3"), "BGPConfiguration"),
}
CONFIGMAPS = ("kubevip", "cilium-config")


def read_cluster(client, metallb_namespace: str, api=None) -> dict:
    """The objects ``checks.Preflight`` takes."""
    reader = BatchRead(api or DynamicApi(client))

    def items(key: str, kind: str, **read) -> list[dict]:
        return reader.read(Read(key=key, kind=kind, **read))[1]

    objects = {
        "nodes": items("nodes", "Node"),
        "daemonsets": items("daemonsets", "DaemonSet", api_version="apps/v1"),
        "deployments": items("deployments", "Deployment", api_version="apps/v1", namespace="kube-system"),
        "kube_system_pods": items("kube_system_pods", "Pod", namespace="kube-system"),
        "kube_system_configmaps": [cm for name in CONFIGMAPS
                                   for cm in items(f"configmap_{name}", "ConfigMap", namespace="kube-system", name=name)],
        "speaker_pods": items("speaker_pods", "Pod", namespace=metallb_namespace),
    }
    for key, (versions, kind) in FOREIGN_KINDS.items():
        objects[key] = None
        for version in versions:
            found, got = reader.read(Read(key=key, kind=kind, api_version=version))
            if found:
                objects[key] = got
                break
    for key, (api_version, kind) in METALLB_KINDS.items():
        if key == "l2_statuses":
            continue
        found, got = reader.read(Read(key=key, kind=kind, api_version=api_version, namespace=metallb_namespace))
        objects[key] = got if found else None
    return objects


def read_memberlist(client, metallb_namespace: str, api=None) -> dict:
    """What ``memberlist.plan()`` takes: the Nodes, MetalLB's DaemonSets and speaker pods, and the memberlist key's
    source (the ``secretkey`` of the Secret the speakers mount, bytes; never returned by a module)."""
    reader = BatchRead(api or DynamicApi(client))
    objects = {
        "nodes": reader.read(Read(key="nodes", kind="Node"))[1],
        "daemonsets": reader.read(Read(key="daemonsets", kind="DaemonSet", api_version="apps/v1", namespace=metallb_namespace))[1],
        "speaker_pods": reader.read(Read(key="speaker_pods", kind="Pod", namespace=metallb_namespace))[1],
    }
    objects["secret"] = memberlist_secret(reader, metallb_namespace, speaker_settings(objects["daemonsets"]))
    return objects


def memberlist_secret(reader, metallb_namespace: str, settings: dict) -> bytes | None:
    if not settings.get("secret"):
        return None
    found = reader.read(Read(key="memberlist_secret", kind="Secret", namespace=metallb_namespace, name=settings["secret"]))[1]
    data = (found[0].get("data") or {}) if found else {}
    return base64.b64decode(data[SECRET_FILE]) if data.get(SECRET_FILE) else None
