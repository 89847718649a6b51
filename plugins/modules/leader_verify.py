#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: leader_verify
short_description: Check on the wire which node answers ARP or NDP for MetalLB layer 2 VIPs
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - Sends ARP requests for each IPv4 VIP and NDP neighbor solicitations for each IPv6 VIP in O(addresses)
    from a host on the same layer 2 segment as the Kubernetes nodes, and names the node whose MAC answers
    (from O(nodes)). One run can mix both families.
  - Every ARP probe is a broadcast, and every neighbor solicitation goes to the VIP's solicited-node
    multicast group, which every holder of the VIP has joined. Every answer to a probe is collected for
    O(reply_window), so two nodes answering for the same VIP are seen for real (status V(duplicate)). All
    VIPs are probed at the same time.
  - Each address ends up with one status. V(ok) means exactly one node answered and it is the expected one,
    if one is expected. V(no_reply) means nobody answered within O(timeout). V(duplicate) means more than one
    node (or unknown MAC) answered, at once or in turn. V(unknown_mac) means the only answer came from a MAC
    that is not in O(nodes). V(unexpected_leader) means another node answered than the one expected.
  - The expected node comes from O(expected), or from MetalLB itself when O(service) names the Service.
    MetalLB 0.14.4 and later record the leader in a C(ServiceL2Status) (C(status.node)). Older versions have
    only the C(nodeAssigned) event on the Service, and that event is used then.
  - With O(wait_for=change), it polls until a node other than O(from_node) answers alone, then checks that
    new holder like O(wait_for=stable) does. It reports how long that took. This is for failover tests.
  - 'The probing is done by one of four probers (O(prober)). V(raw), the default, is the module''s own
    prober on C(AF_PACKET) sockets. It needs root or C(CAP_NET_RAW), so use C(become: true). It probes
    every VIP of a family from one socket and needs no tool on the host. Its neighbor solicitations carry
    hop limit 255, as RFC 4861 requires of them, and this host''s MAC as source link-layer address. Only
    neighbor advertisements sent to this host with hop limit 255 and a valid checksum count; the MAC taken
    is the target link-layer address option, or the Ethernet source when there is none.'
  - V(iputils) runs iputils C(arping -b) (keep broadcasting) for each probe, and V(habets) runs Thomas
    Habets' C(arping -d) for each probe. Either arping is stopped with SIGINT once the probe's reply window
    is over, and then its output and exit code are parsed. iputils arping cannot be used as
    C(arping -c 1) here, because it stops at the first reply. Its exit code cannot tell a lost reply from a
    second responder. After the first reply it probes unicast, only to the last MAC that answered. Each
    arping run costs a process start, and for Habets' arping tens of milliseconds of libpcap set-up, so the
    arping probers are slower than V(raw).
  - The tool probers probe IPv6 VIPs with C(ndisc6 -m) (Debian package C(ndisc6)), one solicitation per
    probe, every advertisement printed. ndisc6 cannot be stopped early (SIGINT kills it without output), so
    each of its probes lasts O(timeout) / O(count) and ndisc6 reports no round-trip time. V(ndisc6) uses it
    for the IPv6 VIPs and any arping found for the IPv4 ones; V(iputils) and V(habets) use it for the IPv6
    VIPs.
  - The interface and source address of the probes are the ones the kernel uses to reach the VIP
    (C(ip route get)). The module fails rather than guess when the VIP is behind a gateway, is one of this
    host's own addresses, or is not on O(interface)'s subnets or directly routed out of it. An IPv6 VIP is
    probed from this host's global IPv6 address on the interface, not its link-local one.
  - Read-only. It never reports C(changed), and it runs the same in check mode. The probes are ordinary ARP
    requests and neighbor solicitations, so the nodes answering them learn this host's MAC address, as with
    any arping or ndisc6.
