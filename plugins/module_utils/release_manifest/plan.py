# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What metallb_install decides, in one place: which inputs are wrong (each problem naming its
variable), what to read, which objects to apply, what to wait for, what is not ready yet and,
when a wait times out, what explains it.

The action plugin ``metallb_release`` is a thin shell around ``ReleasePlan`` and ``ReleaseWait``;
the role's tasks only pass data to it and from it to the apply and helm modules.
"""

from __future__ import annotations

import os
import re
import time

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.readiness import pending as pending_of_kind

from .helm import FLAVOURS, helm_values
from .contents import deletion_order, summary
from .options import PREFIX, OptionsError, check_options
from .transform import ManifestError, check_objects, transform

MINIMUM_VERSION = (0, 13, 0)
_VERSION = re.compile(r"^v([0-9]+)\.([0-9]+)\.([0-9]+)$")
_SHA256 = re.compile(r"^(sha256:)?[0-9a-fA-F]{64}$")
_MANIFEST_URL = re.compile(r"^(https?|file)://")
# The inputs the options check (options.check_options) takes, under the role's names.
OPTION_KEYS = ("namespace", "pod_security", "speaker_node_selector", "speaker_tolerations", "image_registry",
               "image_digests")
# The defaults of roles/metallb_install/defaults/main.yml, for a caller that leaves an input out.
DEFAULTS = {
    "method": "manifest", "flavour": "native", "manifest_src": "", "manifest_url": "", "manifest_sha256": "",
    "manifest_validate_certs": True, "chart_ref": "metallb", "chart_repo_url": "", "chart_sha256": "",
    "verify_digests": True, "image_digests": {}, "image_registry": "", "namespace": "metallb-system",
    "pod_security": {}, "speaker_node_selector": {}, "speaker_tolerations": [], "wait_timeout": 300,
    "wait": True, "kubeconfig": "", "kube_context": "",
}
# What one poll reads: every kind the release is waited for by (readiness.PENDING).
READ_API_VERSIONS = {
    "CustomResourceDefinition": "apiextensions.k8s.io/v1",
    "Deployment": "apps/v1",
    "DaemonSet": "apps/v1",
    "EndpointSlice": "discovery.k8s.io/v1",
}
# Judged on k8s_apply's answers: the kinds whose answer carries their readiness (an EndpointSlice is no answer).
ANSWERED_KINDS = ("CustomResourceDefinition", "Deployment", "DaemonSet")
RECENT_EVENTS = 15
POLL_SECONDS = 2.0


class ReleaseError(ValueError):
    """Bad inputs or a bad release: ``problems`` holds one sentence each, naming the variable."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def _text(value) -> str:
    return "" if value is None else str(value)


def _json_text(value) -> str:
    """The value as the user wrote it, quoted (a version 0.16 given as a number shows as 0.16)."""
    return f'"{value}"' if isinstance(value, str) else repr(value)


def version_tuple(version: str) -> tuple[int, int, int] | None:
    match = _VERSION.match(_text(version))
    return tuple(int(part) for part in match.groups()) if match else None


