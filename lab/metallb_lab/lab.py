# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One lab: bring it up (or repair it), tear it down, look at it, poke at it.

State dir layout (``/run/metallb-lab/<name>``, root-owned 0755):

  lab.json                 name, size, BFD, inventory dirs written: the proof that the
                           namespaces ``<name>-*`` are this lab's
  ns/                      private bind mount holding <host>.mnt and <host>.uts handles
  ssh/                     lab client key, sshd host key, sshd_config, Ansible ControlPath dir
  hosts/<host>/
    etc-frr/ run-frr/ var-log/ var-tmp/ root/ etc/    the host's own files (see hostinit.py)
    pids/<service>.pid     lab-managed processes (processes.Registry)
    speaker.json           stand-in speaker settings and announced prefixes (nodes)
    namespaces.json        what the mount/UTS namespaces were built against
"""
from __future__ import annotations

import contextlib
import fcntl
import ipaddress
import json
import os
import shutil
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import frr, inventory, network
from . import plan as P
from .plan import Host, LabPlan
from .processes import Registry, pids_from_pidfiles
from .ssh import SshFiles, wait_listening
from .system import (LabError, alive, end_processes, is_mountpoint, mounts, ns_inode,
                     pids_in_namespaces, run, umount)

REPO_ROOT = Path(__file__).resolve().parents[2]
GARP = Path(__file__).with_name("garp.py")
STANDIN_OFF = "standin-off.json"  # in hosts/<node>/: the stand-in speaker is off on purpose


def default_inventory(name: str) -> Path:
    return REPO_ROOT / "inventories" / "lab" if name == P.DEFAULT_NAME else P.state_dir(name) / "inventory"


class Lab:
    def __init__(self, name: str = P.DEFAULT_NAME):
        self.name = P.validate_name(name)
        self.state = P.state_dir(name)
        self.meta_file = self.state / "lab.json"
        self.ssh = SshFiles(self.state)

    # ------------------------------------------------------------ bookkeeping
    def meta(self) -> dict | None:
        try:
            return json.loads(self.meta_file.read_text())
        except FileNotFoundError:
            return None
        except ValueError as exc:
            raise LabError(f"{self.meta_file} is unreadable ({exc}); `down` removes the lab") from exc

    def _save_meta(self, meta: dict) -> None:
        tmp = self.meta_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta, indent=1) + "\n")
        os.replace(tmp, self.meta_file)

    def plan(self) -> LabPlan:
        meta = self.meta()
        if meta is None:
            raise LabError(f"lab {self.name!r} is not up (no {self.meta_file}); run `labctl.py up --name {self.name}`")
        return LabPlan.from_meta(self.name, meta)

    def host_dir(self, host: Host | str) -> Path:
        return self.state / "hosts" / (host if isinstance(host, str) else host.name)

    def hostns(self, plan: LabPlan, host: Host) -> network.HostNamespaces:
        return network.HostNamespaces(plan, host, self.state / "ns", self.host_dir(host))

    def registry(self, plan: LabPlan, host: Host) -> Registry:
        return Registry(self.host_dir(host), lambda: self.namespace_inodes(plan))

    def namespace_inodes(self, plan: LabPlan, hosts: list[Host] | None = None) -> list[int]:
        """The namespaces of ``hosts`` (default: the whole lab, switch included)."""
        inodes = [ns_inode(network.netns_path(plan.switch_netns))] if hosts is None else []
        for h in hosts if hosts is not None else plan.hosts:
            inodes.append(ns_inode(network.netns_path(plan.netns(h))))
            inodes += self.hostns(plan, h).inodes()
        return [i for i in inodes if i is not None]

    @contextlib.contextmanager
    def _locked(self, path: Path):
        """flock; retried if the file was removed (lab torn down) while we waited."""
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX)
            if ns_inode(path) == os.fstat(fd).st_ino:
                break
            os.close(fd)
            path.parent.mkdir(parents=True, exist_ok=True)
        try:
            yield
        finally:
            os.close(fd)

    # ------------------------------------------------------------ up
    def up(self, nodes: int | None = None, bfd: bool | None = None,
           inventory_dir: Path | None = None, routers: int | None = None,
           racks: int | None = None) -> list[str]:
        P.STATE_ROOT.mkdir(mode=0o755, exist_ok=True)
        os.chmod(P.STATE_ROOT, 0o755)  # sshd StrictModes checks every parent
        inventory_dir = (inventory_dir or default_inventory(self.name)).resolve()
        changes: list[str] = []
        if self.meta() is None:
            plan = LabPlan(self.name, nodes or P.DEFAULT_NODES, bool(bfd), routers or 1, racks or 0)
            network.check_no_clash(plan)
            self.state.mkdir(mode=0o755, exist_ok=True)
            os.chmod(self.state, 0o755)
            # written before anything is created: from here on `down` can clean up
            self._save_meta({"name": self.name, "nodes": plan.nodes, "bfd": plan.bfd,
                             "routers": plan.routers, "racks": plan.racks, "inventories": [], "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
            changes.append(f"state dir {self.state}")
        with self._locked(self.state / ".lock"):
            meta = self.meta()
            if meta is None:
                raise LabError(f"lab {self.name!r} was torn down while this `up` waited; run it again")
            plan = LabPlan.from_meta(self.name, meta)
            if nodes is not None and nodes != plan.nodes:
                raise LabError(f"lab {self.name!r} runs with {plan.nodes} nodes; run `down` first to "
                               f"change it to {nodes}")
            for what, asked, has in (("routers", routers, plan.routers), ("racks", racks, plan.rack_count)):
                if asked is not None and asked != has:
                    raise LabError(f"lab {self.name!r} runs with {what} {has}; run `down` first to "
                                   f"change it to {asked}")
            bfd_override = None  # only a changed --bfd overrides the speakers' own setting
            if bfd is not None and bfd != plan.bfd:
                meta["bfd"] = bfd_override = bfd
                plan = LabPlan.from_meta(self.name, meta)
                changes.append(f"bfd {'on' if bfd else 'off'}")
            if str(inventory_dir) not in meta["inventories"]:
                meta["inventories"].append(str(inventory_dir))
            self._save_meta(meta)

            changes += network.ensure_ns_dir(self.state / "ns")
            changes += self.ssh.ensure()
            changes += network.ensure_switch(plan)
            with ThreadPoolExecutor(max_workers=len(plan.hosts)) as pool:
                for result in pool.map(lambda h: self._ensure_host(plan, h, bfd_override), plan.hosts):
                    changes += result
            for inv in meta["inventories"]:
                changes += inventory.write(plan, Path(inv), self.ssh)
        return changes

    def _ensure_host(self, plan: LabPlan, host: Host, bfd_override: bool | None) -> list[str]:
        hd = self.host_dir(host)
        network.host_dirs(hd)
        network.write_host_files(plan, host, hd)
        changes = network.ensure_host_network(plan, host)
        hns = self.hostns(plan, host)
        if not hns.ok():
            # re-made namespaces: whatever ran in the old ones has to go
            stale = pids_in_namespaces(self.namespace_inodes(plan, [host]))
            end_processes(stale)
            hns.remove()
            hns.create()
            changes.append(f"{host.name}: mount+uts namespaces")
        if host.role == P.ROUTER:
            changes += self._ensure_router_files(hd)
        if host.role == P.NODE:
            changes += self._ensure_speaker(plan, host, bfd_override)
        changes += self._ensure_sshd(plan, host)
        if changes and changes[0] == f"netns {plan.netns(host)}":
            # fresh host: no step-by-step detail, but keep warnings
            return [f"{host.name}: built ({host.address}, {host.address6})"] + [c for c in changes if "warning" in c]
        return changes

    def _ensure_router_files(self, hd: Path) -> list[str]:
        # only ever at creation: afterwards /etc/frr belongs to the bgp_router role
        if (hd / "etc-frr" / "daemons").exists():
            return []
        frr.copy_package_files(hd / "etc-frr")
        modified = sorted(set(frr.PRISTINE_FILES) - set(frr.unmodified_package_files()))
        return ["router: package /etc/frr files"] + [
            f"router: warning: the machine's /etc/frr/{n} differs from the frr package; the router got it as is"
            for n in modified]

    def _ensure_sshd(self, plan: LabPlan, host: Host) -> list[str]:
        reg = self.registry(plan, host)
        if reg.pid("sshd") is not None:
            return []
        hns = self.hostns(plan, host)
        pid = reg.spawn("sshd", hns.enter("/") + self.ssh.sshd_argv(host.address, host.address6),
                        self.host_dir(host) / "var-log" / "sshd.log")
        wait_listening(pid)
        return [f"{host.name}: sshd (pid {pid})"]

    # ------------------------------------------------------------ the stand-in speaker
    def _write_frr_file(self, host: Host, name: str, text: str) -> bool:
        """Write the host's /etc/frr/<name> (frr:frr 0640) if it differs; True if written."""
        etc = self.host_dir(host) / "etc-frr"
        if not (etc / "vtysh.conf").exists():
            frr.copy_package_files(etc, ("vtysh.conf", "support_bundle_commands.conf"))
        path = etc / name
        if path.exists() and path.read_text() == text:
            return False
        tmp = etc / f".{name}.tmp"
        tmp.write_text(text)
        os.chmod(tmp, 0o640)
        shutil.chown(tmp, "frr", "frr")
        os.replace(tmp, path)
        return True

    def _apply_speaker(self, plan: LabPlan, host: Host, cfg: frr.SpeakerConfig) -> str | None:
        """Bring the speaker's files and daemons in line with ``cfg``; what was done, or None."""
        conf_changed = self._write_frr_file(host, "frr.conf", frr.render_speaker(host, cfg, plan.rack_routers(host)))
        daemons = frr.render_daemons(cfg.bfd)
        daemons_path = self.host_dir(host) / "etc-frr" / "daemons"
        daemons_changed = not daemons_path.exists() or daemons_path.read_text() != daemons
        reload = [frr.FRR_RELOAD, "--reload", "--stdout", "/etc/frr/frr.conf"]
        if not (daemons_path.exists() and self.frr_running(plan, host)):
            self._write_frr_file(host, "daemons", daemons)
            self._restart_frr(plan, host)
            return "started"
        if daemons_changed and cfg.bfd:
            # bfdd first: frrinit.sh reload restarts watchfrr (which starts the newly enabled
            # bfdd) and then applies frr.conf, whose BFD lines need bfdd
            self._write_frr_file(host, "daemons", daemons)
            self._frr(plan, host, frr.FRRINIT, "reload")
        elif daemons_changed:
            # the other way round: remove the BFD lines while bfdd still answers, then stop it
            self._frr(plan, host, *reload)
            self._write_frr_file(host, "daemons", daemons)
            self._frr(plan, host, frr.FRRINIT, "reload")
        elif conf_changed:
            self._frr(plan, host, *reload)
        else:
            return None
        diff = run(self.hostns(plan, host).enter("/") + [frr.FRR_RELOAD, "--test", "--stdout", "/etc/frr/frr.conf"],
                   check=False).stdout
        if "Lines To" in diff:
            raise LabError(f"{host.name}: the speaker's running config differs from its frr.conf after the "
                           f"reload:\n{diff[diff.index('Lines To'):]}")
        return "reloaded"

    def frr_pids(self, plan: LabPlan, host: Host) -> dict[str, int | None]:
        """FRR daemons this host should run -> pid if running (pid files in its /run/frr)."""
        daemons = self.host_dir(host) / "etc-frr" / "daemons"
        wanted = frr.daemons_enabled(daemons.read_text()) if daemons.exists() else []
        found = pids_from_pidfiles(self.host_dir(host) / "run-frr")
        inodes = set(self.namespace_inodes(plan, [host]))
        result = {}
        for d in sorted(set(wanted) | set(found)):
            pid = found.get(d)
            ok = pid is not None and alive(pid) and ns_inode(f"/proc/{pid}/ns/net") in inodes
            result[d] = pid if ok else None
        return result

    def frr_running(self, plan: LabPlan, host: Host) -> bool:
        pids = self.frr_pids(plan, host)
        return bool(pids) and all(pids.get(d) for d in frr.daemons_enabled(
            (self.host_dir(host) / "etc-frr" / "daemons").read_text()))

    def _frr(self, plan: LabPlan, host: Host, *args: str) -> None:
        log = self.host_dir(host) / "var-log" / "labctl-frr.log"
        with open(log, "a") as out:
            run(self.hostns(plan, host).enter("/") + list(args), stdout=out, timeout=120)

    def _ensure_speaker(self, plan: LabPlan, host: Host, bfd_override: bool | None) -> list[str]:
        hd = self.host_dir(host)
        with self._locked(hd / "speaker.lock"):
            cfg = frr.SpeakerConfig.load(hd / "speaker.json", plan.bfd)
            if bfd_override is not None:
                cfg.bfd = bfd_override
            cfg.save(hd / "speaker.json")
            if self.standin_off_reason(host) is not None:
                return []  # a real MetalLB speaker runs here: repair must not start FRR beside it
            done = self._apply_speaker(plan, host, cfg)
        return [f"{host.name}: FRR speaker {done}"] if done else []

    # The stand-in is switched off while a real MetalLB speaker (lab/cluster/supervisor.py)
    # runs on the node: both would open a BGP session to the router from the node's address.
    # The marker file hosts/<node>/standin-off.json keeps `up` from restarting it and tells
    # `status` it is off on purpose; `standin_on` removes it and starts FRR again.
    def standin_off_reason(self, host: Host | str) -> str | None:
        try:
            return json.loads((self.host_dir(host) / STANDIN_OFF).read_text()).get("reason", "?")
        except (OSError, ValueError):
            return None

    def standin_off(self, host_name: str, reason: str) -> str:
        plan = self.plan()
        host = plan.host(host_name)
        if host.role != P.NODE:
            raise LabError(f"{host_name} is not a node")
        hd = self.host_dir(host)
        with self._locked(hd / "speaker.lock"):
            tmp = hd / f".{STANDIN_OFF}.tmp"
            tmp.write_text(json.dumps({"reason": reason, "since": time.strftime("%Y-%m-%dT%H:%M:%S%z")}) + "\n")
            os.replace(tmp, hd / STANDIN_OFF)
            pids = [p for p in self.frr_pids(plan, host).values() if p]
            if not pids:
                return f"{host_name}: stand-in speaker off ({reason})"
            # watchfrr first (it would restart the others), then the daemons: SIGTERM makes
            # bgpd send a Cease NOTIFICATION, so the router drops the session at once instead
            # of refusing the real speaker until its hold timer expires. (frrinit.sh stop
            # does the same in ~6 s; this takes a fraction of a second.)
            watchfrr = self.frr_pids(plan, host).get("watchfrr")
            if watchfrr:
                end_processes([watchfrr])
            end_processes([p for p in self.frr_pids(plan, host).values() if p])
        return f"{host_name}: stand-in speaker stopped ({reason})"

    def standin_on(self, host_name: str) -> str:
        plan = self.plan()
        host = plan.host(host_name)
        hd = self.host_dir(host)
        with self._locked(hd / "speaker.lock"):
            had = (hd / STANDIN_OFF).exists()
            (hd / STANDIN_OFF).unlink(missing_ok=True)
            cfg = frr.SpeakerConfig.load(hd / "speaker.json", plan.bfd)
            done = self._apply_speaker(plan, host, cfg)
        return f"{host_name}: stand-in speaker {done or 'running'}" + ("" if had else " (was not off)")

    def _restart_frr(self, plan: LabPlan, host: Host) -> None:
        pids = [p for p in self.frr_pids(plan, host).values() if p]
        if pids:  # half-running: watchfrr gone or a daemon missing
            self._frr(plan, host, frr.FRRINIT, "stop")
            end_processes([p for p in self.frr_pids(plan, host).values() if p])
        self._frr(plan, host, frr.FRRINIT, "start")

    def speaker(self, host_name: str, action: str, prefix: str | None = None, *,
                asn: int | None = None, router_asn: int | None = None,
                bfd: bool | None = None, hold: int | None = None) -> str:
        plan = self.plan()
        host = plan.host(host_name)
        if host.role != P.NODE:
            raise LabError(f"{host_name} is not a node: only nodes run the stand-in speaker")
        hd = self.host_dir(host)
        with self._locked(hd / "speaker.lock"):
            cfg = frr.SpeakerConfig.load(hd / "speaker.json", plan.bfd)
            off = self.standin_off_reason(host)
            if off is not None:
                raise LabError(f"the stand-in speaker on {host_name} is off: {off} runs there "
                               "(it comes back when that speaker goes away)")
            if not self.frr_running(plan, host):
                raise LabError(f"the speaker on {host_name} is not running; `labctl.py up --name {self.name}` restarts it")
            if action in ("announce", "withdraw"):
                net = frr.parse_prefix(prefix)
                before = set(cfg.networks)
                if action == "announce":
                    cfg.networks = frr.sorted_networks(list(before | {str(net)}))
                else:
                    cfg.networks = [n for n in cfg.networks if n != str(net)]
                cfg.save(hd / "speaker.json")
                self._write_frr_file(host, "frr.conf", frr.render_speaker(host, cfg, plan.rack_routers(host)))
                # incremental, as MetalLB does: no reload, no session reset
                out = run(self.hostns(plan, host).enter("/") + frr.vtysh_network(cfg.asn, net, action == "withdraw"),
                          check=False)
                if out.returncode != 0 or "%" in out.stdout:
                    raise LabError(f"vtysh on {host_name}: {(out.stdout + out.stderr).strip()}")
                self._wait_local_table(plan, host, net, present=action == "announce")
                return f"{host_name}: {action} {net}" + ("" if before != set(cfg.networks) else " (no change)")
            if action == "configure":
                if hold is not None and hold < 3:
                    raise LabError("--hold must be at least 3 seconds")
                for attr, value in (("asn", asn), ("router_asn", router_asn), ("bfd", bfd), ("hold", hold)):
                    if value is not None:
                        setattr(cfg, attr, value)
                cfg.save(hd / "speaker.json")
                if self._apply_speaker(plan, host, cfg) is None:
                    return f"{host_name}: speaker configuration unchanged"
                return f"{host_name}: speaker reconfigured (asn {cfg.asn}, router {cfg.router_asn}, " \
                       f"bfd {'on' if cfg.bfd else 'off'}, hold {cfg.hold})"
        raise LabError(f"unknown speaker action {action!r}")

    def _wait_local_table(self, plan: LabPlan, host: Host, net, present: bool, timeout: float = 5) -> None:
        """bgpd applies `network` asynchronously: return once its own table agrees, so the
        caller's next look (locally or at the router) starts from a settled speaker."""
        family = "ipv4" if net.version == 4 else "ipv6"
        argv = self.hostns(plan, host).enter("/") + ["vtysh", "-c", f"show bgp {family} unicast {net} json"]
        deadline = time.monotonic() + timeout
        while True:
            out = run(argv, check=False).stdout
            try:
                has = bool(json.loads(out).get("paths")) if out.strip() else False
            except ValueError:
                has = False
            if has == present:
                return
            if time.monotonic() > deadline:
                raise LabError(f"{host.name}: {net} still {'missing from' if present else 'in'} "
                               f"the speaker's BGP table after {timeout} s")
            time.sleep(0.02)

    # ------------------------------------------------------------ link and L2 VIPs
    def link(self, host_name: str, state: str) -> str:
        plan = self.plan()
        network.set_port(plan, plan.host(host_name), state == "up")
        return f"{host_name}: segment link {state}"

    def vip(self, host_name: str, action: str, address: str) -> str:
        plan = self.plan()
        host = plan.host(host_name)
        try:
            addr = ipaddress.ip_address(address.split("/")[0])
        except ValueError as exc:
            raise LabError(f"{address!r} is not an IP address") from exc
        if not any(addr in r for r in frr.LAB_RANGES):
            raise LabError(f"{addr} is outside the lab's documentation ranges")
        if str(addr) in {a for h in plan.hosts for a in (h.address, h.address6)}:
            raise LabError(f"{addr} is a lab host's own address")
        ns = plan.netns(host)
        plen = 32 if addr.version == 4 else 128
        have = any(a.get("local") == str(addr)
                   for i in network.ip_json(ns, "addr", "show", "dev", P.IFACE) for a in i.get("addr_info", []))
        if action == "add":
            if not have:
                network.ip(ns, "addr", "add", f"{addr}/{plen}", "dev", P.IFACE, *(["nodad"] if plen == 128 else []))
            # gratuitous ARP / unsolicited NA, so neighbours move the VIP to this MAC at once
            run(self.hostns(plan, host).enter("/") + [network.HOST_PYTHON, str(GARP), P.IFACE, str(addr)])
            return f"{host_name}: vip {addr} added" + (" (already there)" if have else "")
        if action == "del":
            if have:
                network.ip(ns, "addr", "del", f"{addr}/{plen}", "dev", P.IFACE)
            return f"{host_name}: vip {addr} removed" + ("" if have else " (was not there)")
        raise LabError(f"unknown vip action {action!r}")

    # ------------------------------------------------------------ exec
    def exec_argv(self, host_name: str, cmd: list[str]) -> list[str]:
        plan = self.plan()
        host = plan.host(host_name)
        cwd = os.getcwd()
        # keep the caller's directory when the host sees the same one: /run and /root are
        # the host's own (the state dir is visible in every host)
        private = cwd == "/root" or cwd.startswith(("/run/", "/root/"))
        wd = cwd if not private or cwd.startswith(f"{self.state}/") or cwd == str(self.state) else "/"
        return self.hostns(plan, host).enter(wd) + cmd

    # ------------------------------------------------------------ status
    def status(self) -> dict:
        meta = self.meta()
        if meta is None:
            return {"name": self.name, "up": False, "state_dir": str(self.state)}
        plan = LabPlan.from_meta(self.name, meta)
        ports = network.switch_ports(plan)
        problems = []
        hosts = {}

        def one(h: Host) -> dict:
            ns_ok = network.netns_exists(plan.netns(h))
            hns = self.hostns(plan, h)
            info = {
                "role": h.role, "group": h.group, "netns": plan.netns(h),
                "address": h.address, "address6": h.address6, "mac": h.mac, "interface": P.IFACE,
                "asn": h.asn, "rack": h.rack_name, "link": "up" if "UP" in ports.get(h.name, {}).get("flags", []) else "down",
                "namespaces_ok": ns_ok and hns.ok(),
                "processes": self.registry(plan, h).services(),
                "frr": self.frr_pids(plan, h) if ns_ok else {},
                "enter": hns.enter(),
            }
            if h.role == P.NODE:
                cfg = frr.SpeakerConfig.load(self.host_dir(h) / "speaker.json", plan.bfd)
                off = self.standin_off_reason(h)
                info["speaker"] = {"asn": cfg.asn, "router_asn": cfg.router_asn, "bfd": cfg.bfd,
                                   "hold": cfg.hold, "networks": cfg.networks,
                                   "standin": "on" if off is None else f"off: {off}",
                                   "sessions": self._sessions(plan, h) if ns_ok and off is None else {}}
            return info

        with ThreadPoolExecutor(max_workers=len(plan.hosts)) as pool:
            for h, info in zip(plan.hosts, pool.map(one, plan.hosts)):
                hosts[h.name] = info
                if not info["namespaces_ok"]:
                    problems.append(f"{h.name}: namespaces missing")
                if not info["processes"].get("sshd"):
                    problems.append(f"{h.name}: sshd not running")
                if h.role == P.NODE and info["speaker"]["standin"] == "on" and not all(info["frr"].values()):
                    problems.append(f"{h.name}: speaker FRR not (fully) running")
        return {
            "name": self.name, "up": not problems, "state_dir": str(self.state),
            "nodes": plan.nodes, "bfd": plan.bfd, "routers": plan.routers, "racks": plan.rack_count,
            "inventories": meta["inventories"],
            "switch_netns": plan.switch_netns, "hosts": hosts, "problems": problems,
        }

    def _sessions(self, plan: LabPlan, host: Host) -> dict[str, str]:
        out = run(self.hostns(plan, host).enter("/") + ["vtysh", "-c", "show bgp summary json"], check=False)
        try:
            data = json.loads(out.stdout)
        except ValueError:
            return {}
        sessions = {}
        for af in data.values():
            for peer, p in af.get("peers", {}).items():
                sessions[peer] = p.get("state", "?")
        return sessions

    # ------------------------------------------------------------ down
    def down(self) -> list[str]:
        if not self.state.exists():
            leftovers = sorted(p.name for p in Path("/run/netns").glob(f"{self.name}-*")) \
                if Path("/run/netns").is_dir() else []
            if leftovers:
                raise LabError(f"lab {self.name!r} has no state dir, but namespaces {', '.join(leftovers)} "
                               "exist: not created by this lab, so not touched")
            return []
        with self._locked(self.state / ".lock"):
            return self._down()

    def _down(self) -> list[str]:
        try:
            meta = self.meta() or {}
        except LabError:  # damaged: tear down what the state dir shows
            meta = {}
        # hosts from the plan and from the state dir (in case lab.json is damaged)
        names = {p.name for p in (self.state / "hosts").glob("*")} if (self.state / "hosts").is_dir() else set()
        plan = LabPlan.from_meta(self.name, {"nodes": 1, **meta})
        by_name = {h.name: h for h in plan.hosts}
        for n in sorted(names - set(by_name)):
            if n.startswith("node") and n[4:].isdigit():
                by_name[n] = P.node(int(n[4:]))
            elif n.startswith("router") and n[6:].isdigit():
                by_name[n] = P.router(int(n[6:]), 0)
        hosts = list(by_name.values())
        changes = []

        # 1. processes: everything inside the lab's namespaces, by pid, TERM then KILL
        for _ in range(5):
            pids = pids_in_namespaces(self.namespace_inodes(plan, hosts)
                                      + [ns_inode(network.netns_path(plan.switch_netns))])
            if not pids:
                break
            end_processes(pids)
            changes.append(f"ended {len(pids)} process(es)")
        else:
            raise LabError(f"processes keep appearing in lab {self.name!r}: {pids}")

        # 2. namespaces: handles first (they pin the mount namespaces), then the netns
        for h in hosts:
            self.hostns(plan, h).remove()
        ns_dir = self.state / "ns"
        if is_mountpoint(ns_dir):
            umount(ns_dir)
        for ns in [*(plan.netns(h) for h in hosts), plan.switch_netns]:
            if network.netns_path(ns).exists():
                network.delete_netns(ns)
                changes.append(f"netns {ns}")

        # 3. files: the inventories it wrote, then the state dir
        for inv in meta.get("inventories", []):
            changes += [f"removed {f}" for f in inventory.remove(plan, Path(inv))]
        for m in reversed(mounts()):
            if m.target == str(self.state) or m.target.startswith(f"{self.state}/"):
                umount(m.target, lazy=True)
        shutil.rmtree(self.state)
        changes.append(f"state dir {self.state}")
        for d in (P.STATE_ROOT,):
            with contextlib.suppress(OSError):
                d.rmdir()
        _remove_empty_netns_dir()
        return changes


def _remove_empty_netns_dir() -> None:
    """`ip netns add` leaves /run/netns as a mount point; remove it once nothing uses it.

    Non-lazy umount and rmdir both refuse if someone added a namespace meanwhile.
    """
    d = Path("/run/netns")
    if not d.is_dir() or any(d.iterdir()):
        return
    if is_mountpoint(d):
        if run(["umount", "-n", str(d)], check=False).returncode != 0:
            return
    with contextlib.suppress(OSError):
        d.rmdir()
