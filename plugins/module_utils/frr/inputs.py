# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bgp_router role's input checks and its neighbor list, decided once (filter bgp_router_inputs).

``resolve_router_inputs`` takes the role's converted inputs (``_bgp_router_opts``: the argument
spec's types, option names without the ``bgp_router_`` prefix), the inventory's groups and
hostvars and the router's inventory name, and returns::

    {"errors": [...],        # every problem, each naming the variable (and the neighbor) and the fix
     "neighbors": [...],     # {address, family (4/6), asn, description, password_index}
     "asns": [...],          # the neighbors' distinct AS numbers, in order
     "pools": [...],         # the pools, protocol defaulting to bgp (pool_validate's default is layer2)
     "router_id_ok": bool,   # the router-id is an IPv4 address (pool_validate reserves it)
     "families": {"ipv4": .., "ipv6": .., "ipv4_pools": .., "ipv6_pools": ..}}

No password ever appears in the result: a neighbor with its own password carries the index of
its entry in ``bgp_router_neighbors`` (``password_index``, -1 for none) and the template reads it
from there. Values are normalized first (AWX sends ``"64500"`` and ``"true"`` as strings).
Addresses are parsed by :mod:`ipaddress`; the text a user gave is kept for the configuration.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping

from ansible.module_utils.parsing.convert_bool import boolean

ASN_MAX = 4294967295
_DIGITS = re.compile(r"[0-9]{1,10}")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,62}")
_HOSTNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,62}")
_ABSOLUTE_PATH = re.compile(r"/\S+")
# MD5 keys: 1-80 printable ASCII characters; FRR takes one word, and quotes or backslashes would be
# kept literally by FRR but mangled by most tools.
_PASSWORD = re.compile(r"[!#-&(-\[\]-~]{1,80}")

_MD5_RULE = "an MD5 password must be 1 to 80 printable ASCII characters without spaces, newlines, quotes or backslashes"
_NAME_RULE = 'use a name of letters, digits, "_", "." and "-" that starts with a letter'


def _text(value) -> str:
    """The text Jinja's ``string`` filter gives (None is "None")."""
    return str(value)


