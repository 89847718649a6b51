# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Address entries as integer spans.

An IPAddressPool entry is what MetalLB v0.16.1's parser (``ParseCIDR`` in
internal/config/config.go) takes, or less: an entry holding '-' is a range
``first-last`` (split at the first '-', spaces around each address trimmed,
first <= last); any other entry is a CIDR read exactly as written (Go's
``net.ParseCIDR``: no spaces, a prefix length required, so a bare address is
"invalid CIDR"). ``parse_pool_entry`` is that grammar, stricter where MetalLB
is silent or surprising (host bits, ranges of two families, IPv4-mapped
IPv6, zones, only ASCII spaces trimmed). The other options (node addresses,
reserved ranges) also take a single address: ``parse_entry``.
Everything downstream works on inclusive integer spans, which makes overlap
search a matter of sorting.
"""

from __future__ import annotations

import dataclasses
import re

try:
    import netaddr
    from netaddr.strategy import ipv4 as _ipv4, ipv6 as _ipv6
except ImportError:
    HAS_NETADDR = False
else:
    HAS_NETADDR = True

BITS = {4: 32, 6: 128}
_PREFIX = re.compile(r"^[0-9]{1,3}$")
# Trimmed around each address of a range. Go's strings.TrimSpace trims these and
# more (Unicode spaces); Python's str.strip() trims some Go keeps (\x1c-\x1f).
_ASCII_SPACE = " \t\n\r\v\f"
# IPv4-mapped IPv6 (::ffff:a.b.c.d): Go, and so MetalLB, treats these as IPv4 while
# Python/netaddr treat them as IPv6, so the same text would mean two things.
_IPV4_MAPPED = (0xFFFF << 32, (0xFFFF << 32) | 0xFFFFFFFF)


class EntryError(ValueError):
    """An entry that cannot be used, with a machine code and a sentence."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclasses.dataclass(frozen=True)
class Span:
    """An inclusive run of addresses of one family, and where it came from."""

    first: int
    last: int
    version: int
    text: str

    @property
    def size(self) -> int:
        return self.last - self.first + 1

    def describe(self) -> str:
        return format_range(self.first, self.last, self.version)


def format_address(value: int, version: int) -> str:
    # netaddr's strategy functions skip building an IPAddress: this runs for
    # every CIDR and range of every pool.
    return _ipv4.int_to_str(value) if version == 4 else _ipv6.int_to_str(value)


def format_range(first: int, last: int, version: int) -> str:
    if first == last:
        return format_address(first, version)
    return f"{format_address(first, version)}-{format_address(last, version)}"


def parse_address(text: str, invalid: str = "not an IP address") -> netaddr.IPAddress:
    """Parse one address strictly (no zone ids, no short IPv4 forms, no mapped IPv4).

    ``invalid`` is the sentence for text that is no address at all, so that
    callers can say what shape they expected.
    """
    if not text or text != text.strip() or "%" in text or "/" in text:
        raise EntryError("invalid_syntax", invalid)
    try:
        address = netaddr.IPAddress(text, flags=netaddr.INET_PTON)
    except (netaddr.AddrFormatError, ValueError, TypeError):
        raise EntryError("invalid_syntax", invalid) from None
    if address.version == 6 and _IPV4_MAPPED[0] <= int(address) <= _IPV4_MAPPED[1]:
        ipv4 = netaddr.IPAddress(int(address) & 0xFFFFFFFF, 4)
        raise EntryError(
            "ipv4_mapped",
            f"{text} is an IPv4-mapped IPv6 address, which MetalLB reads as the IPv4 address {ipv4}; write {ipv4}",
        )
    return address


