"""`make bench` keeps working: the quick run produces every figure.

Figures are judged by the benchmark's own table, side by side with their
ideal, never here: timing thresholds in tests flake. This only proves the
README's command runs from a clone and reports each group.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
GROUPS = {"overhead", "polling", "refresh", "parallelism", "state", "startup"}


def test_quick_benchmark_reports_every_group(tmp_path):
    out = tmp_path / "latest.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--output", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    figures = json.loads(out.read_text())["figures"]
    assert {f["group"] for f in figures} == GROUPS
    for figure in figures:
        assert figure["measured"] is not None, figure["name"]
        assert figure["baseline"] is not None, figure["name"]
        assert figure["name"] in run.stdout
