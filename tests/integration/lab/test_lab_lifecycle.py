# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The lab itself, with real namespaces: up, idempotence, isolation, stand-in speaker, down.

This module brings up a lab of its own (``lc<pid>``), because its last test tears it
down and checks that nothing is left; the session ``lab`` fixture stays for the other
tests. The tests run in file order.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from metallb_lab.client import LabClient, labctl  # on sys.path: ../conftest.py

PLAYBOOKS = Path(__file__).resolve().parent / "playbooks"
NAME = f"lc{os.getpid()}"
SEGMENT_MARKERS = ("198.51.100.", "2001:db8:100:", "203.0.113.", "2001:db8:203:")
# The machine's own copies of what each lab host gets privately. (/var/tmp and /run/mount
# are private to hosts too, but anything else on the machine may write there: leaked lab
# mounts are caught by lab_mounts() instead.)
ROOT_FILES = ("/etc/frr", "/run/frr", "/var/log/frr", "/run/sshd", "/etc/hosts", "/etc/hostname", "/etc/resolv.conf")


# ---------------------------------------------------------------- snapshots of the root namespace
def _ip(*args: str) -> str:
    return subprocess.run(["ip", *args], capture_output=True, text=True, check=True).stdout


def root_network() -> dict[str, str]:
    """Links, addresses, routes and neighbours of the root network namespace."""
    return {
        "links": _ip("-br", "link"),
        "addresses": _ip("-br", "addr"),
        "routes4": _ip("-4", "route", "show", "table", "all"),
        "routes6": _ip("-6", "route", "show", "table", "all"),
        "rules": _ip("rule") + _ip("-6", "rule"),
    }


def tree(path: str) -> dict[str, tuple]:
    """Every file under path with mode, owner, size, mtime and content hash (files only)."""
    p = Path(path)
    if not p.exists():
        return {}
    entries = [p] if not p.is_dir() else [p, *sorted(p.rglob("*"))]
    out = {}
    for e in entries:
        st = e.lstat()
        digest = hashlib.md5(e.read_bytes()).hexdigest() if e.is_file() and not e.is_symlink() else ""
        out[str(e)] = (st.st_mode, st.st_uid, st.st_gid, st.st_size, st.st_mtime_ns, digest)
    return out


def root_files() -> dict[str, dict]:
    return {p: tree(p) for p in ROOT_FILES}


def lab_mounts(name: str) -> list[str]:
    return [line for line in Path("/proc/self/mountinfo").read_text().splitlines()
            if f"/metallb-lab/{name}" in line or f"/run/netns/{name}-" in line]


def live(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] != "Z"  # zombies hold no resources (see lab/README.md)


def pids_in_netns(netns: str) -> list[int]:
    cp = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True, check=False)
    return [int(p) for p in cp.stdout.split()]


def dpkg_md5() -> dict[str, str]:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Conffiles}", "frr"], capture_output=True, text=True,
                         check=True).stdout
    return {parts[0]: parts[1] for parts in (line.split() for line in out.splitlines()) if len(parts) >= 2}


def say(capsys, text: str) -> None:
    with capsys.disabled():
        print(f"\n    {text}", end="")


# ---------------------------------------------------------------- the module's lab
@dataclass
class Lifecycle:
    lab: LabClient
    up: subprocess.CompletedProcess
    reup: subprocess.CompletedProcess
    up_seconds: float
    reup_seconds: float
    root_before: dict
    files_before: dict
    mounts_before: list[str]
    facts: dict = field(default_factory=dict)


@pytest.fixture(scope="module")
def lc():
    if os.geteuid() != 0:
        pytest.fail("the lab needs root")
    root_before, files_before = root_network(), root_files()
    mounts_before = lab_mounts(NAME)
    try:
        t0 = time.monotonic()
        up = labctl("up", "--name", NAME, "--nodes", "3")
        t1 = time.monotonic()
        reup = labctl("up", "--name", NAME)
        t2 = time.monotonic()
        yield Lifecycle(LabClient(NAME), up, reup, t1 - t0, t2 - t1, root_before, files_before, mounts_before)
    finally:
        labctl("down", "--name", NAME, check=False)


