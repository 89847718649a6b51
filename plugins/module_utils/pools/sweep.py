# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Overlap search over sorted spans: O(n log n + k), never pairwise.

Items are ``(span, owner)`` tuples; the owner is whatever the caller needs
back (a pool, a node name, a reserved range). Spans of different address
families never overlap.
"""

from __future__ import annotations

import heapq
import itertools
import typing as t

from .spans import Span

Item = tuple[Span, t.Any]
Overlap = tuple[Item, Item, int, int]


def _order(item: Item) -> tuple[int, int, int]:
    span = item[0]
    return (span.version, span.first, -span.last)


def self_overlaps(items: t.Iterable[Item]) -> list[Overlap]:
    """Report every span that overlaps an earlier-starting one.

    Sweeping in start order while remembering the span that reaches furthest
    finds, for each span, one partner it overlaps if it overlaps any: every
    span involved in an overlap is reported at least once. Touching spans
    (last + 1 == first) do not overlap.
    """
    found: list[Overlap] = []
    reach: Item | None = None
    for item in sorted(items, key=_order):
        span = item[0]
        if reach is not None and reach[0].version == span.version and span.first <= reach[0].last:
            found.append((reach, item, span.first, min(span.last, reach[0].last)))
            if span.last > reach[0].last:
                reach = item
        else:
            reach = item
    return found


def cross_overlaps(left: t.Iterable[Item], right: t.Iterable[Item]) -> list[Overlap]:
    """Every (left, right) pair that overlaps, with the overlapping run.

    One sweep over both lists in start order; each side keeps a heap of its
    spans still open (keyed by their end), so a new span meets exactly the
    open spans of the other side.
    """
    tagged = sorted(
        itertools.chain(((0, i) for i in left), ((1, i) for i in right)),
        key=lambda tagged_item: _order(tagged_item[1]),
    )
    open_spans: tuple[list, list] = ([], [])
    counter = itertools.count()  # tie-breaker: heap entries never compare items
    found: list[Overlap] = []
    version = None
    for side, item in tagged:
        span = item[0]
        if span.version != version:
            open_spans = ([], [])
            version = span.version
        other = open_spans[1 - side]
        while other and other[0][0] < span.first:
            heapq.heappop(other)
        for _end, _n, other_item in other:
            pair = (item, other_item) if side == 0 else (other_item, item)
            found.append((pair[0], pair[1], span.first, min(span.last, other_item[0].last)))
        heapq.heappush(open_spans[side], (span.last, next(counter), item))
    return found
