# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB's legacy ConfigMap configuration (<= v0.12: ``data.config`` with ``peers``, ``address-pools``,
``bgp-communities``, ``bfd-profiles``) converted to the ``metallb_config`` role's variables.

The variables, not objects: the migration then goes through ``metallb_config``'s own path (every field checked by
``ConfigBuilder``, passwords only in Secrets, ownership labels, pruning). The semantics follow MetalLB's
``configmaptocrs`` tool (v0.16.1):

* a pool, BFD profile or peer's ``bfd-profile`` whose name is not a DNS label is renamed: cut to 63 characters,
  lower-cased, ``_`` to ``-``, everything before the first letter dropped (no letter: an error);
* a peer becomes ``peer<N>`` (its position, from 1), ``hold-time`` defaults to 90s and is cut to whole seconds
  (between 0 and 3s refused), ``keepalive-time`` likewise when given;
* a ``layer2`` pool gets ``l2advertisement<N>``; each of a pool's ``bgp-advertisements`` becomes
  ``bgpadvertisement<N>`` naming the pool (numbered across pools), a ``bgp`` pool without any gets an empty one;
* ``bgp-communities`` become one Community ``communities``, aliases sorted by name;
* BFD profiles keep their fields, ``echo-mode`` and ``passive-mode`` always set.

Where the tool writes a peer's password into the BGPPeer, here it stays a variable and ``metallb_config`` puts it in
a Secret.
"""

from __future__ import annotations

import re

DNS_LABEL = re.compile(r"^[a-z][-a-z0-9]{0,61}[a-z0-9]$")
DURATION = re.compile(r"^(?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h)")
UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
KNOWN = {
    "top": {"peers", "address-pools", "bgp-communities", "bfd-profiles"},
    "peer": {"my-asn", "peer-asn", "peer-address", "source-address", "peer-port", "hold-time", "keepalive-time",
             "router-id", "node-selectors", "password", "bfd-profile", "ebgp-multihop"},
    "pool": {"protocol", "name", "addresses", "auto-assign", "avoid-buggy-ips", "bgp-advertisements"},
    "advertisement": {"aggregation-length", "aggregation-length-v6", "localpref", "communities"},
    "bfd": {"name", "receive-interval", "transmit-interval", "detect-multiplier", "echo-interval", "echo-mode",
            "passive-mode", "minimum-ttl"},
}


class LegacyConfigError(ValueError):
    """The legacy configuration cannot be converted; the message names where."""


def go_duration_seconds(text: str, where: str) -> float:
    """Go's ``time.ParseDuration`` for the units MetalLB's durations use (``90s``, ``1m30s``, ``0``)."""
    text = str(text).strip()
    if text in ("0", "+0", "-0"):
        return 0.0
    total, rest = 0.0, text
    if not rest:
        raise LegacyConfigError(f"{where}: empty duration")
    while rest:
        match = DURATION.match(rest)
        if not match:
            raise LegacyConfigError(f"{where}: {text!r} is not a Go duration (e.g. 90s, 1m30s)")
        number = re.match(r"^(?:\d+(?:\.\d*)?|\.\d+)", rest).group(0)
        unit = rest[len(number):match.end()]
        total += float(number) * UNITS[unit]
        rest = rest[match.end():]
    return total


def k8s_name(name, kind: str) -> tuple[str, str | None]:
    """The name MetalLB's tool gives it, and a note when it changed."""
    name = str(name)
    if DNS_LABEL.match(name):
        return name, None
    final = name[:63].lower().replace("_", "-")
    first = re.search(r"[a-z]", final)
    if not first:
        raise LegacyConfigError(f"{kind} {name!r}: cannot be made a Kubernetes name (no letter in it)")
    final = final[first.start():]
    return final, f"{kind} {name!r} renamed to {final!r} (a Kubernetes name)"