# ---------------------------------------------------------------- up
def test_up_builds_the_planned_hosts(lc, capsys):
    say(capsys, f"lab up: {lc.up_seconds:.2f} s, second up: {lc.reup_seconds:.2f} s")
    hosts = lc.lab.hosts
    assert list(hosts) == ["router", "node1", "node2", "node3", "client"]
    assert {n: (h.address, h.address6) for n, h in hosts.items()} == {
        "router": ("198.51.100.1", "2001:db8:100::1"),
        "node1": ("198.51.100.11", "2001:db8:100::11"),
        "node2": ("198.51.100.12", "2001:db8:100::12"),
        "node3": ("198.51.100.13", "2001:db8:100::13"),
        "client": ("198.51.100.100", "2001:db8:100::100"),
    }
    for h in hosts.values():
        assert Path(f"/run/netns/{NAME}-{h.name}").exists()
    assert Path(f"/run/netns/{NAME}-sw").exists()
    assert lc.up_seconds < 15


def test_second_up_has_nothing_to_do(lc):
    assert "nothing to do" in lc.reup.stdout, lc.reup.stdout
    assert lc.reup_seconds < 5
    st = lc.lab.status()
    assert st["up"] and st["problems"] == []


def test_up_repairs_what_broke(lc):
    lab = lc.lab
    sshd = lab.status()["hosts"]["client"]["processes"]["sshd"]
    os.kill(sshd, 15)
    subprocess.run(["ip", "-n", f"{NAME}-node2", "addr", "del", "198.51.100.12/24", "dev", "eth0"], check=True)
    lab.link("node3", "down")
    assert not lab.status()["up"]
    repaired = labctl("up", "--name", NAME)
    assert "client: sshd" in repaired.stdout
    assert "addr add 198.51.100.12/24" in repaired.stdout
    assert "link set node3 up" in repaired.stdout
    st = lab.status()
    assert st["up"], st["problems"]
    assert st["hosts"]["client"]["processes"]["sshd"] not in (None, sshd)
    assert "nothing to do" in labctl("up", "--name", NAME).stdout


def test_up_refuses_what_it_did_not_create(lc):
    other = f"x{os.getpid()}"
    subprocess.run(["ip", "netns", "add", f"{other}-node1"], check=True)
    try:
        refused = labctl("up", "--name", other, check=False)
        assert refused.returncode != 0
        assert f"{other}-node1" in refused.stderr and "belong to something else" in refused.stderr
        assert not Path(f"/run/metallb-lab/{other}").exists()
        assert not Path(f"/run/netns/{other}-sw").exists()
        # and `down` does not touch it either
        assert labctl("down", "--name", other, check=False).returncode != 0
        assert Path(f"/run/netns/{other}-node1").exists()
    finally:
        subprocess.run(["ip", "netns", "del", f"{other}-node1"], check=True)
    resize = labctl("up", "--name", NAME, "--nodes", "4", check=False)
    assert resize.returncode != 0 and "runs with 3 nodes" in resize.stderr


# ---------------------------------------------------------------- Ansible over SSH
def test_every_host_answers_ansible_over_ssh(lc, ansible_playbook, tmp_path):
    facts_file = tmp_path / "facts.json"
    run = ansible_playbook(PLAYBOOKS / "facts.yml", lc.lab.inventory, extra_vars={"facts_file": str(facts_file)})
    assert set(run.recap) == {"router", "node1", "node2", "node3", "client"}
    assert run.failed == 0
    facts = json.loads(facts_file.read_text())
    for name, h in lc.lab.hosts.items():
        f = facts[name]
        assert f["hostname"] == name
        assert sorted(f["interfaces"]) == ["eth0", "lo"]  # its own, not the machine's
        assert f["eth0"]["macaddress"] == h.mac
        assert f["eth0"]["ipv4"]["address"] == h.address
        assert h.address6 in [a["address"] for a in f["eth0"]["ipv6"]]
        assert f["fqdn"] == name
    lc.facts = facts