def input_problems(inputs: dict, is_file=os.path.isfile) -> list[str]:
    """The rules the argument spec cannot express, one sentence per problem, each naming the
    metallb_install_* variable and the fix. ``inputs`` are the role's converted inputs."""
    found: list[str] = []
    version = inputs.get("version")
    parsed = version_tuple(version)
    if parsed is None:
        found.append(f"{PREFIX}version: {_json_text(version)} is not a MetalLB release tag like v0.16.1")
    elif parsed < MINIMUM_VERSION:
        found.append(f"{PREFIX}version: {version} is older than v0.13.0, the first release configured with CRDs; "
                     "this role installs v0.13.0 or later")
    method, flavour = inputs["method"], inputs["flavour"]
    if method == "manifest":
        src, url = _text(inputs["manifest_src"]), _text(inputs["manifest_url"])
        if src:
            if not is_file(src):
                found.append(f"{PREFIX}manifest_src: {src} is not a file on the Ansible controller; give the path of "
                             f"the release manifest (metallb-{flavour}.yaml of {version})")
        elif not _MANIFEST_URL.match(url):
            found.append(f"{PREFIX}manifest_url: {_json_text(url)} is not an http(s):// or file:// URL; or set "
                         f"{PREFIX}manifest_src to a local file")
    if method == "helm":
        chart_ref, repo = _text(inputs["chart_ref"]), _text(inputs["chart_repo_url"])
        if not chart_ref:
            found.append(f"{PREFIX}chart_ref: give the chart name or the path of the chart")
        if repo and inputs["verify_digests"]:
            found.append(f"{PREFIX}chart_repo_url: helm would fetch the chart from {repo} without an integrity check. "
                         f"Fetch it first (helm pull {chart_ref} --repo {repo} --version {_text(version)[1:]}), check "
                         f"it, then set {PREFIX}chart_ref to the archive, {PREFIX}chart_repo_url to \"\" and "
                         f"{PREFIX}chart_sha256 to its digest; or set {PREFIX}verify_digests to false")
    for name in ("manifest_sha256", "chart_sha256"):
        given = _text(inputs[name])
        if given and not _SHA256.match(given):
            found.append(f"{PREFIX}{name}: {_json_text(given)} is not a sha256 digest (64 hex digits, optionally "
                         "prefixed with sha256:); compute it with sha256sum")
    if method == "helm" and inputs["image_digests"]:
        found.append(f"{PREFIX}image_digests: images are pinned in the manifest's objects "
                     f"({PREFIX}method: manifest); the chart takes repository and tag only")
    if int(inputs["wait_timeout"]) < 1:
        found.append(f"{PREFIX}wait_timeout: must be 1 second or more")
    if flavour not in FLAVOURS:
        found.append(f"{PREFIX}flavour: {flavour!r} is not one of {', '.join(FLAVOURS)}")
    return found


def reads_for(waits: list[dict]) -> list[dict]:
    """k8s_batch_info's reads for one poll of ``waits``: one LIST per kind."""
    return [{key: wait[key] for key in ("key", "api_version", "kind", "namespace") if wait.get(key)} for wait in waits]


def waits_of(objects: list[dict]) -> list[dict]:
    """What an install of ``objects`` must wait for, read from them and nothing else: every CRD
    Established, every Deployment and DaemonSet rolled out and ready (MetalLB's and, in the
    frr-k8s flavour, frr-k8s's daemon and status cleaner), every Service of the release that a
    webhook configuration or a CRD conversion calls with a ready endpoint (MetalLB's webhook and
    frr-k8s's). One entry per kind: ``key`` (the read's name), ``kind``, ``api_version``,
    ``namespace`` (none for CRDs) and ``names``; kinds the release has none of are left out."""
    found = summary(objects)
    names = {"CustomResourceDefinition": found["crds"], "Deployment": found["deployments"],
             "DaemonSet": found["daemonsets"], "EndpointSlice": found["webhook_services"]}
    return [{"key": kind, "kind": kind, "api_version": api_version,
             "namespace": None if kind == "CustomResourceDefinition" else found["namespace"], "names": names[kind]}
            for kind, api_version in READ_API_VERSIONS.items() if names[kind]]


def pending(resources: dict, waits: list[dict], kinds: tuple[str, ...] | None = None) -> list[str]:
    """What is not ready among ``waits``, one sentence each, judged on ``resources`` (a read's
    results by key; a key not read counts as nothing found). ``kinds`` limits the judgement."""
    lines: list[str] = []
    for wait in waits:
        if kinds is None or wait["kind"] in kinds:
            lines += pending_of_kind(list(resources.get(wait["key"]) or []), wait["kind"], wait["names"])
    return lines


def answers_by_key(applied: list[dict], waits: list[dict]) -> dict:
    """k8s_apply's results (the API server's answers) in the shape of a read of ``waits``."""
    out: dict[str, list[dict]] = {}
    for wait in waits:
        out[wait["key"]] = [r["object"] for r in applied
                            if r.get("kind") == wait["kind"] and isinstance(r.get("object"), dict)]
    return out


def must_wait(applied: list[dict] | None, waits: list[dict]) -> bool:
    """Whether the cluster must be read to wait after an apply. Not when no object changed and
    the apply's answers (``applied``, k8s_apply's results) show every CRD Established and every
    Deployment and DaemonSet ready: an installed MetalLB re-applied costs no read. Without an
    apply's results (helm installed the release), always."""
    if applied is None or any(result.get("changed") for result in applied):
        return True
    return bool(pending(answers_by_key(applied, waits), waits, ANSWERED_KINDS))


