# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The containers of a pod as the lab's supervisor runs them (lab/cluster/frr_pods.py), without
a lab: which program each image's command maps to, in which namespaces, what the init
containers copy, what `clusterctl status` shows per node. Pod specs shaped like frr-k8s's
daemon pod in MetalLB v0.16.1's metallb-frr-k8s.yaml; the real thing runs in test_frr_k8s.py."""
from __future__ import annotations

import pytest

from cluster import frr_pods as fp  # lab/ on sys.path: conftest.py

FRR = "quay.io/frrouting/frr:10.4.3"
FRRK8S = "quay.io/metallb/frr-k8s:v0.0.25"
VERSIONS = {"metallb": "v0.16.1", "frr-k8s": "v0.0.25"}
FILES = {"speaker": "/b/speaker", "controller": "/b/controller", "frr-k8s-controller": "/f/frr-k8s-controller",
         "statuscleaner": "/f/statuscleaner", "metrics": "/f/metrics", "status": "/f/status"}
KINDS = {"frr-sockets": "emptyDir", "frr-conf": "emptyDir", "reloader": "emptyDir", "metrics": "emptyDir",
         "frr-status": "emptyDir", "frr-startup": "configMap", "kube-api-access-x": "projected"}


def vm(name, path):
    return {"name": name, "mountPath": path}


CONTROLLER = {"name": "controller", "image": FRRK8S, "command": ["/frr-k8s"],
              "args": ["--node-name=$(NODE_NAME)", "--namespace=$(NAMESPACE)"],
              "volumeMounts": [vm("reloader", "/etc/frr_reloader"),
                               vm("kube-api-access-x", "/var/run/secrets/kubernetes.io/serviceaccount")]}
FRR_DAEMONS = {"name": "frr", "image": FRR, "command": ["/bin/sh", "-c", "/sbin/tini -- /usr/lib/frr/docker-start"],
               "volumeMounts": [vm("frr-sockets", "/var/run/frr"), vm("frr-conf", "/etc/frr"),
                                vm("frr-lib", "/var/lib/frr")]}
RELOADER = {"name": "reloader", "image": FRR, "command": ["/etc/frr_reloader/frr-reloader.sh"],
            "volumeMounts": [vm("frr-sockets", "/var/run/frr"), vm("frr-conf", "/etc/frr"),
                             vm("reloader", "/etc/frr_reloader")]}
METRICS = {"name": "frr-metrics", "image": FRR, "command": ["/etc/frr_metrics/frr-metrics"],
           "args": ["--metrics-port=9141"], "volumeMounts": [vm("metrics", "/etc/frr_metrics")]}


def test_frr_k8s_daemon_pod_containers():
    ctl, frr, rel, met = (fp.plan_container(c, VERSIONS, FILES, KINDS)
                          for c in (CONTROLLER, FRR_DAEMONS, RELOADER, METRICS))
    # frr-k8s's controller: the built binary, credentials by KUBECONFIG, the machine's mounts
    assert (ctl.kind, ctl.argv, ctl.kubeconfig, ctl.node_mounts) == \
        ("frr-k8s", ["/f/frr-k8s-controller", "--node-name=$(NODE_NAME)", "--namespace=$(NAMESPACE)"], "env", False)
    assert ctl.mounts == [("/etc/frr_reloader", "reloader"),
                          ("/var/run/secrets/kubernetes.io/serviceaccount", "kube-api-access-x")]
    # the FRR image's docker-start: Debian's watchfrr in the node's namespaces
    assert (frr.kind, frr.argv, frr.node_mounts) == ("frr-daemons", ["bash", "-c", fp.WATCHFRR_SH], True)
    assert "daemon_list daemons;" in fp.WATCHFRR_SH and "&&" not in fp.WATCHFRR_SH
    # frr-lib is no volume of this pod (KINDS): not mounted
    assert frr.mounts == [("/var/run/frr", "frr-sockets"), ("/etc/frr", "frr-conf")]
    # a command that is a file of the pod's volumes runs as it is
    assert (rel.kind, rel.argv, rel.node_mounts) == ("frr-tool", ["/etc/frr_reloader/frr-reloader.sh"], True)
    assert met.argv == ["/etc/frr_metrics/frr-metrics", "--metrics-port=9141"]


@pytest.mark.parametrize("container, message", [
    ({**CONTROLLER, "image": "quay.io/metallb/frr-k8s:v0.0.27"}, "frr-k8s v0.0.25 binaries only"),
    ({**CONTROLLER, "command": ["/other"]}, "command ['/other']"),
    ({**RELOADER, "command": ["/usr/bin/elsewhere.sh"]}, "neither docker-start nor a file of the pod's volumes"),
    ({"name": "x", "image": "docker.io/library/busybox:1"}, "busybox:1 is none the lab runs"),
    ({"name": "speaker", "image": "quay.io/metallb/speaker:v0.15.2"}, "speaker binaries of v0.16.1 only"),
])
def test_what_the_lab_cannot_run_is_named(container, message):
    with pytest.raises(fp.Unsupported, match=message.replace("[", r"\[").replace("]", r"\]")):
        fp.plan_container(container, VERSIONS, FILES, KINDS)


def test_an_older_built_metallb_runs_its_own_binary():
    """Before an upgrade the cluster runs the previous minor: its build is in files as "speaker@TAG"."""
    files = {**FILES, "speaker": "/new/speaker", "speaker@v0.15.3": "/old/speaker"}
    old = fp.plan_container({"name": "speaker", "image": "quay.io/metallb/speaker:v0.15.3", "args": ["--port=7472"]},
                            VERSIONS, files, KINDS)
    new = fp.plan_container({"name": "speaker", "image": "quay.io/metallb/speaker:v0.16.1"}, VERSIONS, files, KINDS)
    assert (old.argv, new.argv) == (["/old/speaker", "--port=7472"], ["/new/speaker"])
    with pytest.raises(fp.Unsupported, match="speaker binaries of v0.15.3, v0.16.1 only"):
        fp.plan_container({"name": "speaker", "image": "quay.io/metallb/speaker:v0.15.2"}, VERSIONS, files, KINDS)