def test_inventory_groups_and_variables(lc):
    out = subprocess.run([str(Path(sys.executable).parent / "ansible-inventory"), "-i", str(lc.lab.inventory),
                          "--list"], capture_output=True, text=True, check=False)
    if out.returncode != 0:  # not run from the venv: use the repo's
        out = subprocess.run([str(Path(__file__).resolve().parents[3] / ".venv/bin/ansible-inventory"), "-i",
                              str(lc.lab.inventory), "--list"], capture_output=True, text=True, check=True)
    inv = json.loads(out.stdout)
    assert inv["routers"]["hosts"] == ["router"]
    assert inv["k8s_nodes"]["hosts"] == ["node1", "node2", "node3"]
    assert inv["clients"]["hosts"] == ["client"]
    hv = inv["_meta"]["hostvars"]
    assert hv["router"]["bgp_asn"] == 64501 and hv["node2"]["bgp_asn"] == 64500
    assert "bgp_asn" not in hv["client"]
    for name, h in lc.lab.hosts.items():
        v = hv[name]
        assert (v["lab_address"], v["lab_address6"], v["lab_mac"], v["lab_interface"]) == \
            (h.address, h.address6, h.mac, "eth0")
        assert v["ansible_user"] == "root"
        assert v["ansible_python_interpreter"] == "/usr/bin/python3"
        assert f"--net=/run/netns/{NAME}-{name} nc %h %p" in v["ansible_ssh_common_args"]
        assert Path(v["ansible_ssh_private_key_file"]).is_file()


# ---------------------------------------------------------------- the segment
def test_hosts_reach_each_other_on_the_segment(lc):
    hosts = lc.lab.hosts
    for src in hosts:
        targets = " ".join(a for n, h in hosts.items() if n != src for a in (h.address, h.address6))
        script = f"for a in {targets}; do ping -c 1 -W 2 -q $a >/dev/null || echo unreachable $a; done"
        out = lc.lab.exec(src, "sh", "-c", script).stdout
        assert out == "", f"from {src}: {out}"


def test_client_routes_vips_through_the_router(lc):
    routes4 = lc.lab.exec("client", "ip", "-j", "route", "show", "203.0.113.0/24").stdout
    routes6 = lc.lab.exec("client", "ip", "-j", "-6", "route", "show", "2001:db8:203::/48").stdout
    assert json.loads(routes4)[0]["gateway"] == "198.51.100.1"
    assert json.loads(routes6)[0]["gateway"] == "2001:db8:100::1"
    sysctl = lc.lab.exec("router", "sysctl", "-n", "net.ipv4.ip_forward", "net.ipv6.conf.all.forwarding",
                         "net.ipv4.fib_multipath_hash_policy", "net.ipv6.fib_multipath_hash_policy").stdout.split()
    # forwarding on; the ECMP hash left at the kernel's default (L3): bgp_router owns it
    assert sysctl == ["1", "1", "0", "0"]
    # the router has no default route: nothing can be forwarded out of the lab
    assert lc.lab.exec("router", "ip", "route", "show", "default").stdout == ""
    assert lc.lab.exec("router", "ip", "-6", "route", "show", "default").stdout == ""


def test_root_namespace_is_unchanged(lc):
    after = root_network()
    assert after == lc.root_before
    for text in after.values():
        for marker in SEGMENT_MARKERS:
            assert marker not in text


def test_hosts_have_their_own_files(lc):
    lab = lc.lab
    for name in lab.hosts:
        out = lab.exec(name, "sh", "-c", "hostname; cat /etc/hostname; ls /sys/class/net; test -d /run/sshd && echo sshd-dir;"
                                         " findmnt -n -o SOURCE /etc/frr").stdout.split()
        assert out[:2] == [name, name]
        assert out[2:4] == ["eth0", "lo"]
        assert out[4] == "sshd-dir"
        assert out[5].endswith(f"/metallb-lab/{NAME}/hosts/{name}/etc-frr]")
    # a file written on one host is on that host only
    lab.exec("node1", "sh", "-c", "echo node1 > /var/tmp/lab-probe")
    assert lab.exec("node2", "test", "-e", "/var/tmp/lab-probe", check=False).returncode == 1
    assert not Path("/var/tmp/lab-probe").exists()
    assert (lab.state_dir / "hosts/node1/var-tmp/lab-probe").read_text() == "node1\n"
    # root's home too (vtysh keeps its history there, Ansible its remote temp files)
    lab.exec("node1", "sh", "-c", "echo node1 > /root/lab-probe")
    assert not Path("/root/lab-probe").exists()
    assert (lab.state_dir / "hosts/node1/root/lab-probe").is_file()


