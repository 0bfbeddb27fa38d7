"""`python -m build` makes an sdist and a wheel that install and run on their own.

The wheel goes into a fresh virtualenv (no system or repository packages),
with its dependencies from the package index and the `fake` extra, and is
imported and run there: what a user gets from ``pip install
pulumi_vpsbackup[fake]``. About 35 s on two cores (build 7 s, install 28 s).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from pulumi_vpsbackup import __version__

REPO = Path(__file__).resolve().parent.parent


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=240, check=False
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("dist")
    # Both from a copy of the sdist, as a release builds them: the wheel can
    # only hold what the sdist carried.
    _run(sys.executable, "-m", "build", "--outdir", out, REPO)
    (sdist,) = out.glob("pulumi_vpsbackup-*.tar.gz")
    (wheel,) = out.glob("pulumi_vpsbackup-*-py3-none-any.whl")
    return {"sdist": sdist, "wheel": wheel}


def test_the_sdist_carries_license_changelog_readme_py_typed_and_no_tooling(
    dists: dict[str, Path],
) -> None:
    root = f"pulumi_vpsbackup-{__version__}"
    with tarfile.open(dists["sdist"]) as sdist:
        names = set(sdist.getnames())
    for wanted in (
        "LICENSE",
        "CHANGELOG.md",
        "README.md",
        "pulumi_vpsbackup/py.typed",
        "pulumi_vpsbackup/pulumi-plugin.json",
        "pulumi_vpsbackup/plugin/schema.json",
    ):
        assert f"{root}/{wanted}" in names, wanted
    # The tests and the development tooling (dev/: vpsbackup_dev and bench) stay in
    # the repository.
    for kept in ("tests", "dev", "bench", "scripts"):
        assert not [n for n in names if n.startswith(f"{root}/{kept}/")], kept
    assert not [n for n in names if "vpsbackup_dev" in n]


def test_the_wheel_declares_that_the_package_has_no_resource_plugin(
    dists: dict[str, Path],
) -> None:
    """Pulumi's Python language host reads `<package>/pulumi-plugin.json` of every
    installed distribution; a `pulumi_*` one without it counts as a plugin's SDK, and
    the CLI would try to download a plugin for it before every preview and up."""
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        declared = json.loads(wheel.read("pulumi_vpsbackup/pulumi-plugin.json"))
    assert declared == {"resource": False}


def test_the_wheel_has_py_typed_no_tests_or_tooling_and_full_metadata(
    dists: dict[str, Path],
) -> None:
    with zipfile.ZipFile(dists["wheel"]) as wheel:
        names = wheel.namelist()
        metadata = Parser().parsestr(
            wheel.read(f"pulumi_vpsbackup-{__version__}.dist-info/METADATA").decode()
        )
    assert "pulumi_vpsbackup/py.typed" in names
    assert "pulumi_vpsbackup/plugin/schema.json" in names, "the plugin serves it (GetSchema)"
    assert f"pulumi_vpsbackup-{__version__}.dist-info/licenses/LICENSE" in names
    assert not [n for n in names if n.startswith("tests/") or "/tests/" in n]
    # Only the package: neither the tests nor the development package (vpsbackup_dev).
    assert {n.split("/")[0] for n in names} == {
        "pulumi_vpsbackup",
        f"pulumi_vpsbackup-{__version__}.dist-info",
    }
    assert metadata["Requires-Python"] == ">=3.10"
    assert "Apache-2.0" in (metadata["License-Expression"] or metadata["License"] or "")
    assert metadata["Author"] == "pulumi-vpsbackup maintainers"
    assert metadata["Description-Content-Type"] == "text/markdown"
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL") or [])
    assert set(urls) >= {"Documentation", "Changelog", "Issues"}
    assert all(
        u.startswith("https://github.com/pulumi-vpsbackup/pulumi-vpsbackup") for u in urls.values()
    )
    classifiers = metadata.get_all("Classifier") or []
    for wanted in (
        "Development Status :: 4 - Beta",
        "Programming Language :: Python :: 3.10",
        "Programming Language :: Python :: 3.13",
        "Typing :: Typed",
        "Topic :: System :: Archiving :: Backup",
    ):
        assert wanted in classifiers, wanted


def test_the_wheel_installs_into_a_fresh_virtualenv_and_runs(
    dists: dict[str, Path], tmp_path: Path
) -> None:
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)  # no --system-site-packages
    bin_dir = venv / "bin"
    _run(bin_dir / "python", "-m", "pip", "install", "--quiet", f"{dists['wheel']}[fake]")
    version = _run(
        bin_dir / "python", "-c", "import pulumi_vpsbackup as v; print(v.__version__)", cwd=tmp_path
    )
    assert version.strip() == __version__
    # Imported from the virtualenv, not from this checkout.
    where = _run(
        bin_dir / "python", "-c", "import pulumi_vpsbackup as v; print(v.__file__)", cwd=tmp_path
    )
    assert Path(where.strip()).is_relative_to(venv)
    assert "--backup-seconds" in _run(bin_dir / "vpsbackup-fake", "--help", cwd=tmp_path)
    # The native plugin, where the engine looks for it (PATH), with its schema.
    plugin = bin_dir / "pulumi-resource-vpsbackup"
    assert '"name": "vpsbackup"' in _run(plugin, "--version", cwd=tmp_path)
    assert "vpsbackup:index:Backup" in _run(plugin, "--schema", cwd=tmp_path)