def test_init_containers_copy_from_the_image_or_a_volume():
    img = fp.image_files(FRRK8S, {**FILES, "frr-k8s-module": "/mod"})
    assert img["/frr-reloader.sh"] == "/mod/cmd/reloader/frr-reloader.sh" and img["/frr-status"] == "/f/status"
    cp_frr = {"name": "cp-frr-files", "image": FRR, "command": ["/bin/sh", "-c", "cp -rLf /tmp/frr/* /etc/frr/"],
              "volumeMounts": [vm("frr-startup", "/tmp/frr"), vm("frr-conf", "/etc/frr")]}
    cp_rel = {"name": "cp-reloader", "image": FRRK8S, "command": ["/bin/sh", "-c", "cp -f /frr-reloader.sh /etc/frr_reloader/"],
              "volumeMounts": [vm("reloader", "/etc/frr_reloader")]}
    dirs = {"/tmp/frr": "/p/vol/frr-startup", "/etc/frr": "/p/empty/frr-conf", "/etc/frr_reloader": "/p/empty/reloader"}
    assert fp.init_copies(cp_frr, dirs, img) == [("/p/vol/frr-startup/*", "/p/empty/frr-conf")]
    # the file keeps its name in the image (the binary on this machine is called otherwise)
    assert fp.init_copies(cp_rel, dirs, img) == [("/mod/cmd/reloader/frr-reloader.sh", "/p/empty/reloader/frr-reloader.sh")]
    met = {"name": "cp-metrics", "image": FRRK8S, "command": ["/bin/sh", "-c", "cp -f /frr-metrics /etc/frr_metrics/"]}
    assert fp.init_copies(met, {"/etc/frr_metrics": "/p/empty/metrics"}, img) == \
        [("/f/metrics", "/p/empty/metrics/frr-metrics")]
    # FRR mode: the speaker image's cp-tool SRC DESTFILE, MetalLB's own reloader and frr-metrics
    spk = fp.image_files("quay.io/metallb/speaker:v0.16.1", {"metallb-module": "/ml", "metallb-frr-metrics": "/t/metrics"})
    assert spk == {"/frr-reloader.sh": "/ml/frr-tools/reloader/frr-reloader.sh", "/frr-metrics": "/t/metrics"}
    cp_tool = {"name": "cp-reloader", "image": "quay.io/metallb/speaker:v0.16.1",
               "command": ["/cp-tool", "/frr-reloader.sh", "/etc/frr_reloader/frr-reloader.sh"]}
    assert fp.init_copies(cp_tool, dirs, spk) == [("/ml/frr-tools/reloader/frr-reloader.sh",
                                                   "/p/empty/reloader/frr-reloader.sh")]
    assert fp.image_files(FRR, FILES) == {}
    with pytest.raises(fp.Unsupported, match="only cp commands"):
        fp.init_copies({"name": "i", "command": ["sh", "-c", "chmod 600 /x"]}, dirs, img)
    with pytest.raises(fp.Unsupported, match="is no file the lab has"):
        fp.init_copies({"name": "i", "image": FRRK8S, "command": ["cp", "/nope", "/etc/frr/"]}, dirs, img)
    with pytest.raises(fp.Unsupported, match="is not a volume"):
        fp.init_copies({"name": "i", "image": FRRK8S, "command": ["cp", "/frr-status", "/usr/bin/"]}, dirs, img)


def test_missing_targets_under_a_lab_hosts_run_are_made_in_place():
    script = fp.mount_script([("/var/run/secrets/kubernetes.io/serviceaccount", "/p/vol/sa", True)], "/p/ov",
                             fp.NODE_DIRECT)
    assert "DIRECT='/run /var/run'" in script.splitlines()
    assert 'for d in $DIRECT; do case "$1" in "$d"/*) mkdir -p "$1"; return 0;; esac; done' in script


@pytest.mark.parametrize("env, mode", [([], "native"), ([{"name": "METALLB_BGP_TYPE", "value": "frr-k8s"}], "frr-k8s"),
                                       ([{"name": "METALLB_BGP_TYPE", "value": "frr"}], "frr")])
def test_bgp_mode_of_a_speaker(env, mode):
    pod = {"spec": {"containers": [{"name": "speaker", "image": "quay.io/metallb/speaker:v0.16.1", "env": env}]}}
    assert fp.bgp_mode(pod) == mode


def test_status_per_node():
    pods = [{"component": "speaker", "pod": "speaker-a", "node": "node1", "mode": "frr-k8s", "state": "running",
             "containers": [{"name": "speaker", "pid": 10, "state": "running"}]},
            {"component": "frr-k8s", "pod": "frr-k8s-daemon-a", "node": "node1", "state": "running",
             "containers": [{"name": "controller", "pid": 11, "state": "running"},
                            {"name": "frr", "pid": None, "state": "backoff", "restarts": 2}]},
            {"component": "speaker", "pod": "speaker-b", "node": "node2", "state": "unsupported"}]
    assert fp.format_nodes(pods) == [
        "  node1: mode frr-k8s; frr-k8s [controller up, frr BACKOFF (restarts 2)]; speaker [speaker up]",
        "  node2: mode -; speaker [UNSUPPORTED]"]