def _ready_of(pod: dict) -> str:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return next((c.get("status", "?") for c in conditions if c.get("type") == "Ready"), "?")


def diagnostic(not_ready: list[str], timeout: int, namespace: str, pods: list[dict], events: list[dict],
               slices: list[dict], read_error: str | None = None) -> list[str]:
    """Why a wait timed out: what is not ready, the namespace's pods, its recent events and the
    webhook Services' endpoints, one line each."""
    lines = [f"not ready after {timeout} s: {line}" for line in not_ready]
    if read_error:
        lines.append(f"reading the release objects failed: {read_error}")
    lines.append(f"pods in {namespace}:" + ("" if pods else " none"))
    for pod in pods:
        status, spec = pod.get("status") or {}, pod.get("spec") or {}
        lines.append(f"  {pod['metadata']['name']} {status.get('phase', '?')} ready={_ready_of(pod)} "
                     f"node={spec.get('nodeName') or 'none'}")
    recent = sorted(events, key=lambda event: _text((event.get("metadata") or {}).get("creationTimestamp")))
    lines.append("recent events:" + ("" if recent else " none"))
    for event in recent[-RECENT_EVENTS:]:
        involved = event.get("involvedObject") or {}
        lines.append(f"  {event.get('type', '')} {event.get('reason', '')} {involved.get('kind', '')}/"
                     f"{involved.get('name', '')}: {_text(event.get('message')).strip()}")
    lines.append("endpoints:" + ("" if slices else " none"))
    for piece in slices:
        metadata = piece.get("metadata") or {}
        service = (metadata.get("labels") or {}).get("kubernetes.io/service-name") or metadata.get("name")
        endpoints = piece.get("endpoints") or []
        addresses = ", ".join(a for e in endpoints for a in e.get("addresses") or []) or "no addresses"
        ready = ",".join(str((e.get("conditions") or {}).get("ready", True)) for e in endpoints)
        lines.append(f"  {service}: {addresses} ready={ready}")
    return lines


NO_KUBE_PROXY_CONFIG = (
    "No ConfigMap kube-system/kube-proxy (or no key config.conf in it): kube-proxy is not configured the kubeadm way "
    "or does not run; nothing to check. If kube-proxy runs in IPVS mode, make sure it has strictARP enabled.")


def _truthy(value) -> bool:
    """Ansible's bool filter: true, yes, on, 1 (any case) are true."""
    return value is True or str(value).strip().lower() in ("true", "yes", "on", "1", "y", "t")


def kube_proxy_check(config_maps: list[dict]) -> tuple[str, str]:
    """The preflight on kubeadm's ConfigMap kube-system/kube-proxy (``config_maps``, the read's
    result): (note, problem). kube-proxy in IPVS mode binds every LoadBalancer address to
    kube-ipvs0 on every node; without strictARP each node then answers ARP for it and layer 2
    announcements break. Without the ConfigMap (or its config.conf) there is nothing to check."""
    text = ((config_maps[0].get("data") or {}).get("config.conf") or "") if config_maps else ""
    if not text:
        return NO_KUBE_PROXY_CONFIG, ""
    import yaml  # pylint: disable=import-outside-toplevel
    config = yaml.safe_load(str(text)) or {}
    ipvs = config.get("ipvs") or {}
    if _text(config.get("mode")).lower() != "ipvs" or _truthy(ipvs.get("strictARP", False)):
        return "", ""
    return "", (
        "kube-proxy runs in IPVS mode without strictARP (ConfigMap kube-system/kube-proxy, key config.conf: mode: ipvs, "
        f"ipvs.strictARP: {ipvs.get('strictARP', 'unset')}). Every node would then answer ARP for MetalLB's addresses. "
        "Fix: set ipvs.strictARP: true in that ConfigMap and restart kube-proxy (kubectl -n kube-system rollout restart "
        f"daemonset kube-proxy); or, if you know better, skip this check with {PREFIX}preflight: false.")


