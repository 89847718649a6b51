# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes naming rules, as the API server applies them.

Each check returns ``None`` when the text is acceptable, or a sentence saying
what is wrong, so that callers can put it after the variable's name.
"""

from __future__ import annotations

import re

_DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_DNS1035_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
# The name part of a qualified name (label and annotation keys) and label values.
_QUALIFIED_NAME = re.compile(r"^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")
_LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")
_IANA_SVC_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$")
_ENV_NAME = re.compile(r"^[-._a-zA-Z][-._a-zA-Z0-9]*$")


def dns1123_label(text: str) -> str | None:
    """Namespaces, container names: lower-case letters, digits and '-', at most 63."""
    if not isinstance(text, str) or not text:
        return "must be a non-empty string"
    if len(text) > 63:
        return f"is {len(text)} characters long, at most 63 are allowed"
    if not _DNS1123_LABEL.match(text):
        return "must consist of lower-case letters, digits and '-', and start and end with a letter or digit"
    return None


def dns1035_label(text: str) -> str | None:
    """Service names: like a DNS-1123 label but starting with a letter."""
    problem = dns1123_label(text)
    if problem:
        return problem
    if not _DNS1035_LABEL.match(text):
        return "must start with a lower-case letter (a Service name is a DNS-1035 label)"
    return None


def dns1123_subdomain(text: str) -> str | None:
    """Object names such as an IPAddressPool's: labels joined by dots, at most 253."""
    if not isinstance(text, str) or not text:
        return "must be a non-empty string"
    if len(text) > 253:
        return f"is {len(text)} characters long, at most 253 are allowed"
    if not _DNS1123_SUBDOMAIN.match(text):
        return "must consist of lower-case letters, digits, '-' and '.', and start and end with a letter or digit"
    return None


def qualified_name(text: str) -> str | None:
    """Label and annotation keys: ``[prefix/]name``, the prefix a DNS subdomain."""
    if not isinstance(text, str) or not text:
        return "must be a non-empty string"
    prefix, slash, name = text.rpartition("/")
    if slash:
        if not prefix:
            return "has an empty prefix before '/'"
        problem = dns1123_subdomain(prefix)
        if problem:
            return f"has the prefix '{prefix}', which {problem}"
    if not name:
        return "has an empty name after the prefix"
    if len(name) > 63:
        return f"has a name part of {len(name)} characters, at most 63 are allowed"
    if not _QUALIFIED_NAME.match(name):
        return "must be letters, digits, '-', '_' and '.' (starting and ending with a letter or digit), optionally after a DNS prefix and '/'"
    return None


def label_value(text) -> str | None:
    if not isinstance(text, str):
        return "must be a string (quote numbers and booleans in YAML)"
    if len(text) > 63:
        return f"is {len(text)} characters long, at most 63 are allowed"
    if not _LABEL_VALUE.match(text):
        return "must be empty or letters, digits, '-', '_' and '.', starting and ending with a letter or digit"
    return None


def port_name(text: str) -> str | None:
    """Container port names (IANA service names), which the Service ports reuse here."""
    if not isinstance(text, str) or not text:
        return "must be a non-empty string"
    if len(text) > 15:
        return f"is {len(text)} characters long, at most 15 are allowed (an IANA service name)"
    if not _IANA_SVC_NAME.match(text) or "--" in text:
        return "must be lower-case letters, digits and single '-', starting and ending with a letter or digit"
    if not any(char.isalpha() for char in text):
        return "must contain at least one letter"
    return None


def env_name(text: str) -> str | None:
    if not isinstance(text, str) or not _ENV_NAME.match(text):
        return "must be letters, digits, '_', '-' and '.', not starting with a digit"
    return None
