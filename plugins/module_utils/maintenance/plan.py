# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Node maintenance: what to change on which Node, in which order, and what to wait for.

Plain data in (the API objects ``k8s.snapshot.read_snapshot`` returns, the Pods on the nodes
and the PodDisruptionBudgets), plain data out. Nothing here talks to the API server.

The order that loses nothing avoidable:

* out: stop the nodes announcing (the exclude-from-external-load-balancers label, or the
  removal of the site's edge labels), wait until every router dropped them as next hops and
  every layer 2 VIP they led is answered by another node, then cordon and evict their pods
  (the eviction API, so PodDisruptionBudgets hold);
* in: the reverse: uncordon, let the nodes announce again, wait for the announcements.

Which node announces what, before and after, is the announcer model's answer
(``status.services.ServiceReport`` over ``announcers.model``) for the Nodes as they are and
as they will be: the Node objects are changed the way the patch will change them and the
model asked again, so this module never decides "who announces" itself.

What this code changed on a Node is recorded on that Node (annotation ``RECORD_ANNOTATION``,
JSON): the exclude label it added, the labels it removed (with their values), the cordon it
set. "in" undoes exactly that, and nothing an administrator set: a node excluded or cordoned
before the maintenance stays so.
"""

from __future__ import annotations

import copy
import ipaddress
import json

from ansible_collections.baremetal.metallb.plugins.module_utils.policy.cluster import EXCLUDE_LABEL, cluster_from_objects, dig
from ansible_collections.baremetal.metallb.plugins.module_utils.model.names import dns1123_subdomain, label_value, qualified_name
from ansible_collections.baremetal.metallb.plugins.module_utils.model.selectors import SelectorError, selector_matches
from ansible_collections.baremetal.metallb.plugins.module_utils.status.services import ServiceReport

RECORD_ANNOTATION = "baremetal.metallb/maintenance"
STATES = ("out", "in")
METHODS = ("exclude_label", "remove_labels")
STEPS = ("plan", "announcement", "scheduling")
MIRROR_ANNOTATION = "kubernetes.io/config.mirror"


class MaintenanceError(Exception):
    """Bad input (every problem in ``errors``), or a cluster the plan cannot act on."""

    def __init__(self, msg: str, errors: list[str] | None = None) -> None:
        super().__init__(msg)
        self.errors = errors or [msg]


# ---------------------------------------------------------------------------------- input
def _words(value) -> list:
    """A list, or a survey's text: names separated by commas, spaces or new lines (also inside
    a list's strings: a role's list option turns "a\nb,c" into ["a\nb", "c"])."""
    if isinstance(value, str):
        return value.replace(",", " ").split()
    return [word for item in value or [] for word in (_words(item) if isinstance(item, str) else [item])]


def _labels(value, where: str, errors: list[str]) -> dict:
    """A dict of label key to value (null: any value), or text ``key=value,key2`` (AWX)."""
    if isinstance(value, str):
        parsed = {}
        for word in _words(value):
            key, sep, val = word.partition("=")
            parsed[key] = val if sep else None
        value = parsed
    if not isinstance(value, dict):
        errors.append(f"{where}: must be a dict of label key to value, not {type(value).__name__}")
        return {}
    for key, val in value.items():
        problem = qualified_name(key) if isinstance(key, str) else "must be a string"
        if problem:
            errors.append(f"{where}: the label key {key!r} {problem}")
        elif val is not None and label_value(str(val)):
            errors.append(f"{where}['{key}']: the value {val!r} {label_value(str(val))}")
    return {key: None if val is None else str(val) for key, val in value.items()}


def normalize(params: dict, names: dict | None = None) -> dict:
    """The options as the plan acts on them; raises ``MaintenanceError`` naming each variable.
    ``names``: option -> the variable name to use in messages (a role's)."""
    names = names or {}

    def name(option: str) -> str:
        return names.get(option, option)

    errors: list[str] = []
    nodes = []
    for index, node in enumerate(_words(params.get("nodes"))):
        node = str(node).strip()
        problem = dns1123_subdomain(node)
        if problem:
            errors.append(f"{name('nodes')}[{index}]: the node name {node!r} {problem}")
        elif node not in nodes:
            nodes.append(node)
    if not nodes and not any(name("nodes") in error for error in errors):
        errors.append(f"{name('nodes')}: name at least one node (a list, or names separated by commas)")
    state = str(params.get("state") or "").strip().lower()
    if state not in STATES:
        errors.append(f"{name('state')}: {state!r} is not one of {', '.join(STATES)} (out: take the nodes out of load "
                      "balancing and drain them; in: bring them back)")
    method = str(params.get("method") or "exclude_label").strip().lower()
    if method not in METHODS:
        errors.append(f"{name('method')}: {method!r} is not one of {', '.join(METHODS)}")
    labels = _labels(params.get("labels") or {}, name("labels"), errors)
    if method == "remove_labels" and not labels and state == "out":
        errors.append(f"{name('labels')}: with {name('method')} remove_labels, give the labels the advertisements select "
                      "the nodes by (for example node-role: edge)")
    step = str(params.get("step") or "plan").strip().lower()
    if step not in STEPS:
        errors.append(f"{name('step')}: {step!r} is not one of {', '.join(STEPS)}")
    routers = params.get("router_addresses") or {}
    if not isinstance(routers, dict):
        errors.append(f"{name('router_addresses')}: must be a dict of router host to its address")
        routers = {}
    for host, address in routers.items():
        try:
            ipaddress.ip_address(str(address))
        except ValueError:
            errors.append(f"{name('router_addresses')}['{host}']: {address!r} is not an IP address")
    if errors:
        raise MaintenanceError("invalid input; nothing was read or changed: " + "; ".join(errors), errors)
    return {"nodes": nodes, "state": state, "method": method, "labels": labels, "step": step,
            "evict_unmanaged": bool(params.get("evict_unmanaged")), "routers": {str(h): str(a) for h, a in routers.items()}}


# ---------------------------------------------------------------------------------- one node
def read_record(node: dict) -> dict:
    """What an earlier run changed on the Node (the annotation's JSON); ``{}`` when none or unreadable."""
    text = dig(node, "metadata", "annotations", RECORD_ANNOTATION)
    try:
        record = json.loads(text) if text else {}
    except ValueError:
        return {}
    return record if isinstance(record, dict) else {}


def node_state(node: dict) -> dict:
    return {"labels": dict(dig(node, "metadata", "labels", default={}) or {}),
            "unschedulable": bool(dig(node, "spec", "unschedulable", default=False)),
            "record": read_record(node)}


def announce_change(state: dict, direction: str, opts: dict) -> dict:
    """The node's labels and record after the announcement step of ``direction``."""
    labels, record = dict(state["labels"]), copy.deepcopy(state["record"])
    if direction == "out":
        if opts["method"] == "exclude_label":
            if EXCLUDE_LABEL not in labels:
                labels[EXCLUDE_LABEL] = ""
                record["exclude_label"] = True
        else:
            removed = record.setdefault("labels", {})
            for key, value in opts["labels"].items():
                if key in labels and (value is None or labels[key] == value):
                    removed[key] = labels.pop(key)
            if not removed:
                record.pop("labels")
    else:
        if record.pop("exclude_label", False):
            labels.pop(EXCLUDE_LABEL, None)
        for key, value in (record.pop("labels", None) or {}).items():
            labels.setdefault(key, value)
    return dict(state, labels=labels, record=record)


def schedule_change(state: dict, direction: str) -> dict:
    """The node's cordon and record after the scheduling step of ``direction``."""
    record = copy.deepcopy(state["record"])
    unschedulable = state["unschedulable"]
    if direction == "out" and not unschedulable:
        unschedulable, record["cordoned"] = True, True
    elif direction == "in" and record.pop("cordoned", False):
        unschedulable = False
    return dict(state, unschedulable=unschedulable, record=record)


def node_patch(before: dict, after: dict) -> dict | None:
    """The JSON merge patch from ``before`` to ``after`` (``None``: nothing to send)."""
    meta: dict = {}
    changed = {key: after["labels"].get(key) for key in set(before["labels"]) | set(after["labels"])
               if before["labels"].get(key) != after["labels"].get(key)}
    if changed:
        meta["labels"] = changed
    if after["record"] != before["record"]:
        meta["annotations"] = {RECORD_ANNOTATION: json.dumps(after["record"], sort_keys=True) if after["record"] else None}
    body: dict = {"metadata": meta} if meta else {}
    if after["unschedulable"] != before["unschedulable"]:
        body["spec"] = {"unschedulable": True if after["unschedulable"] else None}
    return body or None


# ---------------------------------------------------------------------------------- announcements
def _with_states(objects: dict, states: dict[str, dict]) -> dict:
    """The snapshot with these Nodes' labels and cordon replaced (the model reads nothing else of ours)."""
    nodes = []
    for node in objects.get("nodes") or []:
        state = states.get(dig(node, "metadata", "name"))
        if state is not None:
            node = copy.deepcopy(node)
            node["metadata"]["labels"] = dict(state["labels"])
            node.setdefault("spec", {})["unschedulable"] = state["unschedulable"]
        nodes.append(node)
    return dict(objects, nodes=nodes)


def _views(reports: list[dict]) -> dict[str, dict]:
    """``namespace/name`` -> its addresses, the L2 leader the election picks and the BGP next hops."""
    views = {}
    for report in reports:
        layer2, bgp = report.get("layer2"), report.get("bgp")
        views[f"{report['namespace']}/{report['name']}"] = {
            "addresses": list(report["ingress_ips"]),
            "leader": layer2.get("expected_leader") if layer2 else None,
            "layer2": bool(layer2),
            "bgp": bool(bgp),
            "next_hops": sorted(bgp.get("next_hops") or []) if bgp else [],
            "bgp_nodes": sorted(bgp.get("candidate_nodes") or []) if bgp else [],
        }
    return views


def _router_hops(objects: dict, routers: dict[str, str], hops: list[str]) -> dict[str, list[str]]:
    """Per router host, the next hops it should carry: those of nodes a BGPPeer with the router's
    address selects (unknown peers, or a router no BGPPeer names: every hop)."""
    cluster = cluster_from_objects(objects)
    by_address = {str(address): node for node in cluster.nodes or [] for address, dummy in node.addresses}
    out = {}
    for host, address in routers.items():
        peers = [peer for peer in cluster.peers or [] if peer.address is not None and str(peer.address) == address]
        if not peers:
            out[host] = list(hops)
            continue
        out[host] = [hop for hop in hops if hop in by_address and any(peer.selects_node(by_address[hop]) for peer in peers)]
    return out


def announcement_waits(objects: dict, nodes: list[str], direction: str, included: dict, excluded: dict,
                       routers: dict[str, str]) -> dict:
    """What to wait for after the announcement step: the BGP prefixes whose next hops differ
    with and without the nodes (expected: the state of ``direction``), and the layer 2 VIPs a
    node leads with them included, grouped by the node the VIP moves away from."""
    target = excluded if direction == "out" else included
    other = included if direction == "out" else excluded
    bgp: dict[str, list[str]] = {}
    l2: dict[str, dict] = {}
    notes: list[str] = []
    for key in sorted(set(included) | set(excluded)):
        inc, exc = included.get(key), excluded.get(key)
        if not inc or not exc:
            continue
        if inc["bgp"] and inc["next_hops"] != exc["next_hops"]:
            for address in inc["addresses"]:
                bgp[address] = target[key]["next_hops"]
        if inc["layer2"] and inc["leader"] in nodes and inc["leader"] != exc["leader"]:
            moving_from, moving_to = other[key]["leader"], target[key]["leader"]
            if not moving_to:
                notes.append(f"{key}: no other node can lead it without {inc['leader']}: its VIP goes unanswered "
                             "until the pods run elsewhere (externalTrafficPolicy Local?)")
                continue
            if not moving_from:
                notes.append(f"{key}: nobody leads it now; not waited for")
                continue
            group = l2.setdefault(moving_from, {"from_node": moving_from, "addresses": [], "expected": {}})
            for address in inc["addresses"]:
                group["addresses"].append(address)
                group["expected"][address] = moving_to
        for address in inc["addresses"] if inc["bgp"] and not target[key]["next_hops"] else []:
            notes.append(f"{key}: no node announces {address} over BGP in this state")
    hops_by_router = {host: {} for host in routers}
    for prefix, hops in bgp.items():
        for host, kept in _router_hops(objects, routers, hops).items():
            hops_by_router[host][prefix] = kept
    return {"bgp": bgp, "bgp_by_router": hops_by_router, "l2": [l2[key] for key in sorted(l2)], "notes": notes}


# ---------------------------------------------------------------------------------- pods
def _controller(pod: dict) -> dict | None:
    return next((ref for ref in dig(pod, "metadata", "ownerReferences", default=[]) or [] if ref.get("controller")), None)


def pod_evictions(pods: list[dict], pdbs: list[dict], nodes: list[str], evict_unmanaged: bool) -> dict:
    """Which pods of the nodes to evict, which to leave (DaemonSet pods, mirror pods) and why,
    the PodDisruptionBudgets covering each, and the pods no controller would replace."""
    evict, skipped, unmanaged = [], [], []
    for pod in sorted(pods, key=lambda p: (dig(p, "spec", "nodeName") or "", dig(p, "metadata", "namespace") or "",
                                           dig(p, "metadata", "name") or "")):
        node = dig(pod, "spec", "nodeName")
        if node not in nodes:
            continue
        meta = pod.get("metadata") or {}
        entry = {"namespace": meta.get("namespace"), "name": meta.get("name"), "uid": meta.get("uid"), "node": node}
        owner = _controller(pod)
        if owner and owner.get("kind") == "DaemonSet":
            skipped.append(dict(entry, reason="DaemonSet pod: it runs on every node (the MetalLB speaker among them)"))
            continue
        if MIRROR_ANNOTATION in (meta.get("annotations") or {}):
            skipped.append(dict(entry, reason="static (mirror) pod: the kubelet runs it from a file"))
            continue
        entry["owner"] = f"{owner.get('kind')}/{owner.get('name')}" if owner else None
        entry["terminating"] = bool(meta.get("deletionTimestamp"))
        entry["pdbs"] = []
        for pdb in pdbs:
            if dig(pdb, "metadata", "namespace") != entry["namespace"] or dig(pdb, "spec", "selector") is None:
                continue
            try:
                covers = selector_matches(dig(pdb, "spec", "selector"), meta.get("labels") or {})
            except SelectorError:
                covers = False
            if covers:
                entry["pdbs"].append({"name": dig(pdb, "metadata", "name"),
                                      "disruptions_allowed": dig(pdb, "status", "disruptionsAllowed")})
        if not owner:
            unmanaged.append(f"{entry['namespace']}/{entry['name']}")
        evict.append(entry)
    if unmanaged and not evict_unmanaged:
        raise MaintenanceError(
            f"pods without a controller would be lost for good: {', '.join(unmanaged)} (on {', '.join(nodes)}); move them, "
            "or set evict_unmanaged to evict them anyway. Nothing was changed.")
    return {"evict": evict, "skipped": skipped, "unmanaged": unmanaged}


# ---------------------------------------------------------------------------------- the plan
def build_plan(objects: dict, pods: list[dict] | None, pdbs: list[dict] | None, opts: dict) -> dict:
    """The whole plan for ``opts['state']``, and the changes of ``opts['step']``."""
    by_name = {dig(node, "metadata", "name"): node for node in objects.get("nodes") or []}
    missing = [node for node in opts["nodes"] if node not in by_name]
    if missing:
        raise MaintenanceError(f"nodes: {', '.join(missing)} not in the cluster (Nodes: {', '.join(sorted(by_name)) or 'none'}); "
                               "fix the names. Nothing was changed.")
    direction, nodes = opts["state"], opts["nodes"]
    now = {name: node_state(by_name[name]) for name in nodes}
    # the nodes taking part in load balancing (every announcement change of ours undone) and out of it
    included = {name: announce_change(state, "in", opts) for name, state in now.items()}
    excluded = {name: announce_change(included[name], "out", opts) for name in nodes}
    views_in = _views(ServiceReport(_with_states(objects, included)).run())
    views_out = _views(ServiceReport(_with_states(objects, excluded)).run())
    findings = _exclusion_findings(objects, nodes, opts, views_in, views_out)

    if direction == "out":
        after_announce = {name: announce_change(now[name], "out", opts) for name in nodes}
        after_schedule = {name: schedule_change(after_announce[name], "out") for name in nodes}
        order = [("announcement", now, after_announce), ("scheduling", after_announce, after_schedule)]
    else:
        after_schedule = {name: schedule_change(now[name], "in") for name in nodes}
        after_announce = {name: announce_change(after_schedule[name], "in", opts) for name in nodes}
        order = [("scheduling", now, after_schedule), ("announcement", after_schedule, after_announce)]
    patches = {step: {name: patch for name in nodes if (patch := node_patch(before[name], after[name]))}
               for step, before, after in order}
    waits = announcement_waits(objects, nodes, direction, views_in, views_out, opts["routers"])
    evictions = pod_evictions(pods or [], pdbs or [], nodes, opts["evict_unmanaged"]) if direction == "out" else \
        {"evict": [], "skipped": [], "unmanaged": []}
    return {
        "state": direction,
        "nodes": nodes,
        "steps": _steps(direction, nodes, patches, waits, evictions),
        "patches": patches,
        "waits": waits,
        "evictions": evictions,
        "findings": findings,
        # per step: the nodes it changes, before and after it
        "diff": {step: {"before": {name: _shown(before[name]) for name in patches[step]},
                        "after": {name: _shown(after[name]) for name in patches[step]}} for step, before, after in order},
        "changed": {"announcement": bool(patches["announcement"]),
                    "scheduling": bool(patches["scheduling"]) or any(not e["terminating"] for e in evictions["evict"])},
    }


def _shown(state: dict) -> dict:
    return {"labels": dict(sorted(state["labels"].items())), "unschedulable": state["unschedulable"], "record": state["record"]}


def _exclusion_findings(objects: dict, nodes: list[str], opts: dict, views_in: dict, views_out: dict) -> list[dict]:
    """What excluding the nodes does that the operator should know before: a label the speakers
    ignore, Services nobody announces without the nodes."""
    findings = []
    still = sorted({node for view in views_out.values() for node in [view["leader"], *view["bgp_nodes"]] if node in nodes})
    if opts["state"] == "out" and still:
        if opts["method"] == "exclude_label":
            why, fix = (f"with {EXCLUDE_LABEL}: MetalLB's speakers run with --ignore-exclude-lb",
                        "use method remove_labels with the labels the advertisements select the nodes by")
        else:
            why, fix = (f"without the labels {', '.join(sorted(opts['labels']))}: an advertisement selects them by others",
                        "name the labels the advertisements' nodeSelectors use, or use method exclude_label")
        findings.append({"rule": "still_announcing", "severity": "error",
                         "message": f"{', '.join(still)} would still announce {why}", "fix": fix})
    for key, view in sorted(views_in.items()):
        out = views_out.get(key) or {}
        lost = (view["layer2"] and view["leader"] and not out.get("leader")) or (view["bgp"] and view["next_hops"] and not out.get("next_hops"))
        if lost:
            findings.append({"rule": "service_unannounced", "severity": "warning",
                             "message": f"{key} ({', '.join(view['addresses'])}): no other node announces it while "
                                        f"{', '.join(nodes)} {'is' if len(nodes) == 1 else 'are'} out, until its pods run elsewhere",
                             "fix": "run the Service's pods on more nodes (Local), or widen its advertisement's nodeSelectors"})
    return findings


def _steps(direction: str, nodes: list[str], patches: dict, waits: dict, evictions: dict) -> list[str]:
    who = ", ".join(nodes)
    bgp = f"{len(waits['bgp'])} BGP prefix(es) on {len(waits['bgp_by_router']) or 'the'} router(s)"
    l2 = f"{sum(len(group['addresses']) for group in waits['l2'])} layer 2 VIP(s)"
    announce = ("stop announcing from" if direction == "out" else "announce again from") + f" {who}: " + (
        "; ".join(f"{name} {_describe(patch)}" for name, patch in patches["announcement"].items()) or "nothing to change")
    wait = f"wait for {bgp} and {l2} to " + ("leave " if direction == "out" else "return to ") + who
    if direction == "out":
        pods = [f"{e['namespace']}/{e['name']}" for e in evictions["evict"]]
        schedule = (f"cordon {who}: " + ("; ".join(f"{n} {_describe(p)}" for n, p in patches["scheduling"].items()) or "nothing to change")
                    + f"; evict {len(pods)} pod(s) through the eviction API (PodDisruptionBudgets hold)"
                    + (f": {', '.join(pods)}" if pods else ""))
        return [announce, wait, schedule]
    schedule = f"uncordon {who}: " + ("; ".join(f"{n} {_describe(p)}" for n, p in patches["scheduling"].items()) or "nothing to change")
    return [schedule, announce, wait]


def _describe(patch: dict) -> str:
    parts = []
    for key, value in sorted((dig(patch, "metadata", "labels", default={}) or {}).items()):
        parts.append(f"label {key}={value}" if value is not None else f"remove label {key}")
    if "spec" in patch:
        parts.append("cordon" if patch["spec"]["unschedulable"] else "uncordon")
    if not parts and "metadata" in patch:
        parts.append("record only")
    return ", ".join(parts)
