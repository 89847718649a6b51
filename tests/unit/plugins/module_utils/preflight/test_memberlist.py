# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The memberlist reachability check: wire format, the speakers' settings, the plan, the verdicts and the findings
(cases in test_memberlist.yaml), and the node's probe against real sockets on the loopback."""

from __future__ import annotations

import base64
import hashlib
import socket
import struct
import threading
import zlib

import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.preflight import memberlist as ml
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight import probe
from ansible_collections.baremetal.metallb.plugins.module_utils.preflight.checks import FINDINGS, Preflight
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import assert_matched, is_subset, load_data, parametrize_cases

SECRET = b"Zm9vYmFyYmF6cXV4cXV1eA"  # 22 characters, as MetalLB's controller writes it (16 random bytes, raw base64)
KEY = ml.derive_key(SECRET)
NONCE = bytes(range(12))


def ack(seq: int) -> bytes:
    return bytes([ml.ACK]) + b"\x82\xa5SeqNo" + ml._pack_uint(seq) + b"\xa7Payload\xc0"


def reply_bytes(spec, keyed: bool) -> bytes | None:
    if spec is None:
        return None
    plain = ack(int(spec.split(":")[1])) if spec.startswith("ack:") else b"\x01not a memberlist packet at all"
    return ml.encrypt(KEY, plain, NONCE) if keyed and spec.startswith("ack:") else plain


@parametrize_cases(load_data(__file__, "tcp_cases"))
def test_tcp_verdict(case):
    assert ml.judge_tcp(case["outcome"], case["listening"]) == case["verdict"]


@parametrize_cases(load_data(__file__, "udp_cases"))
def test_udp_verdict(case):
    key = KEY if case.get("key", True) else None
    verdict, why = ml.judge_udp(case["outcome"], case["listening"], reply_bytes(case.get("reply"), case["keyed"]),
                                case["seq"], key, case["keyed"])
    assert verdict == case["verdict"], why
    assert case.get("why_has", "") in why


def _matches(expected: tuple, actual: tuple) -> bool:
    ident, severity, message, fix, objects = actual
    return (expected["id"] == ident and expected["severity"] == severity
            and all(text in message for text in expected.get("message_has", []))
            and all(text in fix for text in expected.get("fix_has", []))
            and ("objects" not in expected or expected["objects"] == objects))


@parametrize_cases(load_data(__file__, "finding_cases"))
def test_findings(case):
    pairs = [dict({"udp_why": ""}, **pair) for pair in case["pairs"]]
    found = ml.findings(pairs, case["layer2"])
    assert_matched(case["expect"], found, _matches, what="finding")
    assert all(ident in FINDINGS for ident, *dummy in found)


@parametrize_cases(load_data(__file__, "settings_cases"))
def test_speaker_settings(case):
    got = ml.speaker_settings(case["daemonsets"])
    assert is_subset(case["expect"], got), got


def test_metallbs_key_is_the_secrets_first_32_bytes():
    # speakerlist.New: sha256.New().Sum(secret)[:32] appends the hash of nothing to the secret
    assert KEY == SECRET + hashlib.sha256(b"").digest()[:10] and len(KEY) == 32
    assert ml.derive_key(b"x" * 40) == b"x" * 32
    assert ml.derive_key(b"") is None and ml.derive_key(None) is None


def test_ping_is_memberlists_format_and_decrypts_with_the_key():
    plain = ml.ping_packet(5, "node2")
    assert plain.hex() == "00" "82" "a5" + b"SeqNo".hex() + "05" "a4" + b"Node".hex() + "a5" + b"node2".hex()
    assert ml.messages(plain) == [(ml.PING, plain[1:])]
    assert ml.unpack(plain, 1)[0] == {"SeqNo": 5, "Node": b"node2"}
    sealed = ml.ping_packet(5, "node2", KEY, NONCE)
    assert sealed[0] == 1 and sealed[1:13] == NONCE and len(sealed) == 1 + 12 + len(plain) + 16
    assert ml.decrypt(KEY, sealed) == plain
    long_name = "worker-" + "x" * 40  # 47 characters: str16, as memberlist's codec writes it (no str8)
    body = ml.ping_packet(2**32 - 1, long_name)
    assert body[len(b"\x00\x82\xa5SeqNo"):][:1] == b"\xce" and b"\xda\x00\x2f" in body
    assert ml.unpack(body, 1)[0] == {"SeqNo": 2**32 - 1, "Node": long_name.encode()}


