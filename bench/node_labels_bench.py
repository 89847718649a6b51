#!/usr/bin/env python3
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""node_labels against the loop users write today, side by side on one lab cluster.

Brings up its own lab and cluster (lab/labctl.py + lab/clusterctl.py, name ``nlbench``
unless --lab), creates --nodes extra Node objects with plain API POSTs (no kwok
annotation: nobody heartbeats them, KCM's node lifecycle controller taints them
unreachable; the bench waits for that so it does not count KCM's PATCHes; each is in
a zone of its own, see create_nodes), then
labels every Node with the same label sets in four runs:

  naive, run 1   one kubernetes.core.k8s task, state: patched, looped over the nodes
  naive, run 2   the same again (labels already there)
  module, run 1  one baremetal.metallb.node_labels task
  module, run 2  the same again

Labels (and the module's ownership annotation) are removed between the two pairs,
so both start from scratch. The PATCH requests each run sent are counted by the API
server itself: the delta of ``apiserver_request_total{verb="PATCH",resource="nodes",
subresource=""}`` on /metrics (admin cert from the lab's kubeconfig). kwok's heartbeats
are ``nodes/status`` and are not counted; a quiet window before each run checks that
nothing else patches Nodes meanwhile.

The naive loop costs about a second per node on this machine, so by default it runs on
the first --naive-nodes nodes (100) and its time is extrapolated linearly to all of them;
the output says which numbers are measured and which extrapolated. --naive-nodes 0
runs it on every node.

    sudo .venv/bin/python bench/node_labels_bench.py [--nodes 500] [--naive-nodes 100] [--quick] [--keep]

Target from the issue: the module at least 20x faster than the loop on 500 Nodes, and a
second run of the module sends no PATCH. Both are checked (the ratio only with 500 Nodes or
more: --quick reports it); the exit code is 1 when one is missed.

Measured on the shared 2-core machine (load 5 to 9 from other work), 503 Nodes, the loop on
100 of them: loop 2.10 s/node (run 1) and 1.52 s/node (run 2, still 100 PATCHes), so about
1056 s and 766 s for 503 (extrapolated); node_labels 14.5 s (503 PATCHes) and 7.3 s
(0 PATCHes), both measured: 72.7x and 104.9x.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "lab"))

from metallb_lab.client import LabClient, run_playbook  # noqa: E402

CLUSTERCTL = [sys.executable, str(ROOT / "lab" / "clusterctl.py")]
ANNOTATION = "baremetal.metallb/managed-labels"
UNREACHABLE = "node.kubernetes.io/unreachable"
PATCH_NODES = re.compile(r'^apiserver_request_total\{(?P<labels>[^}]*)\} (?P<value>\S+)$', re.M)

NAIVE_PLAYBOOK = """\
- name: Label nodes the usual way, one k8s task per node
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Patch the labels of each node
      kubernetes.core.k8s:
        kubeconfig: "{{ kubeconfig }}"
        state: patched
        kind: Node
        name: "{{ item.key }}"
        definition:
          metadata:
            labels: "{{ item.value }}"
      loop: "{{ node_label_sets | dict2items }}"
"""

MODULE_PLAYBOOK = """\
- name: Label nodes with one node_labels task
  hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Label every node
      baremetal.metallb.node_labels:
        kubeconfig: "{{ kubeconfig }}"
        labels: "{{ node_label_sets }}"
"""


