# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The node's side of the memberlist reachability check: a TCP connect and one UDP datagram per target (stdlib only,
run by ``memberlist_probe`` on each node). Raw outcomes; ``memberlist.py`` judges them on the controller.

TCP: ``connected``, ``refused`` (RST: the node's kernel answered, nothing listens), ``unreachable`` (ICMP host or
admin prohibited, no route), ``timeout`` (dropped). UDP, on a connected socket so that ICMP errors reach it:
``answered`` (the first datagram back, base64 in ``reply``), ``refused`` (ICMP port unreachable), ``unreachable``,
``silent`` (nothing within the timeout, the datagram resent ``attempts`` times), ``not_probed`` (no packet given).
"""

from __future__ import annotations

import base64
import errno
import socket
import time
from concurrent.futures import ThreadPoolExecutor

UNREACHABLE = {errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EACCES, errno.EPERM, errno.EHOSTDOWN}


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def tcp(address: str, port: int, timeout: float) -> tuple[str, str]:
    sock = socket.socket(_family(address), socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((address, port))
        return "connected", ""
    except socket.timeout:
        return "timeout", f"no answer in {timeout:g} s"
    except ConnectionRefusedError:
        return "refused", "connection refused"
    except OSError as exc:
        return ("unreachable" if exc.errno in UNREACHABLE else "error"), str(exc)
    finally:
        sock.close()


def udp(address: str, port: int, packet: bytes | None, timeout: float, attempts: int = 3) -> tuple[str, str, bytes | None]:
    if packet is None:
        return "not_probed", "no packet", None
    sock = socket.socket(_family(address), socket.SOCK_DGRAM)
    try:
        sock.connect((address, port))
        deadline = time.monotonic() + timeout
        for attempt in range(max(1, attempts)):
            sock.send(packet)
            # the attempts share the timeout; the last one waits for the rest of it
            wait_until = deadline if attempt == attempts - 1 else time.monotonic() + timeout / max(1, attempts)
            while True:
                left = wait_until - time.monotonic()
                if left <= 0:
                    break
                sock.settimeout(left)
                try:
                    return "answered", "", sock.recv(65535)
                except socket.timeout:
                    break
        return "silent", f"no answer in {timeout:g} s ({attempts} datagrams)", None
    except ConnectionRefusedError:
        return "refused", "ICMP port unreachable", None
    except OSError as exc:
        return ("unreachable" if exc.errno in UNREACHABLE else "error"), str(exc), None
    finally:
        sock.close()


def probe(target: dict, timeout: float, attempts: int) -> dict:
    address, port = str(target["address"]), int(target["port"])
    packet = base64.b64decode(target["packet"]) if target.get("packet") else None
    started = time.monotonic()
    tcp_outcome, tcp_detail = tcp(address, port, timeout)
    udp_outcome, udp_detail, reply = udp(address, port, packet, timeout, attempts)
    return {**{k: v for k, v in target.items() if k != "packet"},
            "tcp": tcp_outcome, "tcp_detail": tcp_detail, "udp": udp_outcome, "udp_detail": udp_detail,
            "reply": base64.b64encode(reply).decode() if reply is not None else None,
            "seconds": round(time.monotonic() - started, 3)}


def probe_all(targets: list[dict], timeout: float = 2.0, attempts: int = 3) -> list[dict]:
    """Every target at once (one thread each), in the order given."""
    if not targets:
        return []
    with ThreadPoolExecutor(max_workers=min(32, len(targets))) as pool:
        return list(pool.map(lambda t: probe(t, timeout, attempts), targets))
