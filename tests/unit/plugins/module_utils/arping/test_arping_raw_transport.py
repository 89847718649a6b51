# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""arping/raw.py: ARP frames, and RawTransport's sending, matching and failures on fake packet sockets.

The NDP frames are tested against lab recordings in test_arping_raw.py; the integration tests
run the raw prober on the lab segment.
"""

from __future__ import annotations

import errno
import ipaddress
import struct
from types import SimpleNamespace

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import raw
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.prober import ProbeTransportError

VIP = "198.51.100.240"
OURS = SimpleNamespace(address=VIP, interface="eth0", source="198.51.100.100", mac="02:00:c6:33:64:64")
NODE1, NODE2 = "02:00:c6:33:64:0b", "02:00:c6:33:64:0c"
INCOMING, OUTGOING = ("eth0", raw.ETH_P_ARP, 0), ("eth0", raw.ETH_P_ARP, raw.PACKET_OUTGOING)


def reply(sender_mac=NODE1, sender_ip=VIP, target_mac=OURS.mac, target_ip=OURS.source, op=raw.ARPOP_REPLY) -> bytes:
    arp = raw._ARP.pack(raw.ARPHRD_ETHER, raw.ETH_P_IP, 6, 4, op, raw.mac_bytes(sender_mac), ipaddress.IPv4Address(sender_ip).packed,
                        raw.mac_bytes(target_mac), ipaddress.IPv4Address(target_ip).packed)
    return raw.mac_bytes(target_mac) + raw.mac_bytes(sender_mac) + struct.pack("!H", raw.ETH_P_ARP) + arp


class FakeSocket:
    """A packet socket: records what is sent, hands out queued (frame, meta) pairs."""

    def __init__(self, family=None, kind=None, proto=None, send_error=None, bind_error=None):
        self.sent, self.frames, self.bound, self.closed = [], [], None, False
        self.send_error, self.bind_error = send_error, bind_error

    def bind(self, key):
        if self.bind_error:
            raise self.bind_error
        self.bound = key

    def setsockopt(self, *args):
        pass

    def setblocking(self, flag):
        pass

    def fileno(self):
        return id(self)

    def send(self, frame):
        if self.send_error:
            raise self.send_error
        self.sent.append(frame)

    def recvfrom(self, size):
        if not self.frames:
            raise BlockingIOError(errno.EAGAIN, "empty")
        item = self.frames.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    def close(self):
        self.closed = True


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


@pytest.fixture
def segment(monkeypatch):
    """A RawTransport on a fake socket for eth0, select() answering at once."""
    made = []

    def socket_factory(*args, **kwargs):
        made.append(FakeSocket(*args))
        return made[-1]

    monkeypatch.setattr(raw.socket, "socket", socket_factory)
    monkeypatch.setattr(raw.select, "select", lambda readable, w, x, timeout: (readable, [], []))
    clock = Clock()
    transport = raw.RawTransport(clock=clock)
    transport.open([OURS])
    return SimpleNamespace(transport=transport, sock=made[0], clock=clock, made=made)


def test_request_frame_round_trip():
    frame = raw.build_request(OURS.mac, OURS.source, VIP)
    assert frame[:6] == raw.BROADCAST and raw.mac_text(frame[6:12]) == OURS.mac and frame[12:14] == b"\x08\x06"
    assert raw.parse_reply(frame) is None  # a request is not a reply
    assert raw.parse_reply(reply()) == (NODE1, VIP, OURS.mac, OURS.source)
    assert raw.parse_reply(reply()[:30]) is None  # truncated


def test_one_socket_per_interface_and_family(segment):
    segment.transport.open([SimpleNamespace(**(OURS.__dict__ | {"address": "198.51.100.241"})),
                            SimpleNamespace(**(OURS.__dict__ | {"address": "2001:db8::10", "source": "2001:db8::1"}))])
    assert [sock.bound for sock in segment.made] == [("eth0", raw.ETH_P_ARP), ("eth0", raw.ETH_P_IPV6)]


def test_a_probe_is_a_broadcast_request_and_every_holder_is_heard(segment):
    segment.transport.start_probe(VIP)
    assert segment.sock.sent == [raw.build_request(OURS.mac, OURS.source, VIP)]
    segment.clock.now += 0.002
    segment.sock.frames = [(reply(NODE1), INCOMING), (reply(NODE2), INCOMING), (reply(), OUTGOING)]
    heard = segment.transport.poll(0.1)
    assert [(event.mac, event.rtt_ms) for event in heard] == [(NODE1, 2.0), (NODE2, 2.0)]
    outcome = segment.transport.stop_probe(VIP)
    assert outcome.sent == 1 and outcome.replies == [(NODE1, 2.0), (NODE2, 2.0)]


@pytest.mark.parametrize("frame", [
    reply(target_ip=VIP, target_mac="ff:ff:ff:ff:ff:ff"),  # gratuitous ARP
    reply(target_mac="02:00:c6:33:64:99"),  # a reply to another host
    reply(sender_ip="198.51.100.241"),  # an address not probed
    reply(op=raw.ARPOP_REQUEST),  # a request, not a reply
])
def test_what_is_not_an_answer_to_our_probe_is_ignored(segment, frame):
    segment.transport.start_probe(VIP)
    segment.sock.frames = [(frame, INCOMING)]
    assert segment.transport.poll(0.1) == []
    assert segment.transport.stop_probe(VIP).replies == []


def test_an_answer_on_another_interface_is_ignored(segment):
    segment.transport.start_probe(VIP)
    assert segment.transport._match("eth1", reply(), segment.clock()) is None


def test_an_answer_between_probes_counts_for_the_next(segment):
    segment.transport.start_probe(VIP)
    segment.transport.stop_probe(VIP)
    segment.sock.frames = [(reply(NODE2), INCOMING)]
    assert [event.mac for event in segment.transport.poll(0.1)] == [NODE2]
    segment.transport.start_probe(VIP)
    assert [mac for mac, _rtt in segment.transport.stop_probe(VIP).replies] == [NODE2]


def test_a_failed_send_names_the_probe(segment):
    segment.sock.send_error = OSError(errno.ENETDOWN, "Network is down")
    with pytest.raises(ProbeTransportError, match=f"sending an ARP request for {VIP} on eth0 failed: Network is down"):
        segment.transport.start_probe(VIP)


def test_a_failed_receive_names_the_interface(segment):
    segment.sock.frames = [OSError(errno.ENETDOWN, "Network is down")]
    with pytest.raises(ProbeTransportError, match="receiving on eth0 failed: Network is down"):
        segment.transport.poll(0.1)


def test_without_cap_net_raw_the_fix_is_named(monkeypatch):
    def refuse(*args):
        raise PermissionError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(raw.socket, "socket", refuse)
    with pytest.raises(ProbeTransportError) as info:
        raw.RawTransport().open([OURS])
    assert "opening a raw socket on eth0 needs root or CAP_NET_RAW (Operation not permitted)" in str(info.value)
    assert "become: true" in str(info.value)


def test_a_bind_failure_closes_the_socket(monkeypatch):
    made = []

    def socket_factory(*args):
        made.append(FakeSocket(bind_error=OSError(errno.ENODEV, "No such device")))
        return made[-1]

    monkeypatch.setattr(raw.socket, "socket", socket_factory)
    with pytest.raises(ProbeTransportError, match="cannot bind a raw socket to eth0: No such device"):
        raw.RawTransport().open([OURS])
    assert made[0].closed
