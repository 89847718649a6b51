# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Probe with an installed arping: one process per probe, many VIPs at once.

Each probe is one arping process that sends a broadcast request and keeps
listening; it is stopped with SIGINT (both tools then print their summary) once
the scheduler closes the probe, and its complete output and exit code are
parsed. Stopping it ourselves is what makes a probe collect every answer:

* iputils runs as ``arping -b -c N -I IF -s SRC VIP`` without ``-w``: ``-b``
  keeps broadcasting (it otherwise goes unicast to the last replier), and
  without ``-w`` it never exits at the first reply. Its ``-w``/``-i`` take whole
  seconds, so a fractional ``timeout`` can only be honoured by stopping it.
* Habets runs as ``arping -d -c 1 -W WAIT -i IF -S SRC VIP``; it always
  broadcasts, prints every answer and ``-d`` makes its exit code flag two MACs.

IPv6 VIPs are probed with ndisc6 (``ndisc6 -m -n -r 1 -w WAIT -s SRC VIP IF``):
one solicitation to the solicited-node group, every advertisement printed.
SIGINT kills ndisc6 without output, so it is never signalled: a probe of it
lasts its whole ``-w`` (``timeout / count``) and is collected when it exits.
"""

from __future__ import annotations

import math
import os
import selectors
import signal
import subprocess
import time

from ansible_collections.baremetal.metallb.plugins.module_utils.arping.parsers import (
    HABETS,
    IPUTILS,
    NDISC6,
    ArpingError,
    detect_flavor,
    detect_ndisc6,
    parse_reply_line,
    parse_run,
)
from ansible_collections.baremetal.metallb.plugins.module_utils.arping.prober import Finished, Heard, ProbeOutcome, ProbeTransportError

# Where distributions put arping (Debian: /usr/bin for iputils, /usr/sbin for Habets).
SEARCH_DIRS = ("/usr/sbin", "/sbin", "/usr/bin", "/bin", "/usr/local/sbin", "/usr/local/bin")
_C_LOCALE = {"LC_ALL": "C", "LANG": "C"}
# How long a stopped arping may take to print its summary and exit.
_STOP_GRACE = 2.0
# How long each tool needs before SIGINT makes it report instead of dying:
# measured 1 ms for iputils and 30-60 ms for Habets (libpcap set-up).
# ndisc6 is never stopped early (it exits by itself after -w), so it has no minimum.
MIN_PROBE_TIME = {IPUTILS: 0.005, HABETS: 0.08, NDISC6: 0.0}


def find_arping(path: str | None = None, name: str = "arping") -> str | None:
    if path:
        return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
    dirs = os.environ.get("PATH", "").split(os.pathsep) + list(SEARCH_DIRS)
    for directory in dirs:
        candidate = os.path.join(directory, name)
        if directory and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def detect(path: str, run=None) -> tuple[str, str]:
    """(flavor, version) of the arping at ``path``; ``run(argv) -> (rc, out, err)``."""
    if run is None:
        def run(argv):
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=dict(os.environ, **_C_LOCALE))
            return proc.returncode, proc.stdout, proc.stderr
    out, err = run([path, "-V"])[1:]
    return detect_flavor(out, err)


def detect_ndisc6_version(path: str, run) -> str:
    """ndisc6's version; ``run(argv) -> (rc, out, err)``. Raises ArpingError if it is not ndisc6."""
    out, err = run([path, "-V"])[1:]
    return detect_ndisc6(out, err)


