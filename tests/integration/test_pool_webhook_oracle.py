# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""MetalLB's own webhook as the oracle for pool_validate: never looser than MetalLB.

A deterministic generator (fixed seed) makes a few hundred IPAddressPool address entries of
every class MetalLB v0.16.1's parser (ParseCIDR) distinguishes: CIDRs with and without host
bits, prefix lengths out of range or oddly spelled, ranges with and without spaces (ASCII,
tabs, Unicode spaces), reversed and one-address ranges, bare addresses, IPv6 (compressed,
expanded, upper case, embedded IPv4, IPv4-mapped, zones), ranges of two families, malformed
strings, and a few two-entry pools (overlapping and touching entries). Each becomes a pool of
its own, sent to the lab's real MetalLB webhook as a server-side dry run (nothing is stored),
and to pool_validate's core in-process (a sample also through Ansible). Every entry the
webhook refuses, pool_validate must refuse; it may refuse more (host bits, mixed families...),
and the counts of both and the stricter-only cases are printed.
"""
from __future__ import annotations

import collections
import concurrent.futures
import ipaddress
import json
import os
import random
import sys
import time
from pathlib import Path

import pytest

kubernetes = pytest.importorskip("kubernetes")
from kubernetes import client as k8s  # noqa: E402
from kubernetes.client.rest import ApiException  # noqa: E402

from metallb_lab.client import run_playbook  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
KUBE_LAB = {"base": "orc", "nodes": 1, "metallb": True}
NS = "metallb-system"
SEED = 15
DENIED = 'admission webhook "ipaddresspoolvalidationwebhook.metallb.io" denied the request'


def _collection_on_path() -> None:
    """Import the collection under test in-process: the first of ANSIBLE_COLLECTIONS_PATH, as ansible does."""
    paths = [p for p in os.environ.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p]
    sys.path.insert(0, paths[0] if paths else str(REPO / ".build" / "collections"))


_collection_on_path()
from ansible_collections.baremetal.metallb.plugins.module_utils.pools.validator import PoolValidator  # noqa: E402


# ---------------------------------------------------------------- the generator
def _v4(rng: random.Random) -> str:
    base = rng.choice(["203.0.113", "198.51.100", "192.0.2"])
    return f"{base}.{rng.randrange(256)}"


def _v6(rng: random.Random) -> str:
    groups = [0x2001, 0xDB8] + [rng.choice([0, 0, rng.randrange(0x10000)]) for dummy in range(6)]
    text = ":".join(f"{g:x}" for g in groups)
    return str(ipaddress.IPv6Address(text)) if rng.random() < 0.7 else text


def _network(rng: random.Random, version: int) -> tuple[str, int]:
    if version == 4:
        prefix = rng.randint(24, 32)
        return str(ipaddress.ip_network(f"{_v4(rng)}/{prefix}", strict=False).network_address), prefix
    prefix = rng.choice([32, 48, 64, 96, 112, 120, 124, 127, 128, rng.randint(32, 128)])
    return str(ipaddress.ip_network(f"{_v6(rng)}/{prefix}", strict=False).network_address), prefix


def _ordered(rng: random.Random, version: int) -> tuple[str, str]:
    a, b = (ipaddress.ip_address(_v4(rng) if version == 4 else _v6(rng)) for dummy in range(2))
    return (str(a), str(b)) if a <= b else (str(b), str(a))


SPACES = [" ", "  ", "\t", "\n", "\u00a0", "\u2003", "\x1c", "\u0085", "\v", "\r\n"]
MALFORMED = [
    "", " ", "bogus", "/", "-", "--", "203.0.113.0/", "/24", "203.0.113/24", "203.0.113.0.0/24", "203.0.113.256/32",
    "203.0.113.01/32", "203.0.113.0/024", "203.0.113.0/0024", "203.0.113.0/+24", "203.0.113.0/-1", "203.0.113.0/33",
    "203.0.113.0/24/24", "203.0.113.0//24", "203.0.113.0/\u0662\u0664", "\u0662\u0660\u0663.0.113.0/24", "203.0.113.0/ 24",
    "203.0.113.0 /24", "203.0.113.0/24 ", " 203.0.113.0/24", "203.0.113.0/24\n", "203.0.113.1-", "-203.0.113.1",
    "203.0.113.1--203.0.113.5", "203.0.113.1-203.0.113.5-203.0.113.9", "203.0.113.1-203.0.113.5/32",
    "203.0.113.0/30-203.0.113.9", "203.0.113.1..203.0.113.5", "203.0.113.1,203.0.113.5", "203.0.113.1 203.0.113.5",
    "2001:db8::/129", "2001:db8::g/128", "2001:db8:::1/128", "2001:db8::1::2/128", "fe80::1%eth0/128", "fe80::1%eth0",
    "fe80::1%eth0-fe80::2", "2001:db8::1-2001:db8::zz", "2001:db8::/64 ", "[2001:db8::1]/128", "2001:0db8:0000::/48",
    "2001:db8:0:0:0:0:0:0:1/128", "02001:db8::/32", "2001:DB8::/32", "2001:db8::192.0.2.1/128", "::ffff:203.0.113.5/128",
    "::ffff:203.0.113.5-::ffff:203.0.113.9", "::203.0.113.5/128", "0x cb.0.113.0/24", "203.0.113.0/24#x", "203.0.113.0/24\x7f",
    "203.0.113.0\u00a0/24", "203.0.113.1\u00a0-203.0.113.5", "203.0.113.1-\u2003203.0.113.5", "\u200b203.0.113.0/24",
]


def generate(seed: int = SEED) -> list[list[str]]:
    """A few hundred pools' address lists (most of one entry); the same list for the same seed."""
    rng = random.Random(seed)
    out: list[list[str]] = [[entry] for entry in MALFORMED]
    for dummy in range(40):  # CIDRs as MetalLB wants them
        network, prefix = _network(rng, rng.choice([4, 4, 6]))
        out.append([f"{network}/{prefix}"])
    for dummy in range(30):  # CIDRs with host bits (MetalLB masks them; pool_validate refuses)
        version = rng.choice([4, 6])
        address = _v4(rng) if version == 4 else _v6(rng)
        out.append([f"{address}/{rng.randint(24, 31) if version == 4 else rng.randint(32, 127)}"])
    for dummy in range(30):  # bare addresses
        out.append([_v4(rng) if rng.random() < 0.6 else _v6(rng)])
    for dummy in range(20):  # one-address CIDRs
        out.append([f"{_v4(rng)}/32" if rng.random() < 0.6 else f"{_v6(rng)}/128"])
    for dummy in range(50):  # ranges, spaces or not
        first, last = _ordered(rng, rng.choice([4, 4, 6]))
        if rng.random() < 0.2:
            last = first
        left = rng.choice(["", "", *SPACES])
        right = rng.choice(["", "", *SPACES])
        out.append([f"{rng.choice(['', ' ', rng.choice(SPACES)])}{first}{left}-{right}{last}{rng.choice(['', ' '])}"])
    for dummy in range(30):  # reversed ranges
        first, last = _ordered(rng, rng.choice([4, 6]))
        if first != last:
            out.append([f"{last}{rng.choice(['', ' '])}-{rng.choice(['', ' '])}{first}"])
    for dummy in range(20):  # ranges of two families
        v4, v6 = _v4(rng), _v6(rng)
        out.append([f"{v4}-{v6}" if rng.random() < 0.5 else f"{v6}-{v4}"])
    for dummy in range(20):  # two entries in one pool: overlapping, touching or apart, one or two families
        network, prefix = _network(rng, 4)
        net = ipaddress.ip_network(f"{network}/{prefix}")
        other = rng.choice([
            f"{net.network_address}-{net.network_address}",            # overlaps (inside)
            f"{net.broadcast_address + 1}/32" if int(net.broadcast_address) < 0xFFFFFFFF else f"{net}",  # touches
            f"{_v6(rng)}/128",                                          # other family
            f"{net}",                                                   # the same twice
        ])
        out.append([f"{net}", other])
    return out


