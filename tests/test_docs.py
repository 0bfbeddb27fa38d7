"""The reference documentation: every public name and every Output is documented.

`make docs` (tools/build_docs.py) renders it with pdoc; pdoc reads attribute
docstrings from the source, so the checks here use pdoc's own model.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import warnings
from pathlib import Path

import pdoc.doc
import pytest

import pulumi_vpsbackup as vps

REPO = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("name", [n for n in vps.__all__ if n != "__version__"])
def test_every_public_name_has_a_docstring(name: str) -> None:
    assert (getattr(vps, name).__doc__ or "").strip(), f"{name} has no docstring"


@pytest.mark.parametrize(
    ("kind", "at_least"),
    [(vps.Backup, 14), (vps.Restore, 10), (vps.BackupRotation, 7), (vps.BackupFleet, 7)],
)
def test_every_output_of_the_resources_is_documented(kind: type, at_least: int) -> None:
    """The outputs live on the class's generated base, and the API reference shows them."""
    base = kind.__mro__[1]
    model = pdoc.doc.Class(base.__module__, base.__qualname__, base, (base.__module__, ""))
    with warnings.catch_warnings():
        # pdoc's notes on the SDK's annotations; the build test below judges those.
        warnings.simplefilter("ignore")
        members = model.members
    outputs = [
        name
        for name, annotation in base.__annotations__.items()
        if "pulumi.Output" in str(annotation)
    ]
    assert len(outputs) >= at_least
    undocumented = [name for name in outputs if not members[name].docstring.strip()]
    assert undocumented == []


@pytest.mark.parametrize(
    ("kind", "params"),
    [
        (vps.Backup, ["str resource_name", "BackupArgs args", "pulumi.ResourceOptions opts"]),
        (vps.Restore, ["str resource_name", "RestoreArgs args", "pulumi.ResourceOptions opts"]),
    ],
)
def test_the_constructors_document_their_parameters_the_pulumi_way(
    kind: type, params: list[str]
) -> None:
    doc = kind.__init__.__doc__ or ""
    for param in params:
        assert f":param {param}:" in doc, param


@pytest.mark.parametrize(
    "function",
    [
        vps.get_backups,
        vps.get_latest_backup,
        vps.wait_for_backups,
        vps.get_backups_output,
        vps.get_latest_backup_output,
        vps.wait_for_backups_output,
    ],
)
def test_every_function_documents_every_parameter(function: object) -> None:
    import inspect

    doc = function.__doc__ or ""
    for name in inspect.signature(function).parameters:  # type: ignore[arg-type]
        assert f" {name}:" in doc, f"{function.__name__}: {name}"  # type: ignore[attr-defined]
    assert ":param pulumi.Invoke" in doc


def test_the_reference_builds_without_warnings(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO / "tools" / "build_docs.py"), str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    page = (tmp_path / "pulumi_vpsbackup.html").read_text(encoding="utf-8")
    assert 'id="Restore.get"' in page and 'id="get_backups_output"' in page
    assert "The backup&#39;s id on VPS.org." in page or "The backup's id on VPS.org." in page


def test_a_warning_about_our_docs_fails_the_build(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    spec = importlib.util.spec_from_file_location("build_docs", REPO / "tools" / "build_docs.py")
    assert spec is not None and spec.loader is not None
    build_docs = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build_docs)
    assert build_docs.SDK_FORWARD_REF.match(
        "Error parsing type annotation pulumi.Input[int] for pulumi_vpsbackup.Backup.get. "
        "Import of Output failed: name 'Output' is not defined"
    )
    ours = "Error parsing type annotation Nope for pulumi_vpsbackup.Backup.get. Import failed"
    assert not build_docs.SDK_FORWARD_REF.match(ours)

    def warn_once(*modules: str, output_directory: Path) -> None:
        warnings.warn(ours, UserWarning, stacklevel=1)

    monkeypatch.setattr(build_docs.pdoc, "pdoc", warn_once)
    assert build_docs.main([str(tmp_path)]) == 1