@parametrize_cases(load_data(__file__, "lzw_cases"))
def test_lzw_decodes_gos_encoder(case):
    assert ml.lzw_decode(bytes.fromhex(case["compressed"])) == bytes.fromhex(case["plain"])


def test_lzw_decodes_past_the_12_bit_limit():
    x, letters = 1, bytearray()
    for dummy in range(14000):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        letters.append((x >> 16) % 7 + ord("a"))
    assert ml.lzw_decode(bytes.fromhex(load_data(__file__, "lzw_long").replace(" ", ""))) == bytes(letters)


def test_ack_inside_crc_compression_and_compound():
    compressed = bytes.fromhex(load_data(__file__, "lzw_cases")[0]["compressed"])  # the ack for 0x00010203
    wrapped = bytes([ml.COMPRESS]) + b"\x82\xa4Algo\x00\xa3Buf\xc4" + bytes([len(compressed)]) + compressed
    alive = bytes([4]) + b"\x80"
    compound = bytes([ml.COMPOUND, 2]) + struct.pack(">HH", len(alive), len(wrapped)) + alive + wrapped
    crc = bytes([ml.HAS_CRC]) + struct.pack(">I", zlib.crc32(compound)) + compound
    assert ml.ack_seq(ml.encrypt(KEY, crc), KEY) == 0x00010203
    with pytest.raises(ValueError, match="bad CRC"):
        ml.ack_seq(crc[:-1] + b"\x00", None)
    with pytest.raises(ValueError, match="no ack"):
        ml.ack_seq(alive, None)
    with pytest.raises(ValueError, match="not decryptable"):
        ml.ack_seq(ml.encrypt(b"k" * 32, ack(1)), KEY)


NODES = [{"metadata": {"name": name}, "status": {"addresses": [{"type": "InternalIP", "address": address}]}}
         for name, address in (("node2", "198.51.100.12"), ("node1", "198.51.100.11"))]
SPEAKER_DS = load_data(__file__, "settings_cases")[1]["daemonsets"]
PODS = [{"metadata": {"name": "speaker-a", "labels": {"app": "metallb", "component": "speaker"}},
         "spec": {"nodeName": "node1"}, "status": {"phase": "Running", "podIP": "198.51.100.11"}},
        {"metadata": {"name": "controller", "labels": {"app": "metallb", "component": "controller"}},
         "spec": {"nodeName": "node2"}, "status": {"phase": "Running", "podIP": "10.0.0.5"}}]


def test_plan_one_encrypted_ping_per_node():
    got = ml.plan(NODES, SPEAKER_DS, PODS, SECRET, seq_base=100)
    assert got["enabled"] and got["keyed"] and got["port"] == 7946
    assert [(t["node"], t["address"], t["seq"], t["listening"]) for t in got["targets"]] == [
        ("node1", "198.51.100.11", 100, True), ("node2", "198.51.100.12", 101, False)]
    for target in got["targets"]:
        plain = ml.decrypt(KEY, base64.b64decode(target["packet"]))
        assert ml.unpack(plain, 1)[0] == {"SeqNo": target["seq"], "Node": target["node"].encode()}
    assert SECRET.decode() not in repr(got) and KEY.hex() not in repr(got)


def test_plan_without_the_secret_yet_and_before_metallb():
    waiting = ml.plan(NODES, SPEAKER_DS, [], None, seq_base=1)
    assert not waiting["keyed"] and all(t["packet"] is None for t in waiting["targets"])
    assert "memberlist has no secretkey yet" in waiting["reason"] or "has no secretkey" in waiting["reason"]
    before = ml.plan(NODES, [], [], None, seq_base=1)
    assert [t["listening"] for t in before["targets"]] == [False, False]
    assert ml.unpack(base64.b64decode(before["targets"][0]["packet"]), 1)[0]["Node"] == b"node1"
    off = ml.plan(NODES, load_data(__file__, "settings_cases")[4]["daemonsets"], PODS, SECRET)
    assert not off["enabled"] and off["targets"] == [] and "memberlist is off" in off["reason"]


