"""The built wheel, installed in a fresh virtualenv, deploys the quickstart under the real CLI.

What a user gets from ``pip install pulumi_vpsbackup``: no checkout on any
path (PYTHONPATH is cleared), the program and the provider host both running
from that virtualenv, against the fake.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import EXAMPLES, REPO, TOKEN, backups, world
from vpsbackup_dev.cli_project import CliProject, offline_env

pytestmark = pytest.mark.cli


def _run(*args: str | Path) -> None:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"


def test_the_installed_wheel_runs_the_quickstart_under_the_cli(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> None:
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--wheel", "--outdir", dist, REPO)
    (wheel,) = dist.glob("pulumi_vpsbackup-*.whl")
    venv = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", venv)
    _run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", wheel)

    project_dir = tmp_path / "quickstart"
    project_dir.mkdir()
    shutil.copy2(EXAMPLES / "quickstart" / "__main__.py", project_dir / "__main__.py")
    settings = yaml.safe_load((EXAMPLES / "quickstart" / "Pulumi.yaml").read_text("utf-8"))
    settings["runtime"]["options"]["virtualenv"] = str(venv)
    (project_dir / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    (tmp_path / "state").mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(offline_env(tmp_path / "state", cli_home))
    env.update(VPS_API_TOKEN="", VPS_API_URL="")
    project = CliProject(project_dir, env)
    project.run("stack", "init", "test")
    project.config("vpsbackup:apiUrl", fake.url)
    project.config("vpsbackup:apiToken", TOKEN, secret=True)

    start = world(fake.app)
    project.up()
    backup_id = int(project.outputs()["backupId"])
    assert backups(fake.app)[backup_id]["status"] == "completed"
    exported = project.export()
    # Program and provider ran from the installed package: no path of this checkout.
    assert str(REPO) not in exported
    project.run("destroy", "--yes", "--skip-preview")
    assert world(fake.app) == start
    project.run("stack", "rm", "--yes")