# ---------------------------------------------------------------- the two judges
def pool_validate_refuses(addresses: list[str]) -> list[str]:
    """The error codes pool_validate's core gives the pool (empty: accepted)."""
    result = PoolValidator(pools=[{"name": "oracle", "addresses": addresses}]).run()
    return sorted({error["code"] for error in result.errors})


def webhook_verdict(custom, index: int, addresses: list[str]) -> str | None:
    """None when MetalLB's webhook accepts the pool (dry run), else its reason. Anything but a
    webhook verdict (API server error, webhook unreachable) fails the test: never counted."""
    body = {"apiVersion": "metallb.io/v1beta1", "kind": "IPAddressPool",
            "metadata": {"name": f"oracle-{index}", "namespace": NS}, "spec": {"addresses": addresses}}
    try:
        custom.create_namespaced_custom_object("metallb.io", "v1beta1", NS, "ipaddresspools", body, dry_run="All")
    except ApiException as exc:
        message = json.loads(exc.body or "{}").get("message", "") if exc.body else str(exc)
        if exc.status in (400, 403) and DENIED in message:
            return message.split("denied the request:", 1)[-1].strip()
        raise AssertionError(f"pool {addresses!r}: no webhook verdict, HTTP {exc.status}: {message}") from None
    return None


@pytest.fixture(scope="module")
def custom(kube_lab):
    api = k8s.CustomObjectsApi(kube_lab["api"])
    # The webhook must really judge: a known-bad pool refused by MetalLB's parser, a good one accepted.
    deadline = time.monotonic() + 120
    while True:
        try:
            refused = webhook_verdict(api, 0, ["203.0.113.6"])
            break
        except AssertionError as exc:
            if time.monotonic() > deadline:
                raise AssertionError(f"MetalLB's webhook does not answer: {exc}") from None
            time.sleep(1)
    assert refused is not None and "invalid CIDR" in refused, refused
    assert webhook_verdict(api, 0, ["203.0.113.0/28"]) is None
    return api


