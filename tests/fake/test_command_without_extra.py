"""`vpsbackup-fake` after a plain install, without the `fake` extra.

A subprocess runs the installed console script with werkzeug made
unimportable (a meta-path finder installed by `sitecustomize`), as it is for
someone who ran ``pip install pulumi_vpsbackup`` without ``[fake]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pulumi_vpsbackup.fake_command import MISSING_EXTRA_HINT, main

BLOCKER = """
import sys

class _NoWerkzeug:
    def find_spec(self, name, path=None, target=None):
        if name == "werkzeug" or name.startswith("werkzeug."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, _NoWerkzeug())
"""


def _run_without_werkzeug(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    script = Path(sys.executable).parent / "vpsbackup-fake"
    assert script.exists(), "run `make install`: the console script is missing"
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    return subprocess.run(
        [str(script), *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


def test_the_blocker_really_hides_werkzeug(tmp_path: Path) -> None:
    (tmp_path / "sitecustomize.py").write_text(BLOCKER, encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    probe = subprocess.run(
        [sys.executable, "-c", "import werkzeug"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert probe.returncode == 1 and "No module named 'werkzeug'" in probe.stderr


@pytest.mark.parametrize("args", [(), ("--help",), ("--port", "0")])
def test_without_the_extra_the_command_says_how_to_install_it(
    tmp_path: Path, args: tuple[str, ...]
) -> None:
    result = _run_without_werkzeug(tmp_path, *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.strip() == MISSING_EXTRA_HINT
    assert "pip install 'pulumi_vpsbackup[fake]'" in result.stderr
    assert "Traceback" not in result.stderr


def test_with_the_extra_the_command_runs_the_fake(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    assert "--backup-seconds" in capsys.readouterr().out


def test_another_missing_module_is_not_disguised_as_the_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Only werkzeug means "install the extra"; a bug importing anything else
    # must surface as itself.
    import builtins

    real_import = builtins.__import__

    def fake_import(name: str, *args: object, **kwargs: object) -> object:
        if name == "fake.__main__" or name.endswith("fake.__main__"):
            raise ModuleNotFoundError("No module named 'somethingelse'", name="somethingelse")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", fake_import)
    with pytest.raises(ModuleNotFoundError, match="somethingelse"):
        main(["--help"])
