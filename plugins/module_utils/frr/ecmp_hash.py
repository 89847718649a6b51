# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kernel's ECMP hash policy on a router: which fields pick the next hop of a flow.

Linux keeps one setting per address family and network namespace,
``net.ipv4.fib_multipath_hash_policy`` and ``net.ipv6.fib_multipath_hash_policy``:

- 0 (``l3``, the kernel's default): source and destination address (IPv6: and flow label).
  Every connection of one client to one VIP takes the same next hop.
- 1 (``l4``): the 5-tuple (addresses, protocol, ports). One client's connections spread
  over the next hops.
- 2 (``l3_inner``): like ``l3``, on the inner header of encapsulated packets.

``EcmpHashPlan`` compares what the host has (runtime values, the persistent file) with
what the policy asks for and says what to write; it reads and writes through the callables
it is given, so unit tests run it on plain data.
"""
from __future__ import annotations

from typing import Callable

POLICIES = {"l3": 0, "l4": 1, "l3_inner": 2}
FAMILIES = ("ipv4", "ipv6")
KERNEL_DEFAULT = 0


def sysctl_name(family: str) -> str:
    return f"net.{family}.fib_multipath_hash_policy"


def proc_path(family: str) -> str:
    return "/proc/sys/" + sysctl_name(family).replace(".", "/")


def render_file(policy: str, families: list[str]) -> str:
    """The persistent sysctl.d file for ``policy`` (read by systemd-sysctl / procps at boot)."""
    lines = [
        "# Managed by the baremetal.metallb.bgp_router role (bgp_router_ecmp_hash_policy: "
        f"{policy}). Edits are overwritten.",
        "# ECMP hash of the routes the MetalLB speakers announce: 0 = L3 (addresses), 1 = L4 (5-tuple).",
    ]
    lines += [f"{sysctl_name(f)} = {POLICIES[policy]}" for f in families]
    return "\n".join(lines) + "\n"


class EcmpHashError(Exception):
    """A setting the kernel cannot take; the message names the variable and the fix."""


class EcmpHashPlan:
    def __init__(self, read: Callable[[str], str | None]):
        self._read = read  # path -> content, None if missing

    def plan(self, policy: str, path: str) -> dict:
        """What to change: ``{"writes": {proc path: value}, "file": content or None, "before", "after",
        "families", "changed"}``. ``path`` "" keeps nothing across a reboot."""
        if policy not in POLICIES:
            raise EcmpHashError(
                f"bgp_router_ecmp_hash_policy is {policy!r}: choose one of {', '.join(sorted(POLICIES))}")
        want = POLICIES[policy]
        before, after, writes, families = {}, {}, {}, []
        for family in FAMILIES:
            raw = self._read(proc_path(family))
            if raw is None:
                if family == "ipv6":
                    continue  # IPv6 disabled on this host (or no IPv6 in the kernel): nothing to hash
                if want != KERNEL_DEFAULT:
                    raise EcmpHashError(
                        f"bgp_router_ecmp_hash_policy is {policy!r} but this kernel has no "
                        f"{sysctl_name(family)} (Linux < 4.12): use l3 or a newer kernel")
                continue
            families.append(family)
            current = int(raw.strip())
            before[sysctl_name(family)] = current
            after[sysctl_name(family)] = want
            if current != want:
                writes[proc_path(family)] = str(want)
        content = render_file(policy, families) if path else None
        old = self._read(path) if path else None
        file_changed = content is not None and old != content
        return {
            "writes": writes,
            "file": content if file_changed else None,
            "families": families,
            "before": {"sysctl": before, "file": old if path else None},
            "after": {"sysctl": after, "file": content},
            "changed": bool(writes) or file_changed,
        }
