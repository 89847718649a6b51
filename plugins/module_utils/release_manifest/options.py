# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The options metallb_install adapts the release with, checked once for both install methods.

Every problem is collected and reported together, each naming the role variable it comes
from, so one run tells the user everything to fix.
"""

from __future__ import annotations

import re

from .digests import DigestError, check_image_digests

PREFIX = "metallb_install_"

# DNS-1123 label (namespaces) and the parts of a label key / value (k8s.io/apimachinery validation).
_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
# A registry host (with an optional port) and an optional path, no tag or digest.
_REGISTRY = re.compile(r"^[A-Za-z0-9.-]+(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)*$")

POD_SECURITY_LEVELS = ("privileged", "baseline", "restricted")
TOLERATION_OPERATORS = ("Exists", "Equal")
TOLERATION_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


class OptionsError(ValueError):
    """Bad options: ``problems`` holds one message per problem, each naming the variable."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


def label_key_problem(key) -> str | None:
    """Why ``key`` is not a valid label key, or None."""
    if not isinstance(key, str) or not key:
        return "a label key must be a non-empty string"
    prefix, _sep, name = key.rpartition("/")
    if prefix and (len(prefix) > 253 or not _DNS1123_SUBDOMAIN.match(prefix)):
        return f"label key {key!r}: the prefix must be a DNS subdomain"
    if len(name) > 63 or not _QUALIFIED_NAME.match(name):
        return f"label key {key!r}: the name must be at most 63 characters, alphanumerics, '-', '_' or '.', " \
               "starting and ending with an alphanumeric"
    return None


def label_value_problem(value) -> str | None:
    if not isinstance(value, str):
        return f"label value {value!r} must be a string (quote numbers and booleans)"
    if len(value) > 63 or not _LABEL_VALUE.match(value):
        return f"label value {value!r}: at most 63 characters, alphanumerics, '-', '_' or '.', " \
               "starting and ending with an alphanumeric"
    return None


def _check_node_selector(selector, problems: list[str]) -> dict:
    var = PREFIX + "speaker_node_selector"
    if selector is None:
        return {}
    if not isinstance(selector, dict):
        problems.append(f"{var}: give a dict of node label to value, not {type(selector).__name__}")
        return {}
    for key, value in selector.items():
        problem = label_key_problem(key) or label_value_problem(value)
        if problem:
            problems.append(f"{var}: {problem}")
    return dict(selector)


def _check_toleration(index: int, toleration, problems: list[str]) -> dict | None:
    var = f"{PREFIX}speaker_tolerations[{index}]"
    if not isinstance(toleration, dict):
        problems.append(f"{var}: a toleration is a dict (key, operator, value, effect, tolerationSeconds)")
        return None
    found = len(problems)
    unknown = sorted(set(toleration) - set(TOLERATION_KEYS), key=str)
    if unknown:
        problems.append(f"{var}: unknown field(s) {', '.join(map(str, unknown))}; a toleration has {', '.join(TOLERATION_KEYS)}")
    key = toleration.get("key")
    operator = toleration.get("operator", "Equal")
    effect = toleration.get("effect")
    value = toleration.get("value")
    seconds = toleration.get("tolerationSeconds")
    if operator not in TOLERATION_OPERATORS:
        problems.append(f"{var}.operator: {operator!r} is not one of {', '.join(TOLERATION_OPERATORS)}")
    if key not in (None, ""):
        problem = label_key_problem(key)
        if problem:
            problems.append(f"{var}.key: {problem.replace('label key', 'taint key')}")
    elif operator != "Exists":
        problems.append(f"{var}: without a key the operator must be Exists (it then tolerates every taint)")
    if operator == "Exists" and value not in (None, ""):
        problems.append(f"{var}.value: must be empty when the operator is Exists")
    if operator == "Equal" and value is not None:
        problem = label_value_problem(value)
        if problem:
            problems.append(f"{var}.value: {problem.replace('label value', 'taint value')}")
    if effect not in (None, "") and effect not in TOLERATION_EFFECTS:
        problems.append(f"{var}.effect: {effect!r} is not one of {', '.join(TOLERATION_EFFECTS)} (or empty for all effects)")
    if seconds is not None:
        if isinstance(seconds, bool) or not isinstance(seconds, int):
            problems.append(f"{var}.tolerationSeconds: must be an integer number of seconds")
        elif effect != "NoExecute":
            problems.append(f"{var}.tolerationSeconds: only valid with effect NoExecute")
    if len(problems) > found:
        return None
    # The API server's field order, without empty fields: what it returns is what we sent.
    out = {}
    if key not in (None, ""):
        out["key"] = key
    out["operator"] = operator
    if value not in (None, ""):
        out["value"] = value
    if effect not in (None, ""):
        out["effect"] = effect
    if seconds is not None:
        out["tolerationSeconds"] = seconds
    return out


