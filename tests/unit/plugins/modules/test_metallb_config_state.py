# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""main() of metallb_config_state against a fake reader (cases in the YAML beside); the lab test is
tests/integration/test_metallb_config.py::test_a_configuration_the_speakers_refuse_fails_with_their_error."""

from __future__ import annotations

import json

from ansible_collections.baremetal.metallb.plugins.module_utils.k8s.client import K8sClient
from ansible_collections.baremetal.metallb.plugins.modules import metallb_config_state
from ansible_collections.baremetal.metallb.tests.unit.plugins.uthelper import ModuleRunner, assert_expected, load_data, parametrize_cases

DATA = load_data(__file__)
RUN = ModuleRunner(metallb_config_state)


class Reader:
    """What successive LISTs of ConfigurationState return; counts them."""

    def __init__(self, reads):
        self.reads, self.lists = list(reads), 0

    def __call__(self, api):
        return self

    def run(self, reads):
        assert [(r.kind, r.api_version, r.namespace) for r in reads] == [("ConfigurationState", "metallb.io/v1beta1", "metallb-system")]
        states = self.reads[min(self.lists, len(self.reads) - 1)]
        self.lists += 1
        return {"api_found": {"states": states is not None}, "resources": {"states": DATA[states] if states else []}}


@parametrize_cases(DATA["cases"])
def test_case(capsys, monkeypatch, case):
    reader = Reader(case["reads"])
    monkeypatch.setattr(K8sClient, "from_params", classmethod(lambda cls, params, connections=None: object()))
    monkeypatch.setattr(metallb_config_state, "BatchRead", reader)
    monkeypatch.setattr(metallb_config_state, "DynamicApi", lambda client: None)
    monkeypatch.setattr(metallb_config_state, "INTERVAL", 0)
    code, result, dummy = RUN(capsys, dict(case["args"], before=DATA["before"], kubeconfig={}))
    expect = case["expect"]
    assert_expected(code, result, expect)
    assert reader.lists == expect["lists"]
    warnings = json.dumps(result.get("warnings", []))  # each a warning event in this ansible-core
    for text in expect.get("warnings_have", []):
        assert text in warnings, warnings
