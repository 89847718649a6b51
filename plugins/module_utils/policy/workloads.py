# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Cross-field checks of the workloads and pools, and their normalized form.

The argument spec has already checked types and choices; what is left are
the rules that span fields or follow Kubernetes' and MetalLB's own
validation: names, label keys, port ranges, duplicates, requested addresses
against their pool, IP sharing. Every problem is collected with the path of
the variable (``workloads[1].ports[0].port``) and a sentence with the fix.
"""

from __future__ import annotations

import dataclasses
import re
import typing as t

from ..model import names
from ..model.addresses import Run, buggy_ipv4, parse_address, parse_pool_entry
from .argspec import WORKLOAD_OPTIONS, fill_defaults

SELECTOR_LABEL = "app.kubernetes.io/name"
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY = "baremetal.metallb"
ANNOTATION_POOL = "metallb.io/address-pool"
ANNOTATION_IPS = "metallb.io/loadBalancerIPs"
ANNOTATION_SHARED = "metallb.io/allow-shared-ip"
# Set from dedicated options; the legacy spellings would contradict them.
_MANAGED_ANNOTATIONS = {
    ANNOTATION_POOL: "address_pool",
    ANNOTATION_IPS: "load_balancer_ips",
    ANNOTATION_SHARED: "allow_shared_ip",
    "metallb.universe.tf/address-pool": "address_pool",
    "metallb.universe.tf/loadBalancerIPs": "load_balancer_ips",
    "metallb.universe.tf/allow-shared-ip": "allow_shared_ip",
}
_QUANTITY = re.compile(r"^[+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+|[KMGTPE]i|[mkMGTPE])?$")
MAX_INT32 = 2**31 - 1


@dataclasses.dataclass
class Pool:
    name: str
    protocol: str | None  # None: not stated (a pool read from the cluster)
    auto_assign: bool
    avoid_buggy_ips: bool
    runs: list[Run]
    labels: dict = dataclasses.field(default_factory=dict)

    def holds(self, address) -> bool:
        if self.avoid_buggy_ips and buggy_ipv4(address):
            return False
        return any(address in run for run in self.runs)


@dataclasses.dataclass
class InputErrors:
    items: list[dict] = dataclasses.field(default_factory=list)

    def add(self, variable: str, code: str, message: str, workload: str | None = None) -> None:
        where = f"{variable} ({workload})" if workload else variable
        self.items.append({"variable": variable, "workload": workload, "code": code, "message": f"{where} {message}"})


def _scalar_text(value: t.Any) -> str | None:
    return value if isinstance(value, str) else None


def check_keys(errors: InputErrors, var: str, mapping: t.Any, kind: str, workload: str | None = None) -> None:
    """Label (kind='label') or annotation (kind='annotation') keys and values."""
    if not isinstance(mapping, dict):
        errors.add(var, f"invalid_{kind}_key", f"must be a dict of {kind}s", workload)
        return
    for key, value in mapping.items():
        problem = names.qualified_name(key)
        if problem:
            errors.add(f"{var}[{key!r}]", f"invalid_{kind}_key", f"is not a valid {kind} key: it {problem}", workload)
            continue
        if kind == "label":
            problem = names.label_value(value)
            if problem:
                errors.add(f"{var}[{key!r}]", "invalid_label_value", f"has the value {value!r}, which {problem}", workload)
        elif _scalar_text(value) is None:
            errors.add(
                f"{var}[{key!r}]", "invalid_annotation_value",
                f"has the value {value!r}: annotation values are strings; quote it in YAML", workload,
            )


def parse_pools(raw_pools: list[dict] | None, errors: InputErrors, var: str = "pools") -> dict[str, Pool]:
    """The pools by name; problems are reported briefly (pool_validate gives the full checks)."""
    pools: dict[str, Pool] = {}
    for index, raw in enumerate(raw_pools or []):
        here = f"{var}[{index}]"
        name = raw.get("name")
        problem = names.dns1123_subdomain(name) if name else "is missing"
        if problem:
            errors.add(f"{here}.name", "invalid_pool", f"{problem}: every pool needs a Kubernetes object name")
            continue
        if name in pools:
            errors.add(f"{here}.name", "invalid_pool", f"'{name}' is defined twice: pool names must be unique")
            continue
        runs = []
        addresses = raw.get("addresses") or []
        if not addresses:
            errors.add(f"{here}.addresses", "invalid_pool", f"of pool '{name}' is empty: list at least one CIDR or range")
        for position, entry in enumerate(addresses):
            run = parse_pool_entry(entry)
            if run is None:
                errors.add(
                    f"{here}.addresses[{position}]", "invalid_pool",
                    f"is {entry!r}, not a CIDR with its prefix length (203.0.113.6/32 for one address) "
                    "or a range 'first-last' of one family in ascending order, as MetalLB reads them",
                )
            else:
                runs.append(run)
        pools[name] = Pool(
            name=name,
            protocol=raw.get("protocol") or "layer2",
            auto_assign=raw.get("auto_assign") is not False,
            avoid_buggy_ips=bool(raw.get("avoid_buggy_ips")),
            runs=runs,
        )
    return pools


class WorkloadInput:
    """Checks workloads (already through the argument spec) and returns them normalized."""

    def __init__(
        self,
        workloads: list[dict],
        pools: dict[str, Pool],
        errors: InputErrors,
        pod_labels: dict | None = None,
        pod_annotations: dict | None = None,
        var: str = "workloads",
    ):
        self._raw = workloads or []
        self._pools = pools
        self._errors = errors
        self._pod_labels = pod_labels or {}
        self._pod_annotations = pod_annotations or {}
        self._var = var

    def run(self) -> list[dict]:
        check_keys(self._errors, "pod_labels", self._pod_labels, "label")
        check_keys(self._errors, "pod_annotations", self._pod_annotations, "annotation")
        if SELECTOR_LABEL in self._pod_labels:
            self._errors.add(
                f"pod_labels[{SELECTOR_LABEL!r}]", "reserved_label",
                "is the selector label the Deployment and Service use (the workload's name): remove it",
            )
        normalized = []
        seen: dict[tuple, int] = {}
        for index, raw in enumerate(self._raw):
            workload = fill_defaults(WORKLOAD_OPTIONS, raw)
            for port in workload.get("ports") or []:
                if port.get("target_port") is None:
                    port["target_port"] = port.get("port")
            # Checked before the common pod labels are merged in, so that their problems are reported once.
            self._check(index, workload, seen)
            workload["pod_labels"] = dict(self._pod_labels, **(workload.get("pod_labels") or {}))
            workload["pod_annotations"] = dict(self._pod_annotations, **(workload.get("pod_annotations") or {}))
            normalized.append(workload)
        self._check_sharing(normalized)
        return normalized

    # ------------------------------------------------------------ one workload
    def _check(self, index: int, workload: dict, seen: dict) -> None:
        var = f"{self._var}[{index}]"
        name, namespace = workload.get("name"), workload.get("namespace")
        ref = f"{namespace}/{name}"
        add = self._errors.add

        problem = names.dns1035_label(name)
        if problem:
            add(f"{var}.name", "invalid_name", f"is {name!r}: it {problem}", ref)
        problem = names.dns1123_label(namespace)
        if problem:
            add(f"{var}.namespace", "invalid_namespace", f"is {namespace!r}: it {problem}", ref)
        key = (namespace, name)
        if key in seen:
            add(
                f"{var}.name", "duplicate_name",
                f"'{name}' is already used in namespace '{namespace}' by {self._var}[{seen[key]}]: workload names must be unique per namespace", ref,
            )
        else:
            seen[key] = index

        image = workload.get("image")
        if not isinstance(image, str) or not image.strip() or any(char.isspace() for char in image):
            add(f"{var}.image", "invalid_image", f"is {image!r}: give an image reference without spaces, e.g. registry.example/app:1.2", ref)

        replicas = workload.get("replicas")
        if isinstance(replicas, int) and replicas < 0:
            add(f"{var}.replicas", "negative_replicas", f"is {replicas}: replicas must be 0 or more", ref)
        elif isinstance(replicas, int) and replicas > MAX_INT32:
            add(f"{var}.replicas", "invalid_replicas", f"is {replicas}: at most {MAX_INT32}", ref)

        self._check_ports(var, ref, workload.get("ports") or [])
        self._check_container(var, ref, workload)
        self._check_service(var, ref, workload)
        self._check_placement(var, ref, workload)

        for option in ("labels", "pod_labels"):
            check_keys(self._errors, f"{var}.{option}", workload.get(option) or {}, "label", ref)
        for option in ("pod_annotations", "service_annotations"):
            check_keys(self._errors, f"{var}.{option}", workload.get(option) or {}, "annotation", ref)
        for option in ("labels", "pod_labels"):
            if SELECTOR_LABEL in (workload.get(option) or {}):
                add(
                    f"{var}.{option}[{SELECTOR_LABEL!r}]", "reserved_label",
                    "is the selector label, always set to the workload's name: remove it", ref,
                )
        for key in workload.get("service_annotations") or {}:
            if key in _MANAGED_ANNOTATIONS:
                add(
                    f"{var}.service_annotations[{key!r}]", "reserved_annotation",
                    f"is set from the option {_MANAGED_ANNOTATIONS[key]}: use that option instead", ref,
                )

    def _check_ports(self, var: str, ref: str, ports: list[dict]) -> None:
        add = self._errors.add
        if not ports:
            add(f"{var}.ports", "no_ports", "is empty: a LoadBalancer Service needs at least one port", ref)
            return
        seen_names: dict[str, int] = {}
        seen_ports: dict[tuple, int] = {}
        for position, port in enumerate(ports):
            here = f"{var}.ports[{position}]"
            # A target_port equal to the port (the default) would repeat the port's error.
            options = ("port", "target_port") if port.get("target_port") != port.get("port") else ("port",)
            for option in options:
                number = port.get(option)
                if not isinstance(number, int) or isinstance(number, bool) or not 1 <= number <= 65535:
                    add(f"{here}.{option}", "invalid_port", f"is {number!r}: a port must be between 1 and 65535", ref)
            name = port.get("name")
            if name is None:
                if len(ports) > 1:
                    add(f"{here}.name", "port_name_required", "is missing: Kubernetes requires a name on every port of a Service with several ports", ref)
            else:
                problem = names.port_name(name)
                if problem:
                    add(f"{here}.name", "invalid_port_name", f"is {name!r}: it {problem}", ref)
                elif name in seen_names:
                    add(f"{here}.name", "duplicate_port_name", f"'{name}' is already used by {var}.ports[{seen_names[name]}]: port names must be unique", ref)
                else:
                    seen_names[name] = position
            key = (port.get("port"), port.get("protocol") or "TCP")
            if key in seen_ports:
                add(
                    f"{here}.port", "duplicate_port",
                    f"{key[0]}/{key[1]} is already used by {var}.ports[{seen_ports[key]}]: a port and protocol may appear once", ref,
                )
            else:
                seen_ports[key] = position

    def _check_container(self, var: str, ref: str, workload: dict) -> None:
        add = self._errors.add
        env = workload.get("env") or {}
        for key, value in env.items():
            problem = names.env_name(key)
            if problem:
                add(f"{var}.env[{key!r}]", "invalid_env", f"is not a valid variable name: it {problem}", ref)
            elif isinstance(value, (dict, list)) or value is None:
                add(f"{var}.env[{key!r}]", "invalid_env", "must be a string, number or boolean", ref)
        resources = workload.get("resources") or {}
        for part in ("requests", "limits"):
            for key, value in (resources.get(part) or {}).items():
                if not isinstance(value, (str, int, float)) or isinstance(value, bool) or not _QUANTITY.match(str(value)):
                    add(
                        f"{var}.resources.{part}[{key!r}]", "invalid_quantity",
                        f"is {value!r}: use a Kubernetes quantity such as '250m', '0.5' or '128Mi'", ref,
                    )
        probe = workload.get("readiness_probe")
        if probe:
            port = probe.get("port")
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535:
                add(f"{var}.readiness_probe.port", "invalid_port", f"is {port!r}: a port must be between 1 and 65535", ref)
            path = probe.get("path")
            if path is not None and (not isinstance(path, str) or not path.startswith("/")):
                add(f"{var}.readiness_probe.path", "invalid_probe", f"is {path!r}: an HTTP path starts with '/'", ref)

    def _check_service(self, var: str, ref: str, workload: dict) -> None:
        add = self._errors.add
        if workload.get("session_affinity") == "ClientIP":
            timeout = workload.get("session_affinity_timeout")
            if not isinstance(timeout, int) or isinstance(timeout, bool) or not 1 <= timeout <= 86400:
                add(
                    f"{var}.session_affinity_timeout", "invalid_timeout",
                    f"is {timeout!r}: Kubernetes accepts 1 to 86400 seconds (the default is 10800)", ref,
                )
        shared = workload.get("allow_shared_ip")
        if shared is not None and not shared.strip():
            add(f"{var}.allow_shared_ip", "invalid_sharing_key", "is empty: give a sharing key, or leave the option out", ref)

        pool_name = workload.get("address_pool")
        pool = None
        if pool_name is not None:
            problem = names.dns1123_subdomain(pool_name)
            if problem:
                add(f"{var}.address_pool", "invalid_pool_name", f"is {pool_name!r}: it {problem}", ref)
            elif self._pools:
                pool = self._pools.get(pool_name)
                if pool is None:
                    add(
                        f"{var}.address_pool", "unknown_pool",
                        f"is '{pool_name}', which is not one of the pools ({', '.join(sorted(self._pools))}): fix the name or add the pool", ref,
                    )
        if pool is not None and workload.get("mode") and pool.protocol and workload["mode"] != pool.protocol:
            add(
                f"{var}.mode", "mode_conflict",
                f"is {workload['mode']} but pool '{pool.name}' is announced with {pool.protocol}: drop mode or choose a {workload['mode']} pool", ref,
            )

        families = workload.get("ip_families")
        if families and len(set(families)) != len(families):
            add(f"{var}.ip_families", "invalid_ip_families", f"is {families}: name each family once", ref)
        if workload.get("ip_family_policy") == "SingleStack" and families and len(families) > 1:
            add(f"{var}.ip_family_policy", "ip_family_mismatch",
                f"is SingleStack but ip_families is {families}: the API server refuses two families on a single-stack "
                "Service; set RequireDualStack (or PreferDualStack), or name one family", ref)
        seen_versions: dict[int, str] = {}
        for position, text in enumerate(workload.get("load_balancer_ips") or []):
            here = f"{var}.load_balancer_ips[{position}]"
            address = parse_address(text)
            if address is None:
                add(here, "invalid_ip", f"is {text!r}, not an IPv4 or IPv6 address", ref)
                continue
            if address.version in seen_versions:
                add(
                    here, "too_many_ips",
                    f"is a second IPv{address.version} address ({seen_versions[address.version]} and {text}): MetalLB takes one address per family", ref,
                )
                continue
            seen_versions[address.version] = text
            if families and f"IPv{address.version}" not in families:
                add(here, "ip_family_mismatch", f"is IPv{address.version} but ip_families is {families}: add IPv{address.version} or drop the address", ref)
            self._check_requested_ip(here, ref, text, address, pool, pool_name)
        if len(seen_versions) == 2 and not families:
            add(
                f"{var}.ip_families", "ip_family_mismatch",
                "is not set but load_balancer_ips has an IPv4 and an IPv6 address: set ip_families [IPv4, IPv6] so the Service is dual-stack", ref,
            )

    def _check_requested_ip(self, here: str, ref: str, text: str, address, pool: Pool | None, pool_name: str | None) -> None:
        if not self._pools or (pool_name is not None and pool is None):
            return
        if pool is not None:
            if not pool.holds(address):
                why = " (it ends in .0 or .255 and the pool avoids buggy IPs)" if any(address in run for run in pool.runs) else ""
                self._errors.add(
                    here, "ip_outside_pool",
                    f"is {text}, which pool '{pool.name}' does not hold{why}: request an address of that pool", ref,
                )
            return
        if not any(candidate.holds(address) for candidate in self._pools.values()):
            self._errors.add(
                here, "ip_outside_pool",
                f"is {text}, which none of the pools ({', '.join(sorted(self._pools))}) holds: MetalLB would never assign it", ref,
            )

    def _check_placement(self, var: str, ref: str, workload: dict) -> None:
        add = self._errors.add
        check_keys(self._errors, f"{var}.node_selector", workload.get("node_selector") or {}, "label", ref)
        for position, term in enumerate(workload.get("node_affinity") or []):
            here = f"{var}.node_affinity[{position}]"
            problem = names.qualified_name(term.get("key"))
            if problem:
                add(f"{here}.key", "invalid_label_key", f"is {term.get('key')!r}: it {problem}", ref)
            operator, values = term.get("operator") or "In", term.get("values") or []
            if operator in ("In", "NotIn") and not values:
                add(f"{here}.values", "invalid_selector", f"is empty: operator {operator} needs at least one value", ref)
            if operator in ("Exists", "DoesNotExist") and values:
                add(f"{here}.values", "invalid_selector", f"must be empty for operator {operator}", ref)
            for value in values:
                problem = names.label_value(value)
                if problem:
                    add(f"{here}.values", "invalid_label_value", f"has {value!r}, which {problem}", ref)

    # ------------------------------------------------------------ across workloads
    def _check_sharing(self, workloads: list[dict]) -> None:
        """MetalLB's rules for several Services on one requested address."""
        users: dict[str, list[int]] = {}
        for index, workload in enumerate(workloads):
            for text in workload.get("load_balancer_ips") or []:
                address = parse_address(text)
                if address is not None:
                    users.setdefault(str(address), []).append(index)
        for address, indexes in users.items():
            if len(indexes) < 2:
                continue
            first = workloads[indexes[0]]
            first_ref = f"{first.get('namespace')}/{first.get('name')}"
            ports_in_use = {(p.get("port"), p.get("protocol")): indexes[0] for p in first.get("ports") or []}
            for index in indexes[1:]:
                other = workloads[index]
                ref = f"{other.get('namespace')}/{other.get('name')}"
                var = f"{self._var}[{index}]"
                keys = (first.get("allow_shared_ip"), other.get("allow_shared_ip"))
                if not keys[0] or not keys[1] or keys[0] != keys[1]:
                    self._errors.add(
                        f"{var}.allow_shared_ip", "shared_ip_conflict",
                        f"must equal the sharing key of {first_ref}, which also requests {address}: MetalLB shares an address only between "
                        "Services with the same allow_shared_ip", ref,
                    )
                    continue
                if "Local" in (first.get("external_traffic_policy"), other.get("external_traffic_policy")) and (
                    first.get("external_traffic_policy") != other.get("external_traffic_policy") or first.get("name") != other.get("name")
                ):
                    self._errors.add(
                        f"{var}.external_traffic_policy", "shared_ip_conflict",
                        f"is {other.get('external_traffic_policy')} while sharing {address} with {first_ref}: MetalLB shares an address between "
                        "Local Services only when they select the same pods; use Cluster on both or separate addresses", ref,
                    )
                    continue
                for port in other.get("ports") or []:
                    key = (port.get("port"), port.get("protocol"))
                    if key in ports_in_use:
                        owner = workloads[ports_in_use[key]]
                        self._errors.add(
                            f"{var}.ports", "shared_ip_conflict",
                            f"uses {key[0]}/{key[1]}, which {owner.get('namespace')}/{owner.get('name')} already uses on the shared address {address}: "
                            "Services sharing an address need distinct ports", ref,
                        )
                    else:
                        ports_in_use[key] = index
