# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: workload_cluster_objects
short_description: What the lb_workload role read from the cluster, as workload_policy's cluster_objects
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Takes the result of the P(baremetal.metallb.k8s_batch_info#module) run of the P(baremetal.metallb.lb_workload#role)
    role and returns the C(cluster_objects) of P(baremetal.metallb.workload_policy#module).
  - A kind whose API the server does not serve is left out (the policy then says what it could not check instead of
    assuming none); C(kube_proxy_config) is kube-proxy's parsed configuration (null without one); C(speaker_pods) only
    when MetalLB's CRDs are installed; the reads C(namespaces) and C(endpoint_slices) are not for the policy.
  - With O(slices_after), after the apply, the workloads' EndpointSlices are added (C(endpoint_slices)) for the policy
    check against where the pods run; those read again, or those read before when that read was skipped.
options:
  _input:
    description: The registered result of the reads (C(api_found) and C(resources) by read key).
    type: dict
    required: true
  slices_after:
    description:
      - The registered result of the read of the workloads' EndpointSlices after the apply (C(resources.endpoint_slices)
        with C(skipped) when it did not run); omitted before the apply.
    type: dict
"""

EXAMPLES = r"""
- name: Run the policy rules with what was read
  baremetal.metallb.workload_policy:
    workloads: "{{ workloads }}"
    cluster_objects: "{{ reads | baremetal.metallb.workload_cluster_objects }}"
"""

RETURN = r"""
_value:
  description: The objects by kind key, as workload_policy takes them.
  type: dict
"""

from ansible_collections.baremetal.metallb.plugins.plugin_utils.workload_steps import cluster_objects


def workload_cluster_objects(reads, slices_after=None):
    return cluster_objects(dict(reads or {}), slices_after)


class FilterModule:
    def filters(self):
        return {"workload_cluster_objects": workload_cluster_objects}
