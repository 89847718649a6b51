# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ARP and NDP probing on AF_PACKET sockets (Linux, stdlib only, needs CAP_NET_RAW).

Every IPv4 probe is a broadcast ARP request, so every holder of a VIP answers
every probe: the duplicate check does not depend on which MAC answered last
(iputils switches to unicast after the first reply). Every IPv6 probe is a
neighbor solicitation to the VIP's solicited-node multicast group (RFC 4861
7.2.2), which every holder has joined, so every holder answers it too. One
socket per interface and family carries the probes for all VIPs at once.
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
import struct
import threading
import time

from ansible_collections.baremetal.metallb.plugins.module_utils.arping.prober import Heard, ProbeOutcome, ProbeTransportError

ETH_P_ARP = 0x0806
ETH_P_IP = 0x0800
ETH_P_IPV6 = 0x86DD
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
PACKET_OUTGOING = 4
BROADCAST = b"\xff" * 6
_ARP = struct.Struct("!HHBBH6s4s6s4s")
# IPv6 header: version/class/flow, payload length, next header, hop limit, source, destination.
_IPV6 = struct.Struct("!IHBB16s16s")
IPPROTO_ICMPV6 = 58
ND_NEIGHBOR_SOLICIT = 135
ND_NEIGHBOR_ADVERT = 136
ND_OPT_SOURCE_LINKADDR = 1
ND_OPT_TARGET_LINKADDR = 2
# RFC 4861 7.1: a node drops any NS/NA whose hop limit is not 255 (proof it was not routed).
ND_HOP_LIMIT = 255
NA_FLAG_SOLICITED = 0x40


def mac_bytes(mac: str) -> bytes:
    return bytes(int(octet, 16) for octet in mac.split(":"))


def mac_text(raw: bytes) -> str:
    return ":".join(f"{octet:02x}" for octet in raw)


def build_request(src_mac: str, src_ip: str, target_ip: str) -> bytes:
    """Ethernet broadcast frame carrying 'who has target_ip? tell src_ip'."""
    arp = _ARP.pack(
        ARPHRD_ETHER, ETH_P_IP, 6, 4, ARPOP_REQUEST,
        mac_bytes(src_mac), ipaddress.IPv4Address(src_ip).packed,
        b"\x00" * 6, ipaddress.IPv4Address(target_ip).packed,
    )
    return BROADCAST + mac_bytes(src_mac) + struct.pack("!H", ETH_P_ARP) + arp


def parse_reply(frame: bytes) -> tuple[str, str, str, str] | None:
    """(sender MAC, sender IP, target MAC, target IP) of an Ethernet/IPv4 ARP reply, else None."""
    if len(frame) < 14 + _ARP.size or frame[12:14] != b"\x08\x06":
        return None
    hrd, pro, hln, pln, op, sha, spa, tha, tpa = _ARP.unpack_from(frame, 14)
    if hrd != ARPHRD_ETHER or pro != ETH_P_IP or hln != 6 or pln != 4 or op != ARPOP_REPLY:
        return None
    return mac_text(sha), str(ipaddress.IPv4Address(spa)), mac_text(tha), str(ipaddress.IPv4Address(tpa))


def solicited_node(address: str) -> str:
    """RFC 4291 2.7.1: ff02::1:ff00:0/104 plus the low 24 bits of ``address``."""
    low = ipaddress.IPv6Address(address).packed[13:]
    return str(ipaddress.IPv6Address(bytes.fromhex("ff0200000000000000000001ff") + low))


def multicast_mac(group: str) -> str:
    """RFC 2464 7: 33:33 followed by the low 32 bits of the IPv6 multicast group."""
    return mac_text(b"\x33\x33" + ipaddress.IPv6Address(group).packed[12:])


