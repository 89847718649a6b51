# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab's echo server and its test clients (stdlib only, Python 3.11).

No container image runs in the lab: for a pod that opts in to the data path (datapath.py) this
server stands in for the workload, in the pod's own network namespace. It answers every HTTP
request (HTTP/1.1, keep-alive) with one JSON line saying what it saw:

    {"pod": "ns/name", "node": "node2", "pod_ip": "198.18.1.3", "pod_ips": ["198.18.1.3", "2001:db8:18:1::3"],
     "local": "198.18.1.3:8080", "family": "IPv4", "source": "198.51.100.11", "source_port": 41234}

`source` is the address the packet arrived from *in the pod*: the client's own address when
nothing rewrote it (externalTrafficPolicy Local), a node address after kube-proxy's SNAT. A pod
with an IPv6 address (the lab is dual-stack) listens on both families, each socket its own
(IPv6-only, so an IPv4 client shows as 198.51.100.100, never as ::ffff:198.51.100.100);
`family` is the one the request came over.

    echo.py serve --pod NS/NAME --node NODE --pod-ip IP [--pod-ip IP6] --port 8080 [--port ...]
    echo.py get  HOST PORT [--count N] [--keepalive] [--timeout S]    # JSON list of answers
    echo.py hold HOST PORT --conns N --duration S [--interval S]      # long-lived connections

`get` opens a new TCP connection per request (new source port: ECMP and kube-proxy's random
choice see a new flow each time) unless --keepalive. `hold` opens N connections, prints one JSON
line once all answered, keeps asking on each connection every --interval seconds for --duration
seconds and then prints a JSON line per connection: the first answer, how many succeeded,
whether (and when, in seconds since the first line) it broke, and every pod that answered it.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


# ----------------------------------------------------------------------------- server

def make_handler(identity: dict):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection, many answers

        def do_GET(self):  # noqa: N802 - http.server's naming
            local = self.connection.getsockname()
            v6 = ":" in local[0]
            body = (json.dumps({**identity, "local": f"[{local[0]}]:{local[1]}" if v6 else f"{local[0]}:{local[1]}",
                                "family": "IPv6" if v6 else "IPv4",
                                "source": self.client_address[0], "source_port": self.client_address[1]})
                    + "\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):  # one line per request would flood the log
            pass

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128


class Server6(Server):
    address_family = socket.AF_INET6

    def server_bind(self):
        # this socket takes IPv6 only; the IPv4 one beside it takes IPv4
        self.socket.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        super().server_bind()


def serve(args) -> int:
    identity = {"pod": args.pod, "node": args.node, "pod_ip": args.pod_ip[0], "pod_ips": args.pod_ip}
    handler = make_handler(identity)
    servers = [Server(("0.0.0.0", p), handler) for p in args.port]
    if any(ipaddress.ip_address(ip).version == 6 for ip in args.pod_ip):
        servers += [Server6(("::", p), handler) for p in args.port]
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    for s in servers:
        threading.Thread(target=s.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True).start()
    print(f"echo: pod {args.pod} on {args.node}, {args.pod_ip} ports {args.port}, pid {os.getpid()}", flush=True)
    if args.ready_file:  # the sockets listen from here on; the data path reports the pod wired only then
        Path(args.ready_file).write_text(f"{os.getpid()}\n")
    stop.wait()
    for s in servers:
        s.shutdown()
        s.server_close()
    return 0


# ----------------------------------------------------------------------------- clients

def _request(sock: socket.socket, host: str, buf: bytearray) -> dict:
    """One GET on an open connection; the answer's JSON."""
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    length = next(int(ln.split(b":", 1)[1]) for ln in head.split(b"\r\n") if ln.lower().startswith(b"content-length:"))
    body = bytearray(rest)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed by peer")
        body += chunk
    buf[:] = body[length:]
    return json.loads(body[:length])


def get(args) -> int:
    out = []
    sock, buf = None, bytearray()
    for _ in range(args.count):
        try:
            if sock is None:
                sock = socket.create_connection((args.host, args.port), timeout=args.timeout)
                buf = bytearray()
            out.append(_request(sock, args.host, buf))
        except (OSError, ValueError, StopIteration) as e:
            out.append({"error": f"{type(e).__name__}: {e}"})
            if sock:
                sock.close()
            sock = None
            continue
        if not args.keepalive:
            sock.close()
            sock = None
    if sock:
        sock.close()
    print(json.dumps(out))
    return 0


def hold(args) -> int:
    conns = []
    for _ in range(args.conns):
        s = socket.create_connection((args.host, args.port), timeout=args.timeout)
        b = bytearray()
        first = _request(s, args.host, b)
        conns.append({"sock": s, "buf": b, "first": first, "ok": 1, "broke": None, "error": "",
                      "pods": {first["pod"]}, "local_port": s.getsockname()[1]})
    t0 = time.monotonic()
    print(json.dumps({"open": len(conns), "first": [c["first"] for c in conns]}), flush=True)
    while time.monotonic() - t0 < args.duration:
        t = time.monotonic()
        for c in conns:
            if c["broke"] is not None:
                continue
            try:
                a = _request(c["sock"], args.host, c["buf"])
                c["ok"] += 1
                c["pods"].add(a["pod"])
            except (OSError, ValueError, StopIteration) as e:
                c["broke"] = round(time.monotonic() - t0, 2)
                c["error"] = f"{type(e).__name__}: {e}"
                c["sock"].close()
        time.sleep(max(0.0, args.interval - (time.monotonic() - t)))
    for c in conns:
        c["sock"].close()
        c["pods"] = sorted(c["pods"])
        del c["sock"], c["buf"]
        print(json.dumps(c), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="echo", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--pod", required=True)
    s.add_argument("--node", required=True)
    s.add_argument("--pod-ip", action="append", required=True, help="primary first; again for the other family")
    s.add_argument("--port", type=int, action="append", required=True)
    s.add_argument("--ready-file", help="written once every port listens")
    for name in ("get", "hold"):
        c = sub.add_parser(name)
        c.add_argument("host")
        c.add_argument("port", type=int)
        c.add_argument("--timeout", type=float, default=2.0)
        if name == "get":
            c.add_argument("--count", type=int, default=1)
            c.add_argument("--keepalive", action="store_true")
        else:
            c.add_argument("--conns", type=int, required=True)
            c.add_argument("--duration", type=float, required=True)
            c.add_argument("--interval", type=float, default=0.2)
    args = ap.parse_args(argv)
    return {"serve": serve, "get": get, "hold": hold}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