def _selectors(raw, where: str) -> list[dict]:
    out = []
    for index, sel in enumerate(raw or []):
        if not isinstance(sel, dict):
            raise LegacyConfigError(f"{where}[{index}]: must be a mapping with match-labels and/or match-expressions")
        entry: dict = {}
        if sel.get("match-labels"):
            entry["match_labels"] = {str(k): str(v) for k, v in sel["match-labels"].items()}
        if sel.get("match-expressions"):
            entry["match_expressions"] = [
                {"key": e.get("key"), "operator": e.get("operator"), **({"values": list(e["values"])} if e.get("values") else {})}
                for e in sel["match-expressions"]]
        out.append(entry)
    return out


def _unknown(raw: dict, kind: str, where: str, notes: list) -> None:
    extra = sorted(set(raw) - KNOWN[kind])
    if extra:
        notes.append(f"{where}: ignored key(s) {', '.join(extra)} (MetalLB's configmaptocrs ignores them too)")


def convert(config: dict) -> dict:
    """``{"variables": {pools, l2_advertisements, bgp_advertisements, bgp_peers, bfd_profiles, communities}, "notes": [...]}``."""
    if not isinstance(config, dict):
        raise LegacyConfigError("config: must be a mapping (the ConfigMap's data.config, as YAML)")
    notes: list[str] = []
    _unknown(config, "top", "config", notes)
    bfd_profiles, bfd_names = [], {}
    for index, raw in enumerate(config.get("bfd-profiles") or []):
        where = f"bfd-profiles[{index}]"
        _unknown(raw, "bfd", where, notes)
        name, note = k8s_name(raw.get("name", ""), "BFDProfile")
        notes += [note] if note else []
        bfd_names[raw.get("name")] = name
        profile = {"name": name}
        for legacy, var in (("receive-interval", "receive_interval"), ("transmit-interval", "transmit_interval"),
                            ("detect-multiplier", "detect_multiplier"), ("echo-interval", "echo_interval"),
                            ("minimum-ttl", "minimum_ttl")):
            if raw.get(legacy) is not None:
                profile[var] = raw[legacy]
        profile["echo_mode"] = bool(raw.get("echo-mode", False))
        profile["passive_mode"] = bool(raw.get("passive-mode", False))
        bfd_profiles.append(profile)

    communities = []
    if config.get("bgp-communities"):
        communities = [{"name": "communities", "communities": [
            {"name": str(name), "value": str(value)} for name, value in sorted(config["bgp-communities"].items())]}]

    peers = []
    for index, raw in enumerate(config.get("peers") or []):
        where = f"peers[{index}]"
        _unknown(raw, "peer", where, notes)
        peer = {"name": f"peer{index + 1}", "my_asn": raw.get("my-asn"), "peer_asn": raw.get("peer-asn"),
                "peer_address": raw.get("peer-address")}
        hold = go_duration_seconds(raw["hold-time"], f"{where}.hold-time") if raw.get("hold-time") else 90.0
        hold = int(hold)
        if 0 < hold < 3:
            raise LegacyConfigError(f"{where}.hold-time: {raw['hold-time']!r} must be 0 or at least 3s")
        peer["hold_time"] = f"{hold}s"
        if raw.get("keepalive-time"):
            peer["keepalive_time"] = f"{int(go_duration_seconds(raw['keepalive-time'], f'{where}.keepalive-time'))}s"
        for legacy, var in (("source-address", "source_address"), ("peer-port", "peer_port"), ("router-id", "router_id"),
                            ("password", "password")):
            if raw.get(legacy):
                peer[var] = raw[legacy]
        if raw.get("ebgp-multihop"):
            peer["ebgp_multihop"] = True
        if raw.get("bfd-profile"):
            peer["bfd_profile"] = bfd_names.get(raw["bfd-profile"]) or k8s_name(raw["bfd-profile"], "BFDProfile")[0]
        selectors = _selectors(raw.get("node-selectors"), f"{where}.node-selectors")
        if selectors:
            peer["node_selectors"] = selectors
        peers.append(peer)

    pools, l2_ads, bgp_ads = [], [], []
    for index, raw in enumerate(config.get("address-pools") or []):
        where = f"address-pools[{index}]"
        _unknown(raw, "pool", where, notes)
        name, note = k8s_name(raw.get("name", ""), "IPAddressPool")
        notes += [note] if note else []
        pool = {"name": name, "addresses": [str(a) for a in raw.get("addresses") or []]}
        if raw.get("auto-assign") is not None:
            pool["auto_assign"] = bool(raw["auto-assign"])
        if raw.get("avoid-buggy-ips") is not None:
            pool["avoid_buggy_ips"] = bool(raw["avoid-buggy-ips"])
        pools.append(pool)
        protocol = raw.get("protocol")
        if protocol not in ("layer2", "bgp"):
            notes.append(f"{where} ({name}): protocol {protocol!r} is neither layer2 nor bgp: no advertisement made for it "
                         "(as configmaptocrs); add one or MetalLB never announces it")
        for ad_index, ad in enumerate(raw.get("bgp-advertisements") or []):
            _unknown(ad, "advertisement", f"{where}.bgp-advertisements[{ad_index}]", notes)
            entry = {"name": f"bgpadvertisement{len(bgp_ads) + 1}", "ip_address_pools": [name]}
            for legacy, var in (("aggregation-length", "aggregation_length"), ("aggregation-length-v6", "aggregation_length_v6"),
                                ("localpref", "local_pref")):
                if ad.get(legacy):
                    entry[var] = ad[legacy]
            if ad.get("communities"):
                entry["communities"] = [str(c) for c in ad["communities"]]
            bgp_ads.append(entry)
        if protocol == "bgp" and not raw.get("bgp-advertisements"):
            bgp_ads.append({"name": f"bgpadvertisement{len(bgp_ads) + 1}", "ip_address_pools": [name]})
        if protocol == "layer2":
            l2_ads.append({"name": f"l2advertisement{len(l2_ads) + 1}", "ip_address_pools": [name]})

    variables = {"pools": pools, "l2_advertisements": l2_ads, "bgp_advertisements": bgp_ads, "bgp_peers": peers,
                 "bfd_profiles": bfd_profiles, "communities": communities}
    return {"variables": variables, "notes": notes}