def parse_pool_entry(text: str, host_bits_ok: bool = False) -> Span:
    """Parse an IPAddressPool entry as MetalLB does, refusing at least what it refuses.

    ``host_bits_ok`` reads a CIDR with host bits as MetalLB does (masked): for
    pools MetalLB already holds, not for pools a user declares.
    """
    if not isinstance(text, str):
        raise EntryError("invalid_syntax", "not a string: write a CIDR (192.0.2.0/28) or a range (192.0.2.10-192.0.2.20)")
    if not text.strip():
        raise EntryError("invalid_syntax", "the entry is empty: write a CIDR (192.0.2.0/28) or a range (192.0.2.10-192.0.2.20)")
    if "-" in text:
        return _parse_range(text)
    if text != text.strip(_ASCII_SPACE) or any(char.isspace() for char in text):
        raise EntryError(
            "invalid_syntax",
            f"MetalLB reads a CIDR exactly as written and refuses spaces in it (invalid CIDR): write '{''.join(text.split())}'",
        )
    if "/" not in text:
        address = parse_address(text, "not a CIDR (192.0.2.0/28) or a range (192.0.2.10-192.0.2.20)")
        raise EntryError(
            "missing_prefix",
            f"MetalLB refuses an address without a prefix length (invalid CIDR): write {address}/{BITS[address.version]} for this one address",
        )
    return _parse_cidr(text, host_bits_ok)


def parse_entry(text: str) -> Span:
    """Parse a node address or reserved range: a pool entry, a single address, spaces around it ignored."""
    if not isinstance(text, str):
        raise EntryError("invalid_syntax", "not a string: write a CIDR, a range or an address")
    entry = text.strip()
    if not entry:
        raise EntryError("invalid_syntax", "the entry is empty")
    if "/" in entry or "-" in entry:
        return parse_pool_entry(entry)
    address = parse_address(entry, "not a CIDR (192.0.2.0/28), a range (192.0.2.10-192.0.2.20) or an address (192.0.2.7)")
    return Span(int(address), int(address), address.version, entry)


def _parse_cidr(entry: str, host_bits_ok: bool = False) -> Span:
    address_text, dummy, prefix_text = entry.partition("/")
    address = parse_address(address_text, f"not a valid CIDR: '{address_text}' is not an IP address")
    bits = BITS[address.version]
    if not _PREFIX.match(prefix_text) or int(prefix_text) > bits:
        raise EntryError("invalid_syntax", f"not a valid CIDR: the prefix length must be 0-{bits}")
    prefix = int(prefix_text)
    host_mask = (1 << (bits - prefix)) - 1
    network = int(address) & ~host_mask
    if int(address) != network and not host_bits_ok:
        meant = f"{format_address(network, address.version)}/{prefix}"
        single = f"{address}/{bits}"
        raise EntryError(
            "host_bits_set",
            f"host bits are set, so MetalLB would silently use {meant}: write {meant} for the whole network, or {single} for the single address",
        )
    return Span(network, network | host_mask, address.version, entry)


def _parse_range(entry: str) -> Span:
    # MetalLB splits at the first '-' only: '192.0.2.1-192.0.2.5-192.0.2.9' has the end '192.0.2.5-192.0.2.9'.
    first_text, dummy, last_text = entry.partition("-")
    invalid = "not a range of two IP addresses: write it as first-last, e.g. 192.0.2.10-192.0.2.20"
    first = parse_address(first_text.strip(_ASCII_SPACE), invalid)
    last = parse_address(last_text.strip(_ASCII_SPACE), invalid)
    if first.version != last.version:
        raise EntryError("mixed_family", f"the range starts with IPv{first.version} and ends with IPv{last.version}; use one family per range")
    if int(first) > int(last):
        raise EntryError("reversed_range", f"the range ends before it starts; write {last}-{first}")
    return Span(int(first), int(last), first.version, entry)


def span_to_cidrs(first: int, last: int, version: int) -> list[str]:
    """The minimal list of CIDRs that covers exactly first..last."""
    bits = BITS[version]
    cidrs = []
    while first <= last:
        # The largest block aligned at `first` that does not run past `last`.
        block = (first & -first).bit_length() - 1 if first else bits
        while first + (1 << block) - 1 > last:
            block -= 1
        cidrs.append(f"{format_address(first, version)}/{bits - block}")
        first += 1 << block
    return cidrs


def merge_spans(spans: list[Span]) -> list[tuple[int, int, int]]:
    """Merge overlapping and adjacent spans: sorted (version, first, last) runs."""
    merged: list[tuple[int, int, int]] = []
    for span in sorted(spans, key=lambda s: (s.version, s.first)):
        if merged and merged[-1][0] == span.version and span.first <= merged[-1][2] + 1:
            merged[-1] = (span.version, merged[-1][1], max(merged[-1][2], span.last))
        else:
            merged.append((span.version, span.first, span.last))
    return merged
