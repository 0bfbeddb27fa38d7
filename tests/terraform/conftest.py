"""Fixtures for the OpenTofu tests: the `tofu` binary, the provider, a fake API."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve

from .harness import HINT, REPO, Tofu, dev_override_config, launcher_dir

TOKEN = "vps_test_token_tofu"


def tofu_dir() -> Path | None:
    """The directory holding `tofu`: VPSBACKUP_TOFU_DIR, else the cached build."""
    given = os.environ.get("VPSBACKUP_TOFU_DIR")
    if given:
        return Path(given)
    script = REPO / "tools" / "tofu" / "build.sh"
    if not script.exists():
        return None
    proc = subprocess.run([str(script), "--if-built"], capture_output=True, text=True)
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    return Path(proc.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="session")
def tofu_bin() -> str:
    """`tofu`; in CI (CI=true) a missing one fails instead of skipping."""
    found = tofu_dir()
    binary = found / "tofu" if found else None
    if binary is None or not binary.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"OpenTofu is not built; {HINT}")
        pytest.skip(f"OpenTofu is not built; {HINT}")
    return str(binary)


@pytest.fixture(scope="session")
def provider_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return launcher_dir(tmp_path_factory.mktemp("tofu-provider"))


@pytest.fixture
def fake(tofu_bin: str) -> Iterator[FakeServer]:
    """The demo world on a free loopback port; backups and restores finish at once."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0)
    with serve(app) as server:
        yield server


@pytest.fixture
def tofu_for(tmp_path: Path, tofu_bin: str, provider_dir: Path) -> Callable[[str], Tofu]:
    """A new working directory for a configuration (a name per directory)."""

    def make(name: str = "work") -> Tofu:
        workdir = tmp_path / name
        workdir.mkdir()
        config = dev_override_config(tmp_path / f"{name}.tofurc", provider_dir)
        return Tofu(tofu_bin, workdir, config)

    return make


@pytest.fixture
def tofu(tofu_for: Callable[[str], Tofu]) -> Tofu:
    return tofu_for("work")