def test_evaluate_judges_the_nodes_raw_results_and_preflight_reports_them():
    probes = [{"source": "node1", "results": [
        {"node": "node2", "address": "198.51.100.12", "port": 7946, "seq": 9, "listening": True, "keyed": True,
         "tcp": "timeout", "udp": "silent", "reply": None}]},
        {"source": "node2", "results": [
            {"node": "node1", "address": "198.51.100.11", "port": 7946, "seq": 8, "listening": True, "keyed": True,
             "tcp": "connected", "udp": "answered", "reply": base64.b64encode(ml.encrypt(KEY, ack(8))).decode()}]},
        {"skipped": True}]
    pairs = ml.evaluate(probes, KEY)
    assert [(p["source"], p["target"], p["tcp"], p["udp"]) for p in pairs] == [
        ("node1", "node2", "blocked", "blocked"), ("node2", "node1", "open", "open")]
    assert ml.summary(pairs) == "memberlist: 1 of 2 node pair(s) open on TCP and UDP"
    objects = {"l2_advertisements": [{"metadata": {"name": "lan"}, "spec": {}}]}
    found = Preflight(objects, memberlist_pairs=pairs).run()
    assert [(f["id"], f["severity"]) for f in found if f["id"].startswith("memberlist")] == [("memberlist_blocked", "error")]
    assert Preflight(objects, memberlist_pairs=[]).run() == Preflight(objects).run()


# ---------------------------------------------------------------- the node's probe, real sockets on the loopback
@pytest.fixture
def servers():
    """A TCP listener, a UDP socket that answers, one that never answers; a port nothing listens on."""
    tcp = socket.socket()
    tcp.bind(("127.0.0.1", 0))
    tcp.listen(4)
    answering = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    answering.bind(("127.0.0.1", 0))
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    free = closed.getsockname()[1]
    closed.close()

    def echo():
        data, peer = answering.recvfrom(2048)
        answering.sendto(b"ack:" + data, peer)

    thread = threading.Thread(target=echo, daemon=True)
    thread.start()
    yield {"tcp": tcp.getsockname()[1], "answering": answering.getsockname()[1], "silent": silent.getsockname()[1], "free": free}
    for sock in (tcp, answering, silent):
        sock.close()


def test_probe_outcomes_on_real_sockets(servers):
    assert probe.tcp("127.0.0.1", servers["tcp"], 1) == ("connected", "")
    assert probe.tcp("127.0.0.1", servers["free"], 1)[0] == "refused"
    assert probe.udp("127.0.0.1", servers["answering"], b"ping", 1)[::2] == ("answered", b"ack:ping")
    assert probe.udp("127.0.0.1", servers["free"], b"ping", 1)[0] == "refused"
    assert probe.udp("127.0.0.1", servers["silent"], b"ping", 0.3, attempts=2)[0] == "silent"
    assert probe.udp("127.0.0.1", servers["free"], None, 1)[0] == "not_probed"


def test_probe_all_keeps_the_order_and_the_targets_keys(servers):
    targets = [{"node": "a", "address": "127.0.0.1", "port": servers["free"], "seq": 1, "packet": base64.b64encode(b"x").decode()},
               {"node": "b", "address": "127.0.0.1", "port": servers["tcp"], "seq": 2, "packet": None}]
    got = probe.probe_all(targets, timeout=0.5)
    assert [(r["node"], r["seq"], r["tcp"], r["udp"]) for r in got] == [("a", 1, "refused", "refused"), ("b", 2, "connected", "not_probed")]
    assert all("packet" not in r for r in got)


def test_the_answer_of_real_memberlist_is_its_ack():
    case = load_data(__file__, "real_ack")
    key = ml.derive_key(case["secret"].encode())
    reply = bytes.fromhex(case["reply"].replace(" ", ""))
    assert ml.judge_udp("answered", True, reply, case["seq"], key, True) == ("open", "memberlist ack")
    assert [kind for kind, dummy in ml.messages(ml.decrypt(key, reply))] == [ml.ACK, 4]  # the ack and an alive message
    assert ml.judge_udp("answered", True, reply, case["seq"] + 1, key, True)[0] == "foreign"
