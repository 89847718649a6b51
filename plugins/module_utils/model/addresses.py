# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pool entries and addresses with the standard library only.

The full pool checks (overlaps, node addresses, L2 segments) are
pool_validate's; here a pool only needs to answer "does it hold this
address", so the policy check runs without netaddr.
"""

from __future__ import annotations

import dataclasses
import ipaddress


@dataclasses.dataclass(frozen=True)
class Run:
    """An inclusive run of addresses of one family."""

    first: int
    last: int
    version: int

    def __contains__(self, address) -> bool:
        return address.version == self.version and self.first <= int(address) <= self.last


def parse_address(text):
    """An IPv4 or IPv6 address, or None; no prefixes, zones or surrounding spaces."""
    if not isinstance(text, str) or text != text.strip() or "/" in text or "%" in text:
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def parse_pool_entry(text) -> Run | None:
    """A MetalLB pool entry as MetalLB v0.16 reads it (a range ``first-last`` or a CIDR), or None.

    As MetalLB: an entry holding '-' is a range (spaces around each end allowed);
    any other is a CIDR read exactly as written, host bits masked; a bare address
    is refused ("invalid CIDR"), as pool_validate refuses it.
    """
    if not isinstance(text, str):
        return None
    if "-" in text:
        first_text, dummy, last_text = text.partition("-")
        first, last = parse_address(first_text.strip(" \t\n\r\v\f")), parse_address(last_text.strip(" \t\n\r\v\f"))
        if first is None or last is None or first.version != last.version or int(first) > int(last):
            return None
        return Run(int(first), int(last), first.version)
    if "/" not in text or text != text.strip() or "%" in text:
        return None
    try:
        network = ipaddress.ip_network(text, strict=False)
    except ValueError:
        return None
    return Run(int(network.network_address), int(network.broadcast_address), network.version)


def parse_interface(text):
    """A node address: ``198.51.100.11/24`` (address and its subnet) or a bare address (subnet unknown).

    Returns ``(address, network or None)`` or None when unparsable.
    """
    if not isinstance(text, str):
        return None
    text = text.strip()
    if "/" in text:
        try:
            interface = ipaddress.ip_interface(text)
        except ValueError:
            return None
        return interface.ip, interface.network
    address = parse_address(text)
    return None if address is None else (address, None)


def buggy_ipv4(address) -> bool:
    """MetalLB's avoidBuggyIPs skips IPv4 addresses ending in .0 and .255."""
    return address.version == 4 and int(address) & 0xFF in (0, 255)