def parse_release(release):
    """The release as a list of documents: YAML text (a manifest, helm template's output) or a list."""
    if isinstance(release, (list, tuple)):
        return list(release)
    if not isinstance(release, str):
        raise ManifestError(f"give the release as YAML text or a list of objects, not {type(release).__name__}")
    # PyYAML comes with ansible-core; imported here, as only the controller parses a release.
    import yaml  # pylint: disable=import-outside-toplevel
    try:
        return list(yaml.load_all(str(release), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        raise ManifestError(f"the release is not valid YAML: {exc}") from exc


class ReleasePlan:
    """The role's inputs checked once, and everything derived from them and the release.

    ``inputs`` are the role's converted inputs without the ``metallb_install_`` prefix (the
    result of role_inputs); keys this plan does not use are ignored."""

    def __init__(self, inputs: dict, is_file=os.path.isfile):
        self.inputs = {**DEFAULTS, **{key: value for key, value in (inputs or {}).items() if value is not None}}
        problems = input_problems(self.inputs, is_file)
        try:
            self.options = check_options({key: self.inputs[key] for key in OPTION_KEYS})
        except OptionsError as exc:
            problems += exc.problems
        if problems:
            raise ReleaseError(problems)
        self.method, self.flavour = self.inputs["method"], self.inputs["flavour"]

    @property
    def no_log(self) -> bool:
        """An inline kubeconfig holds credentials: the tasks that get it log nothing."""
        return isinstance(self.inputs["kubeconfig"], dict)

    @property
    def chart_version(self) -> str:
        """The chart's version: the release tag without its v."""
        return self.inputs["version"][1:]

    def namespace_object(self) -> dict:
        return transform([], self.options)[0]

    def helm_values(self) -> dict:
        return helm_values(self.options, self.flavour) if self.method == "helm" else {}

    def manifest_source(self) -> tuple[str, dict]:
        """The manifest to read (a local file wins over the URL) and release_file's options for it."""
        src = _text(self.inputs["manifest_src"]) or _text(self.inputs["manifest_url"])
        return src, {"kind": "manifest", "version": self.inputs["version"], "name": f"metallb-{self.flavour}.yaml",
                     "sha256": _text(self.inputs["manifest_sha256"]), "variable": f"{PREFIX}manifest_sha256",
                     "verify": bool(self.inputs["verify_digests"]),
                     "validate_certs": bool(self.inputs["manifest_validate_certs"])}

    def chart_source(self) -> tuple[str, dict] | None:
        """The local chart to check before helm reads it, with release_file's options; None for a
        chart helm fetches from a repository (refused by input_problems unless digests are off)."""
        if self.method != "helm" or _text(self.inputs["chart_repo_url"]):
            return None
        return _text(self.inputs["chart_ref"]), {
            "kind": "chart", "version": self.inputs["version"], "name": "chart",
            "sha256": _text(self.inputs["chart_sha256"]), "variable": f"{PREFIX}chart_sha256",
            "verify": bool(self.inputs["verify_digests"])}

    def release(self, release) -> dict:
        """The release's objects adapted to the options, what they consist of and what to wait for."""
        try:
            objects = transform(parse_release(release), self.options)
        except OptionsError as exc:
            raise ReleaseError(exc.problems) from None
        except ManifestError as exc:
            raise ReleaseError([f"the release of MetalLB {self.inputs['version']}: {exc}"]) from None
        checked = check_objects(objects)
        return {"objects": objects,
                "summary": {**summary(checked), "deletion_order": deletion_order(checked), "waits": waits_of(checked)}}


class ReleaseWait:
    """Poll until every wait is ready or ``timeout`` seconds have passed.

    ``read(reads)`` runs k8s_batch_info's reads and returns its result (``resources`` by key,
    or ``failed`` and ``msg``). Returns (pending, polls); pending is empty when all are ready."""

    def __init__(self, read, clock=time.monotonic, sleep=time.sleep, delay: float = POLL_SECONDS):
        self.read, self.clock, self.sleep, self.delay = read, clock, sleep, delay
        self.last: dict = {}

    def run(self, waits: list[dict], timeout: int) -> list[str]:
        deadline = self.clock() + timeout
        while True:
            self.last = self.read(reads_for(waits))
            not_ready = pending(self.last.get("resources") or {}, waits)
            if not not_ready or self.clock() >= deadline:
                return not_ready
            self.sleep(self.delay)

    @property
    def read_error(self) -> str | None:
        return self.last.get("msg") if self.last.get("failed") else None

    @property
    def slices(self) -> list[dict]:
        return list((self.last.get("resources") or {}).get("EndpointSlice") or [])