def test_pool_validate_is_never_looser_than_metallbs_webhook(custom, kube_lab, tmp_path):
    pools = generate()
    assert len(pools) >= 300 and generate() == pools  # a few hundred, and deterministic

    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        webhook = list(pool.map(lambda item: webhook_verdict(custom, item[0], item[1]), enumerate(pools, start=1)))
    webhook_seconds = time.monotonic() - started
    core = [pool_validate_refuses(addresses) for addresses in pools]

    looser = [(addresses, reason) for addresses, reason, codes in zip(pools, webhook, core) if reason is not None and not codes]
    stricter = collections.Counter()
    examples: dict[str, list] = collections.defaultdict(list)
    for addresses, reason, codes in zip(pools, webhook, core):
        if reason is None and codes:
            for code in codes:
                stricter[code] += 1
                if len(examples[code]) < 3:
                    examples[code].append(addresses)
    refused_by = {"webhook": sum(r is not None for r in webhook), "pool_validate": sum(bool(c) for c in core)}
    print(f"\n{len(pools)} pools (seed {SEED}), {len(pools)} dry runs in {webhook_seconds:.1f}s")
    for judge, refused in refused_by.items():
        print(f"  {judge:13}: accepted {len(pools) - refused:3}, refused {refused:3}")
    print(f"  refused by pool_validate only (stricter): {sum(1 for r, c in zip(webhook, core) if r is None and c)}")
    for code, count in stricter.most_common():
        print(f"    {code:22} {count:3}  e.g. {examples[code]!r}")
    print(f"  refused by the webhook only (looser, must be 0): {len(looser)}")

    assert not looser, "pool_validate accepts what MetalLB refuses:\n" + "\n".join(f"{a!r}: {r}" for a, r in looser)
    # the oracle judged both ways: a generator or a webhook that only refuses proves nothing
    assert 0 < refused_by["webhook"] < len(pools)
    # the bare address, the class of the original report: refused by both, pool_validate with the fix
    bare = [i for i, addresses in enumerate(pools) if len(addresses) == 1 and is_dotted_ipv4(addresses[0])]
    assert bare and all(webhook[i] and "missing_prefix" in core[i] for i in bare), [pools[i] for i in bare]

    # A sample through Ansible (the action plugin, argument spec included) gives the core's verdicts.
    sample = [i for i in range(len(pools)) if len(pools[i]) == 1][::25]
    result_file = tmp_path / "verdicts.json"
    run_playbook(REPO / "tests" / "integration" / "targets" / "pool_validate" / "oracle.yml", None,
                 {"oracle_entries": [pools[i][0] for i in sample], "result_file": str(result_file)})
    through_ansible = [sorted(set(codes)) for codes in json.loads(result_file.read_text())]
    assert through_ansible == [core[i] for i in sample]
    assert any(through_ansible) and not all(through_ansible)


def is_dotted_ipv4(text: str) -> bool:
    """A well-formed dotted IPv4 address (the bare-address class)."""
    parts = text.split(".")
    return len(parts) == 4 and all(p.isdigit() and str(int(p)) == p and int(p) < 256 for p in parts)
