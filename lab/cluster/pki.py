# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The cluster's certificates, made with openssl into the lab's state dir (keys never leave it).

Like kubeadm: one cluster CA (EC P-256) for serving and client certs; a separate front-proxy CA
and client (the requestheader settings; without them KCM and the scheduler log "missing content
for CA bundle requestheader-client-ca-file" on every start); an RSA key pair for service-account
tokens. KCM and the scheduler get their own identities, so the bootstrap RBAC roles apply to
them as in a real cluster; kwok and the admin kubeconfig use system:masters.
"""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

from . import versions as V

DAYS = "30"


def _openssl(*args: str, cwd: Path) -> None:
    p = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"openssl {' '.join(args)}: {p.stderr.strip()}")


def _ca(d: Path, name: str, cn: str) -> None:
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.crt", "-days", DAYS, "-subj", f"/CN={cn}", cwd=d)


def _sign(d: Path, ca: str, name: str, subj: str, eku: str = "clientAuth", san: str = "") -> None:
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", subj, cwd=d)
    ext = ["basicConstraints=CA:FALSE", "keyUsage=critical,digitalSignature,keyEncipherment",
           f"extendedKeyUsage={eku}"] + ([f"subjectAltName={san}"] if san else [])
    (d / f"{name}.ext").write_text("\n".join(ext) + "\n")
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt", "-CAkey", f"{ca}.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", DAYS, "-extfile", f"{name}.ext", cwd=d)
    (d / f"{name}.csr").unlink()
    (d / f"{name}.ext").unlink()


def ensure(d: Path) -> None:
    """Create the PKI in d unless it is complete already (idempotent `up`)."""
    if (d / ".complete").exists():
        return
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    _ca(d, "ca", "metallb-lab-ca")
    sans = ",".join([f"IP:{ip}" for ip in ("127.0.0.1", V.CONTROL_ADDRESS, str(V.KUBERNETES_SVC_IP))]
                    + [f"DNS:{n}" for n in ("localhost", "kubernetes", "kubernetes.default",
                                           "kubernetes.default.svc", "kubernetes.default.svc.cluster.local")])
    _sign(d, "ca", "apiserver", "/CN=kube-apiserver", "serverAuth", sans)
    _sign(d, "ca", "admin", "/O=system:masters/CN=kubernetes-admin")
    _sign(d, "ca", "controller-manager", "/CN=system:kube-controller-manager")
    _sign(d, "ca", "scheduler", "/CN=system:kube-scheduler")
    _ca(d, "front-proxy-ca", "front-proxy-ca")
    _sign(d, "front-proxy-ca", "front-proxy-client", "/CN=front-proxy-client")
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=d)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=d)
    for f in d.glob("*.key"):
        os.chmod(f, 0o600)
    (d / ".complete").write_text("")


def kubeconfig(d: Path, user: str, server: str) -> str:
    """A kubeconfig for the cert pair `user`; it refers to the files in d (keys stay there)."""
    return f"""apiVersion: v1
kind: Config
clusters:
- name: lab
  cluster:
    server: {server}
    certificate-authority: {d / 'ca.crt'}
users:
- name: {user}
  user:
    client-certificate: {d / (user + '.crt')}
    client-key: {d / (user + '.key')}
contexts:
- name: lab
  context: {{cluster: lab, user: {user}}}
current-context: lab
"""
