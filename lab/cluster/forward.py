# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""TCP relay: the API server, reachable from the root namespace on 127.0.0.1:PORT.

Why: Ansible (and the tests) run in the root network namespace, which has no route into the
lab, and nothing of the lab may be put there (no address, no veth). The relay gets both
namespaces without any route: `clusterctl up` binds the listening socket on 127.0.0.1 in the
*root* namespace and hands its file descriptor to this process, which it starts with
`nsenter --net` *inside* NAME-control. A socket stays in the namespace it was created in, so
accepted connections come from root-namespace clients while every outgoing connect() happens in
the control namespace, to https://198.51.100.2:6443. TLS is end to end (the serving cert has
IP:127.0.0.1 in its SANs); the relay only copies bytes. Only loopback of the root namespace
is exposed, never a routable address.

usage: python3 forward.py --fd N --target HOST:PORT   (stdlib only; one thread per direction)
"""
from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading


def pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while data := src.recv(65536):
            dst.sendall(data)
    except OSError:
        pass
    finally:
        # half-close: the other direction may still be sending (e.g. the end of a response)
        for s, how in ((dst, socket.SHUT_WR), (src, socket.SHUT_RD)):
            try:
                s.shutdown(how)
            except OSError:
                pass


def serve(listener: socket.socket, target: tuple[str, int]) -> None:
    while True:
        conn, _ = listener.accept()
        try:
            upstream = socket.create_connection(target, timeout=5)
            upstream.settimeout(None)
        except OSError:
            conn.close()
            continue
        for s in (conn, upstream):
            s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        t1 = threading.Thread(target=pipe, args=(conn, upstream), daemon=True)
        t2 = threading.Thread(target=pipe, args=(upstream, conn), daemon=True)
        t1.start()
        t2.start()
        threading.Thread(target=_close_when_done, args=(t1, t2, conn, upstream), daemon=True).start()


def _close_when_done(t1, t2, *socks) -> None:
    t1.join()
    t2.join()
    for s in socks:
        s.close()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--fd", type=int, required=True)
    ap.add_argument("--target", required=True)
    a = ap.parse_args()
    host, port = a.target.rsplit(":", 1)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    listener = socket.socket(fileno=a.fd)
    serve(listener, (host, int(port)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
