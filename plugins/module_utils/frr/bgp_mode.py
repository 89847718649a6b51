# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the router may configure toward MetalLB's speakers, by the BGP mode MetalLB runs in.

MetalLB's native BGP speaker (``METALLB_BGP_TYPE=native``, the ``metallb-native`` manifest)
speaks neither BFD nor graceful restart: its own validation refuses a BGPPeer with
``bfdProfile`` or ``enableGracefulRestart`` (internal/config/validation.go, DiscardFRROnly).
The FRR-based modes (``frr``, and ``frr-k8s``, the default of MetalLB 0.16's Helm chart) speak
both. A router with BFD toward a native speaker waits for BFD packets that never come: its
BFD sessions never come up and the fast failure detection it was asked for silently does not
exist; graceful restart is negotiated by both sides, so
the router's half alone only pretends to keep routes across a speaker restart.

Values are normalized first: an AWX survey or ``-e`` gives ``"true"``/``"false"`` and ``"Native"``.
"""

from __future__ import annotations

import ipaddress

from ansible.module_utils.parsing.convert_bool import boolean

BGP_MODES = ("native", "frr", "frr-k8s")
# router option -> (what it is, the matching MetalLB setting in the FRR-based modes)
FRR_ONLY = {
    "bfd": ("BFD", "a BFDProfile named by the BGPPeer's bfdProfile (metallb_config_bfd_profiles, bfd_profile)"),
    "graceful_restart": ("graceful restart", "the BGPPeer's enableGracefulRestart (metallb_config_bgp_peers[].enable_graceful_restart)"),
}


def normalized_mode(value) -> str:
    return str(value if value is not None else "").strip().lower()


def router_mode_problems(mode, options: dict, prefix: str = "bgp_router_", site_variable: str = "metallb_bgp_mode") -> list[str]:
    """One message per router option MetalLB's speakers in ``mode`` cannot speak (and for a mode not known)."""
    mode_name = normalized_mode(mode)
    variable = f"{prefix}metallb_mode"
    if mode_name not in BGP_MODES:
        return [f"{variable} is {mode!r}: MetalLB's BGP mode is one of {', '.join(BGP_MODES)} "
                f"(in site.yml set {site_variable}, which sets it for the router and MetalLB alike)"]
    if mode_name != "native":
        return []
    problems = []
    for option, (what, metallb_side) in FRR_ONLY.items():
        value = options.get(option)
        try:
            wanted = boolean(value, strict=True) if value is not None else False
        except TypeError:
            problems.append(f"{prefix}{option} is {value!r}: give true or false")
            continue
        if wanted:
            problems.append(
                f"{prefix}{option} is true but {variable} is native ({site_variable} in site.yml): MetalLB's native "
                f"BGP speakers do not speak {what}, so the router would wait for it in vain ("
                + ("BFD would never come up, so it detects no failure, silently" if option == "bfd" else "no speaker would keep its routes across a restart")
                + f"). Set {prefix}{option}: false, or run MetalLB in an FRR-based mode ({site_variable}: frr-k8s, "
                f"MetalLB 0.16's default, which installs frr-k8s and lets metallb_config use {metallb_side})"
            )
    return problems


# router option -> (MetalLB BGPPeer variable key, what it is); both sides or neither
BOTH_SIDES = {
    "bfd": ("bfd_profile", "BFD", "BFD would never come up and detect nothing"),
    "graceful_restart": ("enable_graceful_restart", "graceful restart",
                         "it would not be negotiated and a restarting node's routes would be withdrawn"),
}


def _address(value):
    try:
        return ipaddress.ip_address(str(value).strip())
    except ValueError:
        return None


def _set(value) -> bool:
    if isinstance(value, str) and value.strip() and value.strip().lower() not in ("true", "false", "yes", "no", "on", "off", "1", "0"):
        return True  # a BFD profile's name
    try:
        return boolean(value, strict=False) if value is not None else False
    except TypeError:
        return bool(value)


def peer_problems(options: dict, peers, router_addresses, prefix: str = "bgp_router_",
                  peers_variable: str = "metallb_config_bgp_peers") -> list[str]:
    """MetalLB's BGPPeers toward this router (``peers``: metallb_config_bgp_peers, matched by ``peer_address``
    against ``router_addresses``) against the router's BFD and graceful restart: both sides or neither. Only
    in an FRR-based mode (native: ``router_mode_problems`` and metallb_config refuse both anyway)."""
    if normalized_mode(options.get("metallb_mode")) == "native" or not isinstance(peers, list):
        return []
    mine = {a for a in (_address(r) for r in router_addresses or []) if a is not None}
    problems = []
    for index, peer in enumerate(peers):
        if not isinstance(peer, dict) or _address(peer.get("peer_address")) not in mine:
            continue
        where = f"{peers_variable}[{index}] (peer_address {peer.get('peer_address')})"
        for option, (key, what, consequence) in BOTH_SIDES.items():
            try:
                router = boolean(options.get(option), strict=True) if options.get(option) is not None else False
            except TypeError:
                continue  # router_mode_problems names it
            node = _set(peer.get(key))
            if router and not node:
                problems.append(f"{prefix}{option} is true but {where} has no {key}: MetalLB's speakers would not speak "
                                f"{what} with the router, so {consequence}. Set {key} on that peer"
                                + (" (and the profile in metallb_config_bfd_profiles)" if option == "bfd" else "")
                                + f", or set {prefix}{option}: false")
            elif node and not router:
                problems.append(f"{where} has {key} but {prefix}{option} is false: the router would not speak {what} with "
                                f"MetalLB's speakers, so {consequence}. Set {prefix}{option}: true, or remove {key}")
    return problems
