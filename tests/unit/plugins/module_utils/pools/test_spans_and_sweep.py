# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The span arithmetic and the sweeps, cross-checked against netaddr and brute force."""

from __future__ import annotations

import random

import netaddr
import pytest

from ansible_collections.baremetal.metallb.plugins.module_utils.pools.spans import Span, merge_spans, parse_entry, span_to_cidrs
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.sweep import cross_overlaps, self_overlaps


@pytest.mark.parametrize(
    "text, first, last",
    [
        ("192.0.2.0/28", "192.0.2.0", "192.0.2.15"),
        (" 192.0.2.10 - 192.0.2.20 ", "192.0.2.10", "192.0.2.20"),
        ("192.0.2.7", "192.0.2.7", "192.0.2.7"),
        ("0.0.0.0/0", "0.0.0.0", "255.255.255.255"),
        ("2001:db8::/126", "2001:db8::", "2001:db8::3"),
        ("2001:db8::1-2001:db8::1", "2001:db8::1", "2001:db8::1"),
    ],
)
def test_parse_entry(text, first, last):
    span = parse_entry(text)
    assert (span.first, span.last) == (int(netaddr.IPAddress(first)), int(netaddr.IPAddress(last)))


def _random_span(rng: random.Random, version: int) -> tuple[int, int]:
    bits = 32 if version == 4 else 128
    base = int(netaddr.IPAddress("192.0.2.0" if version == 4 else "2001:db8::"))
    first = base + rng.randrange(0, 2 ** min(bits, 12))
    return first, first + rng.randrange(0, 300)


@pytest.mark.parametrize("seed", range(20))
def test_span_to_cidrs_matches_netaddr(seed):
    rng = random.Random(seed)
    for version in (4, 6):
        first, last = _random_span(rng, version)
        ours = span_to_cidrs(first, last, version)
        theirs = [str(c) for c in netaddr.iprange_to_cidrs(netaddr.IPAddress(first, version), netaddr.IPAddress(last, version))]
        assert ours == theirs


def test_span_to_cidrs_whole_space():
    assert span_to_cidrs(0, 2**32 - 1, 4) == ["0.0.0.0/0"]
    assert span_to_cidrs(0, 2**128 - 1, 6) == ["::/0"]


def test_merge_spans_joins_adjacent_and_keeps_families_apart():
    spans = [Span(10, 19, 4, "a"), Span(20, 25, 4, "b"), Span(30, 31, 4, "c"), Span(10, 40, 6, "d")]
    assert merge_spans(spans) == [(4, 10, 25), (4, 30, 31), (6, 10, 40)]


def _brute_overlapping(spans):
    return {
        i for i, a in enumerate(spans) for j, b in enumerate(spans)
        if i != j and a.version == b.version and a.first <= b.last and b.first <= a.last
    }


@pytest.mark.parametrize("seed", range(30))
def test_self_overlaps_reports_every_overlapping_span(seed):
    rng = random.Random(seed)
    spans = [Span(*_random_span(rng, rng.choice((4, 6))), rng.choice((4, 6)), str(i)) for i in range(60)]
    spans = [Span(s.first, s.last, 4 if s.first < 2**32 else 6, s.text) for s in spans]
    found = self_overlaps([(s, i) for i, s in enumerate(spans)])
    reported = {a[1] for a, _b, _f, _l in found} | {b[1] for _a, b, _f, _l in found}
    assert reported == _brute_overlapping(spans)
    for (a, dummy_a), (b, dummy_b), first, last in found:
        assert max(a.first, b.first) == first and min(a.last, b.last) == last


@pytest.mark.parametrize("seed", range(30))
def test_cross_overlaps_finds_exactly_the_overlapping_pairs(seed):
    rng = random.Random(seed)
    left = [Span(*_random_span(rng, 4), 4, f"l{i}") for i in range(40)]
    right = [Span(*_random_span(rng, 4), 4, f"r{i}") for i in range(15)] + [Span(5, 5, 6, "v6")]
    found = {(a[1], b[1]) for a, b, _f, _l in cross_overlaps([(s, i) for i, s in enumerate(left)], [(s, j) for j, s in enumerate(right)])}
    expected = {
        (i, j) for i, a in enumerate(left) for j, b in enumerate(right)
        if a.version == b.version and a.first <= b.last and b.first <= a.last
    }
    assert found == expected
