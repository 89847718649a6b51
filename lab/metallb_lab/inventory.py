# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The Ansible inventory of a running lab: ``hosts.yml`` and ``group_vars/all.yml``.

Ansible runs in the root network namespace, which has no route into the lab by design.
Each host is reached through an SSH ProxyCommand that connects from inside that host's
own network namespace to its own sshd (``nsenter --net=... nc %h %p``): no address,
route or interface is needed in the root namespace, and a host stays reachable for
Ansible even while its segment link is down in a failure test.

YAML is written by hand (stdlib only); every scalar that is not a plain word or number
is JSON-quoted, which YAML reads as a double-quoted string.
"""
from __future__ import annotations

import json
from pathlib import Path

from . import plan as P
from .plan import LabPlan
from .ssh import SshFiles

HEADER = "# Written by lab/labctl.py up (lab {name!r}); removed by lab/labctl.py down. Do not edit.\n"
FILES = ("hosts.yml", "group_vars/all.yml")


def _q(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(str(value))


def proxy_args(netns: str) -> str:
    return (f'-o ProxyCommand="nsenter --net=/run/netns/{netns} nc %h %p" '
            "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR")


def render_hosts(plan: LabPlan) -> str:
    out = [HEADER.format(name=plan.name).rstrip("\n"), "all:", "  children:"]
    for group in (P.GROUPS[P.ROUTER], P.GROUPS[P.NODE], P.GROUPS[P.CLIENT]):
        out += [f"    {group}:", "      hosts:"]
        for h in (h for h in plan.hosts if h.group == group):
            hv = {
                "ansible_host": h.address,
                "ansible_ssh_common_args": proxy_args(plan.netns(h)),
                "lab_netns": plan.netns(h),
                "lab_address": h.address,
                "lab_address6": h.address6,
                "lab_mac": h.mac,
                "lab_interface": P.IFACE,
            }
            if h.asn is not None:
                hv["bgp_asn"] = h.asn
            hv |= _routed_host_vars(plan, h)
            out.append(f"        {h.name}:")
            out += [f"          {k}: {_q(v)}" for k, v in hv.items()]
    # the routed layout: one group per rack, whose nodes that rack's routers peer with
    for rack in range(1, plan.rack_count + 1):
        out += [f"    {rack_group(rack)}:", "      hosts:"]
        out += [f"        {h.name}: {{}}" for h in plan.rack_nodes(rack)]
    return "\n".join(out) + "\n"


def rack_group(rack: int) -> str:
    return f"rack{rack}_nodes"


def _routed_host_vars(plan: LabPlan, h: P.Host) -> dict:
    """A routed lab's per-host facts: the rack, a router's uplink and the nodes it peers with
    (``lab_neighbor_group``: the bgp_router_neighbor_group of that router alone)."""
    if not h.rack:
        return {}
    hv = {"lab_rack": h.rack_name}
    if h.uplink:
        hv |= {"lab_uplink_address": h.links[1].address, "lab_uplink_address6": h.links[1].address6,
               "lab_neighbor_group": rack_group(h.rack)}
    return hv


def render_group_vars(plan: LabPlan, ssh: SshFiles) -> str:
    gv = {
        "ansible_user": "root",
        "ansible_python_interpreter": "/usr/bin/python3",
        "ansible_ssh_private_key_file": str(ssh.client_key),
        # the lab's host key is made afresh with each lab: no checking, for the lab only
        "ansible_host_key_checking": False,
        # per lab: two labs share addresses, and ControlPath names hash host+port+user
        "ansible_control_path_dir": str(ssh.control_dir),
        "lab_name": plan.name,
        "lab_state_dir": str(plan.state_dir),
        "lab_segment": str(P.SEGMENT4),
        "lab_segment6": str(P.SEGMENT6),
        "lab_vip_range": str(P.VIPS4),
        "lab_vip_range6": str(P.VIPS6),
        # the routed layout: its first router (each node peers with its rack's: lab_racks)
        "lab_router_address": plan.router_hosts[0].address,
        "lab_router_address6": plan.router_hosts[0].address6,
        "lab_node_asn": P.NODE_ASN,
        "lab_router_asn": P.ROUTER_ASN,
        # the hosts share the machine's /etc: bgp_router sets the running ECMP hash policy only,
        # and leaves FRR's boot links in /etc/rc*.d (the machine's, not the lab's) alone
        "bgp_router_sysctl_file": "",
        "bgp_router_service_enabled": False,
    }
    text = HEADER.format(name=plan.name) + "".join(f"{k}: {_q(v)}\n" for k, v in gv.items())
    if plan.routed:
        text += "".join(f"{k}: {_q(v)}\n" for k, v in {
            "lab_upstream": str(P.UPSTREAM4), "lab_upstream6": str(P.UPSTREAM6),
            "lab_rack_label": P.RACK_LABEL}.items())
        # flow-style YAML is JSON: the racks, with their routers' addresses and their nodes
        text += "lab_racks: " + json.dumps([
            {"name": f"rack{rack}", "group": rack_group(rack),
             "routers": [{"name": r.name, "address": r.address, "address6": r.address6}
                         for r in plan.router_hosts if r.rack == rack],
             "nodes": [n.name for n in plan.rack_nodes(rack)]}
            for rack in range(1, plan.rack_count + 1)]) + "\n"
    return text


def write(plan: LabPlan, directory: Path, ssh: SshFiles) -> list[str]:
    """Write (or refresh) the inventory; returns what changed."""
    changes = []
    for rel, text in (("hosts.yml", render_hosts(plan)),
                      ("group_vars/all.yml", render_group_vars(plan, ssh))):
        path = directory / rel
        if path.exists() and path.read_text() == text:
            continue
        if path.exists() and not path.read_text().startswith(HEADER.format(name=plan.name)):
            raise RuntimeError(f"{path} exists and was not written by lab {plan.name!r}; not overwriting it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        changes.append(f"inventory {path}")
    return changes


def remove(plan: LabPlan, directory: Path) -> list[str]:
    """Remove only the files this lab wrote, then the directories if that left them empty."""
    removed = []
    for rel in FILES:
        path = directory / rel
        if path.is_file() and path.read_text().startswith(HEADER.format(name=plan.name)):
            path.unlink()
            removed.append(str(path))
    for d in (directory / "group_vars", directory):
        try:
            d.rmdir()
        except OSError:
            pass
    return removed
