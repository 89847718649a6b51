# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Announce that ADDRESS now lives on IFACE: what MetalLB's L2 speaker does on failover.

IPv4: one gratuitous ARP (RFC 5227 announcement). IPv6: one unsolicited neighbour
advertisement with the Override flag to all nodes (RFC 4861 7.2.6).

Run inside a host's network namespace: ``nsenter --net=... python3 garp.py eth0 198.51.100.200``.
Standalone script. iputils ``arping -U -c 1`` would do the IPv4 part but then waits a
whole second for replies that never come; this returns at once.
"""
from __future__ import annotations

import fcntl
import ipaddress
import socket
import struct
import sys

SIOCGIFHWADDR = 0x8927


def announcement(mac: bytes, ip: bytes) -> bytes:
    broadcast = b"\xff" * 6
    ether = broadcast + mac + struct.pack("!H", 0x0806)
    # ARP request, sender and target protocol address both the announced address
    arp = struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + mac + ip + b"\x00" * 6 + ip
    return ether + arp


def mac_of(sock: socket.socket, iface: str) -> bytes:
    # from the kernel of this network namespace (not from /sys, which shows the
    # namespace that mounted it)
    ifreq = fcntl.ioctl(sock.fileno(), SIOCGIFHWADDR, struct.pack("256s", iface.encode()))
    return ifreq[18:24]


def unsolicited_na(mac: bytes, target: bytes) -> bytes:
    # type 136, code 0, checksum 0 (the kernel fills it in), flags: Override
    # option 2 = target link-layer address, length 1 (8 bytes)
    return struct.pack("!BBHI", 136, 0, 0, 0x20000000) + target + struct.pack("!BB", 2, 1) + mac


def main() -> None:
    iface, address = sys.argv[1], sys.argv[2]
    addr = ipaddress.ip_address(address)
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as s:
        s.bind((iface, 0))
        mac = mac_of(s, iface)
        if addr.version == 4:
            s.send(announcement(mac, addr.packed))
            return
    with socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6) as s:
        ifindex = socket.if_nametoindex(iface)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_HOPS, 255)  # ND requires 255
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_MULTICAST_IF, ifindex)
        s.bind((str(addr), 0, 0, 0))
        s.sendto(unsolicited_na(mac, addr.packed), ("ff02::1", 0, 0, ifindex))


if __name__ == "__main__":
    main()