def _check_tolerations(tolerations, problems: list[str]) -> list[dict]:
    var = PREFIX + "speaker_tolerations"
    if tolerations is None:
        return []
    if not isinstance(tolerations, list):
        problems.append(f"{var}: give a list of tolerations, not {type(tolerations).__name__}")
        return []
    checked = [_check_toleration(index, item, problems) for index, item in enumerate(tolerations)]
    return [item for item in checked if item is not None]


def check_options(options: dict | None) -> dict:
    """The options, checked and normalized; raises OptionsError naming every bad variable.

    Keys (all optional): namespace, pod_security ({audit, warn}: level), speaker_node_selector,
    speaker_tolerations, image_registry, image_digests (image reference -> sha256:...).
    """
    options = dict(options or {})
    problems: list[str] = []
    unknown = sorted(set(options) - {"namespace", "pod_security", "speaker_node_selector", "speaker_tolerations",
                                     "image_registry", "image_digests"})
    if unknown:
        problems.append(f"unknown option(s): {', '.join(unknown)}")

    namespace = options.get("namespace") or "metallb-system"
    if not isinstance(namespace, str) or len(namespace) > 63 or not _DNS1123_LABEL.match(namespace):
        problems.append(f"{PREFIX}namespace: {namespace!r} is not a valid namespace name "
                        "(a DNS-1123 label: lower-case alphanumerics and '-', at most 63 characters)")

    pod_security = options.get("pod_security") or {}
    levels = {"enforce": "privileged", "audit": "privileged", "warn": "privileged"}
    if not isinstance(pod_security, dict):
        problems.append(f"{PREFIX}pod_security: give a dict with audit and warn levels")
    else:
        for mode, level in pod_security.items():
            if mode == "enforce" and level != "privileged":
                problems.append(f"{PREFIX}pod_security.enforce: must be privileged: the speaker runs with hostNetwork "
                                "and NET_RAW, which the baseline and restricted levels refuse")
            elif mode not in levels:
                problems.append(f"{PREFIX}pod_security: unknown mode {mode!r}; the modes are audit and warn "
                                "(enforce is always privileged)")
            elif level not in POD_SECURITY_LEVELS:
                problems.append(f"{PREFIX}pod_security.{mode}: {level!r} is not one of {', '.join(POD_SECURITY_LEVELS)}")
            else:
                levels[mode] = level

    registry = options.get("image_registry") or ""
    if registry and (not isinstance(registry, str) or not _REGISTRY.match(registry.rstrip("/"))):
        problems.append(f"{PREFIX}image_registry: {registry!r} is not a registry host with an optional path "
                        "(for example registry.example.com:5000/mirror), without a tag")

    image_digests = {}
    try:
        image_digests = check_image_digests(options.get("image_digests") or {})
    except DigestError as exc:
        problems.append(str(exc))

    normalized = {
        "namespace": namespace,
        "pod_security": levels,
        "speaker_node_selector": _check_node_selector(options.get("speaker_node_selector"), problems),
        "speaker_tolerations": _check_tolerations(options.get("speaker_tolerations"), problems),
        "image_registry": registry.rstrip("/") if isinstance(registry, str) else "",
        "image_digests": image_digests,
    }
    if problems:
        raise OptionsError(problems)
    return normalized


def mirrored_image(image: str, registry: str) -> str:
    """``image`` pulled from ``registry`` instead of its own registry, the repository path kept:
    quay.io/metallb/speaker:v0.16.1 with registry.example.com/mirror ->
    registry.example.com/mirror/metallb/speaker:v0.16.1."""
    if not registry:
        return image
    first, sep, rest = image.partition("/")
    # The first component names a registry when it has a dot or a port, or is localhost
    # (the rule container runtimes use); otherwise the image is on Docker Hub.
    if sep and ("." in first or ":" in first or first == "localhost"):
        path = rest
    else:
        path = image if sep else "library/" + image
    return f"{registry}/{path}"
