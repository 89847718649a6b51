# Copyright: baremetal.metallb contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every chart the verify report can draw renders with the real Mermaid renderer.

mermaid-cli (mmdc, pinned in tools/mermaid/package-lock.json, installed into .build/mermaid by
tools/install-mermaid.sh: `make integration` does) drives Debian's chromium. The charts are
those of the report's data-driven cases (tests/unit/.../status/report_cases.py: every
leader_verify status, every bgp_verify difference, every Service with and without a data path),
rendered in one browser run; a Mermaid syntax error fails the test, and a deliberately broken
chart proves that it would. No lab needed.
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MERMAID = Path(os.environ.get("MERMAID_DIR", REPO / ".build" / "mermaid"))
MMDC = MERMAID / "node_modules" / ".bin" / "mmdc"
CONFIG = MERMAID / "puppeteer-config.json"

# the collection as playbooks see it (ANSIBLE_COLLECTIONS_PATH: the installed tarball under make)
for _path in os.environ.get("ANSIBLE_COLLECTIONS_PATH", str(REPO / ".build" / "collections")).split(os.pathsep):
    if _path and _path not in sys.path:
        sys.path.append(_path)

from ansible_collections.baremetal.metallb.tests.unit.plugins.module_utils.status import report_cases  # noqa: E402


@pytest.fixture(scope="module")
def mmdc():
    if not MMDC.is_file() or not CONFIG.is_file():
        pytest.fail(f"{MMDC} is not installed: run `bash tools/install-mermaid.sh` (make integration does)")

    def render(markdown: str, workdir: Path) -> tuple[subprocess.CompletedProcess, list[Path]]:
        """Render every ```mermaid block of ``markdown`` in one browser run: (the run, the SVGs written)."""
        source = workdir / "report.md"
        source.write_text(markdown)
        done = subprocess.run([str(MMDC), "--quiet", "-p", str(CONFIG), "-i", str(source), "-o", str(workdir / "out.md")],
                              capture_output=True, text=True, timeout=300, check=False)
        return done, sorted(workdir.glob("out-*.svg"), key=lambda p: int(p.stem.split("-")[1]))

    return render


def _markdown(charts: list[tuple[str, list[str]]]) -> str:
    return "\n\n".join(f"## {name}\n\n" + "\n".join(lines) for name, lines in charts) + "\n"


def _distinct() -> list[tuple[str, list[str]]]:
    charts: dict[tuple, tuple[str, list[str]]] = {}
    for name, lines in report_cases.gallery():
        charts.setdefault(tuple(lines), (name, lines))
    return list(charts.values())


def test_every_chart_of_the_report_renders(mmdc, tmp_path):
    charts = _distinct()
    assert len(charts) >= 30, len(charts)
    done, svgs = mmdc(_markdown(charts), tmp_path)
    failed_at = charts[len(svgs)][0] if len(svgs) < len(charts) else None
    assert done.returncode == 0, f"mmdc failed at chart {len(svgs) + 1} ({failed_at}):\n{done.stderr[-3000:]}"
    assert len(svgs) == len(charts)
    for (name, lines), svg in zip(charts, svgs):
        text = svg.read_text()
        assert text.lstrip().startswith("<svg") and "Syntax error" not in text, name
        # what the wire showed is drawn: each failing part carries the fail class
        if any(line.startswith("  class ") and line.endswith(" fail") for line in lines):
            assert "fail" in text, name


def test_a_broken_chart_fails_the_render(mmdc, tmp_path):
    """The same run that renders a chart fails on it once one label lost its quotes: a
    renderer that let a syntax error pass would fail this test."""
    name, lines = next((n, c) for n, c in _distinct() if n == "arp-duplicate_rogue_responder_on_a_node_that_is_no_candidate")
    broken = [line.replace(' -->|"answers ARP too"| ', " -->|answers ARP (too| ") for line in lines]
    assert broken != lines
    done, svgs = mmdc(_markdown([(name, lines), (f"{name}-broken", broken)]), tmp_path)
    assert done.returncode != 0, "mmdc accepted a broken chart"
    assert len(svgs) == 1, "the intact chart renders, the broken one does not"
    assert "Parse error" in done.stderr, done.stderr[-2000:]
