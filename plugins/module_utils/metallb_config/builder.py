# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB configuration objects built from the metallb_config variables.

Plain data in, plain data out: the variables (snake_case) become IPAddressPool,
L2Advertisement, BGPPeer (v1beta2), BGPAdvertisement, BFDProfile and Community
objects (camelCase), plus one ``kubernetes.io/basic-auth`` Secret per peer with a
password. Every field is checked first; each problem is reported with the
variable path (``metallb_config_bgp_peers[1].peer_asn: ...``). The pools' addresses
go through pool_validate's checks (MetalLB's entry grammar, overlaps, node addresses,
reserved ranges) and are applied exactly as written. With what the cluster holds
(``cluster``) it also resolves references between objects, refuses to take over
objects it does not own, refuses pools that overlap a pool it does not own, and
lists owned objects to prune.
"""

from __future__ import annotations

import base64
import ipaddress

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config import values as V
from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.ownership import INSTANCE_KEY, MANAGED_BY, MANAGED_BY_KEY, owned, owner_labels
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.spans import HAS_NETADDR
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.validator import PoolValidator
from ansible_collections.baremetal.metallb.plugins.module_utils.model.names import dns1123_label, dns1123_subdomain, label_value, qualified_name
from ansible_collections.baremetal.metallb.plugins.module_utils.model.selectors import check_selector

SECRET_SUFFIX = "-bgp-password"
BGP_MODES = ("native", "frr", "frr-k8s")

# variable (without prefix) -> (kind, apiVersion); the order objects are applied in:
# referenced objects before the objects referring to them.
KINDS = {
    "bfd_profiles": ("BFDProfile", "metallb.io/v1beta1"),
    "communities": ("Community", "metallb.io/v1beta1"),
    "pools": ("IPAddressPool", "metallb.io/v1beta1"),
    "bgp_peers": ("BGPPeer", "metallb.io/v1beta2"),
    "l2_advertisements": ("L2Advertisement", "metallb.io/v1beta1"),
    "bgp_advertisements": ("BGPAdvertisement", "metallb.io/v1beta1"),
}
SECRET_KIND = ("Secret", "v1")
API_VERSIONS = dict(KINDS.values())
API_VERSIONS["Secret"] = "v1"

# snake_case variable -> camelCase field; checked by the method named in the third column.
FIELDS = {
    "pools": {
        "addresses": ("addresses", "_addresses"),
        "auto_assign": ("autoAssign", "_bool"),
        "avoid_buggy_ips": ("avoidBuggyIPs", "_bool"),
        "service_allocation": ("serviceAllocation", "_service_allocation"),
    },
    "l2_advertisements": {
        "ip_address_pools": ("ipAddressPools", "_pool_refs"),
        "ip_address_pool_selectors": ("ipAddressPoolSelectors", "_selectors"),
        "node_selectors": ("nodeSelectors", "_selectors"),
        "interfaces": ("interfaces", "_interfaces"),
    },
    "bgp_peers": {
        "my_asn": ("myASN", "_asn"),
        "peer_asn": ("peerASN", "_asn"),
        "peer_address": ("peerAddress", "_ip"),
        "source_address": ("sourceAddress", "_ip"),
        "peer_port": ("peerPort", "_peer_port"),
        "hold_time": ("holdTime", "_duration"),
        "keepalive_time": ("keepaliveTime", "_duration"),
        "router_id": ("routerID", "_ipv4"),
        "ebgp_multihop": ("ebgpMultiHop", "_bool"),
        "bfd_profile": ("bfdProfile", "_bfd_ref"),
        "node_selectors": ("nodeSelectors", "_selectors"),
        "vrf": ("vrf", "_vrf"),
        # FRR-based modes only (frr, frr-k8s): MetalLB's native speaker refuses them (_check_native_mode)
        "connect_time": ("connectTime", "_connect_time"),
        "enable_graceful_restart": ("enableGracefulRestart", "_bool"),
        "dynamic_asn": ("dynamicASN", "_dynamic_asn"),
        "local_asn": ("localASN", "_asn"),
        "interface": ("interface", "_interface"),
        "dual_stack_address_family": ("dualStackAddressFamily", "_bool"),
        "password": (None, None),  # becomes a Secret, see _peer_password
        "password_secret": (None, None),
    },
    "bgp_advertisements": {
        "ip_address_pools": ("ipAddressPools", "_pool_refs"),
        "ip_address_pool_selectors": ("ipAddressPoolSelectors", "_selectors"),
        "aggregation_length": ("aggregationLength", "_agg_v4"),
        "aggregation_length_v6": ("aggregationLengthV6", "_agg_v6"),
        "local_pref": ("localPref", "_local_pref"),
        "communities": ("communities", "_community_refs"),
        "peers": ("peers", "_peer_refs"),
        "node_selectors": ("nodeSelectors", "_selectors"),
    },
    "bfd_profiles": {
        "receive_interval": ("receiveInterval", "_bfd_interval"),
        "transmit_interval": ("transmitInterval", "_bfd_interval"),
        "detect_multiplier": ("detectMultiplier", "_detect_multiplier"),
        "echo_interval": ("echoInterval", "_bfd_interval"),
        "echo_mode": ("echoMode", "_bool"),
        "passive_mode": ("passiveMode", "_bool"),
        "minimum_ttl": ("minimumTtl", "_minimum_ttl"),
    },
    "communities": {
        "communities": ("communities", "_aliases"),
    },
}
REQUIRED = {
    "pools": ("addresses",),
    "bgp_peers": ("my_asn",),  # and peer_asn or dynamic_asn, peer_address or interface: _peer_rules
    "communities": ("communities",),
}
COMMON = ("name", "labels")


class ConfigResult:
    def __init__(self):
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.objects: list[dict] = []
        self.secrets: list[dict] = []  # the Secret objects, with the passwords: never returned with the rest
        self.prune: list[dict] = []
        self.unresolved: list[dict] = []
        self.counts: dict = {}

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def as_result(self) -> dict:
        secret_names = [s["metadata"]["name"] for s in self.secrets]
        if self.errors:
            msg = "metallb_config: invalid input; nothing was applied:\n" + "\n".join(self.errors)
        else:
            msg = "metallb_config: " + ", ".join(f"{n} {k}" for k, n in self.counts.items()) if self.counts else "metallb_config: no objects"
        return {
            "changed": False,
            "msg": msg,
            "errors": list(self.errors),
            "objects": [] if self.errors else self.objects,
            "secret_names": secret_names,
            "prune": [] if self.errors else self.prune,
            "unresolved": self.unresolved,
            # "Kind namespace/name", for the role's messages, in the order of objects, secret_names and prune
            "object_names": [] if self.errors else [_name_of(o) for o in self.objects],
            "secret_object_names": [_name_of(s) for s in self.secrets],
            "prune_names": [] if self.errors else [_name_of(o) for o in self.prune],
        }


def _name_of(obj: dict) -> str:
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind')} {meta.get('namespace')}/{meta.get('name')}"


class ConfigBuilder:
    """Checks the variables and builds the objects; ``run()`` returns a ConfigResult."""

    def __init__(self, *, namespace="metallb-system", instance="default", bgp_mode="native", prefix="",
                 pools=None, l2_advertisements=None, bgp_peers=None, bgp_advertisements=None,
                 bfd_profiles=None, communities=None, cluster=None, pool_node_addresses=None, pool_reserved=None):
        self.namespace = namespace
        self.instance = instance
        self.bgp_mode = bgp_mode
        self.prefix = prefix or ""
        self.inputs = {
            "pools": pools, "l2_advertisements": l2_advertisements, "bgp_peers": bgp_peers,
            "bgp_advertisements": bgp_advertisements, "bfd_profiles": bfd_profiles, "communities": communities,
        }
        # kind -> name -> {"labels": ..., "aliases": [...], "type": ...}; None when the cluster was not read
        self.cluster = self._index_cluster(cluster) if cluster is not None else None
        self._cluster_pools = (cluster or {}).get("IPAddressPool") or [] if cluster is not None else None
        self._pool_checks = {"node_addresses": pool_node_addresses or [], "reserved": pool_reserved or []}
        self.result = ConfigResult()
        self._names: dict[str, set] = {}
        self._alias_names: set = set()
        self._pool_families: dict[str, set] = {}

    # ------------------------------------------------------------ helpers
    def _var(self, variable: str) -> str:
        return f"{self.prefix}{variable}"

    def _error(self, path: str, text: str) -> None:
        self.result.errors.append(f"{path}: {text}")

    @staticmethod
    def _index_cluster(cluster: dict) -> dict:
        index = {}
        for kind, objects in (cluster or {}).items():
            entries = {}
            for obj in objects or []:
                meta = obj.get("metadata") or {}
                if not meta.get("name"):
                    continue
                entries[meta["name"]] = {
                    "labels": meta.get("labels") or {},
                    "type": obj.get("type"),
                    "aliases": [a.get("name") for a in (obj.get("spec") or {}).get("communities") or [] if isinstance(a, dict)],
                    # immutable in a BGPPeer (the CRD's rule self == oldSelf)
                    "graceful_restart": bool((obj.get("spec") or {}).get("enableGracefulRestart", False)),
                }
            index[kind] = entries
        return index

    def _owned(self, labels: dict) -> bool:
        return owned(labels, self.instance)

    # ------------------------------------------------------------ entry point
    def run(self) -> ConfigResult:
        self._check_settings()
        items = {}
        for variable in KINDS:
            items[variable] = self._items(variable)
        # names first: references are resolved against every kind's names
        for variable, entries in items.items():
            self._names[variable] = {entry["name"] for dummy, entry in entries if isinstance(entry.get("name"), str)}
        for dummy, entry in items["communities"]:
            for alias in entry.get("communities") or []:
                if isinstance(alias, dict) and isinstance(alias.get("name"), str):
                    self._alias_names.add(alias["name"])
        for variable, entries in items.items():
            kind, api_version = KINDS[variable]
            for path, entry in entries:
                obj = self._build(variable, kind, api_version, path, entry)
                if obj is not None:
                    self.result.objects.append(obj)
        self._check_native_mode(items)
        self._check_peer_families(items)
        self._check_pool_addresses(items["pools"])
        self._check_takeover()
        if not self.result.errors:
            self._compute_prune()
        self.result.counts = {kind: n for kind, n in self._count().items() if n}
        return self.result

    def _count(self) -> dict:
        counts = {}
        for obj in self.result.objects + self.result.secrets:
            counts[obj["kind"]] = counts.get(obj["kind"], 0) + 1
        return counts

    def _check_settings(self) -> None:
        problem = dns1123_label(self.namespace)
        if problem:
            self._error(self._var("namespace"), f"{self.namespace!r} {problem}")
        problem = label_value(self.instance)
        if problem or not self.instance:
            self._error(self._var("instance"), f"{self.instance!r} {problem or 'must not be empty'} (it is a label value)")
        if self.bgp_mode not in BGP_MODES:
            self._error(self._var("bgp_mode"), f"{self.bgp_mode!r} is not one of {', '.join(BGP_MODES)}")

    def _items(self, variable: str) -> list:
        """[(path, entry)] of one list variable, after checking its shape, names and keys."""
        value = self.inputs[variable]
        var = self._var(variable)
        if value is None:
            return []
        if not isinstance(value, list):
            self._error(var, f"must be a list, got {type(value).__name__}")
            return []
        known = set(COMMON) | set(FIELDS[variable])
        seen = {}
        out = []
        for index, entry in enumerate(value):
            path = f"{var}[{index}]"
            if not isinstance(entry, dict):
                self._error(path, f"must be a dict, got {type(entry).__name__}")
                continue
            unknown = sorted(set(entry) - known)
            if unknown:
                self._error(path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
            name = entry.get("name")
            problem = dns1123_subdomain(name) if isinstance(name, str) else "is missing (every object needs a name)"
            if problem:
                self._error(f"{path}.name", f"{name!r} {problem}" if isinstance(name, str) else problem)
            elif name in seen:
                self._error(f"{path}.name", f"{name!r} is also the name of {var}[{seen[name]}]; names must be unique per kind")
            else:
                seen[name] = index
            for key in REQUIRED.get(variable, ()):
                if entry.get(key) is None:
                    self._error(f"{path}.{key}", "is required")
            out.append((path, entry))
        return out

    # ------------------------------------------------------------ one object
    def _build(self, variable, kind, api_version, path, entry):
        spec = {}
        errors_before = len(self.result.errors)
        for key, (field, check) in FIELDS[variable].items():
            value = entry.get(key)
            if value is None or field is None:
                continue
            checked = getattr(self, check)(f"{path}.{key}", value, entry)
            if checked is not None:
                spec[field] = checked
        labels = dict(entry.get("labels") or {})
        self._check_labels(f"{path}.labels", entry.get("labels"))
        if variable == "bgp_peers":
            self._peer_rules(path, entry, spec)
        if variable == "pools" and isinstance(entry.get("name"), str):
            self._pool_families[entry["name"]] = self._families(entry.get("addresses") or [])
        name = entry.get("name")
        if len(self.result.errors) > errors_before or not isinstance(name, str) or dns1123_subdomain(name):
            return None
        labels.update(owner_labels(self.instance))
        return {
            "apiVersion": api_version,
            "kind": kind,
            "metadata": {"name": entry["name"], "namespace": self.namespace, "labels": labels},
            "spec": spec,
        }

    def _check_labels(self, path, labels) -> None:
        if labels is None:
            return
        if not isinstance(labels, dict):
            self._error(path, "must be a dict of label keys to values")
            return
        for key, value in labels.items():
            problem = qualified_name(key)
            if problem:
                self._error(path, f"label key {key!r} {problem}")
            elif key in (MANAGED_BY_KEY, INSTANCE_KEY):
                self._error(path, f"label key {key!r} is set by the role (ownership); leave it out")
            problem = label_value(value)
            if problem:
                self._error(path, f"value of label {key!r}: {value!r} {problem}")

    # ------------------------------------------------------------ field checks (return the object's value)
    def _bool(self, path, value, entry):
        checked, problem = V.boolean(value)
        if problem:
            self._error(path, problem)
        return checked

    def _asn(self, path, value, entry):
        checked, problem = V.asn(value)
        if problem:
            self._error(path, problem)
        return checked

    def _int(self, path, value, low, high, noun):
        checked, problem = V.integer(value, low, high, noun)
        if problem:
            self._error(path, problem)
        return checked

    def _peer_port(self, path, value, entry):
        checked, problem = V.integer(value, 1, V.PEER_PORT_MAX, "BGP port")
        if problem:
            self._error(path, problem + ": MetalLB's BGPPeer takes no port above 16384")
        return checked

    def _agg_v4(self, path, value, entry):
        return self._int(path, value, 1, 32, "IPv4 aggregation length")

    def _agg_v6(self, path, value, entry):
        return self._int(path, value, 1, 128, "IPv6 aggregation length")

    def _local_pref(self, path, value, entry):
        return self._int(path, value, 0, V.ASN_MAX, "local preference")

    def _bfd_interval(self, path, value, entry):
        return self._int(path, value, 10, 60000, "interval in milliseconds")

    def _detect_multiplier(self, path, value, entry):
        return self._int(path, value, 2, 255, "detect multiplier")

    def _minimum_ttl(self, path, value, entry):
        return self._int(path, value, 1, 254, "minimum TTL")

    def _ip(self, path, value, entry):
        checked, problem = V.ip_address(value)
        if problem:
            self._error(path, problem)
        return checked

    def _ipv4(self, path, value, entry):
        checked = self._ip(path, value, entry)
        if checked is not None and ":" in checked:
            self._error(path, f"{value!r} must be an IPv4 address (a BGP router ID)")
            return None
        return checked

    def _duration(self, path, value, entry):
        checked, problem = V.duration(value)
        if problem:
            self._error(path, problem)
        return checked

    def _connect_time(self, path, value, entry):
        checked = self._duration(path, value, entry)
        if checked is None:
            return None
        seconds = V.duration_seconds(checked)
        if seconds != int(seconds) or not 1 <= seconds <= 65535:
            self._error(path, f"{value!r}: MetalLB takes a connect time of whole seconds, 1 to 65535")
            return None
        return checked

    def _dynamic_asn(self, path, value, entry):
        mode = str(value).strip().lower() if isinstance(value, str) else None
        if mode not in ("internal", "external"):
            self._error(path, f"{value!r} must be internal (iBGP, the router's ASN = my_asn) or external (eBGP, any other ASN)")
            return None
        return mode

    def _interface(self, path, value, entry):
        if not isinstance(value, str) or not value.strip() or len(value.strip()) > 15 or any(c.isspace() or c == "/" for c in value.strip()):
            self._error(path, f"{value!r} must be the name of a node interface (1 to 15 characters, no spaces or '/') "
                              "for unnumbered BGP peering")
            return None
        return value.strip()

    def _vrf(self, path, value, entry):
        if not isinstance(value, str) or not value:
            self._error(path, f"{value!r} must be the name of a VRF on the nodes")
            return None
        return value

    def _strings(self, path, value, what):
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            self._error(path, f"must be a list of {what}")
            return None
        return [item.strip() for item in value]

    def _addresses(self, path, value, entry):
        # Only the shape here; each entry's syntax and the overlaps: _check_pool_addresses.
        # Applied exactly as written: what MetalLB would refuse is refused, never rewritten.
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            self._error(path, "must be a non-empty list of address entries (CIDR 192.0.2.0/28 or range 192.0.2.10-192.0.2.20)")
            return None
        return list(value)

    def _interfaces(self, path, value, entry):
        return self._strings(path, value, "interface names")

    def _service_allocation(self, path, value, entry):
        if not isinstance(value, dict):
            self._error(path, "must be a dict with priority, namespaces, namespace_selectors and/or service_selectors")
            return None
        known = {"priority": "priority", "namespaces": "namespaces",
                 "namespace_selectors": "namespaceSelectors", "service_selectors": "serviceSelectors"}
        unknown = sorted(set(value) - set(known))
        if unknown:
            self._error(path, f"unknown key(s) {', '.join(unknown)}; known keys: {', '.join(sorted(known))}")
        out = {}
        if value.get("priority") is not None:
            out["priority"] = self._int(f"{path}.priority", value["priority"], 0, 2147483647, "priority")
        if value.get("namespaces") is not None:
            names = self._strings(f"{path}.namespaces", value["namespaces"], "namespace names")
            for name in names or []:
                problem = dns1123_label(name)
                if problem:
                    self._error(f"{path}.namespaces", f"{name!r} {problem}")
            out["namespaces"] = names
        for key in ("namespace_selectors", "service_selectors"):
            if value.get(key) is not None:
                out[known[key]] = self._selectors(f"{path}.{key}", value[key], entry)
        return out

    def _selectors(self, path, value, entry):
        """A list of LabelSelectors; matchLabels/matchExpressions may be written match_labels/match_expressions."""
        if not isinstance(value, list):
            self._error(path, "must be a list of label selectors (dicts with match_labels and/or match_expressions)")
            return None
        out = []
        for index, selector in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(selector, dict):
                self._error(where, "must be a label selector (a dict with match_labels and/or match_expressions)")
                continue
            selector = dict(selector)
            for snake, camel in (("match_labels", "matchLabels"), ("match_expressions", "matchExpressions")):
                if snake in selector:
                    if camel in selector:
                        self._error(where, f"has both {snake} and {camel}; give one")
                    selector[camel] = selector.pop(snake)
            problem = check_selector(selector)
            if problem:
                self._error(where, problem)
                continue
            labels = selector.get("matchLabels") or {}
            for key, label in labels.items():
                problem = qualified_name(key)
                if problem:
                    self._error(f"{where}.match_labels", f"label key {key!r} {problem}")
                problem = label_value(label)
                if problem:
                    self._error(f"{where}.match_labels", f"value of {key!r}: {label!r} {problem}")
            for expression in selector.get("matchExpressions") or []:
                problem = qualified_name(expression["key"])
                if problem:
                    self._error(f"{where}.match_expressions", f"label key {expression['key']!r} {problem}")
                for label in expression.get("values") or []:
                    problem = label_value(label)
                    if problem:
                        self._error(f"{where}.match_expressions", f"value of {expression['key']!r}: {label!r} {problem}")
            clean = {}
            if labels:
                clean["matchLabels"] = dict(labels)
            if selector.get("matchExpressions"):
                clean["matchExpressions"] = [
                    {k: e[k] for k in ("key", "operator", "values") if e.get(k) is not None} for e in selector["matchExpressions"]
                ]
            out.append(clean)
        return out

    # references: to names defined in the variables, or, when the cluster was read, to objects it holds
    def _resolve(self, path, kind_variable, name, what) -> None:
        if name in self._names.get(kind_variable, set()):
            return
        kind = KINDS[kind_variable][0]
        if self.cluster is None:
            self.result.unresolved.append({"path": path, "kind": kind, "name": name})
            return
        if name not in self.cluster.get(kind, {}):
            self._error(path, f"{what} {name!r} is neither in {self._var(kind_variable)} nor a {kind} in namespace {self.namespace}")

    def _pool_refs(self, path, value, entry):
        names = self._strings(path, value, "IPAddressPool names")
        for name in names or []:
            self._resolve(path, "pools", name, "pool")
        return names

    def _peer_refs(self, path, value, entry):
        names = self._strings(path, value, "BGPPeer names")
        for name in names or []:
            self._resolve(path, "bgp_peers", name, "BGP peer")
        return names

    def _bfd_ref(self, path, value, entry):
        if not isinstance(value, str) or not value:
            self._error(path, f"{value!r} must be the name of a BFD profile")
            return None
        self._resolve(path, "bfd_profiles", value, "BFD profile")
        return value

    def _community_refs(self, path, value, entry):
        items = self._strings(path, value, "communities (A:B, large:A:B:C, or the name of an alias in a Community)")
        for item in items or []:
            if ":" in item:
                dummy, problem = V.community_value(item)
                if problem:
                    self._error(path, problem)
                continue
            if item in self._alias_names:
                continue
            if self.cluster is None:
                self.result.unresolved.append({"path": path, "kind": "Community alias", "name": item})
            elif not any(item in c["aliases"] for c in self.cluster.get("Community", {}).values()):
                self._error(path, f"community alias {item!r} is defined neither in {self._var('communities')} "
                                  f"nor in a Community in namespace {self.namespace}; give A:B, large:A:B:C or a defined alias")
        return items

    def _aliases(self, path, value, entry):
        if not isinstance(value, list) or not value:
            self._error(path, "must be a non-empty list of {name, value} aliases")
            return None
        out, seen = [], set()
        for index, alias in enumerate(value):
            where = f"{path}[{index}]"
            if not isinstance(alias, dict) or set(alias) != {"name", "value"}:
                self._error(where, "must be a dict with exactly name and value")
                continue
            if not isinstance(alias["name"], str) or not alias["name"] or ":" in alias["name"]:
                self._error(f"{where}.name", f"{alias['name']!r} must be a non-empty name without ':'")
            elif alias["name"] in seen:
                self._error(f"{where}.name", f"{alias['name']!r} is given twice; alias names must be unique")
            seen.add(alias["name"])
            dummy, problem = V.community_value(alias["value"])
            if problem:
                self._error(f"{where}.value", problem)
            out.append({"name": alias["name"], "value": alias["value"]})
        return out

    # ------------------------------------------------------------ BGP peers
    def _peer_rules(self, path, entry, spec) -> None:
        my_asn, peer_asn = spec.get("myASN"), spec.get("peerASN")
        # MetalLB's peerFromCR: exactly one of peerASN and dynamicASN, of peerAddress and interface
        for one, other, what in (("peer_asn", "dynamic_asn", "the router's AS number or how to learn it"),
                                 ("peer_address", "interface", "the router's address or the interface of an unnumbered session")):
            given = [key for key in (one, other) if entry.get(key) is not None]
            if not given:
                self._error(f"{path}.{one}", f"is required ({what}): give {one} or {other}")
            elif len(given) == 2:
                self._error(path, f"has both {one} and {other}; MetalLB takes one of them")
        if self.cluster is not None and isinstance(entry.get("name"), str):
            found = self.cluster.get("BGPPeer", {}).get(entry["name"])
            wanted = bool(spec.get("enableGracefulRestart", False))
            if found is not None and self._owned(found["labels"]) and found.get("graceful_restart", False) != wanted:
                self._error(f"{path}.enable_graceful_restart",
                            f"cannot change on the existing BGPPeer {entry.get('name')!r} (MetalLB's CRD makes it immutable, "
                            "it needs a new BGP session): give the peer a new name (the old one is pruned) or delete it first")
        if entry.get("ebgp_multihop") and my_asn is not None and my_asn == peer_asn:
            # as the workload_policy rule bgp_peer_needs_multihop: iBGP is not limited to one hop, and MetalLB refuses it
            self._error(f"{path}.ebgp_multihop", f"is set on an iBGP peer (my_asn = peer_asn = {my_asn}); "
                                                 "eBGP multi-hop applies to eBGP only: remove it")
        hold, keepalive = spec.get("holdTime"), spec.get("keepaliveTime")
        if hold is not None or keepalive is not None:
            hold_s = V.duration_seconds(hold) if hold is not None else 3 * V.duration_seconds(keepalive)
            keep_s = V.duration_seconds(keepalive) if keepalive is not None else hold_s / 3
            if 0 < int(hold_s) < 3:
                self._error(f"{path}.hold_time", f"{hold!r} is too short: MetalLB wants 0 or at least 3s")
            if keep_s > hold_s:
                self._error(f"{path}.keepalive_time", f"{keepalive!r} is longer than hold_time {hold!r}; it must not be")
        source, peer = spec.get("sourceAddress"), spec.get("peerAddress")
        if source and peer and ipaddress.ip_address(source).version != ipaddress.ip_address(peer).version:
            self._error(f"{path}.source_address", f"{source} and peer_address {peer} are of different IP families")
        self._peer_password(path, entry, spec)

    def _peer_password(self, path, entry, spec) -> None:
        password, secret = entry.get("password"), entry.get("password_secret")
        if password is not None and secret is not None:
            # never the password itself in a message
            self._error(path, "has both password and password_secret; give one (password puts it in a Secret the role manages)")
            return
        if secret is not None:
            problem = dns1123_subdomain(secret) if isinstance(secret, str) else "must be the name of a Secret"
            if problem:
                self._error(f"{path}.password_secret", f"{secret!r} {problem}")
                return
            spec["passwordSecret"] = {"name": secret, "namespace": self.namespace}
            if self.cluster is not None:
                found = self.cluster.get("Secret", {}).get(secret)
                if found is None:
                    self._error(f"{path}.password_secret", f"there is no Secret {secret!r} in namespace {self.namespace}; "
                                                           "create it (type kubernetes.io/basic-auth, key password) or use password")
                elif found["type"] != "kubernetes.io/basic-auth":
                    self._error(f"{path}.password_secret", f"Secret {secret!r} is of type {found['type']!r}; MetalLB needs kubernetes.io/basic-auth")
            return
        if password is None:
            return
        if not isinstance(password, str) or not password:
            self._error(f"{path}.password", "must be a non-empty string")
            return
        if len(password) > 80:
            self._error(f"{path}.password", "is longer than 80 characters, the most TCP MD5 signatures take")
            return
        name = f"{entry.get('name')}{SECRET_SUFFIX}"
        spec["passwordSecret"] = {"name": name, "namespace": self.namespace}
        self.result.secrets.append({
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "kubernetes.io/basic-auth",
            "metadata": {"name": name, "namespace": self.namespace, "labels": owner_labels(self.instance)},
            "data": {"password": base64.b64encode(password.encode("utf-8")).decode("ascii")},
        })

    # ------------------------------------------------------------ whole configuration
    @staticmethod
    def _families(addresses) -> set:
        families = set()
        for item in addresses:
            if isinstance(item, str):
                families.add(6 if ":" in item else 4)
        return families

    def _check_native_mode(self, items) -> None:
        """MetalLB's native BGP speaker refuses FRR-only settings (internal/config/validation.go, DiscardFRROnly)."""
        if self.bgp_mode != "native":
            return
        mode = self._var("bgp_mode")
        for path, entry in items["bgp_peers"]:
            for key in ("keepalive_time", "bfd_profile", "vrf", "connect_time", "dynamic_asn", "local_asn", "interface",
                        "enable_graceful_restart", "dual_stack_address_family"):
                value = entry.get(key)
                if key in ("enable_graceful_restart", "dual_stack_address_family"):
                    value = V.boolean(value)[0] or None  # false is what native mode runs anyway
                if value is not None:
                    self._error(f"{path}.{key}", f"is not supported by MetalLB's native BGP mode ({mode} is native): "
                                                 f"remove it, or run MetalLB in an FRR-based mode ({mode}: frr-k8s, "
                                                 "in site.yml metallb_bgp_mode: frr-k8s)")
        for path, dummy in items["bfd_profiles"]:
            self._error(path, f"BFD profiles need MetalLB with FRR ({mode} is native): remove them, or set {mode}: frr")
        for path, entry in items["communities"]:
            for index, alias in enumerate(entry.get("communities") or []):
                if isinstance(alias, dict) and str(alias.get("value", "")).startswith("large:"):
                    self._error(f"{path}.communities[{index}].value", f"large communities need MetalLB with FRR ({mode} is native)")
        bgp_pools = set()
        for path, entry in items["bgp_advertisements"]:
            for community in entry.get("communities") or []:
                if isinstance(community, str) and community.startswith("large:"):
                    self._error(f"{path}.communities", f"{community!r}: large communities need MetalLB with FRR ({mode} is native)")
            if entry.get("ip_address_pools") is None and entry.get("ip_address_pool_selectors") is None:
                bgp_pools |= set(self._pool_families)
            else:
                bgp_pools |= set(entry.get("ip_address_pools") or [])
        for path, entry in items["pools"]:
            if entry.get("name") in bgp_pools and 6 in self._pool_families.get(entry["name"], set()):
                self._error(f"{path}.addresses", f"has IPv6 addresses and is advertised over BGP; MetalLB's native BGP mode is IPv4 only "
                                                 f"({mode} is native): use an IPv4 pool or MetalLB with FRR")

    @staticmethod
    def _peer_families(entry) -> set:
        """The address families a BGPPeer's sessions carry: its peer_address's, both with dual_stack_address_family
        or an unnumbered session (interface); None when the address is not known here."""
        if entry.get("interface") is not None:
            return {4, 6}
        try:
            own = ipaddress.ip_address(str(entry.get("peer_address"))).version
        except ValueError:
            return None
        return {4, 6} if V.boolean(entry.get("dual_stack_address_family"))[0] else {own}

    def _check_peer_families(self, items) -> None:
        """Per family as strict as for IPv4: a BGPAdvertisement's pool of a family none of its peers' sessions carries
        hands out addresses that are announced to nobody (MetalLB advertises a prefix over the sessions of its family)."""
        peers = {entry.get("name"): self._peer_families(entry) for dummy, entry in items["bgp_peers"]}
        if not peers:
            return  # no peer given here: the cluster's peers are not known (issue's preflight says so)
        names = {4: "IPv4", 6: "IPv6"}
        for path, entry in items["bgp_advertisements"]:
            chosen = entry.get("peers") or list(peers)
            if not isinstance(chosen, list) or any(name not in peers or peers[name] is None for name in chosen):
                continue  # a peer of the cluster's, or one already refused: its family is not known here
            carried = set().union(*(peers[name] for name in chosen))
            pools = entry.get("ip_address_pools")
            if pools is None and entry.get("ip_address_pool_selectors") is None:
                pools = list(self._pool_families)
            for pool in pools if isinstance(pools, list) else []:
                for family in sorted(self._pool_families.get(pool, set()) - carried):
                    if family == 6 and self.bgp_mode == "native":
                        continue  # native mode refuses IPv6 over BGP altogether (_check_native_mode)
                    other = names[10 - family]
                    self._error(f"{path}.peers" if entry.get("peers") else path,
                                f"advertises pool {pool!r}, which has {names[family]} addresses, but only over {other} "
                                f"sessions (BGPPeer {', '.join(repr(n) for n in chosen)}): MetalLB would assign those "
                                f"addresses and announce them to nobody; add a BGPPeer with the router's {names[family]} "
                                f"address (one per family), or set dual_stack_address_family on the peer (FRR-based modes)")

    def _check_pool_addresses(self, pools) -> None:
        """pool_validate's checks on the pools whose addresses have the right shape, and the cluster's other pools."""
        if not HAS_NETADDR:
            self._error(self._var("pools"), "checking the addresses needs the Python library netaddr on the controller: install it")
            return
        checked = [(path, entry) for path, entry in pools
                   if isinstance(entry.get("addresses"), list) and entry["addresses"] and all(isinstance(a, str) for a in entry["addresses"])]
        paths = {}
        for path, entry in checked:
            paths.setdefault(entry.get("name"), f"{path}.addresses")
        outcome = PoolValidator(
            pools=[{"name": entry.get("name"), "addresses": entry["addresses"]} for dummy, entry in checked],
            cluster_pools=self._cluster_pools, instance=self.instance, **self._pool_checks,
        ).run()
        for error in outcome.errors:
            if error["code"] in ("missing_name", "invalid_name", "duplicate_name", "empty_pool"):
                continue  # reported by _items with the variable path
            if error.get("option"):
                where = self._var(f"pool_{error['option']}")
            else:
                where = paths.get(error["pool"], self._var("pools"))
            self._error(where, error["message"])
        self.result.warnings.extend(outcome.warnings)

    def _check_takeover(self) -> None:
        """An object of the same name that this role (this instance) does not own is left alone: an error, not an adoption."""
        if self.cluster is None:
            return
        for obj in self.result.objects + self.result.secrets:
            kind, name = obj["kind"], obj["metadata"]["name"]
            found = self.cluster.get(kind, {}).get(name)
            if found is None or self._owned(found["labels"]):
                continue
            other = found["labels"].get(INSTANCE_KEY)
            whose = f"instance {other!r} of this role" if found["labels"].get(MANAGED_BY_KEY) == MANAGED_BY and other else "someone else"
            variable = "bgp_peers" if kind == "Secret" else next(v for v, (k, dummy) in KINDS.items() if k == kind)
            self._error(self._var(variable), f"{kind} {name!r} already exists in namespace {self.namespace} and belongs to {whose}; "
                                             f"it is left alone: choose another name, or delete or label it "
                                             f"({MANAGED_BY_KEY}={MANAGED_BY}, {INSTANCE_KEY}={self.instance}) to hand it over")

    def _compute_prune(self) -> None:
        if self.cluster is None:
            return
        desired = {(obj["kind"], obj["metadata"]["name"]) for obj in self.result.objects + self.result.secrets}
        for kind in [k for k, dummy in KINDS.values()][::-1] + ["Secret"]:
            for name, found in sorted(self.cluster.get(kind, {}).items()):
                if self._owned(found["labels"]) and (kind, name) not in desired:
                    self.result.prune.append({"apiVersion": API_VERSIONS[kind], "kind": kind,
                                              "metadata": {"name": name, "namespace": self.namespace}})
