# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The raw prober's NDP frames against the ones recorded on the lab (test_arping_raw.yaml)."""

from __future__ import annotations

import ipaddress
import struct

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.arping import raw
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import load_data, parametrize_cases

DATA = load_data(__file__)
NS = bytes.fromhex(DATA["kernel_solicitation"])
NA = bytes.fromhex(DATA["node1_advertisement"])


@parametrize_cases(DATA["solicited_node"], id_key="address")
def test_solicited_node_group_and_its_mac(case):
    assert raw.solicited_node(case["address"]) == case["group"]
    assert raw.multicast_mac(case["group"]) == case["mac"]


def test_solicitation_is_the_kernels_own_byte_for_byte():
    frame = raw.build_solicitation("02:00:c6:33:64:64", "2001:db8:100::100", "2001:db8:100::240")
    assert frame.hex() == NS.hex()
    assert frame[0:6] == bytes.fromhex("3333ff000240")  # solicited-node multicast MAC
    assert frame[21] == 255  # hop limit: RFC 4861 receivers drop anything else


@pytest.mark.parametrize("frame", [NS, NA], ids=["solicitation", "advertisement"])
def test_checksum_over_the_pseudo_header_matches_the_recorded_one(frame):
    source, destination = (str(ipaddress.IPv6Address(frame[offset:offset + 16])) for offset in (22, 38))
    body = frame[54:]
    assert raw.icmp6_checksum(source, destination, body[:2] + b"\0\0" + body[4:]) == struct.unpack("!H", body[2:4])[0]


def _variant(case) -> bytes:
    eth, ip6, body = bytearray(NA[:14]), bytearray(NA[14:54]), bytearray(NA[54:])
    if "icmp_type" in case:
        body[0] = case["icmp_type"]
    if "code" in case:
        body[1] = case["code"]
    if "target" in case:
        body[8:24] = ipaddress.IPv6Address(case["target"]).packed
    if "option_mac" in case:
        body[26:32] = bytes.fromhex(case["option_mac"].replace(":", ""))
    if "option_length" in case:
        body[25] = case["option_length"]
    if case.get("drop_option"):
        del body[24:]
    if "hop_limit" in case:
        ip6[7] = case["hop_limit"]
    struct.pack_into("!H", ip6, 4, len(body))
    source, destination = (str(ipaddress.IPv6Address(bytes(ip6[offset:offset + 16]))) for offset in (8, 24))
    checksum = case.get("checksum", raw.icmp6_checksum(source, destination, bytes(body[:2] + b"\0\0" + body[4:])))
    struct.pack_into("!H", body, 2, checksum)
    frame = bytes(eth + ip6 + body)
    return frame[:-case["truncate"]] if "truncate" in case else frame


@parametrize_cases(DATA["advertisements"])
def test_parse_advertisement(case):
    result = raw.parse_advertisement(_variant(case))
    assert (list(result) if result else None) == case["expect"]


def test_an_arp_reply_is_not_an_advertisement_and_back():
    arp = raw.build_request("02:00:c6:33:64:64", "198.51.100.100", "198.51.100.240")
    assert raw.parse_advertisement(arp) is None
    assert raw.parse_reply(NA) is None
