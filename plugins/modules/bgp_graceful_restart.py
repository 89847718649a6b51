#!/usr/bin/python
# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: bgp_graceful_restart
short_description: Make a changed BGP graceful restart setting take effect on an FRR router, one session at a time
version_added: 0.1.0
author: baremetal.metallb maintainers (@baremetal-ansible)
description:
  - FRR (8.4) puts its graceful restart mode into a session's OPEN only when the session starts; after
    C(bgp graceful-restart) is added or removed, the running sessions keep the mode they negotiated
    ("Graceful restart configuration changed, reset all peers to take effect").
  - This module reads C(show bgp neighbors json), remembers since when the router's configured mode
    (C(gracefulRestartInfo.localGrMode)) holds in O(state_file), and finds the peers of O(peers) whose
    Established session started before that.
  - With O(reset=true) it resets those sessions one at a time (C(clear bgp ADDRESS)), each time waiting until the
    session is Established again with at least as many accepted prefixes as before, so that the other peers keep
    carrying the VIPs (ECMP) meanwhile. With O(reset=false) it only warns, naming the peers and the fix.
  - It also warns about Established peers that do not advertise Restart mode while the router asks for it
    (their BGPPeer lacks C(enableGracefulRestart)); resetting would not change that, so they are not reset.
  - BFD needs nothing of the kind; bfdd applies a changed BFD setting to the running sessions.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details: Reports the peers it would reset (RV(reset)) as a change; resets nothing and writes no file.
      With O(reset=false) the sessions left in the old mode are a warning, not a change.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  peers:
    description: Neighbor addresses to consider (the router's other neighbors are left alone).
    type: list
    elements: str
    required: true
  state_file:
    description:
      - File on the router holding the configured mode and since when (JSON, mode 0600). Written only when the mode
        differs from what it holds (no file means FRR's default, Helper, since ever).
    type: path
    required: true
  mode:
    description:
      - The mode the configuration asks for. Used in check mode only, where the new configuration is not applied yet
        and the running mode would hide the sessions a real run resets; otherwise the running mode counts.
    type: str
    choices: [Restart, Helper]
  fresh:
    description:
      - FRR was not running before this run, so it starts with the new configuration and every session starts in O(mode),
        which is only recorded in O(state_file); FRR is not asked.
    type: bool
    default: false
  reset:
    description: Reset the sessions that predate the configured mode (V(true)), or only warn about them (V(false)).
    type: bool
    default: true
  timeout:
    description: Seconds to wait for each reset session to be back; on timeout the module fails and resets no more.
    type: float
    default: 120
  vtysh_path:
    description: Path of C(vtysh). Found on the E(PATH) when not given.
    type: path
notes:
  - A session the operator reset by hand after the change counts as renegotiated.
  - A graceful restart setting changed behind the module's back (C(vtysh) by hand) is seen on the next run and its
    older sessions are reset then.
seealso:
  - module: baremetal.metallb.frr_config
"""

EXAMPLES = r"""
- name: Renegotiate the sessions that still run the old graceful restart mode
  baremetal.metallb.bgp_graceful_restart:
    peers: [198.51.100.11, 198.51.100.12, 198.51.100.13]
    state_file: /etc/frr/baremetal-metallb-graceful-restart.json

- name: Only say which sessions still run the old mode
  baremetal.metallb.bgp_graceful_restart:
    peers: [198.51.100.11, 198.51.100.12, 198.51.100.13]
    state_file: /etc/frr/baremetal-metallb-graceful-restart.json
    reset: false
"""

RETURN = r"""
mode:
  description: The router's configured graceful restart mode (V(Restart), V(Helper), V(Disable)); null without neighbors.
  returned: always
  type: str
  sample: Restart
since:
  description: Epoch seconds since which that mode is configured (V(0) for FRR's default since ever).
  returned: always
  type: float
  sample: 1796000000.25
reset:
  description: Peers whose session predated the mode and were reset (in check mode, or with O(reset=false), would be).
  returned: always
  type: list
  elements: str
  sample: [198.51.100.11, 198.51.100.12]
resets:
  description: Each reset done, in order, with the seconds until it was back and its accepted prefixes.
  returned: always
  type: list
  elements: dict
  sample: [{address: 198.51.100.11, seconds: 2.6, prefixes: 1, remote_mode: Restart}]
not_in_effect:
  description: Peers still running the old mode after this run (those not reset because O(reset=false), or check mode).
  returned: always
  type: list
  elements: str
  sample: []
not_restarting:
  description: Established peers that do not advertise Restart mode although the router is in Restart mode.
  returned: always
  type: list
  elements: str
  sample: []
peers:
  description: Per peer, its state, when its session started (epoch), both modes, and whether it predated the mode.
  returned: always
  type: dict
"""

import json
import os
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.graceful_restart import (
    RollingReset, configured_mode, next_marker, not_restarting_warning, plan, warning)
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.state import InputError, normalize_address
from ansible_collections.baremetal.metallb.plugins.module_utils.frr.commands import FrrError, FrrTools


def _read_marker(path):
    try:
        with open(path, encoding="utf-8") as handle:
            marker = json.load(handle)
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"mode": None, "since": 0}  # unreadable: as if the mode changed now
    return marker if isinstance(marker, dict) else {"mode": None, "since": 0}


def _write_marker(path, marker):
    tmp = f"{path}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(marker, handle)
    os.replace(tmp, path)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            peers=dict(type="list", elements="str", required=True),
            state_file=dict(type="path", required=True),
            mode=dict(type="str", choices=["Restart", "Helper"]),
            fresh=dict(type="bool", default=False),
            reset=dict(type="bool", default=True),
            timeout=dict(type="float", default=120),
            vtysh_path=dict(type="path"),
        ),
        required_if=[("fresh", True, ["mode"])],
        supports_check_mode=True,
    )
    p = module.params
    if p["timeout"] <= 0:
        module.fail_json(msg=f"timeout must be more than 0 seconds (got {p['timeout']})")
    try:
        peers = list(dict.fromkeys(normalize_address(a, "peers") for a in p["peers"]))
    except InputError as exc:
        module.fail_json(msg=str(exc))
    if p["fresh"]:
        marker = _read_marker(p["state_file"]) if os.path.exists(p["state_file"]) else None
        new_marker = {"mode": p["mode"], "since": 0}
        changed = new_marker != (marker or {"mode": "Helper", "since": 0})
        if changed and not module.check_mode:
            _write_marker(p["state_file"], new_marker)
        module.exit_json(changed=changed, mode=p["mode"], since=0, reset=[], resets=[], not_in_effect=[],
                         not_restarting=[], peers={})
    vtysh = p["vtysh_path"] or module.get_bin_path("vtysh", required=True)
    tools = FrrTools(module.run_command, vtysh=vtysh)
    try:
        neighbors = tools.show_json("show bgp neighbors")
        now = time.time()
        marker = _read_marker(p["state_file"])
        running = configured_mode(neighbors)
        mode = p["mode"] if module.check_mode and p["mode"] and running else running
        new_marker = next_marker(marker, mode, now)
        decided = plan(peers, neighbors, new_marker, now, mode)
        changed = bool(new_marker != marker and not (marker is None and new_marker == {"mode": "Helper", "since": 0}))
        if changed and not module.check_mode:
            _write_marker(p["state_file"], new_marker)
        resets, pending = [], decided["reset"]
        if pending and p["reset"]:
            changed = True
            if not module.check_mode:
                resets = RollingReset(tools, timeout=p["timeout"]).reset(pending)
                pending = []
        elif pending:  # a warning, not a change: the next run says the same until they are reset
            module.warn(warning(pending, decided["mode"]))
        if decided["not_restarting"]:
            module.warn(not_restarting_warning(decided["not_restarting"]))
    except FrrError as exc:
        module.fail_json(msg=str(exc))
    except OSError as exc:
        module.fail_json(msg=f"state_file {p['state_file']}: {exc}")
    module.exit_json(changed=changed, mode=decided["mode"], since=decided["since"], reset=decided["reset"],
                     resets=resets, not_in_effect=pending, not_restarting=decided["not_restarting"],
                     peers=decided["peers"])


if __name__ == "__main__":
    main()