class ApiMetrics:
    """The API server's own request counters, read with the kubeconfig's admin client cert."""

    def __init__(self, kubeconfig: Path, context: str = "lab") -> None:
        config = yaml.safe_load(Path(kubeconfig).read_text())
        ctx = next(c["context"] for c in config["contexts"] if c["name"] == context)
        cluster = next(c["cluster"] for c in config["clusters"] if c["name"] == ctx["cluster"])
        user = next(u["user"] for u in config["users"] if u["name"] == ctx["user"])
        self.url = cluster["server"].rstrip("/") + "/metrics"
        self.tls = ssl.create_default_context(cafile=cluster["certificate-authority"])
        self.tls.load_cert_chain(user["client-certificate"], user["client-key"])

    def node_patches_by_code(self) -> dict[str, int]:
        """PATCH requests on Node objects (not nodes/status) since the API server started, by response code."""
        with urllib.request.urlopen(self.url, context=self.tls, timeout=30) as response:
            text = response.read().decode()
        counts: dict[str, int] = {}
        for match in PATCH_NODES.finditer(text):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"]))
            if labels.get("verb") == "PATCH" and labels.get("resource") == "nodes" and labels.get("subresource") == "":
                counts[labels.get("code", "")] = counts.get(labels.get("code", ""), 0) + int(float(match["value"]))
        return counts

    def node_patches(self) -> int:
        """PATCH requests on Node objects, any response code."""
        return sum(self.node_patches_by_code().values())

    def accepted_node_patches(self) -> int:
        """PATCH requests on Node objects the API server answered with 200."""
        return self.node_patches_by_code().get("200", 0)


def label_sets(names: list[str]) -> dict[str, dict[str, str]]:
    """What both contenders put on the nodes: the seeds' role label plus a zone, spread over four zones."""
    return {name: {"node-role": "edge", "topology.example.com/zone": f"zone-{index % 4}"} for index, name in enumerate(names)}


def core(kubeconfig: Path):
    from kubernetes import client as k8s, config as k8s_config
    return k8s.CoreV1Api(k8s_config.new_client_from_config(config_file=str(kubeconfig)))


def create_nodes(api, count: int) -> list[str]:
    names = [f"bench{index:04d}" for index in range(1, count + 1)]
    existing = {node.metadata.name for node in api.list_node().items}
    for name in names:
        if name not in existing:
            # A zone of its own per Node: KCM's node lifecycle controller rate-limits its NoExecute
            # taints per zone (0.01/s in a big zone mostly down), which would trickle PATCHes into
            # the measurements for hours; one-node zones are all tainted within seconds.
            api.create_node({"apiVersion": "v1", "kind": "Node",
                             "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux",
                                                                   "topology.kubernetes.io/zone": name}}})
    return names


def wait_for_kcm(api, names: list[str], metrics: ApiMetrics, timeout: float = 1500) -> dict:
    """Until KCM has tainted every bench Node unreachable (its own PATCHes) and Node PATCHes have stopped.

    KCM talks to the API server at its default 20 requests/s: for 500 Nodes (a status update and
    two taints each, with conflicts and retries) that took 10 to 20 minutes on the 2-core machine
    this was written on; --keep and a second run reuse the Nodes once they are settled.
    """
    wanted = set(names)
    deadline = time.monotonic() + timeout
    while True:
        nodes = {n.metadata.name: n for n in api.list_node().items}
        tainted = {name for name in wanted if name in nodes
                   and {(t.key, t.effect) for t in (nodes[name].spec.taints or [])} >= {(UNREACHABLE, "NoSchedule"), (UNREACHABLE, "NoExecute")}}
        if tainted == wanted:
            break
        if time.monotonic() > deadline:
            raise SystemExit(f"KCM tainted only {len(tainted)} of {len(wanted)} bench Nodes in {timeout:.0f} s")
        time.sleep(3)
    for _attempt in range(20):
        before = metrics.accepted_node_patches()
        time.sleep(5)
        if metrics.accepted_node_patches() == before:
            break
    else:
        raise SystemExit("Nodes are still being patched by someone else: the PATCH counts would not be the bench's")
    with_cidr = sum(1 for n in nodes.values() if n.spec.pod_cidr)
    return {"nodes": len(nodes), "with_pod_cidr": with_cidr, "without_pod_cidr": len(nodes) - with_cidr}


def cidr_events(api) -> int:
    events = api.list_event_for_all_namespaces(field_selector="reason=CIDRNotAvailable").items
    return sum(event.count or 1 for event in events)


