# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""metallb_release runs in the controller's process; the decisions are in
module_utils/release_manifest/plan.py. It reads the release with the release_file lookup and
the cluster (for the waits) with the k8s_batch_info module."""

from __future__ import annotations

from ansible.errors import AnsibleError
from ansible.plugins.action import ActionBase
from ansible.plugins.loader import lookup_loader

from ansible_collections.baremetal.metallb.plugins.module_utils.release_manifest.plan import (
    ReleaseError, ReleasePlan, ReleaseWait, diagnostic, kube_proxy_check, must_wait)

ARGUMENT_SPEC = {
    "inputs": {"type": "dict", "required": True},
    "read": {"type": "bool", "default": False},
    "release": {"type": "raw"},
    "waits": {"type": "list", "elements": "dict"},
    "applied": {"type": "list", "elements": "dict"},
    "kube_proxy": {"type": "list", "elements": "dict"},
}
LOOKUP = "baremetal.metallb.release_file"
BATCH_INFO = "baremetal.metallb.k8s_batch_info"


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _VALID_ARGS = frozenset(ARGUMENT_SPEC)

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        self._vars = task_vars or {}
        dummy, args = self.validate_argument_spec(argument_spec=ARGUMENT_SPEC)
        try:
            plan = ReleasePlan(args["inputs"])
        except ReleaseError as exc:
            lines = exc.problems
            result.update(failed=True, errors=lines, diagnostic=lines,
                          msg="metallb_install: invalid input, nothing was read or changed:\n" + "\n".join(lines))
            return result
        result.update(changed=False, no_log=plan.no_log, namespace_object=plan.namespace_object(),
                      helm_values=plan.helm_values(), chart_version=plan.chart_version)
        if args["kube_proxy"] is not None:
            note, problem = kube_proxy_check(args["kube_proxy"])
            result["preflight_note"] = note
            if problem:
                result.update(failed=True, diagnostic=[problem], msg=problem)
                return result
        try:
            release = args["release"]
            if args["read"]:
                chart = plan.chart_source()
                if plan.method == "helm":
                    result["chart"] = self._lookup(*chart) if chart else plan.inputs["chart_ref"]
                else:
                    release = self._lookup(*plan.manifest_source())
            if release is not None:
                result.update(plan.release(release))
            if args["waits"] is not None:
                result.update(self._wait(plan, args["waits"], args["applied"]))
        except ReleaseError as exc:
            result.update(failed=True, errors=exc.problems, diagnostic=exc.problems, msg="\n".join(exc.problems))
        except AnsibleError as exc:
            result.update(failed=True, diagnostic=[exc.message], msg=exc.message)
        return result

    def _lookup(self, term: str, options: dict) -> str:
        lookup = lookup_loader.get(LOOKUP, loader=self._loader, templar=self._templar)
        return lookup.run([term], variables=self._vars, **options)[0]

    def _read(self, plan: ReleasePlan, reads: list[dict]) -> dict:
        """One k8s_batch_info run; its result without the invocation (the kubeconfig may be inline)."""
        module_args = {"reads": reads}
        for option, name in (("kubeconfig", "kubeconfig"), ("context", "kube_context")):
            if plan.inputs[name]:
                module_args[option] = plan.inputs[name]
        answer = self._execute_module(module_name=BATCH_INFO, module_args=module_args, task_vars=self._vars)
        answer.pop("invocation", None)
        return answer

    def _wait(self, plan: ReleasePlan, waits: list[dict], applied: list[dict] | None) -> dict:
        if not plan.inputs["wait"] or self._task.check_mode or not must_wait(applied, waits):
            return {"waited": False, "pending": []}
        timeout = int(plan.inputs["wait_timeout"])
        waiter = ReleaseWait(lambda reads: self._read(plan, reads))
        not_ready = waiter.run(waits, timeout)
        if not not_ready:
            return {"waited": True, "pending": []}
        namespace = plan.options["namespace"]
        found = self._read(plan, [{"key": "pods", "kind": "Pod", "namespace": namespace},
                                  {"key": "events", "kind": "Event", "namespace": namespace}]).get("resources") or {}
        lines = diagnostic(not_ready, timeout, namespace, found.get("pods") or [], found.get("events") or [],
                           waiter.slices, waiter.read_error)
        return {"failed": True, "waited": True, "pending": not_ready, "diagnostic": lines,
                "msg": f"MetalLB is not ready after {timeout} s ({len(not_ready)} object(s) pending); "
                       "see the diagnostic"}
