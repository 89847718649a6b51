# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The MetalLB supervisor's decisions (lab/cluster/supervisor.py) on pod specs, without a lab:
which pods it runs, how it resolves env like a kubelet, how it mounts volumes. Plain data in,
plain data out; the real thing runs in test_cluster_lifecycle.py."""
from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from cluster import frr_pods as fp  # lab/ on sys.path: conftest.py
from cluster import supervisor as S

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
    assert fp.image_tag(image) == tag


VERSIONS = {"metallb": V, "frr-k8s": "v0.0.25"}
FILES = {"controller": "/b/controller", "speaker": "/b/speaker", "frr-k8s-controller": "/f/frr-k8s-controller",
         "statuscleaner": "/f/statuscleaner", "metrics": "/f/metrics", "status": "/f/status",
         "frr-k8s-module": "/m/frr-k8s@v0.0.25"}
FRR = "quay.io/frrouting/frr:10.4.3"
RELOADER_VOLS = [{"name": "reloader", "emptyDir": {}}, {"name": "frr-conf", "emptyDir": {}},
                 {"name": "frr-sockets", "emptyDir": {}}]


@pytest.mark.parametrize("containers, volumes, reason", [
    ([SPEAKER], [], None),
    ([{"name": "speaker", "image": "quay.io/metallb/speaker:v0.15.2"}], [], "v0.15.2"),
    # FRR mode: Debian's FRR for the FRR image, the reloader script from the pod's volume
    ([SPEAKER, {"name": "frr", "image": FRR, "command": ["/bin/sh", "-c", "/sbin/tini -- /usr/lib/frr/docker-start"],
                "volumeMounts": [{"name": "frr-conf", "mountPath": "/etc/frr"}]},
      {"name": "reloader", "image": FRR, "command": ["/etc/frr_reloader/frr-reloader.sh"],
       "volumeMounts": [{"name": "reloader", "mountPath": "/etc/frr_reloader"}]}], RELOADER_VOLS, None),
    ([SPEAKER, {"name": "reloader", "image": FRR, "command": ["/usr/local/bin/other.sh"]}], [], "neither docker-start"),
    ([{**SPEAKER, "env": [{"name": "METALLB_BGP_TYPE", "value": "frr-k8s"}]}], [], None),
    ([{"name": "sidecar", "image": "busybox"}], [], "busybox is none the lab runs"),
    ([{"name": "controller", "image": "quay.io/metallb/frr-k8s:v0.0.26", "command": ["/frr-k8s"]}], [], "v0.0.25"),
    ([{"name": "controller", "image": "quay.io/metallb/frr-k8s:v0.0.25", "command": ["/nope"]}], [], "/nope"),
])
def test_only_what_the_lab_can_run(containers, volumes, reason):
    got = S.unsupported_reason(pod(MANIFEST, containers, volumes=volumes), VERSIONS, FILES)
    assert (got is None) if reason is None else (reason in got), got


def test_frr_k8s_not_built_is_named():
    p = pod({}, [{"name": "controller", "image": "quay.io/metallb/frr-k8s:v0.0.25", "command": ["/frr-k8s"]}])
    assert "(not built)" in S.unsupported_reason(p, {"metallb": V}, {})


@pytest.mark.parametrize("labels, want", [
    ({"app": "frr-k8s", "app.kubernetes.io/component": "frr-k8s"}, "frr-k8s"),
    ({"app": "frr-k8s-webhook-server", "app.kubernetes.io/component": "statuscleaner"}, "statuscleaner"),
    ({"app.kubernetes.io/component": "speaker"}, None),
])
def test_frr_k8s_pods_recognised(labels, want):
    assert S.component_of(pod(labels, [SPEAKER])) == want


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


def test_volumes_mounted_at_their_path_in_a_private_overlay(tmp_path, request):
    """A missing mountPath (/etc/ml_secret_key) is made in an overlay of its nearest existing
    parent, decided inside the namespace (the node's mount namespace differs from the
    machine's), overlays before every bind (an overlay hides the mounts below it); a nested
    one is made inside the outer volume's own dir. Nothing is created on the machine."""
    vol = Path(tempfile.mkdtemp(dir="/var/tmp"))  # outside /tmp, as the lab's volumes (/run)
    request.addfinalizer(lambda: shutil.rmtree(vol))
    mounts = [("/etc/metallb-lab-test/memberlist", str(vol / "b"), True), ("/etc/metallb-lab-test", str(vol / "a"), True),
              ("/etc/ml_secret_key_lab_test", str(vol / "c"), True), ("/tmp", str(vol / "d"), False)]
    for dummy, d, ro in mounts:
        Path(d).mkdir(parents=True)
    script = fp.mount_script(mounts, str(tmp_path / "ov")).splitlines()
    assert script[0] == f"W={tmp_path / 'ov'}" and script[1] == "DIRECT=''" and script[-1] == 'exec "$@"'
    assert "ensure /etc/metallb-lab-test" in script and "ensure /etc/ml_secret_key_lab_test" in script
    assert "ensure /etc/metallb-lab-test/memberlist" not in script
    assert f"mount -n --bind {vol / 'd'} /tmp" in script
    assert (vol / "a" / "memberlist").is_dir()  # nested: inside the outer volume's dir
    binds = [ln for ln in script if ln.startswith("mount -n --bind")]
    assert script.index(binds[0]) > max(i for i, ln in enumerate(script) if ln.startswith("ensure "))
    assert binds.index(f"mount -n --bind -o ro {vol / 'a'} /etc/metallb-lab-test") < \
        binds.index(f"mount -n --bind -o ro {vol / 'b'} /etc/metallb-lab-test/memberlist")
    assert not Path("/etc/metallb-lab-test").exists()


def test_projection_follows_the_object(tmp_path):
    S.project_dir(tmp_path, {"tls.crt": b"A", "tls.key": b"B"})
    (tmp_path / "nested").mkdir()
    S.project_dir(tmp_path, {"tls.crt": b"A2"})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nested", "tls.crt"]
    assert (tmp_path / "tls.crt").read_bytes() == b"A2" and (tmp_path / "tls.crt").stat().st_mode & 0o777 == 0o600


def test_a_cache_under_tmp_stays_visible_behind_the_private_tmp(tmp_path):
    """METALLB_LAB_CACHE (or GOMODCACHE) under /tmp: every container gets a /tmp of its own, which
    would hide the binaries it runs ("exec: not found"); the script binds the cache aside first
    and puts it back inside the private /tmp. Run for real in a private mount namespace."""
    assert str(tmp_path).startswith("/tmp/"), tmp_path
    cache, private = tmp_path / "cache", Path(tempfile.mkdtemp(dir="/var/tmp"))
    (private / "tmp").mkdir()
    try:
        (cache / "bin").mkdir(parents=True)
        program = cache / "bin" / "hello"
        program.write_text("#!/bin/sh\necho hello from $0; ls /tmp\n")
        program.chmod(0o755)
        (private / "tmp" / "only-in-private-tmp").touch()
        mounts = [("/tmp", str(private / "tmp"), False), (str(cache), str(cache), True)]
        script = fp.mount_script(mounts, str(private / "ov"))  # the lab's is under /run
        out = subprocess.run(["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", str(program)],
                             capture_output=True, text=True, timeout=30, check=False)
        assert out.returncode == 0, (out.stderr, script)
        assert out.stdout.splitlines()[0] == f"hello from {program}"
        assert "only-in-private-tmp" in out.stdout.split(), out.stdout  # the container's own /tmp
    finally:
        shutil.rmtree(private)
