"""What `make generate` derives from the resources' declarations is committed and current.

Each resource package's `generated.py` (its `XxxArgs`, typed outputs and
constructor) and the plugin schema's resources come from the package's
`declaration.py`, and the Terraform Registry's docs (`docs/terraform/`) from that
schema and `examples/terraform/`; an edit there without regenerating fails here,
naming the file.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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


def load_generate() -> Any:
    spec = importlib.util.spec_from_file_location("generate", REPO / "tools" / "generate.py")
    assert spec and spec.loader
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    return generate


def test_the_check_names_a_stale_file(tmp_path: Path, monkeypatch) -> None:
    generate = load_generate()
    stale = tmp_path / "generated.py"
    stale.write_text("# an old copy\n")
    monkeypatch.setattr(generate, "outputs", lambda: {stale: "# the new text\n"})
    monkeypatch.setattr(generate, "REPO", tmp_path)
    assert generate.main(["--check"]) == 1
    assert stale.read_text() == "# an old copy\n"  # --check writes nothing
    assert generate.main([]) == 0
    assert stale.read_text() == "# the new text\n"


def test_the_terraform_registry_pages_are_generated_for_every_resource_and_data_source() -> None:
    from pulumi_vpsbackup.terraform.schema import DATA_SOURCES, RESOURCES

    generate = load_generate()
    pages = {
        p.relative_to(generate.TF_DOCS).as_posix()
        for p in generate.outputs()
        if p.is_relative_to(generate.TF_DOCS)
    }
    assert pages == {
        "index.md",
        *(f"resources/{n.removeprefix('vpsbackup_')}.md" for n in RESOURCES),
        *(f"data-sources/{n.removeprefix('vpsbackup_')}.md" for n in DATA_SOURCES),
    }


def test_an_edited_example_or_a_page_nothing_generates_is_stale(
    tmp_path: Path, monkeypatch
) -> None:
    """The pages embed examples/terraform/'s HCL: editing an example makes its page
    stale, and a page left by a renamed resource is reported, then removed."""
    generate = load_generate()
    examples = tmp_path / "examples" / "terraform"
    docs = tmp_path / "docs" / "terraform"
    (examples / "resources").mkdir(parents=True)
    for src in (REPO / "examples" / "terraform").rglob("*.tf"):
        dest = examples / src.relative_to(REPO / "examples" / "terraform")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(src.read_text())
    monkeypatch.setattr(generate, "REPO", tmp_path)
    monkeypatch.setattr(generate, "TF_EXAMPLES", examples)
    monkeypatch.setattr(generate, "TF_DOCS", docs)
    monkeypatch.setattr(generate, "outputs", generate.terraform_docs)
    assert generate.main([]) == 0
    assert generate.main(["--check"]) == 0
    page = docs / "resources" / "backup.md"
    assert 'resource "vpsbackup_backup"' in page.read_text()

    snippet = examples / "resources" / "vpsbackup_backup" / "resource.tf"
    snippet.write_text(snippet.read_text().replace('"90m"', '"2h"'))
    stray = docs / "resources" / "old_name.md"
    stray.write_text("# a renamed resource's page\n")
    assert generate.main(["--check"]) == 1
    assert generate.main([]) == 0
    assert 'create = "2h"' in page.read_text()
    assert not stray.exists()
    assert generate.main(["--check"]) == 0