def yaml_loader():
    """A SafeLoader that reads as MetalLB's Go parser does: YAML 1.1 makes ``64500:7`` a base-60 number, Go a string
    (and every community is written that way)."""
    import yaml  # noqa: PLC0415 (PyYAML comes with ansible-core)

    class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        pass

    def scalar(loader, node, base):
        return loader.construct_scalar(node) if ":" in node.value else base(loader, node)

    Loader.add_constructor("tag:yaml.org,2002:int", lambda loader, node: scalar(loader, node, yaml.SafeLoader.construct_yaml_int))
    Loader.add_constructor("tag:yaml.org,2002:float", lambda loader, node: scalar(loader, node, yaml.SafeLoader.construct_yaml_float))
    return Loader


def parse_config(text) -> dict:
    """The ConfigMap's ``data.config`` (YAML text, or already a mapping) as a mapping."""
    if isinstance(text, dict):
        return text
    import yaml  # noqa: PLC0415

    try:
        parsed = yaml.load(str(text or ""), Loader=yaml_loader())  # noqa: S506 (a SafeLoader)
    except yaml.YAMLError as exc:
        raise LegacyConfigError(f"data.config: not YAML ({exc.__class__.__name__}: {getattr(exc, 'problem', exc)})") from None
    if not isinstance(parsed, dict):
        raise LegacyConfigError("data.config: empty or not a mapping; MetalLB's legacy configuration has peers and address-pools")
    return parsed


def passwords(variables: dict) -> list[str]:
    """The peers' passwords, for the callers' no_log."""
    return [str(p["password"]) for p in variables.get("bgp_peers") or [] if p.get("password")]
