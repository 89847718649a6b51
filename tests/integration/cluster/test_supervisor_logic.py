# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The MetalLB supervisor's decisions (lab/cluster/supervisor.py) on pod specs, without a lab:
which pods it runs, how it resolves env like a kubelet, how it mounts volumes. Plain data in,
plain data out; the real thing runs in test_cluster_lifecycle.py."""
from __future__ import annotations

import base64
from pathlib import Path
from types import SimpleNamespace

import pytest

from cluster import supervisor as S  # lab/ on sys.path: conftest.py

V = "v0.16.1"


def pod(labels: dict, containers: list[dict], **spec) -> dict:
    return {"metadata": {"name": "speaker-abcde", "namespace": "metallb-system", "uid": "u-1", "labels": labels},
            "spec": {"nodeName": "node2", "serviceAccountName": "speaker", "containers": containers, **spec},
            "status": {"phase": "Running", "podIP": "198.51.100.12", "hostIP": "198.51.100.12"}}


MANIFEST = {"app": "metallb", "component": "speaker"}
HELM = {"app.kubernetes.io/name": "metallb", "app.kubernetes.io/component": "controller"}
SPEAKER = {"name": "speaker", "image": f"quay.io/metallb/speaker:{V}"}


@pytest.mark.parametrize("labels, want", [
    (MANIFEST, "speaker"),
    (HELM, "controller"),
    ({"app": "metallb", "component": "frr-k8s"}, None),
    ({"app": "other", "component": "speaker"}, None),
    ({"app.kubernetes.io/name": "metallb"}, None),
])
def test_component_of_both_label_styles(labels, want):
    assert S.component_of(pod(labels, [SPEAKER])) == want


@pytest.mark.parametrize("image, tag", [
    ("quay.io/metallb/speaker:v0.16.1", "v0.16.1"),
    ("registry.local:5000/metallb/speaker:v0.15.2", "v0.15.2"),
    ("registry.local:5000/metallb/speaker", "latest"),
    ("quay.io/metallb/speaker:v0.16.1@sha256:abc", "v0.16.1"),
])
def test_image_tag(image, tag):
    assert S.image_tag(image) == tag


@pytest.mark.parametrize("containers, reason", [
    ([SPEAKER], None),
    ([{"name": "speaker", "image": "quay.io/metallb/speaker:v0.15.2"}], "v0.15.2"),
    ([SPEAKER, {"name": "frr", "image": "quay.io/frrouting/frr:10.5.3"},
      {"name": "reloader", "image": "quay.io/frrouting/frr:10.5.3"}], "FRR flavour"),
    ([{**SPEAKER, "env": [{"name": "METALLB_BGP_TYPE", "value": "frr-k8s"}]}], "FRR flavour"),
    ([{"name": "sidecar", "image": "busybox"}], "no speaker container"),
])
def test_only_what_the_lab_can_run(containers, reason):
    got = S.unsupported_reason(pod(MANIFEST, containers), "speaker", V)
    assert (got is None) if reason is None else (reason in got), got


def test_env_resolved_like_a_kubelet():
    env = [
        {"name": "METALLB_NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}},
        {"name": "METALLB_POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        {"name": "METALLB_ML_BIND_ADDR", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
        {"name": "METALLB_HOST", "valueFrom": {"fieldRef": {"fieldPath": "status.hostIP"}}},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "COMPONENT", "valueFrom": {"fieldRef": {"fieldPath": "metadata.labels['component']"}}},
        {"name": "METALLB_ML_SECRET_KEY", "valueFrom": {"secretKeyRef": {"name": "memberlist", "key": "secretkey"}}},
        {"name": "MISSING", "valueFrom": {"secretKeyRef": {"name": "nope", "key": "k", "optional": True}}},
        {"name": "BOTH", "value": "$(METALLB_NODE_NAME)/$(NS)/$(UNDEFINED)"},
    ]
    secrets = {("secrets", "memberlist"): {"secretkey": base64.b64decode(base64.b64encode(b"k3y"))}}
    got = S.resolve_env(pod(MANIFEST, [{**SPEAKER, "env": env}]), {**SPEAKER, "env": env},
                        lambda kind, name: secrets.get((kind, name)))
    assert got == {"METALLB_NODE_NAME": "node2", "METALLB_POD_NAME": "speaker-abcde",
                   "METALLB_ML_BIND_ADDR": "198.51.100.12", "METALLB_HOST": "198.51.100.12",
                   "NS": "metallb-system", "COMPONENT": "speaker", "METALLB_ML_SECRET_KEY": "k3y",
                   "BOTH": "node2/metallb-system/$(UNDEFINED)"}


def test_env_missing_required_secret_key_is_an_error():
    env = [{"name": "X", "valueFrom": {"secretKeyRef": {"name": "memberlist", "key": "secretkey"}}}]
    with pytest.raises(LookupError, match="memberlist"):
        S.resolve_env(pod(MANIFEST, [{**SPEAKER, "env": env}]), {**SPEAKER, "env": env}, lambda kind, name: None)


def test_volumes_mounted_at_their_path_in_a_private_overlay(tmp_path):
    """A missing mountPath (/etc/ml_secret_key) is made in an overlay of /etc whose upper dir is
    in the pod's state dir; an existing one (/tmp) is bind-mounted directly; a nested one is
    made inside the outer volume's own dir. Nothing is created on the machine."""
    c = SimpleNamespace(state=tmp_path, name="t")
    pp = S.PodProcess(SimpleNamespace(c=c), pod(MANIFEST, [SPEAKER]), "speaker")
    vol = tmp_path / "vol"
    mounts = [("/etc/metallb-lab-test/memberlist", vol / "b"), ("/etc/metallb-lab-test", vol / "a"),
              ("/etc/ml_secret_key_lab_test", vol / "c"), ("/tmp", vol / "d")]
    for dummy, d in mounts:
        d.mkdir(parents=True)
    script = pp.mount_script(mounts).splitlines()
    upper = pp.dir / "overlay" / "0" / "upper"
    assert script[0] == "set -e" and script[-1] == 'exec "$@"'
    overlays = [ln for ln in script if ln.startswith("mount -t overlay")]
    assert overlays == [f"mount -t overlay overlay -o lowerdir=/etc,upperdir={upper},"
                        f"workdir={pp.dir / 'overlay' / '0' / 'work'} /etc"]
    assert "mkdir -p /etc/metallb-lab-test" in script and "mkdir -p /etc/ml_secret_key_lab_test" in script
    assert f"mount --bind -o ro {vol / 'd'} /tmp" in script
    assert (vol / "a" / "memberlist").is_dir()  # nested: inside the outer volume's dir
    assert script.index(f"mount --bind -o ro {vol / 'a'} /etc/metallb-lab-test") < \
        script.index(f"mount --bind -o ro {vol / 'b'} /etc/metallb-lab-test/memberlist")
    assert not Path("/etc/metallb-lab-test").exists()


def test_projection_follows_the_object(tmp_path):
    S.project_dir(tmp_path, {"tls.crt": b"A", "tls.key": b"B"})
    (tmp_path / "nested").mkdir()
    S.project_dir(tmp_path, {"tls.crt": b"A2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nested", "tls.crt"]
    assert (tmp_path / "tls.crt").read_bytes() == b"A2" and (tmp_path / "tls.crt").stat().st_mode & 0o777 == 0o600