def reset_labels(api, names: list[str]) -> None:
    body = {"metadata": {"labels": {"node-role": None, "topology.example.com/zone": None}, "annotations": {ANNOTATION: None}}}
    for name in names:
        api.patch_node(name, body, _content_type="application/merge-patch+json", _preload_content=False)


def timed_run(playbook: Path, inventory: Path, extra: dict, metrics: ApiMetrics) -> dict:
    quiet = metrics.accepted_node_patches()
    time.sleep(2)
    if metrics.accepted_node_patches() != quiet:
        raise SystemExit("someone else patched Nodes just before a measured run")
    before = metrics.node_patches_by_code()
    started = time.monotonic()
    run = run_playbook(playbook, inventory, extra, timeout=7200)
    seconds = time.monotonic() - started
    after = metrics.node_patches_by_code()
    delta = {code: after[code] - before.get(code, 0) for code in after if after[code] != before.get(code, 0)}
    # Only 200s can be the playbook's own (its runs fail otherwise); other codes are KCM's node IPAM
    # retrying a podCIDR PATCH the API server refuses (422), see the set-up lines.
    return {"seconds": seconds, "patches": delta.pop("200", 0), "other_patches": sum(delta.values()), "changed": run.changed}


def labels_ok(api, sets: dict) -> bool:
    nodes = {n.metadata.name: n.metadata.labels or {} for n in api.list_node().items}
    return all(all(nodes[name].get(k) == v for k, v in labels.items()) for name, labels in sets.items())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lab", default="nlbench", help="lab name (default nlbench)")
    parser.add_argument("--nodes", type=int, default=500, help="extra Nodes to create (default 500)")
    parser.add_argument("--naive-nodes", type=int, default=100,
                        help="nodes the naive loop really runs on, extrapolated to all (default 100; 0 = all)")
    parser.add_argument("--quick", action="store_true", help="50 Nodes, naive loop on 20")
    parser.add_argument("--keep", action="store_true", help="leave the lab running")
    args = parser.parse_args()
    if args.quick:
        args.nodes, args.naive_nodes = 50, 20
    if os.geteuid() != 0:
        raise SystemExit("run as root: the lab is built from network namespaces")

    t0 = time.monotonic()
    lab = LabClient.up(args.lab, nodes=3)
    try:
        subprocess.run([*CLUSTERCTL, "up", "--name", args.lab, "--inventory", str(lab.inventory)],
                       check=True, capture_output=True, text=True, timeout=900)
        kubeconfig = lab.inventory / ".kubeconfig"
        api, metrics = core(kubeconfig), ApiMetrics(kubeconfig)
        print(f"lab {args.lab}: cluster up in {time.monotonic() - t0:.1f} s")
        t1 = time.monotonic()
        bench_names = create_nodes(api, args.nodes)
        print(f"created {len(bench_names)} Nodes with plain POSTs in {time.monotonic() - t1:.1f} s; waiting for KCM to taint them unreachable ...")
        state = wait_for_kcm(api, bench_names, metrics)
        status = subprocess.run([*CLUSTERCTL, "status", "--name", args.lab], capture_output=True, text=True, check=False)
        print(f"  {state['nodes']} Nodes; {state['with_pod_cidr']} have a podCIDR, {state['without_pod_cidr']} none "
              f"(198.18.0.0/17 holds 128 /24s); CIDRNotAvailable events: {cidr_events(api)}; "
              f"clusterctl status rc={status.returncode} (0 = every component up)")

        all_names = sorted(n.metadata.name for n in api.list_node().items)
        sets = label_sets(all_names)
        naive_count = len(all_names) if args.naive_nodes <= 0 else min(args.naive_nodes, len(all_names))
        naive_sets = dict(list(sets.items())[:naive_count])
        rows = []
        with tempfile.TemporaryDirectory(prefix="node-labels-bench-") as tmp:
            naive, module = Path(tmp) / "naive.yml", Path(tmp) / "module.yml"
            naive.write_text(NAIVE_PLAYBOOK)
            module.write_text(MODULE_PLAYBOOK)
            reset_labels(api, all_names)
            for label in ("run 1", "run 2"):
                result = timed_run(naive, lab.inventory, {"kubeconfig": str(kubeconfig), "node_label_sets": naive_sets}, metrics)
                rows.append(("naive k8s loop", label, naive_count, result))
            assert labels_ok(api, naive_sets), "the naive loop did not set the labels"
            reset_labels(api, all_names)
            for label in ("run 1", "run 2"):
                result = timed_run(module, lab.inventory, {"kubeconfig": str(kubeconfig), "node_label_sets": sets}, metrics)
                rows.append(("node_labels", label, len(all_names), result))
            assert labels_ok(api, sets), "node_labels did not set the labels"

        total = len(all_names)
        print()
        print(f"{'contender':<16} {'run':<6} {'nodes':>6} {'wall s':>9} {'s/node':>8} {'PATCH':>6} {'changed':>8}  {'for ' + str(total) + ' nodes':>14}")
        print("(PATCH: requests on Node objects answered 200 during the run, from the API server's /metrics)")
        verdict = {}
        for name, label, count, result in rows:
            per_node = result["seconds"] / count
            if count == total:
                full, how = result["seconds"], "measured"
            else:
                full, how = per_node * total, "extrapolated"
            verdict[(name, label)] = full
            print(f"{name:<16} {label:<6} {count:>6} {result['seconds']:>9.2f} {per_node:>8.4f} {result['patches']:>6} "
                  f"{result['changed']:>8}  {full:>8.1f} s ({how})"
                  + (f"  [+{result['other_patches']} refused PATCHes by others]" if result["other_patches"] else ""))
        ratio1 = verdict[("naive k8s loop", "run 1")] / verdict[("node_labels", "run 1")]
        ratio2 = verdict[("naive k8s loop", "run 2")] / verdict[("node_labels", "run 2")]
        second = next(r for n, lab_run, c, r in rows if n == "node_labels" and lab_run == "run 2")
        naive_second = next(r for n, lab_run, c, r in rows if n == "naive k8s loop" and lab_run == "run 2")
        print()
        if naive_count != total:
            print(f"The naive loop was measured on {naive_count} of {total} nodes; its time for {total} is that "
                  f"measurement times {total}/{naive_count} (linear: one task execution per item).")
        print(f"ratio naive/module for {total} nodes: run 1 {ratio1:.1f}x, run 2 {ratio2:.1f}x (target >= 20x)")
        print(f"PATCH requests counted by the API server, second run: node_labels {second['patches']}, "
              f"naive loop {naive_second['patches']} for {naive_count} nodes")
        print(json.dumps({"nodes": total, "naive_nodes": naive_count, "ratio_run1": round(ratio1, 1), "ratio_run2": round(ratio2, 1),
                          "runs": [{"contender": n, "run": r, "nodes": c, **{k: round(v, 3) if isinstance(v, float) else v for k, v in res.items()}}
                                   for n, r, c, res in rows]}))
        # The 20x target is the issue's, for 500 Nodes: with fewer, ansible-playbook's own start-up
        # (the same few seconds for both) weighs more, so --quick only reports the ratio.
        ratio_applies = total >= 500
        ok = second["patches"] == 0 and second["changed"] == 0 and (ratio1 >= 20 or not ratio_applies)
        if not ratio_applies:
            print(f"(the >= 20x target is for 500 Nodes; with {total} it is reported, not checked)")
        print("PASS" if ok else "MISSED a target")
        return 0 if ok else 1
    finally:
        if not args.keep:
            subprocess.run([*CLUSTERCTL, "down", "--name", args.lab], capture_output=True, check=False)
            lab.down()


if __name__ == "__main__":
    sys.exit(main())