# ---------------------------------------------------------------- FRR
def test_router_frr_is_installed_pristine_and_not_running(lc):
    lab = lc.lab
    router = lab.status()["hosts"]["router"]
    assert not any(router["frr"].values())
    comms = {Path(f"/proc/{p}/comm").read_text().strip() for p in pids_in_netns(f"{NAME}-router") if live(p)}
    assert "sshd" in comms
    assert not comms & {"watchfrr", "zebra", "bgpd", "staticd", "bfdd"}, comms
    shipped = dpkg_md5()
    for name in ("daemons", "frr.conf", "vtysh.conf"):
        md5 = lab.exec("router", "md5sum", f"/etc/frr/{name}").stdout.split()[0]
        assert md5 == shipped[f"/etc/frr/{name}"], name
    assert "bgpd=no" in lab.exec("router", "cat", "/etc/frr/daemons").stdout.splitlines()
    mode = lab.exec("router", "stat", "-c", "%a %U %G", "/etc/frr", "/etc/frr/frr.conf").stdout.split("\n")
    assert mode[:2] == ["750 frr frr", "640 frr frr"]
    # the init script a role will use over SSH works on the host and reports FRR stopped
    status = lab.exec("router", "/usr/lib/frr/frrinit.sh", "status", check=False)
    assert status.returncode != 0 and "watchfrr" in status.stdout


def test_root_frr_files_are_untouched(lc):
    assert root_files() == lc.files_before


def test_speakers_run_a_canonical_config(lc):
    lab = lc.lab
    for node in lab.nodes:
        diff = lab.exec(node, "/usr/lib/frr/frr-reload.py", "--test", "--stdout", "/etc/frr/frr.conf").stdout
        assert "Lines To Delete" not in diff and "Lines To Add" not in diff, diff
        bgp = lab.vtysh_json(node, "show bgp summary")
        assert bgp["ipv4Unicast"]["as"] == 64500
        peers = {**bgp["ipv4Unicast"]["peers"], **bgp.get("ipv6Unicast", {}).get("peers", {})}
        assert set(peers) == {"198.51.100.1", "2001:db8:100::1"}
        neighbor = lab.vtysh_json(node, "show bgp neighbors 198.51.100.1")["198.51.100.1"]
        assert neighbor["remoteAs"] == 64501
        assert neighbor["bgpTimerConfiguredHoldTimeMsecs"] == 9000
        assert neighbor["bgpTimerConfiguredKeepAliveIntervalMsecs"] == 3000


@pytest.mark.parametrize("prefix, family", [("203.0.113.77/32", "ipv4"), ("2001:db8:203::77/128", "ipv6")])
def test_speaker_announces_and_withdraws(lc, prefix, family):
    lab = lc.lab

    def announced() -> bool:
        table = lab.vtysh_json("node2", f"show bgp {family} unicast {prefix}")
        return bool(table.get("paths"))

    assert not announced()
    assert "announce" in lab.speaker("node2", "announce", prefix)
    assert announced()
    assert prefix in lab.status()["hosts"]["node2"]["speaker"]["networks"]
    diff = lab.exec("node2", "/usr/lib/frr/frr-reload.py", "--test", "--stdout", "/etc/frr/frr.conf").stdout
    assert "Lines To" not in diff, diff  # the file follows the incremental change
    assert "(no change)" in lab.speaker("node2", "announce", prefix)
    lab.speaker("node2", "withdraw", prefix)
    assert not announced()
    assert f"network {prefix}" not in lab.exec("node2", "cat", "/etc/frr/frr.conf").stdout


def test_speaker_refuses_addresses_outside_the_lab(lc):
    bad = lc.lab.labctl("speaker", "node1", "announce", "10.0.0.0/8", check=False)
    assert bad.returncode != 0 and "documentation ranges" in bad.stderr
    router = lc.lab.labctl("speaker", "router", "announce", "203.0.113.1/32", check=False)
    assert router.returncode != 0 and "not a node" in router.stderr