def icmp6_checksum(source: str, destination: str, message: bytes) -> int:
    """RFC 4443 2.3: one's complement sum over the pseudo-header and the message (checksum field 0)."""
    pseudo = (ipaddress.IPv6Address(source).packed + ipaddress.IPv6Address(destination).packed
              + struct.pack("!I3xB", len(message), IPPROTO_ICMPV6))
    data = pseudo + message + (b"\x00" if len(message) % 2 else b"")
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_solicitation(src_mac: str, src_ip: str, target_ip: str) -> bytes:
    """Ethernet frame to the solicited-node group of target_ip: 'who has target_ip? tell src_ip at src_mac'."""
    group = solicited_node(target_ip)
    body = (struct.pack("!BBHI", ND_NEIGHBOR_SOLICIT, 0, 0, 0) + ipaddress.IPv6Address(target_ip).packed
            + struct.pack("!BB", ND_OPT_SOURCE_LINKADDR, 1) + mac_bytes(src_mac))
    checksum = icmp6_checksum(src_ip, group, body)
    body = body[:2] + struct.pack("!H", checksum) + body[4:]
    header = _IPV6.pack(6 << 28, len(body), IPPROTO_ICMPV6, ND_HOP_LIMIT,
                        ipaddress.IPv6Address(src_ip).packed, ipaddress.IPv6Address(group).packed)
    return mac_bytes(multicast_mac(group)) + mac_bytes(src_mac) + struct.pack("!H", ETH_P_IPV6) + header + body


def parse_advertisement(frame: bytes) -> tuple[str, str, str, str] | None:
    """(advertised MAC, target IP, destination MAC, destination IP) of a valid neighbor advertisement, else None.

    The advertised MAC is the target link-layer address option when present (RFC 4861
    4.4; what a neighbour would store), else the Ethernet source. Advertisements that
    fail RFC 4861 7.1.2's checks (hop limit, code, checksum, length, multicast target)
    are not answers.
    """
    if len(frame) < 14 + _IPV6.size + 24 or frame[12:14] != b"\x86\xdd":
        return None
    first, length, next_header, hops, src, dst = _IPV6.unpack_from(frame, 14)
    body = frame[14 + _IPV6.size:14 + _IPV6.size + length]
    if first >> 28 != 6 or next_header != IPPROTO_ICMPV6 or hops != ND_HOP_LIMIT or len(body) < 24 or len(body) != length:
        return None
    if body[0] != ND_NEIGHBOR_ADVERT or body[1] != 0:
        return None
    source, destination = str(ipaddress.IPv6Address(src)), str(ipaddress.IPv6Address(dst))
    if icmp6_checksum(source, destination, body[:2] + b"\x00\x00" + body[4:]) != struct.unpack_from("!H", body, 2)[0]:
        return None
    target = ipaddress.IPv6Address(body[8:24])
    if target.is_multicast:
        return None
    mac = frame[6:12]
    offset = 24
    while offset + 2 <= len(body):
        kind, units = body[offset], body[offset + 1]
        if units == 0 or offset + units * 8 > len(body):
            return None  # RFC 4861 7.1.2: an option of length 0 invalidates the message
        if kind == ND_OPT_TARGET_LINKADDR and units == 1:
            mac = body[offset + 2:offset + 8]
        offset += units * 8
    return mac_text(mac), str(target), mac_text(frame[0:6]), destination


