# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Validation of MetalLB address pools: the service behind pool_validate.

Takes plain data (the module's options) and returns plain data, so the
module, the action plugin and the unit tests share one code path. Every
problem is collected; nothing stops at the first one.
"""

from __future__ import annotations

import dataclasses
import gc
import re
import typing as t

from ansible_collections.baremetal.metallb.plugins.module_utils.metallb_config.ownership import INSTANCE_KEY, MANAGED_BY, MANAGED_BY_KEY, owned

from .spans import BITS, EntryError, Span, format_address, format_range, merge_spans, parse_address, parse_entry, parse_pool_entry, span_to_cidrs
from .sweep import cross_overlaps, self_overlaps

# metadata.name of an IPAddressPool: a DNS-1123 subdomain.
_K8S_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")


@dataclasses.dataclass
class ValidationResult:
    errors: list[dict] = dataclasses.field(default_factory=list)
    warnings: list[str] = dataclasses.field(default_factory=list)
    pools: list[dict] = dataclasses.field(default_factory=list)
    total_ipv4: int = 0
    total_ipv6: int = 0
    foreign_pools: list[str] | None = None  # None: the cluster's pools were not given

    @property
    def failed(self) -> bool:
        return bool(self.errors)

    def summary(self) -> str:
        if not self.errors:
            return f"{len(self.pools)} pool(s) valid: {self.total_ipv4} IPv4 and {self.total_ipv6} IPv6 addresses"
        lines = [f"pool_validate found {len(self.errors)} problem(s); nothing was applied:"]
        lines += [f"- [{e['code']}] {e['message']}" for e in self.errors]
        return "\n".join(lines)

    def as_result(self) -> dict:
        """The task result shared by the module and the action plugin (warnings apart)."""
        # IPv6 counts exceed 2**64, more than JSON consumers such as Jinja or
        # JavaScript hold exactly, so they travel as decimal strings.
        return {
            "changed": False,
            "msg": self.summary(),
            "errors": self.errors,
            "pools": self.pools,
            "total_ipv4": self.total_ipv4,
            "total_ipv6": str(self.total_ipv6),
            "foreign_pools": self.foreign_pools,
        }


@dataclasses.dataclass
class _Pool:
    index: int
    label: str  # how messages name it: 'name' or '#3' when it has none
    name: str | None
    protocol: str
    avoid_buggy_ips: bool
    auto_assign: bool
    spans: list[Span] = dataclasses.field(default_factory=list)


class PoolValidator:
    """Checks pools against each other, node addresses, L2 segments, reserved ranges and the cluster's other pools."""

    def __init__(
        self,
        pools: list[dict],
        node_addresses: list[str] | None = None,
        l2_networks: list[str] | None = None,
        reserved: list[dict] | None = None,
        cluster_pools: list[dict] | None = None,
        instance: str = "default",
    ):
        self._raw_pools = pools or []
        self._raw_nodes = node_addresses or []
        self._raw_l2 = l2_networks  # None means: skip the L2 checks
        self._raw_reserved = reserved or []
        self._raw_cluster = cluster_pools  # None means: the cluster was not read
        self._instance = instance
        self.result = ValidationResult()

    # ------------------------------------------------------------ entry point
    def run(self) -> ValidationResult:
        # Tens of thousands of small acyclic objects make the cyclic collector
        # rescan the growing heap again and again (time grows faster than the
        # input); nothing here forms cycles, so pause it for the run.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return self._run()
        finally:
            if was_enabled:
                gc.enable()

    def _run(self) -> ValidationResult:
        pools = self._parse_pools()
        nodes = self._parse_option_entries("node_addresses", [(text, text) for text in self._raw_nodes])
        reserved = self._parse_option_entries(
            "reserved", [(r.get("cidr"), r.get("name") or r.get("cidr")) for r in self._raw_reserved]
        )
        networks = self._parse_l2_networks()
        foreign = self._parse_cluster_pools()

        pool_items = [(span, pool) for pool in pools for span in pool.spans]
        self._check_pool_overlaps(pool_items)
        self._check_cluster_pools(pool_items, foreign)
        self._check_nodes(pool_items, nodes)
        self._check_reserved(pool_items, reserved)
        if networks is not None:
            self._check_l2(pools, networks)
        self._warn(pools)
        self._normalize(pools)
        return self.result

    # ------------------------------------------------------------ parsing
    def _error(self, code: str, message: str, pool: str | None = None, entry: str | None = None, **extra: t.Any) -> None:
        self.result.errors.append(dict(pool=pool, entry=entry, code=code, message=message, **extra))

    def _parse_pools(self) -> list[_Pool]:
        pools: list[_Pool] = []
        seen: dict[str, int] = {}
        for index, raw in enumerate(self._raw_pools, start=1):
            name = raw.get("name")
            name = name.strip() if isinstance(name, str) else name
            label = f"'{name}'" if name else f"#{index}"
            pool = _Pool(
                index=index,
                label=label,
                name=name or None,
                protocol=raw.get("protocol") or "layer2",
                avoid_buggy_ips=bool(raw.get("avoid_buggy_ips")),
                auto_assign=raw.get("auto_assign") is not False,
            )
            if not name:
                self._error("missing_name", f"pool #{index} has no name: give every pool a unique name (it becomes the IPAddressPool's metadata.name)")
            elif not _K8S_NAME.match(name) or len(name) > 253:
                self._error(
                    "invalid_name",
                    f"pool {label}: the name must be a Kubernetes object name (lower-case letters, digits, '-' and '.', "
                    "starting and ending with a letter or digit)",
                    pool=name,
                )
            elif name in seen:
                self._error("duplicate_name", f"pool {label} is defined twice (pools #{seen[name]} and #{index}); names must be unique", pool=name)
            else:
                seen[name] = index

            addresses = raw.get("addresses") or []
            if not addresses:
                self._error("empty_pool", f"pool {label} has no addresses: list at least one CIDR, range or address", pool=pool.name)
            for text in addresses:
                try:
                    pool.spans.append(parse_pool_entry(text))
                except EntryError as exc:
                    self._error(exc.code, f"pool {label} entry '{text}': {exc.message}", pool=pool.name, entry=text)
            pools.append(pool)
        return pools

    def _parse_option_entries(self, option: str, entries: list[tuple[t.Any, t.Any]]) -> list[tuple[Span, t.Any]]:
        items = []
        for text, owner in entries:
            try:
                items.append((parse_entry(text), owner))
            except EntryError as exc:
                self._error(exc.code, f"{option} entry '{text}': {exc.message}", entry=text, option=option)
        return items

    def _parse_cluster_pools(self) -> list[tuple[Span, tuple[str, bool]]]:
        """The spans of the cluster's IPAddressPools that stay while this run applies: (span, (name, owned)).

        A pool labelled as this collection's metallb_config instance and named as
        one of ``pools`` is updated in place: skipped. Every other pool stays during
        the apply: one by hand, a Helm chart, another team or another instance
        (foreign), and one of this instance no longer wanted (removed only after the
        apply, when pruning). MetalLB's webhook refuses a pool overlapping any of them.
        """
        if self._raw_cluster is None:
            return []
        declared = {raw.get("name") for raw in self._raw_pools if isinstance(raw.get("name"), str)}
        items = []
        self.result.foreign_pools = []
        for obj in self._raw_cluster:
            meta = (obj or {}).get("metadata") or {}
            name = meta.get("name")
            ours = owned(meta.get("labels"), self._instance)
            if not name or ours and name in declared:
                continue
            if not ours:
                self.result.foreign_pools.append(name)
            for text in ((obj.get("spec") or {}).get("addresses") or []):
                try:
                    # MetalLB accepted it: read it as MetalLB does (host bits masked).
                    items.append((parse_pool_entry(text, host_bits_ok=True), (name, ours)))
                except EntryError as exc:
                    self.result.warnings.append(
                        f"IPAddressPool '{name}' in the cluster: entry '{text}' was not understood ({exc.message}); "
                        "pools were not checked against it"
                    )
        return items

    def _parse_l2_networks(self) -> list[tuple[Span, int]] | None:
        if self._raw_l2 is None:
            return None
        networks = []
        for text in self._raw_l2:
            if not isinstance(text, str) or "/" not in text:
                self._error(
                    "invalid_syntax", f"l2_networks entry '{text}': write the segment as a CIDR, e.g. 198.51.100.0/24", entry=text, option="l2_networks"
                )
                continue
            address_text, dummy, prefix = text.strip().partition("/")
            try:
                address = parse_address(address_text)
            except EntryError as exc:
                self._error(exc.code, f"l2_networks entry '{text}': {exc.message}", entry=text, option="l2_networks")
                continue
            bits = BITS[address.version]
            if not prefix.isdigit() or int(prefix) > bits:
                self._error("invalid_syntax", f"l2_networks entry '{text}': the prefix length must be 0-{bits}", entry=text, option="l2_networks")
                continue
            # An interface address with its prefix (198.51.100.11/24) names its
            # segment well enough: l2_networks, unlike pools, may carry host bits.
            length = int(prefix)
            host_mask = (1 << (bits - length)) - 1
            first = int(address) & ~host_mask
            networks.append((Span(first, first | host_mask, address.version, f"{format_address(first, address.version)}/{length}"), length))
        # With a bad segment, every layer2 entry would look "outside": say only what is wrong.
        return networks if len(networks) == len(self._raw_l2) else None

    # ------------------------------------------------------------ checks
    def _check_pool_overlaps(self, pool_items: list[tuple[Span, _Pool]]) -> None:
        for (span_a, pool_a), (span_b, pool_b), first, last in self_overlaps(pool_items):
            run = format_range(first, last, span_a.version)
            count = last - first + 1
            if pool_a is pool_b:
                message = (
                    f"pool {pool_a.label} entries '{span_a.text}' and '{span_b.text}' overlap on {run} ({count} address(es)); "
                    "remove or shrink one of them"
                )
            else:
                message = (
                    f"pools {pool_a.label} (entry '{span_a.text}') and {pool_b.label} (entry '{span_b.text}') overlap on {run} "
                    f"({count} address(es)); an address can belong to one pool only: shrink one of the entries"
                )
            self._error(
                "overlap", message, pool=pool_b.name, entry=span_b.text,
                other_pool=pool_a.name, other_entry=span_a.text, overlap=run,
            )

    def _check_cluster_pools(self, pool_items: list[tuple[Span, _Pool]], staying: list[tuple[Span, tuple[str, bool]]]) -> None:
        for (span, pool), (other, (name, ours)), first, last in cross_overlaps(pool_items, staying):
            run = format_range(first, last, span.version)
            where = f"pool {pool.label} entry '{span.text}' overlaps IPAddressPool '{name}' (entry '{other.text}') on {run} ({last - first + 1} address(es))"
            if ours:
                message = (
                    f"{where}; that pool is this instance's ('{self._instance}') but no longer in the pools, and it is removed only "
                    f"after the apply, while MetalLB's webhook refuses overlapping pools: rename pool {pool.label} back to '{name}', "
                    f"or first run without {run} (which removes '{name}' when pruning) and then add it"
                )
            else:
                message = (
                    f"{where}; that pool is already in the cluster and not managed by this collection (instance '{self._instance}'), "
                    f"and MetalLB's webhook refuses overlapping pools: leave {run} out of pool {pool.label}, or delete '{name}', "
                    f"or hand it over by labelling it {MANAGED_BY_KEY}={MANAGED_BY} and {INSTANCE_KEY}={self._instance}"
                )
            self._error(
                "overlaps_cluster_pool", message,
                pool=pool.name, entry=span.text, other_pool=name, other_entry=other.text, overlap=run, other_pool_owned=ours,
            )

    def _check_nodes(self, pool_items: list[tuple[Span, _Pool]], nodes: list[tuple[Span, t.Any]]) -> None:
        for (span, pool), (node, _owner), first, last in cross_overlaps(pool_items, nodes):
            self._error(
                "overlaps_node",
                f"pool {pool.label} entry '{span.text}' contains node address {format_range(first, last, span.version)}; "
                "MetalLB would give a node's own address to a Service: leave node addresses out of the pool",
                pool=pool.name, entry=span.text, node_address=node.text,
            )

    def _check_reserved(self, pool_items: list[tuple[Span, _Pool]], reserved: list[tuple[Span, t.Any]]) -> None:
        for (span, pool), (res, name), first, last in cross_overlaps(pool_items, reserved):
            self._error(
                "overlaps_reserved",
                f"pool {pool.label} entry '{span.text}' overlaps reserved range '{name}' ({res.text}) on "
                f"{format_range(first, last, span.version)}: keep pools clear of it",
                pool=pool.name, entry=span.text, reserved=name,
            )

    def _check_l2(self, pools: list[_Pool], networks: list[tuple[Span, int]]) -> None:
        listed = ", ".join(net.text for net, dummy in networks) or "none"
        for pool in pools:
            if pool.protocol != "layer2":
                continue
            for span in pool.spans:
                home = next(
                    ((net, length) for net, length in networks if net.version == span.version and net.first <= span.first and span.last <= net.last),
                    None,
                )
                if home is None:
                    self._error(
                        "outside_l2_network",
                        f"layer2 pool {pool.label} entry '{span.text}' is not inside one of the l2_networks ({listed}); "
                        "a layer2 address is only reachable on a segment the nodes are on: use addresses of that segment, or protocol bgp",
                        pool=pool.name, entry=span.text,
                    )
                    continue
                self._check_network_edges(pool, span, *home)

    def _check_network_edges(self, pool: _Pool, span: Span, net: Span, length: int) -> None:
        bits = BITS[span.version]
        if bits - length < 2:  # /31, /32, /127, /128: no network or broadcast address (RFC 3021)
            return
        edges = [("network", net.first)]
        if span.version == 4:
            edges.append(("broadcast", net.last))
        for what, address in edges:
            if span.first <= address <= span.last:
                self._error(
                    "includes_network_or_broadcast",
                    f"layer2 pool {pool.label} entry '{span.text}' includes the {what} address {format_address(address, span.version)} "
                    f"of {net.text}; hosts on the segment cannot reach a VIP there: leave it out of the range",
                    pool=pool.name, entry=span.text,
                )

    def _warn(self, pools: list[_Pool]) -> None:
        for pool in pools:
            if pool.avoid_buggy_ips and pool.spans and all(span.version == 6 for span in pool.spans):
                self.result.warnings.append(
                    f"pool {pool.label}: avoid_buggy_ips has no effect, it only skips IPv4 addresses ending in .0 and .255 and this pool is IPv6 only"
                )

    # ------------------------------------------------------------ output
    def _normalize(self, pools: list[_Pool]) -> None:
        for pool in pools:
            runs = merge_spans(pool.spans)
            counts = {4: 0, 6: 0}
            cidrs, ranges = [], []
            for version, first, last in runs:
                counts[version] += last - first + 1
                cidrs.extend(span_to_cidrs(first, last, version))
                ranges.append(f"{format_address(first, version)}-{format_address(last, version)}")
            self.result.pools.append(
                {
                    "name": pool.name,
                    "protocol": pool.protocol,
                    "auto_assign": pool.auto_assign,
                    "avoid_buggy_ips": pool.avoid_buggy_ips,
                    "addresses": [span.text.strip() for span in pool.spans],
                    "cidrs": cidrs,
                    "ranges": ranges,
                    "ipv4_count": counts[4],
                    "ipv6_count": str(counts[6]),
                }
            )
            self.result.total_ipv4 += counts[4]
            self.result.total_ipv6 += counts[6]