def test_speaker_configure_rerenders_and_reloads(lc):
    lab = lc.lab
    lab.speaker("node3", "configure", hold=30)
    neighbor = lab.vtysh_json("node3", "show bgp neighbors 198.51.100.1")["198.51.100.1"]
    assert neighbor["bgpTimerConfiguredHoldTimeMsecs"] == 30000
    assert neighbor["bgpTimerConfiguredKeepAliveIntervalMsecs"] == 10000
    lab.speaker("node3", "configure", bfd=True)
    assert lab.status()["hosts"]["node3"]["frr"].get("bfdd")
    peers = lab.vtysh_json("node3", "show bfd peers")
    assert {p["peer"] for p in peers} == {"198.51.100.1", "2001:db8:100::1"}
    assert {p["transmit-interval"] for p in peers} == {100}
    diff = lab.exec("node3", "/usr/lib/frr/frr-reload.py", "--test", "--stdout", "/etc/frr/frr.conf").stdout
    assert "Lines To" not in diff, diff
    lab.speaker("node3", "configure", bfd=False, hold=9)
    assert not lab.status()["hosts"]["node3"]["frr"].get("bfdd")  # switched off in daemons: stopped
    assert " bfd" not in lab.exec("node3", "vtysh", "-c", "show running-config").stdout
    assert "unchanged" in lab.speaker("node3", "configure", hold=9)


# ---------------------------------------------------------------- link and L2 VIPs
def test_link_down_is_silent_and_link_up_restores(lc):
    lab = lc.lab
    lab.link("node1", "down")
    try:
        flags = json.loads(lab.exec("node1", "ip", "-j", "link", "show", "eth0").stdout)[0]["flags"]
        assert "NO-CARRIER" in flags and "UP" in flags  # cable pulled, interface still configured
        assert lab.exec("client", "ping", "-c", "1", "-W", "1", "198.51.100.11", check=False).returncode != 0
        assert lab.status()["hosts"]["node1"]["link"] == "down"
    finally:
        lab.link("node1", "up")
    lab.exec("client", "ping", "-c", "1", "-W", "2", "198.51.100.11")


@pytest.mark.parametrize("vip, neigh", [("198.51.100.200", ["ip", "neigh", "show"]),
                                        ("2001:db8:100::200", ["ip", "-6", "neigh", "show"])])
def test_vip_moves_with_a_gratuitous_announcement(lc, vip, neigh):
    lab = lc.lab
    n2, n3 = lab.hosts["node2"], lab.hosts["node3"]

    def client_sees() -> str:
        out = lab.exec("client", *neigh, vip).stdout
        match = re.search(r"lladdr (\S+)", out)
        return match.group(1) if match else ""

    lab.vip("node2", "add", vip)
    lab.exec("client", "ping", "-c", "1", "-W", "2", vip)
    assert client_sees() == n2.mac
    lab.vip("node2", "del", vip)
    lab.vip("node3", "add", vip)
    deadline = time.monotonic() + 2  # no new resolution by the client: the announcement did it
    while client_sees() != n3.mac and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client_sees() == n3.mac
    lab.exec("client", "ping", "-c", "1", "-W", "2", vip)
    lab.vip("node3", "del", vip)
    assert "was not there" in lab.vip("node3", "del", vip)


# ---------------------------------------------------------------- down
def test_down_leaves_nothing(lc, capsys):
    lab = lc.lab
    # start something over SSH too, as a role would: down must end it as well
    lab.exec("router", "sh", "-c", "sed -i 's/^bgpd=no/bgpd=yes/' /etc/frr/daemons && /usr/lib/frr/frrinit.sh start")
    netns = [f"{NAME}-{h}" for h in lab.hosts] + [f"{NAME}-sw"]
    pids = sorted({p for ns in netns for p in pids_in_netns(ns) if live(p)})
    comms = {Path(f"/proc/{p}/comm").read_text().strip() for p in pids}
    assert {"sshd", "watchfrr", "zebra", "bgpd"} <= comms
    assert lab_mounts(NAME)
    inventory = lab.inventory

    t0 = time.monotonic()
    down = labctl("down", "--name", NAME)
    took = time.monotonic() - t0
    say(capsys, f"lab down: {took:.2f} s ({len(pids)} processes ended)")

    assert [p for p in pids if live(p)] == []
    assert [ns for ns in netns if Path(f"/run/netns/{ns}").exists()] == []
    assert lab_mounts(NAME) == lc.mounts_before == []
    assert not lab.state_dir.exists()
    assert not inventory.exists()
    assert root_files() == lc.files_before
    assert root_network() == lc.root_before
    assert "down in" in down.stdout
    assert took < 10

    again = labctl("down", "--name", NAME)
    assert "nothing to do" in again.stdout