def _as_int(value):
    """An int from an int or a decimal string (AWX's "3"); None for anything else (a bool too)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*[+-]?[0-9]+\s*", value):
        return int(value)
    return None


def _asn(value):
    """An AS number (1 to 2^32-1) from an int or a string of up to ten digits; None when it is not one."""
    if isinstance(value, bool):
        return None
    text = _text(value)
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if 1 <= number <= ASN_MAX else None


def _in_range(value, low: int, high: int) -> bool:
    number = _as_int(value)
    return number is not None and low <= number <= high


def _int_text(value) -> str:
    """The value as the message shows it: the number, or what was given when it is none."""
    number = _as_int(value)
    return str(number) if number is not None else _text(value)


def _flag(value) -> bool:
    try:
        return boolean(value, strict=True) if value is not None else False
    except TypeError:
        return False


def _str(value) -> str:
    return "" if value is None else _text(value)


def ipv4(value):
    """The IPv4 address written in dotted-quad form (no leading zeros, nothing around it), or None."""
    try:
        return ipaddress.IPv4Address(_text(value))
    except ValueError:
        return None


def neighbor_address(value):
    """The IP address of a neighbor as FRR takes it, or None: IPv4 in dotted-quad form, or IPv6 in hex
    groups (no zone index, no embedded dotted IPv4, no prefix length, no host name)."""
    text = _text(value)
    address = ipv4(text)
    if address is not None:
        return address
    if "." in text or "%" in text:
        return None
    try:
        return ipaddress.IPv6Address(text)
    except ValueError:
        return None


def own_address_problems(neighbors: list, own: list) -> list[str]:
    """One message per neighbor (``{address, source}``) at one of the router's own addresses (``{name, address}``).
    Addresses compare as IP addresses; entries that are not one are left to the other checks."""
    def parsed(value):
        try:
            return ipaddress.ip_address(_text(value).strip())
        except ValueError:
            return None

    mine = [(parsed(entry.get("address")), _text(entry.get("name", "the router's address")))
            for entry in own if isinstance(entry, Mapping)]
    mine = [(address, name) for address, name in mine if address is not None]
    problems = []
    for neighbor in neighbors:
        if not isinstance(neighbor, Mapping):
            continue
        address = parsed(neighbor.get("address"))
        source = _text(neighbor.get("source") or "a neighbor")
        names = [name for own_address, name in mine if address is not None and own_address == address]
        if not names:
            continue
        if source.startswith("bgp_router_neighbors["):
            fix = f"remove {source.split(' ', maxsplit=1)[0]} or give it the node's address"
        else:
            fix = "give that host the node's address, or take the router out of the node group (bgp_router_neighbor_group)"
        problems.append(
            f"{source} is {neighbor.get('address')}, the router's own address ({', '.join(names)}): a router cannot "
            f"peer with itself; {fix}"
            + ("" if "bgp_router_router_id" not in names else "; or, if bgp_router_router_id is wrong, correct it")
        )
    return problems


def _identity_problems(opts: Mapping) -> list[str]:
    errors = []
    if _asn(opts.get("asn")) is None:
        errors.append(f"bgp_router_asn is {_text(opts.get('asn'))}: an AS number must be between 1 and {ASN_MAX} "
                      "(private 2-byte ASNs are 64512-65534, 4-byte 4200000000-4294967294)")
    router_id = ipv4(opts.get("router_id"))
    if router_id is None or router_id == ipaddress.IPv4Address("0.0.0.0"):
        errors.append(f"bgp_router_router_id is {json.dumps(_text(opts.get('router_id')))}: the BGP router-id must be a "
                      "non-zero IPv4 address in dotted-quad form, for example the router address on the node segment "
                      "(even on an IPv6-only router)")
    node_asn = opts.get("node_asn")
    if node_asn is not None and _asn(node_asn) is None:
        errors.append(f"bgp_router_node_asn is {_text(node_asn)}: an AS number must be between 1 and {ASN_MAX}")
    return errors


def _timer_problems(opts: Mapping) -> list[str]:
    errors = []
    keepalive, hold_time = _int_text(opts.get("keepalive")), _int_text(opts.get("hold_time"))
    if not _in_range(opts.get("keepalive"), 0, 65535):
        errors.append(f"bgp_router_keepalive is {keepalive}: it must be between 0 and 65535 seconds")
    hold = _as_int(opts.get("hold_time"))
    alive = _as_int(opts.get("keepalive"))
    if hold is None or hold in (1, 2) or not 0 <= hold <= 65535:
        errors.append(f"bgp_router_hold_time is {hold_time}: a BGP hold time must be 0 (no keepalives) or 3 to 65535 "
                      "seconds (RFC 4271); use 3 x bgp_router_keepalive, for example 90 with a keepalive of 30")
    elif alive is None:
        pass  # reported above
    elif hold == 0 and alive != 0:
        errors.append(f"bgp_router_keepalive is {keepalive} but bgp_router_hold_time is 0 (keepalives off): set "
                      "bgp_router_keepalive to 0 too, or give a hold time of at least 3 x the keepalive")
    elif hold != 0 and alive >= hold:
        errors.append(f"bgp_router_keepalive ({keepalive}) must be below bgp_router_hold_time ({hold_time}), or the "
                      "session expires between two keepalives; the usual choice is hold time = 3 x keepalive")
    if not _in_range(opts.get("connect_retry"), 1, 65535):
        errors.append(f"bgp_router_connect_retry is {_int_text(opts.get('connect_retry'))}: it must be between 1 and "
                      "65535 seconds")
    return errors


def _setting_problems(opts: Mapping) -> list[str]:
    errors = []
    password = _str(opts.get("password"))
    if password and not _PASSWORD.fullmatch(password):
        errors.append(f"bgp_router_password is not usable: {_MD5_RULE} (FRR reads one word to the end of the line); "
                      "choose another password")
    if _flag(opts.get("bfd")):
        profile = _str(opts.get("bfd_profile"))
        if not _WORD.fullmatch(profile):
            errors.append(f"bgp_router_bfd_profile is {json.dumps(profile)}: {_NAME_RULE}")
        for option in ("bfd_receive_interval", "bfd_transmit_interval"):
            if not _in_range(opts.get(option), 10, 60000):
                errors.append(f"bgp_router_{option} is {_text(opts.get(option))}: BFD intervals are 10 to 60000 milliseconds")
        if not _in_range(opts.get("bfd_detect_multiplier"), 2, 255):
            errors.append(f"bgp_router_bfd_detect_multiplier is {_int_text(opts.get('bfd_detect_multiplier'))}: it must "
                          "be between 2 and 255")
    peer_group = _str(opts.get("peer_group"))
    if not _WORD.fullmatch(peer_group):
        errors.append(f"bgp_router_peer_group is {json.dumps(peer_group)}: {_NAME_RULE}")
    if not _in_range(opts.get("maximum_paths"), 1, 64):
        errors.append(f"bgp_router_maximum_paths is {_int_text(opts.get('maximum_paths'))}: ECMP width must be between "
                      "1 and 64 (one path per node is enough)")
    hostname = _str(opts.get("hostname"))
    if hostname and not _HOSTNAME.fullmatch(hostname):
        errors.append(f'bgp_router_hostname is {json.dumps(hostname)}: use a host name (letters, digits, "." and "-")')
    log_file = _str(opts.get("log_file"))
    if log_file and not _ABSOLUTE_PATH.fullmatch(log_file):
        errors.append(f'bgp_router_log_file is {json.dumps(log_file)}: give an absolute path without spaces, or "" to '
                      "log to syslog")
    sysctl_file = _str(opts.get("sysctl_file"))
    if sysctl_file and not _ABSOLUTE_PATH.fullmatch(sysctl_file):
        errors.append(f'bgp_router_sysctl_file is {json.dumps(sysctl_file)}: give an absolute path without spaces '
                      '(a sysctl.d file), or "" to set the running value only')
    return errors


def _group_candidates(opts: Mapping, groups: Mapping, hostvars: Mapping, errors: list) -> list[dict]:
    group = _str(opts.get("neighbor_group"))
    if not group:
        return []
    if group not in groups:
        errors.append(f"bgp_router_neighbor_group is {json.dumps(group)}: there is no such inventory group; name the "
                      "group of MetalLB speaker nodes")
        return []
    hosts = list(groups[group] or [])
    if not hosts:
        errors.append(f"bgp_router_neighbor_group {json.dumps(group)} has no hosts: the router needs at least one node "
                      "to peer with")
        return []
    address_var = _str(opts.get("neighbor_address_var"))
    address6_var = _str(opts.get("neighbor_address6_var"))
    asn_var = _str(opts.get("neighbor_asn_var"))
    candidates = []
    for host in hosts:
        host_vars = hostvars[host]
        asn = host_vars[asn_var] if asn_var and asn_var in host_vars else opts.get("node_asn")
        wanted = [(address_var, "bgp_router_neighbor_address_var",
                   "set it to the node address the router peers with")]
        if address6_var:
            wanted.append((address6_var, "bgp_router_neighbor_address6_var",
                           'set it, or set bgp_router_neighbor_address6_var to "" for IPv4 sessions only'))
        for variable, option, fix in wanted:
            address = host_vars[variable] if variable in host_vars else None
            if address is None:
                errors.append(f"host {host} of bgp_router_neighbor_group has no variable {variable} ({option}): {fix}")
                continue
            candidates.append({"address": _text(address), "asn": asn, "description": _text(host), "password_index": -1,
                               "source": f"host {host} ({variable})"})
    return candidates


def _explicit_candidates(opts: Mapping, errors: list) -> list[dict]:
    candidates = []
    for index, entry in enumerate(opts.get("neighbors") or []):
        entry = entry if isinstance(entry, Mapping) else {}
        password = _text(entry.get("password")) if entry.get("password") else ""
        asn = entry.get("asn")
        candidates.append({"address": _text(entry.get("address", "")), "asn": asn if asn is not None else opts.get("node_asn"),
                           "description": entry.get("description") or "", "password_index": index if password else -1,
                           "source": f"bgp_router_neighbors[{index}]"})
        if password and not _PASSWORD.fullmatch(password):
            errors.append(f"bgp_router_neighbors[{index}].password (neighbor {_str(entry.get('address'))}) is not usable: "
                          f"{_MD5_RULE}; choose another password")
    return candidates


def _neighbor_problems(candidates: list, router_asn, errors: list) -> list[dict]:
    neighbors, seen = [], {}
    for candidate in candidates:
        address_text = candidate["address"]
        where = f"{candidate['source']} (neighbor {address_text})"
        address = neighbor_address(address_text)
        if address is None:
            errors.append(f"{candidate['source']} address is {json.dumps(address_text)}: a neighbor address must be an "
                          "IPv4 or IPv6 address (no prefix length, no host name)")
        asn = _asn(candidate["asn"])
        if candidate["asn"] is None:
            errors.append(f"{where} has no AS number: set bgp_router_node_asn (one ASN for every node), the host "
                          "variable named by bgp_router_neighbor_asn_var, or asn in its bgp_router_neighbors entry")
        elif asn is None:
            errors.append(f"{where} AS number is {_text(candidate['asn'])}: an AS number must be between 1 and {ASN_MAX}")
        elif asn == router_asn:
            errors.append(f"{where} AS number {_text(candidate['asn'])} equals bgp_router_asn: this role sets up eBGP "
                          "only; give the nodes (MetalLB myASN) an AS number different from the router")
        description = _text(candidate["description"])
        if "\n" in description or "\r" in description or len(description) > 80:
            errors.append(f"{where} description must be one line of at most 80 characters")
        # The same address written twice (2001:db8::1, 2001:DB8:0::1) is one neighbor.
        key = address if address is not None else address_text.lower()
        if key in seen:
            errors.append(f"duplicate neighbor {address_text}: it comes from both {seen[key]} and {candidate['source']}; "
                          "list each node once")
            continue
        seen[key] = candidate["source"]
        if address is not None:
            neighbors.append({"address": address_text, "family": address.version, "asn": asn if asn is not None else _as_int(candidate["asn"]),
                              "description": description, "password_index": candidate["password_index"]})
    return neighbors


def _pool_problems(pools: list, neighbors: list, errors: list) -> dict:
    families = {"ipv4_pools": False, "ipv6_pools": False}
    if not pools:
        errors.append("bgp_router_pools is empty: list the MetalLB address pools whose prefixes the nodes may announce")
    bgp_pools = [pool for pool in pools if (pool.get("protocol") or "bgp") == "bgp"]
    for pool in bgp_pools:
        for entry in pool.get("addresses") or []:
            families["ipv6_pools" if ":" in _text(entry) else "ipv4_pools"] = True
    if pools and not bgp_pools:
        errors.append("bgp_router_pools has no pool with protocol bgp: only BGP pools are announced to the router; set "
                      "protocol: bgp on them (layer2 pools are ignored here)")
    families["ipv4"] = any(neighbor["family"] == 4 for neighbor in neighbors)
    families["ipv6"] = any(neighbor["family"] == 6 for neighbor in neighbors)
    if families["ipv6_pools"] and not families["ipv6"] and neighbors:
        errors.append("bgp_router_pools has IPv6 prefixes but no neighbor has an IPv6 address: IPv6 prefixes are accepted "
                      "over IPv6 sessions; set bgp_router_neighbor_address6_var or add the IPv6 node addresses to "
                      "bgp_router_neighbors")
    if families["ipv4_pools"] and not families["ipv4"] and neighbors:
        errors.append("bgp_router_pools has IPv4 prefixes but no neighbor has an IPv4 address: IPv4 prefixes are accepted "
                      "over IPv4 sessions; add the nodes' IPv4 addresses")
    return {key: families[key] for key in ("ipv4", "ipv6", "ipv4_pools", "ipv6_pools")}


def resolve_router_inputs(opts: Mapping, groups: Mapping, hostvars: Mapping, inventory_hostname: str) -> dict:
    """The role's input problems and its resolved neighbors, ASNs, pools and families (see the module's doc)."""
    errors = _identity_problems(opts) + _timer_problems(opts) + _setting_problems(opts)
    candidates = _group_candidates(opts, groups, hostvars, errors) + _explicit_candidates(opts, errors)
    if not _str(opts.get("neighbor_group")) and not (opts.get("neighbors") or []):
        errors.append("no neighbors: set bgp_router_neighbor_group to the inventory group of the MetalLB speaker nodes, "
                      "or list them in bgp_router_neighbors")
    router_vars = hostvars[inventory_hostname] if inventory_hostname in hostvars else {}
    own = [{"name": "bgp_router_router_id", "address": opts.get("router_id")},
           {"name": f"ansible_host of {inventory_hostname}",
            "address": router_vars["ansible_host"] if "ansible_host" in router_vars else inventory_hostname}]
    errors += own_address_problems(candidates, own)
    neighbors = _neighbor_problems(candidates, _asn(opts.get("asn")), errors)
    pools = [pool if isinstance(pool, Mapping) else {} for pool in opts.get("pools") or []]
    families = _pool_problems(pools, neighbors, errors)
    asns = []
    for neighbor in neighbors:
        if neighbor["asn"] is not None and neighbor["asn"] not in asns:
            asns.append(neighbor["asn"])
    # pool_validate defaults a pool without protocol to layer2; here pools are BGP pools unless they say otherwise.
    return {"errors": errors, "neighbors": neighbors, "asns": asns,
            "pools": [{**pool, "protocol": pool.get("protocol") or "bgp"} for pool in pools],
            "router_id_ok": ipv4(opts.get("router_id")) is not None, "families": families}


def _le(cidr: str, bits: int) -> str:
    """A pool prefix in a prefix-list: any more specific route inside it too (``le``), unless it is a host route."""
    return cidr + (f" le {bits}" if int(_text(cidr).split("/")[1]) < bits else "")


def render_frr_conf(opts: Mapping, inputs: Mapping, cidrs: Mapping, hostname: str, ipv6_forwarding) -> str:
    """frr.conf for the role's converted inputs, the resolved inputs (resolve_router_inputs), the pool prefixes the
    router accepts (``{"ipv4": [...], "ipv6": [...]}``), its host name and whether IPv6 forwarding is on.

    Written in FRR 8's canonical ``show running-config`` form on purpose: frr-reload.py compares text per context,
    so a line FRR would render differently (or not at all, like a default value) shows up as a change on every run;
    frr_config checks this after every apply. The passwords are read from ``opts`` here, so they are in the text
    (frr_config's content is no_log) and nowhere else."""
    pg = _text(opts.get("peer_group"))
    pg6 = f"{pg}-V6"
    neighbors = list(inputs.get("neighbors") or [])
    v4 = [n for n in neighbors if n["family"] == 4]
    v6 = [n for n in neighbors if n["family"] == 6]
    asns = list(inputs.get("asns") or [])
    common_asn = asns[0] if len(asns) == 1 else None
    v4_cidrs, v6_cidrs = list(cidrs.get("ipv4") or []), list(cidrs.get("ipv6") or [])
    bfd, password = _flag(opts.get("bfd")), _str(opts.get("password"))
    explicit = list(opts.get("neighbors") or [])
    out = []

    def group(name):
        out.append(f" neighbor {name} peer-group")
        if common_asn is not None:
            out.append(f" neighbor {name} remote-as {common_asn}")
        if bfd:
            # running-config shows "bfd" and "bfd profile" as two lines; writing only the second makes
            # frr-reload.py delete the first, which resets every session.
            out.extend([f" neighbor {name} bfd", f" neighbor {name} bfd profile {opts.get('bfd_profile')}"])
        if password:
            out.append(f" neighbor {name} password {password}")
        out.append(f" neighbor {name} timers {_as_int(opts.get('keepalive'))} {_as_int(opts.get('hold_time'))}")
        out.append(f" neighbor {name} timers connect {_as_int(opts.get('connect_retry'))}")

    def members(members_list, name):
        for n in members_list:
            address = n["address"]
            if common_asn is None:
                # Different node ASNs: each neighbor carries its own (the group has none).
                out.append(f" neighbor {address} remote-as {n['asn']}")
            out.append(f" neighbor {address} peer-group {name}")
            if n["description"]:
                out.append(f" neighbor {address} description {n['description']}")
            if n["password_index"] >= 0:
                out.append(f" neighbor {address} password {explicit[n['password_index']]['password']}")

    def afi(name, in_map):
        out.append(f"  maximum-paths {_as_int(opts.get('maximum_paths'))}")
        if opts.get("outbound") == "default_route":
            out.append(f"  neighbor {name} default-originate")
        out.extend([f"  neighbor {name} route-map {in_map} in", f"  neighbor {name} route-map {pg}-OUT out"])

    out.extend(["! Managed by Ansible (baremetal.metallb.bgp_router); local changes are reverted.",
                f"frr defaults {opts.get('frr_defaults')}", f"hostname {hostname}"])
    log_file = _str(opts.get("log_file"))
    out.append(f"log file {log_file} {opts.get('log_level')}" if log_file else f"log syslog {opts.get('log_level')}")
    if not _flag(opts.get("ipv4_forwarding")):
        out.append("no ip forwarding")
    if not _flag(ipv6_forwarding):
        out.append("no ipv6 forwarding")
    out.extend(["service integrated-vtysh-config", "!"])
    for family, keyword, bits, prefixes in (("V4", "ip", 32, v4_cidrs), ("V6", "ipv6", 128, v6_cidrs)):
        out.extend(f"{keyword} prefix-list {pg}-POOLS-{family} seq {index * 5} permit {_le(cidr, bits)}"
                   for index, cidr in enumerate(prefixes, start=1))
        if prefixes:
            out.append("!")
    # Inbound: only prefixes inside the MetalLB pools (any length); a route-map ends in an implicit deny.
    for sessions, route_map, keyword, family, prefixes in ((v4, f"{pg}-IN", "ip", "V4", v4_cidrs),
                                                           (v6, f"{pg}-IN-V6", "ipv6", "V6", v6_cidrs)):
        if not sessions:
            continue
        if prefixes:
            out.extend([f"route-map {route_map} permit 10", f" match {keyword} address prefix-list {pg}-POOLS-{family}"])
            if family == "V6":
                # A node on the router's segment sends its global and its link-local address as the next hop;
                # zebra installs the link-local one unless told otherwise. The global one names the node in
                # the FIB (ip -6 route, bgp_verify), like the IPv4 next hop does.
                out.append(" set ipv6 next-hop prefer-global")
        else:
            out.append(f"route-map {route_map} deny 10")
        out.extend(["exit", "!"])
    # Outbound: the nodes need no routes from the router.
    out.extend([f"route-map {pg}-OUT deny 10", "exit", "!"])
    if bfd:
        out.extend(["bfd", f" profile {opts.get('bfd_profile')}"])
        # FRR's defaults (3 x 300 ms) are not shown by running-config.
        for option, keyword, default in (("bfd_detect_multiplier", "detect-multiplier", 3),
                                         ("bfd_transmit_interval", "transmit-interval", 300),
                                         ("bfd_receive_interval", "receive-interval", 300)):
            if _as_int(opts.get(option)) != default:
                out.append(f"  {keyword} {_as_int(opts.get(option))}")
        out.extend([" exit", " !", "exit", "!"])
    out.extend([f"router bgp {_as_int(opts.get('asn'))}", f" bgp router-id {opts.get('router_id')}", " bgp log-neighbor-changes"])
    if _flag(opts.get("graceful_restart")):
        out.append(" bgp graceful-restart")
    if not _flag(opts.get("ebgp_requires_policy")):
        out.append(" no bgp ebgp-requires-policy")
    if common_asn is None:
        # Different node ASNs mean different AS_PATHs: without this, only one path is used.
        out.append(" bgp bestpath as-path multipath-relax")
    if v4:
        group(pg)
    if v6:
        group(pg6)
    members(v4, pg)
    members(v6, pg6)
    out.extend([" !", " address-family ipv4 unicast"])
    if v4:
        afi(pg, f"{pg}-IN")
    if v6:
        out.append(f"  no neighbor {pg6} activate")
    out.append(" exit-address-family")
    if v6:
        out.extend([" !", " address-family ipv6 unicast"])
        afi(pg6, f"{pg}-IN-V6")
        out.extend([f"  neighbor {pg6} activate", " exit-address-family"])
    out.extend(["exit", "!"])
    return "\n".join(out) + "\n"
