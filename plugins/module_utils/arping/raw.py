# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""ARP probing on an AF_PACKET socket (Linux, stdlib only, needs CAP_NET_RAW).

Every probe is a broadcast ARP request, so every holder of a VIP answers every
probe: the duplicate check does not depend on which MAC answered last (iputils
switches to unicast after the first reply). One socket per interface carries
the probes for all VIPs at once.
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
ARPHRD_ETHER = 1
ARPOP_REQUEST = 1
ARPOP_REPLY = 2
PACKET_OUTGOING = 4
BROADCAST = b"\xff" * 6
_ARP = struct.Struct("!HHBBH6s4s6s4s")


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
            if binding.interface in self._sockets:
                continue
            try:
                # Protocol 0 first, ARP on bind: a socket opened for ARP is hooked on
                # every interface at once, and moving that hook on bind waits for an
                # RCU grace period (about 10 ms).
                sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            except PermissionError as exc:
                self.close()
                raise ProbeTransportError(
                    f"opening a raw socket on {binding.interface} needs root or CAP_NET_RAW ({exc.strerror}): "
                    "run the task with 'become: true', or use 'prober: iputils' where arping has file capabilities"
                ) from exc
            try:
                sock.bind((binding.interface, ETH_P_ARP))
                # 20 VIPs x several responders x count probes arrive in bursts.
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
                sock.setblocking(False)
            except OSError as exc:
                sock.close()
                self.close()
                raise ProbeTransportError(f"cannot bind a raw socket to {binding.interface}: {exc.strerror}") from exc
            self._sockets[binding.interface] = sock
            self._by_fd[sock.fileno()] = binding.interface

    def start_probe(self, address: str) -> None:
        binding = self._bindings[address]
        frame = build_request(binding.mac, binding.source, address)
        try:
            self._sockets[binding.interface].send(frame)
        except OSError as exc:
            raise ProbeTransportError(f"sending an ARP request for {address} on {binding.interface} failed: {exc.strerror}") from exc
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
        reply = parse_reply(frame)
        if reply is None:
            return None
        sender_mac, sender_ip, target_mac, target_ip = reply
        binding = self._bindings.get(sender_ip)
        # Only answers to our own requests count: to our MAC and source address,
        # on the interface we asked on. Gratuitous ARP and replies to other hosts
        # are not answers to a probe.
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
