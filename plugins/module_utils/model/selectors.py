# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kubernetes label selectors evaluated against a set of labels.

MetalLB's advertisements and peers select nodes with lists of LabelSelectors
(``matchLabels`` and ``matchExpressions``); a list selects a node when any of
its selectors does, and an empty list selects every node.
"""

from __future__ import annotations

import typing as t


class SelectorError(ValueError):
    pass


def _expression_matches(expression: dict, labels: dict) -> bool:
    key = expression.get("key")
    operator = expression.get("operator")
    values = expression.get("values") or []
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    raise SelectorError(f"unknown operator {operator!r} for key {key!r} (use In, NotIn, Exists or DoesNotExist)")


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """One LabelSelector; an empty selector matches everything, as in Kubernetes."""
    selector = selector or {}
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    return all(_expression_matches(expression, labels) for expression in selector.get("matchExpressions") or [])


def any_selector_matches(selectors: list[dict] | None, labels: dict) -> bool:
    """A list of selectors as MetalLB reads it: empty selects all, else any one must match."""
    if not selectors:
        return True
    return any(selector_matches(selector, labels) for selector in selectors)


def check_selector(selector: t.Any) -> str | None:
    """Why a LabelSelector is malformed, or None."""
    if not isinstance(selector, dict):
        return "must be a LabelSelector (a dict with matchLabels and/or matchExpressions)"
    unknown = sorted(set(selector) - {"matchLabels", "matchExpressions"})
    if unknown:
        return f"has unknown keys {unknown} (a LabelSelector has matchLabels and matchExpressions)"
    if not isinstance(selector.get("matchLabels") or {}, dict):
        return "has matchLabels that is not a dict"
    for expression in selector.get("matchExpressions") or []:
        if not isinstance(expression, dict) or not expression.get("key"):
            return "has a matchExpressions entry without a key"
        operator = expression.get("operator")
        values = expression.get("values") or []
        if operator in ("In", "NotIn") and not values:
            return f"has operator {operator} for key {expression['key']!r} without values"
        if operator in ("Exists", "DoesNotExist") and values:
            return f"has operator {operator} for key {expression['key']!r} with values (it takes none)"
        if operator not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return f"has operator {operator!r} for key {expression['key']!r}; use In, NotIn, Exists or DoesNotExist"
    return None


def describe_selectors(selectors: list[dict] | None) -> str:
    """A short text for messages: 'node-role=edge' or 'any node'."""
    if not selectors:
        return "any node"
    parts = []
    for selector in selectors:
        terms = [f"{key}={value}" for key, value in sorted((selector.get("matchLabels") or {}).items())]
        for expression in selector.get("matchExpressions") or []:
            op = expression.get("operator")
            if op in ("Exists", "DoesNotExist"):
                terms.append(("!" if op == "DoesNotExist" else "") + str(expression.get("key")))
            else:
                terms.append(f"{expression.get('key')} {op.lower() if op else '?'} ({','.join(map(str, expression.get('values') or []))})")
        parts.append(",".join(terms) or "any node")
    return " or ".join(parts)