def command(flavor: str, path: str, binding, wait: float) -> list[str]:
    """argv for one probe of ``binding.address`` listening for up to ``wait`` seconds."""
    if flavor == IPUTILS:
        # -c: as many one-second-spaced probes as fit in wait (at least one);
        # the process is stopped before it would exit on its own.
        probes = max(1, math.ceil(wait))
        return [path, "-b", "-c", str(probes), "-I", binding.interface, "-s", binding.source, binding.address]
    if flavor == HABETS:
        return [path, "-d", "-c", "1", "-W", f"{max(wait, 0.001):.3f}", "-i", binding.interface, "-S", binding.source, binding.address]
    if flavor == NDISC6:
        # -m: wait all of -w and print every answer; -r 1: one solicitation per probe.
        return [path, "-m", "-n", "-r", "1", "-w", str(max(1, round(wait * 1000))), "-s", binding.source,
                binding.address, binding.interface]
    raise ValueError(f"unknown arping flavor {flavor!r}")


class _Proc:
    def __init__(self, popen: subprocess.Popen, argv: list[str], flavor: str) -> None:
        self.popen = popen
        self.argv = argv
        self.flavor = flavor
        self.out = bytearray()
        self.err = bytearray()
        self.pending = b""
        self.partial_seen = b""
        self.open_streams = 2
        self.interrupted_at: float | None = None