class RawTransport:
    """Probe transport on raw sockets: ``start_probe`` sends, ``poll`` collects."""

    name = "raw"
    min_probe_time = 0.0

    def __init__(self, clock=time.monotonic) -> None:
        self._clock = clock
        self._sockets: dict[str, socket.socket] = {}
        self._by_fd: dict[int, str] = {}
        self._bindings: dict[str, object] = {}
        self._sent_at: dict[str, float] = {}
        self._open: dict[str, list] = {}
        self._late: dict[str, list] = {}

    def open(self, bindings) -> None:
        for binding in bindings:
            self._bindings[binding.address] = binding
            key = (binding.interface, _protocol(binding.address))
            if key in self._sockets:
                continue
            try:
                # Protocol 0 first, ARP/IPv6 on bind: a socket opened for a protocol is
                # hooked on every interface at once, and moving that hook on bind waits
                # for an RCU grace period (about 10 ms).
                sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            except PermissionError as exc:
                self.close()
                raise ProbeTransportError(
                    f"opening a raw socket on {binding.interface} needs root or CAP_NET_RAW ({exc.strerror}): "
                    "run the task with 'become: true', or use 'prober: iputils' where arping has file capabilities"
                    " (ndisc6 for IPv6 VIPs)"
                ) from exc
            try:
                sock.bind(key)
                # 20 VIPs x several responders x count probes arrive in bursts.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                self.close()
                raise ProbeTransportError(f"cannot bind a raw socket to {binding.interface}: {exc.strerror}") from exc
            self._sockets[key] = sock
            self._by_fd[sock.fileno()] = binding.interface

    def start_probe(self, address: str) -> None:
        binding = self._bindings[address]
        protocol = _protocol(address)
        build, what = (build_request, "an ARP request") if protocol == ETH_P_ARP else (build_solicitation, "a neighbor solicitation")
        frame = build(binding.mac, binding.source, address)
        try:
            self._sockets[(binding.interface, protocol)].send(frame)
        except OSError as exc:
            raise ProbeTransportError(f"sending {what} for {address} on {binding.interface} failed: {exc.strerror}") from exc
        self._sent_at[address] = self._clock()
        self._open[address] = self._late.pop(address, [])

    def poll(self, timeout: float) -> list[Heard]:
        if not self._sockets:
            time.sleep(max(0.0, timeout))
            return []
        readable = select.select(list(self._sockets.values()), [], [], max(0.0, timeout))[0]
        heard = []
        for sock in readable:
            interface = self._by_fd[sock.fileno()]
            while True:
                try:
                    frame, meta = sock.recvfrom(2048)
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno in (errno.EAGAIN, errno.EINTR):
                        break
                    raise ProbeTransportError(f"receiving on {interface} failed: {exc.strerror}") from exc
                at = self._clock()
                if meta[2] == PACKET_OUTGOING:
                    continue
                event = self._match(interface, frame, at)
                if event is not None:
                    heard.append(event)
        return heard

    def _match(self, interface: str, frame: bytes, at: float) -> Heard | None:
        reply = parse_reply(frame) if frame[12:14] == b"\x08\x06" else parse_advertisement(frame)
        if reply is None:
            return None
        sender_mac, sender_ip, target_mac, target_ip = reply
        binding = self._bindings.get(sender_ip)
        # Only answers to our own requests count: to our MAC and source address,
        # on the interface we asked on. Gratuitous ARP, unsolicited advertisements
        # (to all nodes) and replies to other hosts are not answers to a probe.
        if binding is None or binding.interface != interface or target_ip != binding.source or target_mac != binding.mac:
            return None
        sent = self._sent_at.get(sender_ip)
        rtt = round((at - sent) * 1000.0, 3) if sent is not None else None
        event = Heard(address=sender_ip, mac=sender_mac, at=at, rtt_ms=rtt)
        if sender_ip in self._open:
            self._open[sender_ip].append(event)
        else:
            # Between two probes (change polling): credit it to the next one.
            self._late.setdefault(sender_ip, []).append(event)
        return event

    def stop_probe(self, address: str) -> ProbeOutcome:
        events = self._open.pop(address, [])
        return ProbeOutcome(sent=1, replies=[(event.mac, event.rtt_ms) for event in events])

    def close(self) -> None:
        sockets = list(self._sockets.values())
        self._sockets.clear()
        self._by_fd.clear()
        if sockets:
            # Closing a packet socket waits for an RCU grace period (10-20 ms here);
            # the verdict does not need to wait for it.
            threading.Thread(target=lambda: [sock.close() for sock in sockets], daemon=True).start()


def _protocol(address: str) -> int:
    """The EtherType that probes ``address``: ARP for IPv4, IPv6 (NDP) for IPv6."""
    return ETH_P_ARP if ipaddress.ip_address(address).version == 4 else ETH_P_IPV6
