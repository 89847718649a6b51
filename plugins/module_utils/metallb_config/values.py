# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Single values of MetalLB's configuration objects, checked as MetalLB v0.16 checks them.

Each check returns ``(value, None)`` with the value as it goes into the object, or
``(None, sentence)`` saying what is wrong, for the caller to put after the variable path.
"""

from __future__ import annotations

import ipaddress
import re

ASN_MAX = 4294967295
# BGPPeer.spec.peerPort: the CRD allows 1-16384, lower than a TCP port's 65535.
PEER_PORT_MAX = 16384
# Go's time.ParseDuration units MetalLB's metav1.Duration fields accept.
_GO_DURATION = re.compile(r"^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$")
_GO_UNIT_SECONDS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
_GO_PART = re.compile(r"(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)")


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integer(value, low: int, high: int, noun: str = "value") -> tuple:
    """An integer in [low, high]; a string of digits is taken, as Ansible's argument spec would take it."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
        value = int(value.strip())
    if not is_int(value):
        return None, f"{value!r} is not an integer (a {noun}, {low}-{high})"
    if value < low or value > high:
        return None, f"{value} is not a valid {noun} ({low}-{high})"
    return value, None


def asn(value) -> tuple:
    return integer(value, 1, ASN_MAX, "ASN")


def boolean(value) -> tuple:
    if isinstance(value, bool):
        return value, None
    return None, f"{value!r} is not a boolean (true or false)"


def ip_address(value) -> tuple:
    if not isinstance(value, str) or not value.strip():
        return None, f"{value!r} is not an IP address"
    try:
        parsed = ipaddress.ip_address(value.strip())
    except ValueError:
        return None, f"{value!r} is not an IP address"
    return str(parsed), None


def duration_seconds(text: str) -> float:
    return sum(float(number) * _GO_UNIT_SECONDS[unit] for number, unit in _GO_PART.findall(text))


def duration(value) -> tuple:
    """A metav1.Duration: whole seconds as an integer (90 -> "90s") or a Go duration string ("1m30s")."""
    if is_int(value):
        if value < 0:
            return None, f"{value} is negative; give seconds (0 or more) or a duration such as 90s"
        return f"{value}s", None
    if isinstance(value, str) and _GO_DURATION.match(value.strip()):
        return value.strip(), None
    return None, f"{value!r} is not a duration; give seconds as an integer (90) or a Go duration such as 90s or 1m30s"


def community_value(value) -> tuple:
    """A BGP community as MetalLB parses it: legacy ``A:B`` (16 bit each) or large ``large:A:B:C`` (32 bit each).

    Returns (("legacy"|"large", text), None) or (None, sentence).
    """
    if not isinstance(value, str):
        return None, f"{value!r} is not a community; give A:B (0-65535 each) or large:A:B:C (0-4294967295 each)"
    parts = value.split(":")
    if len(parts) == 2 and all(re.fullmatch(r"\d+", p) and int(p) <= 65535 for p in parts):
        return ("legacy", value), None
    if len(parts) == 4 and parts[0] == "large" and all(re.fullmatch(r"\d+", p) and int(p) <= ASN_MAX for p in parts[1:]):
        return ("large", value), None
    return None, f"{value!r} is not a community; give A:B (0-65535 each) or large:A:B:C (0-4294967295 each)"