options:
  addresses:
    description:
      - The VIPs to check, IPv4 (probed with ARP) and IPv6 (probed with NDP) alike.
    type: list
    elements: str
    required: true
  interface:
    description:
      - The interface on the nodes' segment to probe from.
      - Defaults to the interface of the kernel's route to each VIP. That route must not go through a gateway.
    type: str
  nodes:
    description:
      - Node name to the node's MAC address, or to a list of MAC addresses for nodes with several interfaces
        on the segment. Several MACs of one node answering count as that one node.
      - It can be built from the nodes' facts in one line; see the first two examples. With node names
        equal to inventory names, the MAC of each node's default route interface is
        C(ansible_facts.default_ipv4.macaddress). For a segment that is not the default route's, use
        C(ansible_facts.eth0.macaddress) with the segment's interface instead.
      - Without it every responder is V(unknown_mac). Leave V(unknown_mac) out of O(fail_on) to check only
        that exactly one MAC answers.
    type: dict
    default: {}
  expected:
    description:
      - VIP to the node that should answer for it. VIPs not listed here only need exactly one known node
        to answer.
      - Mutually exclusive with O(service).
    type: dict
  service:
    description:
      - The LoadBalancer Service whose VIPs these are. The node MetalLB elected for it is then the expected
        node for every address.
      - Every address must be one of the Service's load-balancer IPs.
      - Needs the C(kubernetes) Python library on the host running the task. See O(kubeconfig) and O(context).
    type: dict
    suboptions:
      name:
        description: The Service's name.
        type: str
        required: true
      namespace:
        description: The Service's namespace.
        type: str
        default: default
  metallb_namespace:
    description: The namespace MetalLB runs in. MetalLB writes its C(ServiceL2Status) objects there.
    type: str
    default: metallb-system
  count:
    description:
      - The number of broadcast probes per VIP. The probes follow each other as soon as the previous one
        is over.
    type: int
    default: 3
  timeout:
    description:
      - The longest time, in seconds, that the check of one VIP may take. Fractions are allowed. A VIP
        nobody answers is V(no_reply) after this time.
      - A probe nobody answers is given up after O(timeout) / O(count) seconds.
      - With an arping prober the last arping is stopped at O(timeout) and then needs a few milliseconds
        to report and exit.
    type: float
    default: 1.0
  reply_window:
    description:
      - How long, in seconds, to keep listening for more responders after the first answer to a probe.
        A second holder of the VIP that answers later than this is missed by that probe.
    type: float
    default: 0.02
  wait_for:
    description:
      - V(stable) checks the VIPs as they are now.
      - V(change) waits, up to O(deadline), until a node other than O(from_node) answers alone, then checks
        that node like V(stable). RV(addresses.change) reports when that happened.
    type: str
    choices: [stable, change]
    default: stable
  from_node:
    description:
      - With O(wait_for=change), the node the VIPs are moving away from. It must be in O(nodes).
    type: str
  deadline:
    description:
      - With O(wait_for=change), how long, in seconds, to wait for the change.
      - While waiting, a VIP that answers is probed again every 50 ms, and a VIP nobody answers every
        100 ms (or O(timeout) / O(count) if that is shorter). No probe starts after the deadline, so the
        wait ends within O(deadline) plus one probe. Confirming a new holder takes up to O(timeout) more.
    type: float
    default: 30.0
  fail_on:
    description:
      - The statuses that fail the task. Use V([]) to only report.
    type: list
    elements: str
    choices: [no_reply, duplicate, unknown_mac, unexpected_leader]
    default: [no_reply, duplicate, unknown_mac, unexpected_leader]
  prober:
    description:
      - What sends the probes (see the description). V(auto) uses V(raw) when a raw socket can be opened.
        Otherwise it falls back to whichever arping is installed, with a warning. This is for a task run
        without become, where iputils arping has C(cap_net_raw) file capabilities.
      - V(iputils) and V(habets) check that the arping found is that one. IPv6 VIPs are probed with ndisc6
        by these and by V(ndisc6), and by the fallback of V(auto).
    type: str
    choices: [auto, raw, iputils, habets, ndisc6]
    default: auto
  arping_path:
    description:
      - The arping to run for O(prober=iputils), O(prober=habets), or the fallback of O(prober=auto).
      - Defaults to the first C(arping) in C($PATH), C(/usr/sbin) or C(/sbin). Which arping it is, is
        detected from its C(-V) output.
    type: path
  ndisc6_path:
    description:
      - The ndisc6 to run for the IPv6 VIPs when a tool prober runs (O(prober=ndisc6), O(prober=iputils),
        O(prober=habets), or the fallback of O(prober=auto)).
      - Defaults to the first C(ndisc6) in C($PATH), C(/usr/sbin) or C(/sbin). It is checked with C(ndisc6 -V).
      - Debian installs ndisc6 set-uid root, so it also works without become.
    type: path
