"""What `make generate` derives from the resources' declarations is committed and current.

Each resource package's `generated.py` (its `XxxArgs`, typed outputs and
constructor) and the plugin schema's resources come from the package's
`declaration.py`; an edit there without regenerating fails here, naming the file.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_committed_generated_files_match_the_declarations() -> None:
    run = subprocess.run(
        [sys.executable, "tools/generate.py", "--check"],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},  # this checkout's declarations
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr


def test_the_check_names_a_stale_file(tmp_path: Path, monkeypatch) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("generate", REPO / "tools" / "generate.py")
    assert spec and spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    stale = tmp_path / "generated.py"
    stale.write_text("# an old copy\n")
    monkeypatch.setattr(generate, "outputs", lambda: {stale: "# the new text\n"})
    monkeypatch.setattr(generate, "REPO", tmp_path)
    assert generate.main(["--check"]) == 1
    assert stale.read_text() == "# an old copy\n"  # --check writes nothing
    assert generate.main([]) == 0
    assert stale.read_text() == "# the new text\n"