class ToolTransport:
    """Probe transport running ``flavor`` arping at ``path``.

    ``stop_probe`` only sends SIGINT; the probe's account arrives from ``poll``
    as a ``Finished`` event once the process has printed its summary and exited,
    so stopping twenty processes costs one wait, not twenty.

    IPv4 VIPs go to ``flavor`` at ``path``; IPv6 VIPs to ndisc6 at ``ndisc6_path``
    (or at ``path`` when ``flavor`` is ndisc6). ``name`` says which tools probed.
    """

    def __init__(self, flavor: str, path: str, settings, clock=time.monotonic, ndisc6_path: str | None = None) -> None:
        self.name = flavor
        self.min_probe_time = MIN_PROBE_TIME[flavor]
        self._tools = {6: (NDISC6, path if flavor == NDISC6 else ndisc6_path)}
        if flavor != NDISC6:
            self._tools[4] = (flavor, path)
        self._settings = settings
        self._clock = clock
        self._bindings: dict = {}
        self._procs: dict[str, _Proc] = {}
        self._selector = selectors.DefaultSelector()

    def open(self, bindings) -> None:
        used = []
        for binding in bindings:
            version = 6 if ":" in binding.address else 4
            flavor, path = self._tools.get(version, (None, None))
            if not path:
                raise ProbeTransportError(
                    f"{binding.address}: {self.name} cannot probe IPv{version} VIPs; "
                    + ("install ndisc6 or set ndisc6_path" if version == 6 else "use an arping prober for them")
                )
            self._bindings[binding.address] = binding
            used.append(flavor)
        used = list(dict.fromkeys(sorted(used, key=lambda flavor: flavor == NDISC6)))
        if used:
            self.name = "+".join(used)
            self.min_probe_time = max(MIN_PROBE_TIME[flavor] for flavor in used)

    def start_probe(self, address: str) -> None:
        binding = self._bindings[address]
        wait = self._settings.timeout / self._settings.count
        flavor, path = self._tools[6 if ":" in address else 4]
        argv = command(flavor, path, binding, wait)
        try:
            popen = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                env=dict(os.environ, **_C_LOCALE),
            )
        except OSError as exc:
            raise ProbeTransportError(f"cannot run {path}: {exc.strerror}") from exc
        self._procs[address] = _Proc(popen, argv, flavor)
        for stream, kind in ((popen.stdout, "out"), (popen.stderr, "err")):
            os.set_blocking(stream.fileno(), False)
            self._selector.register(stream, selectors.EVENT_READ, (address, kind))

    def stop_probe(self, address: str) -> ProbeOutcome | None:
        proc = self._procs[address]
        if proc.popen.poll() is None:
            proc.interrupted_at = self._clock()
            if proc.flavor != NDISC6:
                proc.popen.send_signal(signal.SIGINT)
            return None
        # It ended on its own (e.g. iputils after its -c probes): collect now.
        self._drain(address)
        return self._outcome(address)

    def poll(self, timeout: float) -> list:
        if not self._procs:
            time.sleep(max(0.0, timeout))
            return []
        events: list = []
        for key, _mask in self._selector.select(max(0.0, timeout)):
            address, kind = key.data
            events.extend(self._read(address, key.fileobj, kind))
        now = self._clock()
        for address, proc in list(self._procs.items()):
            if proc.interrupted_at is None:
                continue
            if proc.open_streams == 0:
                proc.popen.wait()
            elif now - proc.interrupted_at > _STOP_GRACE:
                proc.popen.kill()
                proc.popen.wait()
                self._drain(address)
            else:
                continue
            try:
                events.append(Finished(address, outcome=self._outcome(address)))
            except ProbeTransportError as exc:
                events.append(Finished(address, error=str(exc)))
        return events

    def _read(self, address: str, stream, kind: str) -> list[Heard]:
        proc = self._procs[address]
        try:
            chunk = os.read(stream.fileno(), 65536)
        except BlockingIOError:
            return []
        if not chunk:
            self._selector.unregister(stream)
            proc.open_streams -= 1
            return []
        if kind == "err":
            proc.err.extend(chunk)
            return []
        proc.out.extend(chunk)
        at = self._clock()
        lines = (proc.pending + chunk).split(b"\n")
        proc.pending = lines.pop()
        heard = []
        for line in lines:
            if line == proc.partial_seen:
                proc.partial_seen = b""
                continue
            heard.extend(self._heard(address, line, at))
        # Habets writes each reply's newline only with its next output: take a
        # complete-looking reply without waiting for it.
        if proc.pending and proc.pending != proc.partial_seen and proc.pending.rstrip().endswith(b"sec"):
            partial = self._heard(address, proc.pending, at)
            if partial:
                proc.partial_seen = proc.pending
                heard.extend(partial)
        return heard

    def _heard(self, address: str, line: bytes, at: float) -> list[Heard]:
        reply = parse_reply_line(self._procs[address].flavor, line.decode("utf-8", "replace"))
        if reply is None or reply.ip != address:
            return []
        return [Heard(address=address, mac=reply.mac, at=at, rtt_ms=reply.rtt_ms)]

    def _drain(self, address: str) -> None:
        """Read whatever is left in the pipes of an exited process."""
        proc = self._procs[address]
        for stream, target in ((proc.popen.stdout, proc.out), (proc.popen.stderr, proc.err)):
            if self._registered(stream):
                self._selector.unregister(stream)
                os.set_blocking(stream.fileno(), True)
                target.extend(stream.read() or b"")
        proc.open_streams = 0

    def _outcome(self, address: str) -> ProbeOutcome:
        proc = self._procs.pop(address)
        proc.popen.stdout.close()
        proc.popen.stderr.close()
        stdout = proc.out.decode("utf-8", "replace")
        stderr = proc.err.decode("utf-8", "replace")
        if proc.interrupted_at is not None and proc.popen.returncode == -signal.SIGINT and not stdout.strip():
            # Stopped before it set up its SIGINT handler, so before its first
            # probe went out: a void probe, not a tool failure.
            return ProbeOutcome(sent=0, replies=[])
        try:
            run = parse_run(proc.flavor, stdout, stderr, proc.popen.returncode, find_duplicates=proc.flavor == HABETS)
        except ArpingError as exc:
            raise ProbeTransportError(f"{exc} (command: {' '.join(proc.argv)})") from exc
        return ProbeOutcome(sent=run.sent, replies=[(reply.mac, reply.rtt_ms) for reply in run.replies if reply.ip == address])

    def _registered(self, stream) -> bool:
        try:
            self._selector.get_key(stream)
        except KeyError:
            return False
        return True

    def close(self) -> None:
        for proc in self._procs.values():
            if proc.popen.poll() is None:
                proc.popen.kill()
            proc.popen.wait()
            for stream in (proc.popen.stdout, proc.popen.stderr):
                if self._registered(stream):
                    self._selector.unregister(stream)
                stream.close()
        self._procs.clear()
        self._selector.close()
