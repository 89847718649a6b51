# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubelet emulation for one Secret volume: keep DIR = the Secret's data.

Why: MetalLB's controller generates its webhook certificate into the Secret
metallb-webhook-cert and then waits for tls.crt to appear in its cert dir, which in a pod the
kubelet projects from that Secret. kwok runs no kubelet, so without this the webhook server
never starts (FINDINGS.md, step 5, pitfall 1). Files are replaced atomically (rename), as the
kubelet's atomic writer does.

usage: python3 projector.py --server URL --ca F --cert F --key F --namespace NS --secret NAME --dir DIR
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import ssl
import sys
import time
from urllib.parse import urlparse


def main() -> int:
    ap = argparse.ArgumentParser()
    for a in ("server", "ca", "cert", "key", "namespace", "secret", "dir"):
        ap.add_argument(f"--{a}", required=True)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    ctx = ssl.create_default_context(cafile=a.ca)
    ctx.load_cert_chain(a.cert, a.key)
    u = urlparse(a.server)
    os.makedirs(a.dir, exist_ok=True)
    last = None
    while True:
        try:
            conn = http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=5)
            conn.request("GET", f"/api/v1/namespaces/{a.namespace}/secrets/{a.secret}")
            r = conn.getresponse()
            body = r.read()
            conn.close()
            data = json.loads(body).get("data") or {} if r.status == 200 else {}
        except (OSError, http.client.HTTPException, ValueError):
            data = {}
        if data.get("tls.crt") and data != last:
            for k, v in data.items():
                tmp = os.path.join(a.dir, f".{k}.tmp")
                with open(tmp, "wb") as f:
                    f.write(base64.b64decode(v))
                os.chmod(tmp, 0o600)
                os.replace(tmp, os.path.join(a.dir, k))
            print(f"{time.strftime('%H:%M:%S')} projected {a.namespace}/{a.secret} ({', '.join(sorted(data))})",
                  flush=True)
            last = data
        time.sleep(0.5)


if __name__ == "__main__":
    sys.exit(main())
