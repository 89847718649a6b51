# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""N HTTP requests to a LoadBalancer VIP, each on a new connection, against an echo backend.

The backend answers each GET with a JSON object naming at least the ``pod`` that answered,
its ``node`` and the ``source`` address it saw (the lab's echo server does; any echo
service with those fields will). A new TCP connection per request gives a new source port,
so the router's ECMP hash and kube-proxy's choice see a new flow each time.

Plain Python (stdlib): ``probe()`` takes a ``connect`` callable so unit tests pass a fake.
"""

from __future__ import annotations

import http.client
import json
import time

FIELDS = ("pod", "node", "source")


def _connect(address: str, port: int, timeout: float):
    return http.client.HTTPConnection(address, port, timeout=timeout)


def _count(counts: dict, key) -> None:
    counts[key] = counts.get(key, 0) + 1


def probe(address: str, port: int, count: int, timeout: float = 2.0, path: str = "/", connect=_connect) -> dict:
    """Result: ``requests``, ``answered``, ``errors`` (first few), ``by_pod``, ``by_node``,
    ``sources`` (what the pods saw), ``client_addresses`` (this host's side of each
    connection), ``client_ip_preserved`` (every answer saw this host's own address; null
    when nothing answered) and ``elapsed_ms``."""
    result = {"address": address, "port": port, "requests": count, "answered": 0, "errors": [],
              "by_pod": {}, "by_node": {}, "sources": {}, "client_addresses": {}}
    preserved = []
    started = time.monotonic()
    for dummy in range(count):
        conn = connect(address, port, timeout)
        try:
            conn.request("GET", path, headers={"Connection": "close"})
            local = conn.sock.getsockname()[0] if conn.sock else None
            response = conn.getresponse()
            body = response.read()
            answer = json.loads(body.decode("utf-8", "replace"))
            if not isinstance(answer, dict) or not all(field in answer for field in FIELDS):
                raise ValueError(f"the answer is not an echo with {', '.join(FIELDS)}: {body[:120]!r}")
        except (OSError, http.client.HTTPException, ValueError) as exc:
            if len(result["errors"]) < 5:
                result["errors"].append(f"{exc.__class__.__name__}: {exc}")
            continue
        finally:
            conn.close()
        result["answered"] += 1
        _count(result["by_pod"], str(answer["pod"]))
        _count(result["by_node"], str(answer["node"]))
        _count(result["sources"], str(answer["source"]))
        if local:
            _count(result["client_addresses"], local)
        preserved.append(answer["source"] == local)
    result["client_ip_preserved"] = all(preserved) if preserved else None
    result["elapsed_ms"] = round((time.monotonic() - started) * 1000, 1)
    for key in ("by_pod", "by_node", "sources", "client_addresses"):
        result[key] = dict(sorted(result[key].items()))
    return result


def expectations(policy: str, affinity: str, announcing: list[str], endpoint_nodes: list[str], result: dict) -> list[str]:
    """What ``result`` breaks of what the Service's policy promises (empty: nothing).

    Cluster: the pods see a node address, never the client's (SNAT). Local: they see the
    client's, and only pods on the announcing nodes answer. ClientIP affinity: one pod per
    announcing node (kube-proxy's affinity is per node; ECMP spreads a client's connections)."""
    problems = []
    if not result["answered"]:
        return [f"no answer to {result['requests']} request(s): {'; '.join(result['errors'][:2]) or 'no error text'}"]
    if result["answered"] < result["requests"]:
        problems.append(f"{result['requests'] - result['answered']} of {result['requests']} request(s) failed")
    if policy == "Cluster" and result["client_ip_preserved"] is not False:
        problems.append("a pod saw the client's own address although externalTrafficPolicy is Cluster (expected SNAT)")
    if policy == "Local":
        if result["client_ip_preserved"] is not True:
            problems.append(f"pods saw {', '.join(result['sources'])} instead of the client's address under Local")
        stray = sorted(set(result["by_node"]) - set(announcing))
        if stray:
            problems.append(f"pods on {', '.join(stray)} answered, which do not announce the VIP (Local)")
    # kube-proxy keeps ClientIP affinity per node: through ECMP over N announcing nodes one
    # client may reach up to N pods (one per ingress node); through one L2 leader, one pod.
    allowed = max(1, len(announcing))
    if affinity == "ClientIP" and len(result["by_pod"]) > allowed:
        problems.append(f"sessionAffinity ClientIP, yet {len(result['by_pod'])} pods answered one client "
                        f"(at most {allowed}: one per announcing node)")
    unknown = sorted(set(result["by_node"]) - set(endpoint_nodes))
    if unknown and endpoint_nodes:
        problems.append(f"answers from {', '.join(unknown)}, which have no ready endpoint")
    return problems
