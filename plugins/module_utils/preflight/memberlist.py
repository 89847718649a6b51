# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Memberlist reachability between the speakers' nodes: what to probe, the probe packet, and what the answers mean.

MetalLB's speakers find each other with hashicorp/memberlist (v0.5.1 in MetalLB v0.16.1) on ``METALLB_ML_BIND_ADDR``
(the manifests: the pod IP; the speaker is a hostNetwork pod, so the node's address) and ``METALLB_ML_BIND_PORT``
(7946 when unset), TCP and UDP. Two speakers that cannot reach each other each declare the other dead, and in layer 2
mode each then elects itself for the same VIPs: both answer ARP (split brain).

Three steps, so that the memberlist key never leaves the controller:

1. ``plan()`` (controller): the nodes and their memberlist address, and per node one memberlist ping packet,
   encrypted with the cluster's key when the speakers use one (MetalLB derives it from the ``memberlist`` Secret);
2. ``memberlist_probe`` (each node, ``probe.py``): a TCP connect and the UDP ping to every other node, raw outcomes;
3. ``evaluate()`` (controller): each pair and protocol judged, the replies decrypted and checked for an ack of the
   ping's sequence number; ``findings()`` turns blocked pairs into preflight findings.

Wire facts used (memberlist's net.go and security.go): a UDP packet is one message type byte and a msgpack map
(ping ``{SeqNo, Node}``, type 0; ack ``{SeqNo, Payload}``, type 2), optionally wrapped: compound (7: count, 16-bit
lengths, parts), compressed (9: map ``{Algo: 0 (LZW), Buf}``, LZW LSB-first with 8-bit literals), a CRC (12: CRC-32
big-endian of the rest), and, with a key, encrypted: version byte 1, 12-byte nonce, AES-GCM ciphertext and tag, with
the packet label (none in MetalLB) as additional data. A ping naming another node is ignored, so the ping names its
target. MetalLB's key: ``sha256.New().Sum(secret)[:32]`` appends the hash of nothing to the secret, so the key is the
secret's first 32 bytes (padded with that hash when shorter; the controller's secret is 22 base64 characters).
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
import zlib

try:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
except ImportError:  # pragma: no cover - the controller's ansible-core brings cryptography
    AESGCM = None

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import dig

DEFAULT_PORT = 7946
PING, ACK, COMPOUND, COMPRESS, HAS_CRC = 0, 2, 7, 9, 12
ENCRYPTION_VERSION = 1
NONCE = 12
SPEAKER_LABELS = (("app", "metallb", "component", "speaker"),
                  ("app.kubernetes.io/name", "metallb", "app.kubernetes.io/component", "speaker"))
FLAGS = {"ml-bindaddr": "METALLB_ML_BIND_ADDR", "ml-bindport": "METALLB_ML_BIND_PORT", "ml-labels": "METALLB_ML_LABELS",
         "ml-secret-key-path": "METALLB_ML_SECRET_KEY_PATH"}  # the speaker's flags and the variables they default to
SECRET_FILE = "secretkey"  # MetalLB's k8s.MLSecretKeyName

# the raw outcomes of probe.py, and what each means per protocol
TCP_OUTCOMES = ("connected", "refused", "unreachable", "timeout", "error")
UDP_OUTCOMES = ("answered", "refused", "unreachable", "silent", "not_probed", "error")


# ------------------------------------------------------------------ msgpack, the subset memberlist uses
def _pack_str(text: str) -> bytes:
    raw = text.encode()
    # memberlist's codec (ugorji MsgpackHandle, old format) writes raw strings: fixstr, str16, str32 (no str8)
    if len(raw) < 32:
        return bytes([0xA0 | len(raw)]) + raw
    if len(raw) < 1 << 16:
        return b"\xda" + struct.pack(">H", len(raw)) + raw
    return b"\xdb" + struct.pack(">I", len(raw)) + raw


def _pack_uint(value: int) -> bytes:
    if value < 0x80:
        return bytes([value])
    for tag, fmt, limit in ((0xCC, ">B", 1 << 8), (0xCD, ">H", 1 << 16), (0xCE, ">I", 1 << 32)):
        if value < limit:
            return bytes([tag]) + struct.pack(fmt, value)
    return b"\xcf" + struct.pack(">Q", value)


def unpack(buf: bytes, pos: int = 0):
    """``(value, next position)`` of the msgpack value at ``pos``; ``ValueError`` on anything else."""
    if pos >= len(buf):
        raise ValueError("msgpack: truncated")
    tag = buf[pos]
    pos += 1

    def take(n):
        if pos + n > len(buf):
            raise ValueError("msgpack: truncated")
        return buf[pos:pos + n]

    if tag < 0x80:
        return tag, pos
    if tag >= 0xE0:
        return tag - 0x100, pos
    if 0x80 <= tag <= 0x8F or tag in (0xDE, 0xDF):
        size, pos = ((tag & 0x0F, pos) if tag <= 0x8F else
                     (struct.unpack(">H", take(2))[0], pos + 2) if tag == 0xDE else (struct.unpack(">I", take(4))[0], pos + 4))
        out = {}
        for dummy in range(size):
            key, pos = unpack(buf, pos)
            out[key.decode() if isinstance(key, bytes) else key], pos = unpack(buf, pos)
        return out, pos
    if 0x90 <= tag <= 0x9F or tag in (0xDC, 0xDD):
        size, pos = ((tag & 0x0F, pos) if tag <= 0x9F else
                     (struct.unpack(">H", take(2))[0], pos + 2) if tag == 0xDC else (struct.unpack(">I", take(4))[0], pos + 4))
        out = []
        for dummy in range(size):
            item, pos = unpack(buf, pos)
            out.append(item)
        return out, pos
    if 0xA0 <= tag <= 0xBF or tag in (0xC4, 0xC5, 0xC6, 0xD9, 0xDA, 0xDB):
        if tag <= 0xBF:
            size = tag & 0x1F
        else:
            width = {0xC4: 1, 0xD9: 1, 0xC5: 2, 0xDA: 2, 0xC6: 4, 0xDB: 4}[tag]
            size = int.from_bytes(take(width), "big")
            pos += width
        return bytes(take(size)), pos + size
    fixed = {0xC0: (0, None), 0xC2: (0, False), 0xC3: (0, True), 0xCC: (1, ">B"), 0xCD: (2, ">H"), 0xCE: (4, ">I"),
             0xCF: (8, ">Q"), 0xD0: (1, ">b"), 0xD1: (2, ">h"), 0xD2: (4, ">i"), 0xD3: (8, ">q")}
    if tag in fixed:
        width, fmt = fixed[tag]
        if width == 0:
            return fmt, pos
        return struct.unpack(fmt, take(width))[0], pos + width
    raise ValueError(f"msgpack: type 0x{tag:02x} not expected in a memberlist message")


# ------------------------------------------------------------------ LZW (Go's compress/lzw, LSB order, 8-bit literals)
def lzw_decode(data: bytes) -> bytes:
    clear, eof, max_width = 256, 257, 12
    width, hi, overflow, last = 9, eof, 1 << 9, None
    table: dict[int, bytes] = {}
    out = bytearray()
    acc = nbits = index = 0
    while True:
        while nbits < width:
            if index >= len(data):
                raise ValueError("lzw: truncated")
            acc |= data[index] << nbits
            index += 1
            nbits += 8
        code = acc & ((1 << width) - 1)
        acc >>= width
        nbits -= width
        if code == clear:
            width, hi, overflow, last = 9, eof, 1 << 9, None
            continue
        if code == eof:
            return bytes(out)
        if code < clear:
            current = bytes([code])
        elif code < hi and code in table:
            current = table[code]
        elif code == hi and last is not None:
            previous = table[last] if last > eof else bytes([last])
            current = previous + previous[:1]
        else:
            raise ValueError("lzw: invalid code")
        if last is not None:
            table[hi] = (table[last] if last > eof else bytes([last])) + current[:1]
        out += current
        last, hi = code, hi + 1
        if hi >= overflow:
            if width == max_width:
                last, hi = None, hi - 1
            else:
                width, overflow = width + 1, overflow << 1


# ------------------------------------------------------------------ packets
def derive_key(secret: bytes | str | None) -> bytes | None:
    """MetalLB's memberlist key from the ``secretkey`` it reads (speakerlist.New): ``sha256.New().Sum(secret)[:32]``."""
    if not secret:
        return None
    raw = secret.encode() if isinstance(secret, str) else bytes(secret)
    return (raw + hashlib.sha256(b"").digest())[:32]


def can_encrypt() -> bool:
    return AESGCM is not None


def encrypt(key: bytes, plain: bytes, nonce: bytes | None = None) -> bytes:
    nonce = nonce or os.urandom(NONCE)
    return bytes([ENCRYPTION_VERSION]) + nonce + AESGCM(key).encrypt(nonce, plain, b"")


def decrypt(key: bytes, packet: bytes) -> bytes:
    if len(packet) < 1 + NONCE + 16 or packet[0] > ENCRYPTION_VERSION:
        raise ValueError("not an encrypted memberlist packet")
    plain = AESGCM(key).decrypt(packet[1:1 + NONCE], packet[1 + NONCE:], b"")
    if packet[0] == 0:  # version 0: PKCS#7 padding inside the ciphertext
        plain = plain[:-plain[-1]] if plain else plain
    return plain


def ping_packet(seq: int, node: str, key: bytes | None = None, nonce: bytes | None = None) -> bytes:
    """A memberlist ping for ``node`` (the target's memberlist name, MetalLB's node name): encrypted with ``key``."""
    plain = bytes([PING]) + b"\x82" + _pack_str("SeqNo") + _pack_uint(seq) + _pack_str("Node") + _pack_str(node)
    return encrypt(key, plain, nonce) if key else plain


def messages(plain: bytes) -> list[tuple[int, bytes]]:
    """The messages in a decrypted packet: ``[(type, body)]``, unwrapping CRC, compression and compound messages."""
    if not plain:
        raise ValueError("empty message")
    kind, body = plain[0], plain[1:]
    if kind == HAS_CRC:
        if len(body) < 4 or zlib.crc32(body[4:]) != struct.unpack(">I", body[:4])[0]:
            raise ValueError("bad CRC")
        return messages(body[4:])
    if kind == COMPRESS:
        wrapped, dummy = unpack(body)
        if not isinstance(wrapped, dict) or wrapped.get("Algo") != 0:
            raise ValueError("unknown compression")
        return messages(lzw_decode(wrapped.get("Buf") or b""))
    if kind == COMPOUND:
        if not body:
            raise ValueError("empty compound message")
        count = body[0]
        lengths = struct.unpack(f">{count}H", body[1:1 + 2 * count])
        pos, out = 1 + 2 * count, []
        for length in lengths:
            out += messages(body[pos:pos + length])
            pos += length
        return out
    return [(kind, body)]


def ack_seq(reply: bytes, key: bytes | None) -> int:
    """The sequence number a memberlist ack in ``reply`` acknowledges; ``ValueError`` naming why it is no ack."""
    try:
        plain = decrypt(key, reply) if key else reply
    except Exception as exc:  # cryptography's InvalidTag has no message
        raise ValueError(f"not decryptable with the cluster's memberlist key ({type(exc).__name__})") from None
    for kind, body in messages(plain):
        if kind == ACK:
            value, dummy = unpack(body)
            if isinstance(value, dict) and isinstance(value.get("SeqNo"), int):
                return value["SeqNo"]
    raise ValueError("no ack in the answer")


# ------------------------------------------------------------------ what the speakers do
def _is_speaker(obj: dict) -> bool:
    labels = dig(obj, "metadata", "labels", default={}) or {}
    return any(labels.get(k1) == v1 and labels.get(k2) == v2 for k1, v1, k2, v2 in SPEAKER_LABELS)


def speaker_settings(daemonsets: list | None) -> dict:
    """Memberlist as the speaker DaemonSet runs it: ``{installed, enabled, port, bind, secret, reason}``.

    ``bind``: ``node`` (the pod or host IP of a hostNetwork pod) or the literal address; ``secret``: the Secret mounted at
    ``METALLB_ML_SECRET_KEY_PATH`` (or None: memberlist unencrypted)."""
    speakers = [ds for ds in daemonsets or [] if _is_speaker(ds)]
    if not speakers:
        return {"installed": False, "enabled": True, "port": DEFAULT_PORT, "bind": "node", "secret": None,
                "reason": "no speaker DaemonSet yet: MetalLB's manifests' memberlist port 7946 on the nodes' addresses"}
    spec = dig(speakers[0], "spec", "template", "spec", default={}) or {}
    container = next((c for c in spec.get("containers") or [] if c.get("name") == "speaker"), (spec.get("containers") or [{}])[0])
    env = {}
    for item in container.get("env") or []:
        field = dig(item, "valueFrom", "fieldRef", "fieldPath")
        env[item.get("name")] = ("$" + field) if field else str(item.get("value", ""))
    args = [str(arg) for arg in container.get("args") or []]
    for index, arg in enumerate(args):  # a flag wins over its variable (--ml-bindport=7947 or --ml-bindport 7947)
        name, sep, value = arg.lstrip("-").partition("=")
        if name in FLAGS and arg.startswith("-"):
            env[FLAGS[name]] = value if sep else (args[index + 1] if index + 1 < len(args) else "")
    bind, labels = env.get("METALLB_ML_BIND_ADDR", ""), env.get("METALLB_ML_LABELS", "")
    try:
        port = int(env.get("METALLB_ML_BIND_PORT") or DEFAULT_PORT)
    except ValueError:
        port = DEFAULT_PORT
    secret = None
    path = env.get("METALLB_ML_SECRET_KEY_PATH", "").rstrip("/")
    if path:
        volume = next((m.get("name") for m in container.get("volumeMounts") or [] if str(m.get("mountPath", "")).rstrip("/") == path), None)
        secret = next((dig(v, "secret", "secretName") for v in spec.get("volumes") or [] if v.get("name") == volume), None)
    enabled = bool(bind and labels)
    return {"installed": True, "enabled": enabled, "port": port,
            "bind": "node" if bind.startswith("$") or not bind else bind, "secret": secret,
            "reason": "" if enabled else "memberlist is off (no ml-bindaddr or ml-labels): the speakers do not talk to each other"}


def _internal_ip(node: dict) -> str | None:
    addresses = dig(node, "status", "addresses", default=[]) or []
    return next((a.get("address") for a in addresses if a.get("type") == "InternalIP"), None)


def plan(nodes: list | None, daemonsets: list | None, speaker_pods: list | None, secret: bytes | None,
         seq_base: int | None = None) -> dict:
    """What each node probes: ``{enabled, port, keyed, reason, targets: [{node, address, port, seq, listening, packet}]}``.

    ``listening``: a running speaker pod is on that node (memberlist must answer there); ``packet``: the ping, base64,
    encrypted when the speakers use a key (``None``: UDP is not probed, said in ``reason``)."""
    settings = speaker_settings(daemonsets)
    out = {"enabled": settings["enabled"], "port": settings["port"], "keyed": False, "reason": settings["reason"], "targets": []}
    if not settings["enabled"]:
        return out
    running = {dig(p, "spec", "nodeName"): dig(p, "status", "podIP") for p in speaker_pods or []
               if _is_speaker(p) and dig(p, "status", "phase") == "Running" and not dig(p, "metadata", "deletionTimestamp")}
    key = derive_key(secret) if settings["secret"] else None
    udp = True
    if settings["secret"] and key is None:
        udp, out["reason"] = False, f"the memberlist Secret {settings['secret']} has no {SECRET_FILE} yet: UDP not probed"
    elif key and not can_encrypt():
        udp, out["reason"] = False, "no Python cryptography on the controller to encrypt the memberlist ping: UDP not probed"
    out["keyed"] = bool(key) and udp
    seq = seq_base if seq_base is not None else int.from_bytes(os.urandom(3), "big")
    for index, node in enumerate(sorted(nodes or [], key=lambda n: dig(n, "metadata", "name") or "")):
        name = dig(node, "metadata", "name")
        address = settings["bind"] if settings["bind"] != "node" else (running.get(name) or _internal_ip(node))
        if not name or not address:
            continue
        number = (seq + index) & 0xFFFFFFFF
        packet = ping_packet(number, name, key if out["keyed"] else None) if udp else None
        out["targets"].append({"node": name, "address": address, "port": settings["port"], "seq": number,
                               "listening": name in running, "keyed": out["keyed"],
                               "packet": base64.b64encode(packet).decode() if packet is not None else None})
    return out


# ------------------------------------------------------------------ judging the answers
def judge_tcp(outcome: str, listening: bool) -> str:
    """``open``, ``blocked``, ``not_listening`` or ``unknown``: a refusal came from the node's kernel, so the path is open."""
    if outcome == "connected":
        return "open"
    if outcome == "refused":
        return "not_listening" if listening else "open"
    if outcome in ("unreachable", "timeout"):
        return "blocked"
    return "unknown"


def judge_udp(outcome: str, listening: bool, reply: bytes | None, seq: int, key: bytes | None, keyed: bool) -> tuple[str, str]:
    """``(verdict, why)``. An ICMP port unreachable (``refused``) proves the datagram arrived; silence proves nothing
    arrived only when something would have answered: the speaker (the ping was for it, with its key) or the kernel."""
    if outcome == "not_probed":
        return "unknown", "UDP not probed"
    if outcome == "answered":
        if not listening and not keyed:
            return "open", "an answer"
        try:
            got = ack_seq(reply or b"", key if keyed else None)
        except ValueError as exc:
            return "foreign", f"an answer that is not memberlist's ack: {exc}"
        return ("open", "memberlist ack") if got == seq else ("foreign", f"an ack for sequence {got}, not {seq}")
    if outcome == "refused":
        return ("not_listening", "ICMP port unreachable: nothing listens") if listening else ("open", "ICMP port unreachable")
    if outcome == "unreachable":
        return "blocked", "ICMP unreachable (rejected or no route)"
    if outcome == "silent":
        if listening and not keyed and key:
            return "unknown", "no answer to an unencrypted ping"
        return "blocked", "no answer and no ICMP port unreachable: dropped"
    return "unknown", outcome


def evaluate(probes: list | None, key: bytes | None) -> list[dict]:
    """Each pair: ``{source, target, address, port, tcp, udp, udp_why}`` from the nodes' ``memberlist_probe`` results."""
    pairs = []
    for probe in probes or []:
        if not isinstance(probe, dict):
            continue
        for res in probe.get("results") or []:
            listening = bool(res.get("listening"))
            reply = base64.b64decode(res["reply"]) if res.get("reply") else None
            udp, why = judge_udp(str(res.get("udp")), listening, reply, int(res.get("seq") or 0), key, bool(res.get("keyed")))
            pairs.append({"source": probe.get("source"), "target": res.get("node"), "address": res.get("address"),
                          "port": res.get("port"), "tcp": judge_tcp(str(res.get("tcp")), listening), "udp": udp, "udp_why": why})
    return sorted(pairs, key=lambda p: (str(p["source"]), str(p["target"])))


def findings(pairs: list[dict], layer2: bool) -> list[tuple]:
    """``[(id, severity, message, fix, objects)]``: blocked pairs (an error when layer 2 is in use: split brain), speakers
    that do not answer, answers that are not memberlist's."""
    out = []

    def line(pair, verdict):
        protocols = " and ".join(p.upper() for p in ("tcp", "udp") if pair[p] == verdict)
        return f"{pair['source']} -> {pair['target']} ({pair['address']}:{pair['port']}) {protocols}"

    blocked = [p for p in pairs if "blocked" in (p["tcp"], p["udp"])]
    if blocked:
        ports = sorted({str(p["port"]) for p in blocked})
        out.append((
            "memberlist_blocked", "error" if layer2 else "warning",
            f"Speakers cannot reach each other's memberlist port: {'; '.join(line(p, 'blocked') for p in blocked)}. "
            + ("Each speaker then declares the other dead and elects itself for the same layer 2 VIPs: two nodes answer ARP "
               "for one address (split brain)." if layer2 else "Node failure detection between them is lost (no layer 2 pool now)."),
            f"Open port {'/'.join(ports)} TCP and UDP between the nodes' addresses in both directions (host firewalls, security "
            "groups, NetworkPolicies of the host network).",
            sorted({f"node/{p['target']}" for p in blocked} | {f"node/{p['source']}" for p in blocked})))
    quiet = [p for p in pairs if "not_listening" in (p["tcp"], p["udp"]) and p not in blocked]
    if quiet:
        out.append((
            "memberlist_not_answering", "warning",
            f"A speaker runs on the node but nothing answers on its memberlist port: {'; '.join(line(p, 'not_listening') for p in quiet)}.",
            "Look at that node's speaker (kubectl -n metallb-system logs for 'memberlist'): its bind address and port must be the "
            "node's address and METALLB_ML_BIND_PORT.",
            sorted({f"node/{p['target']}" for p in quiet})))
    foreign = [p for p in pairs if p["udp"] == "foreign"]
    if foreign:
        out.append((
            "memberlist_not_answering", "warning",
            "The memberlist port answers, but not with memberlist's ack for this cluster's key: "
            + "; ".join(f"{p['source']} -> {p['target']} ({p['address']}:{p['port']}): {p['udp_why']}" for p in foreign) + ".",
            "Make sure nothing else uses the memberlist port on those nodes and that every speaker mounts the same memberlist Secret.",
            sorted({f"node/{p['target']}" for p in foreign})))
    return out


def summary(pairs: list[dict]) -> str:
    """One line for the output: how many pairs and protocols were open."""
    if not pairs:
        return "memberlist: not probed between nodes"
    good = sum(1 for p in pairs if p["tcp"] == "open" and p["udp"] == "open")
    return f"memberlist: {good} of {len(pairs)} node pair(s) open on TCP and UDP"