extends_documentation_fragment:
  # first: of two fragments defining an attribute, the earlier one wins
  - baremetal.metallb.k8s_auth.attributes
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.actiongroups
  - ansible.builtin.action_common_attributes.flow
  - baremetal.metallb.k8s_auth
attributes:
  check_mode:
    support: full
    details: Nothing is changed either way; the probes are sent in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: linux
requirements:
  - Linux, and root or C(CAP_NET_RAW) for O(prober=raw) (C(become))
  - C(ip) from iproute2
  - iputils arping or Thomas Habets' arping for O(prober=iputils) or O(prober=habets)
  - ndisc6 for the IPv6 VIPs of a tool prober (O(prober=ndisc6), O(prober=iputils), O(prober=habets))
notes:
  - Run it on a host attached to the nodes' segment, not on a node. A node holding the VIP would answer
    itself locally, so nothing is sent on the wire.
  - MetalLB sends gratuitous ARP (unsolicited neighbor advertisements for IPv6) when a VIP moves. This module
    does not count those. Only answers to its own probes count, so a check sees the state of the segment,
    not the last announcement.
seealso:
  - name: MetalLB layer 2 troubleshooting
    description: Finding the announcing node with arping.
    link: https://metallb.universe.tf/troubleshooting/
"""

EXAMPLES = r"""
- name: Gather the nodes' facts (for their MAC addresses)
  ansible.builtin.setup:
    gather_subset: [network]
  delegate_to: "{{ item }}"
  delegate_facts: true
  loop: "{{ groups['k8s_nodes'] }}"

- name: Exactly one node answers for each VIP, and n1 for the first
  baremetal.metallb.leader_verify:
    addresses: [198.51.100.200, 198.51.100.201]
    # nodes from the facts: inventory name -> MAC of the default route's interface
    nodes: "{{ dict(groups['k8s_nodes'] | zip(groups['k8s_nodes'] | map('extract', hostvars, ['ansible_facts', 'default_ipv4', 'macaddress']))) }}"
    expected:
      198.51.100.200: n1
  become: true

- name: An IPv4 and an IPv6 VIP of a dual-stack Service, ARP and NDP in one run
  baremetal.metallb.leader_verify:
    addresses: [198.51.100.200, "2001:db8:100::200"]
    nodes: "{{ lab_node_macs }}"
  become: true

- name: The node answering is the one MetalLB elected for the Service
  baremetal.metallb.leader_verify:
    addresses: [198.51.100.210]
    nodes:
      n1: 3a:2c:6c:3f:09:4e
      n2: [0a:da:de:6b:54:db, 0a:da:de:6b:54:dc]
    service:
      name: web
      namespace: shop
    kubeconfig: /etc/kubernetes/admin.conf
  become: true

- name: Start waiting for the VIP to leave n1 (in the background)
  baremetal.metallb.leader_verify:
    addresses: [198.51.100.200]
    nodes: "{{ lab_node_macs }}"
    wait_for: change
    from_node: n1
    deadline: 20
  become: true
  async: 30
  poll: 0
  register: failover_wait

- name: Take n1 off the segment
  ansible.builtin.command: ip link set eth0 down
  delegate_to: n1

- name: The VIP has moved
  ansible.builtin.async_status:
    jid: "{{ failover_wait.ansible_job_id }}"
  register: failover
  until: failover.finished
  retries: 40
  delay: 1
  become: true

- name: Report how long the VIP was not answered
  ansible.builtin.debug:
    msg: >-
      moved to {{ failover.addresses['198.51.100.200'].change.to_node }}
      after a gap of {{ failover.addresses['198.51.100.200'].change.gap_ms }} ms

- name: Only report, never fail
  baremetal.metallb.leader_verify:
    addresses: "{{ metallb_l2_vips }}"
    nodes: "{{ lab_node_macs }}"
    fail_on: []
  become: true
  register: arp_view
"""

RETURN = r"""
addresses:
  description: The result for each VIP, keyed by the VIP.
  returned: always
  type: dict
  contains:
    address:
      description: The VIP.
      type: str
      sample: 198.51.100.200
    status:
      description: The verdict for this VIP.
      type: str
      sample: ok
    leader:
      description:
        - The node that answered, or null when nobody answered, several nodes answered, or an unknown MAC
          answered.
      type: str
      sample: n1
    mac:
      description: The leader's MAC that answered (for V(unknown_mac), the unknown MAC); null otherwise.
      type: str
      sample: 3a:2c:6c:3f:09:4e
    responders:
      description: Every distinct MAC that answered, in the order they first answered.
      type: list
      elements: dict
      contains:
        mac:
          description: The MAC address, lower case.
          type: str
        node:
          description: Its node from O(nodes), or null.
          type: str
        replies:
          description: How many answers came from this MAC.
          type: int
        rtt_ms:
          description: Its fastest answer, in milliseconds (as timed by the prober).
          type: float
      sample:
        - {mac: 3a:2c:6c:3f:09:4e, node: n1, replies: 3, rtt_ms: 0.12}
    expected:
      description: The node expected to answer, or null.
      type: str
      sample: n1
    rtt_ms:
      description: The fastest answer from the leader (from any responder when there is no single leader), in ms.
      type: float
      sample: 0.12
    elapsed_ms:
      description: How long the check of this VIP took, in milliseconds (with O(wait_for=change), including the wait).
      type: float
      sample: 61.3
    probes:
      description: The number of probes sent for the verdict (the confirming probes after a change).
      type: int
      sample: 3
    answered:
      description: How many of those probes got at least one answer.
      type: int
      sample: 3
    interface:
      description: The interface probed from.
      type: str
      sample: eth0
    source:
      description: The source address of the probes.
      type: str
      sample: 198.51.100.100
    change:
      description: With O(wait_for=change), how the VIP moved.
      type: dict
      returned: when O(wait_for=change)
      contains:
        from_node:
          description: O(from_node).
          type: str
        to_node:
          description: The node that answered alone first, or null when nothing changed before the deadline.
          type: str
        detected_ms:
          description: Milliseconds from the start of probing to the first answer from another node, or null.
          type: float
        detected_at:
          description: The same moment as a Unix timestamp in seconds (the host's clock), or null.
          type: float
        from_last_seen_at:
          description: When O(from_node) last answered, as a Unix timestamp, or null if it never did.
          type: float
        gap_ms:
          description: Milliseconds between the last answer from O(from_node) and the first answer from the new node,
            or null when either is missing. This is the time the VIP went unanswered, to the resolution of the polling.
          type: float
        polls:
          description: The probes sent while waiting.
          type: int
      sample: {from_node: n1, to_node: n2, detected_ms: 1830.4, detected_at: 1767000000.25,
               from_last_seen_at: 1767000000.05, gap_ms: 200.1, polls: 31}
  sample:
    198.51.100.200:
      address: 198.51.100.200
      status: ok
      leader: n1
      mac: 3a:2c:6c:3f:09:4e
      responders: [{mac: 3a:2c:6c:3f:09:4e, node: n1, replies: 3, rtt_ms: 0.12}]
      expected: n1
      rtt_ms: 0.12
      elapsed_ms: 61.3
      probes: 3
      answered: 3
      interface: eth0
      source: 198.51.100.100
failed_addresses:
  description: The VIPs whose status is in O(fail_on).
  returned: always
  type: list
  elements: str
  sample: [198.51.100.201]
prober:
  description: >-
    The prober that sent the probes. With tools for both families it names both, such as V(iputils+ndisc6).
  returned: always
  type: str
  sample: raw
arping:
  description: The arping used, when an arping prober ran.
  returned: when an arping sent the probes
  type: dict
  contains:
    path:
      description: Its path.
      type: str
    flavor:
      description: V(iputils) or V(habets).
      type: str
    version:
      description: Its version, from C(arping -V).
      type: str
  sample: {path: /usr/bin/arping, flavor: iputils, version: "20221126"}
ndisc6:
  description: The ndisc6 used, when a tool prober probed IPv6 VIPs.
  returned: when ndisc6 sent the probes
  type: dict
  contains:
    path:
      description: Its path.
      type: str
    version:
      description: Its version, from C(ndisc6 -V).
      type: str
  sample: {path: /usr/bin/ndisc6, version: 1.0.5}
expected_source:
  description: >-
    Where the expected nodes came from. V(option) means O(expected), V(servicel2status) or V(event) means
    MetalLB via O(service). It is null when nothing was expected.
  returned: always
  type: str
  sample: servicel2status
elapsed_ms:
  description: How long the probing took, in milliseconds.
  returned: always
  type: float
  sample: 63.0
msg:
  description: >-
    A summary. When the task fails, it names each failing VIP, the MACs seen with their nodes, and what was
    expected.
  returned: always
  type: str
  sample: "1 of 2 address(es) failed: 198.51.100.201: 2 MACs answer: 3a:2c:6c:3f:09:4e (n1), 0a:da:de:6b:54:db (n2);
    expected n1, answering alone"
"""

from ansible_collections.baremetal.metallb.plugins.module_utils.arping.leader import (
    FAILURES,
    PROBERS,
    LeaderVerify,
    LeaderVerifyError,
    normalize_addresses,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.metallb import l2_leader
from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.module import K8sModule


def expected_from_service(module: K8sModule) -> dict:
    """{address: node} from MetalLB's record of the Service's L2 leader."""
    service = module.params["service"]
    with module.api_errors():
        leader = l2_leader(module.client(), service["name"], service["namespace"], module.params["metallb_namespace"])
    ref = f"{service['namespace']}/{service['name']}"
    if not leader.ingress_ips:
        module.fail_json(msg=f"service: Service {ref} has no load-balancer IP yet (status.loadBalancer.ingress is empty)")
    addresses = normalize_addresses(module.params["addresses"])
    strangers = [address for address in addresses if address not in leader.ingress_ips]
    if strangers:
        module.fail_json(
            msg=f"addresses: {', '.join(strangers)} not load-balancer IP(s) of Service {ref} "
            f"(its IPs: {', '.join(leader.ingress_ips)}); check the addresses or the service"
        )
    return {"expected": {address: leader.node for address in addresses}, "source": leader.source}


def main() -> None:
    module = K8sModule(
        argument_spec=dict(
            addresses=dict(type="list", elements="str", required=True),
            interface=dict(type="str"),
            nodes=dict(type="dict", default={}),
            expected=dict(type="dict"),
            service=dict(
                type="dict",
                options=dict(
                    name=dict(type="str", required=True),
                    namespace=dict(type="str", default="default"),
                ),
            ),
            metallb_namespace=dict(type="str", default="metallb-system"),
            count=dict(type="int", default=3),
            timeout=dict(type="float", default=1.0),
            reply_window=dict(type="float", default=0.02),
            wait_for=dict(type="str", choices=["stable", "change"], default="stable"),
            from_node=dict(type="str"),
            deadline=dict(type="float", default=30.0),
            fail_on=dict(type="list", elements="str", choices=list(FAILURES), default=list(FAILURES)),
            prober=dict(type="str", choices=list(PROBERS), default="auto"),
            arping_path=dict(type="path"),
            ndisc6_path=dict(type="path"),
        ),
        mutually_exclusive=[("expected", "service")],
        required_if=[("wait_for", "change", ("from_node",))],
        supports_check_mode=True,
    )
    params = dict(module.params)
    source = "option" if params.get("expected") else None
    if params.get("service"):
        try:
            lookup = expected_from_service(module)
        except LeaderVerifyError as exc:
            module.fail_json(msg=str(exc))
        params["expected"], source = lookup["expected"], lookup["source"]

    verify = LeaderVerify(
        params,
        runner=lambda argv, data=None: module.run_command(argv, data=data, environ_update={"LC_ALL": "C", "LANG": "C"}),
        find_binary=lambda name: module.get_bin_path(name, opt_dirs=["/usr/sbin", "/sbin"]),
    )
    try:
        result = verify.run()
    except LeaderVerifyError as exc:
        module.fail_json(msg=str(exc))
    for warning in verify.warnings:
        module.warn(warning)
    result["expected_source"] = source
    if result.pop("failed"):
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
