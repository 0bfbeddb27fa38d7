"""The examples under two of Pulumi's real language hosts, as peers of our stand-in.

`make hosts` (tools/hosts/build.sh) builds Pulumi's Go Python host of sdk/v3
v3.79.0 and its YAML host (pulumi-yaml v1.25.0), and lays them out beside a
hard link of the CLI that `make cli` builds, as an official release is laid
out; `make test` names that directory in VPSBACKUP_HOSTS_DIR. Put first on
PATH, its hosts are the ones the engine runs: it prefers a host on PATH and
otherwise takes the one next to the running `pulumi` (sdk/v3@v3.276.0
go/common/workspace/plugins.go, getPluginInfoAndPath), so the stand-in beside
the CLI's own `pulumi` is not used. Each test asks `pulumi about` which host
version served the project, so that it cannot pass on the stand-in.

- the Python examples' life cycles (tests/cli/test_examples_cli.py) under the
  v3.79.0 Python host;
- examples/yaml (no SDK: the YAML host reads the native plugin's schema) under
  the YAML host: preview, up, refresh, destroy against the fake.

Skipped without the hosts, except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pulumi import automation as auto

from pulumi_vpsbackup.fake import FakeServer
from tests.cli.conftest import example_stacks
from tests.cli.test_examples_cli import life_cycle
from tests.programs.scenarios import (
    EXAMPLES,
    REPO,
    SCENARIOS,
    TOKEN,
    WEB_SERVER,
    Scenario,
    backups,
    world,
)
from vpsbackup_dev.cli_project import CliProject, offline_env

pytestmark = pytest.mark.cli

PYTHON_HOST = "3.79.0"
YAML_HOST = "1.25.0"


def about(work_dir: Path, env: dict[str, str]) -> dict[str, Any]:
    """`pulumi about --json` in a project, as the CLI that `env`'s PATH finds runs it."""
    project = CliProject(work_dir, {**os.environ, **env})
    ran = project.run("about", "--json")
    # The host is next to `pulumi` as well as first on PATH: the engine has no
    # "using pulumi-language-… from $PATH" to warn about.
    assert "from $PATH" not in ran.out, ran.out
    return json.loads(ran.out[ran.out.index("{") :])


def language_host(report: dict[str, Any], language: str) -> str:
    (found,) = [
        p["version"] for p in report["plugins"] if p["kind"] == "language" and p["name"] == language
    ]
    return str(found)


@pytest.fixture
def real_host_stack_for(
    tmp_path: Path, fake: FakeServer, cli_home: Path, real_hosts: Path
) -> Iterator[Callable[[Scenario], auto.Stack]]:
    yield from example_stacks(tmp_path, fake, cli_home, path_first=real_hosts)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_life_cycle_under_pulumis_python_host_v3_79(
    scenario: Scenario,
    real_host_stack_for: Callable[[Scenario], auto.Stack],
    fake: FakeServer,
) -> None:
    stack = real_host_stack_for(scenario)
    work_dir = Path(stack.workspace.work_dir)
    env = dict(stack.workspace.env_vars)
    report = about(work_dir, env)
    assert language_host(report, "python") == PYTHON_HOST, report["plugins"]
    life_cycle(scenario, stack, fake)


def yaml_project(into: Path, plugin_dir: Path, example: str = "yaml") -> Path:
    """examples/yaml (or another YAML example) with its `plugins:` entry pointing at
    this virtualenv's scripts."""
    into.mkdir(parents=True)
    settings = yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text("utf-8"))
    (entry,) = settings["plugins"]["providers"]
    assert entry["name"] == "vpsbackup"
    entry["path"] = str(plugin_dir)
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return into


@pytest.fixture
def yaml_stack(
    tmp_path: Path, fake: FakeServer, cli_home: Path, real_hosts: Path
) -> Iterator[CliProject]:
    """Stack `test` of examples/yaml under the real YAML host, configured for the fake."""
    scripts = Path(sys.executable).parent
    if shutil.which("pulumi-resource-vpsbackup", path=str(scripts)) is None:
        reason = f"the native plugin is not in {scripts} (`make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    state = tmp_path / "state"
    state.mkdir()
    env = {
        **os.environ,
        **offline_env(state, cli_home),
        # Only the hosts' directory and the system's tools: the plugin is found
        # through Pulumi.yaml, not because this virtualenv is on PATH.
        "PATH": os.pathsep.join([str(real_hosts), "/usr/bin", "/bin"]),
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
        "VPS_API_TOKEN": "",
        "VPS_API_URL": "",
    }
    project = CliProject(yaml_project(tmp_path / "yaml", scripts), env)
    project.run("stack", "init", "test")
    project.config("vpsbackup:apiUrl", fake.url)
    project.config("vpsbackup:apiToken", TOKEN, secret=True)
    yield project
    # A failed test must not leave backups behind in a fake that outlives it.
    project.run("destroy", "--yes", "--skip-preview", ok=False)
    project.run("stack", "rm", "--yes", "--force", ok=False)


def test_yaml_example_under_pulumis_yaml_host(yaml_stack: CliProject, fake: FakeServer) -> None:
    report = about(yaml_stack.path, yaml_stack.env)
    assert language_host(report, "yaml") == YAML_HOST, report["plugins"]
    assert report["runtime"]["language"] == "yaml"
    start = world(fake.app)

    preview = yaml_stack.preview()
    assert "+ 2 to create" in preview.out, preview.out
    assert world(fake.app) == start, "a preview must not touch the API"

    yaml_stack.up()
    outputs = yaml_stack.outputs()
    backup_id = int(outputs["backupId"])
    assert backup_id not in start["backups"]
    made = backups(fake.app)[backup_id]
    assert (made["server_id"], made["backup_type"], made["status"]) == (
        WEB_SERVER,
        "manual",
        "completed",
    )
    assert made["description"].startswith("YAML backup taken by the native plugin")
    assert outputs["backupStatus"] == "completed"
    assert outputs["serverName"] == "web-server-01"
    # The listing waits for the backup (its argument is the backup's output): newest first.
    listed = [int(b["id"]) for b in outputs["serverBackups"]]
    assert listed[0] == backup_id, listed
    assert set(listed) == {i for i, b in backups(fake.app).items() if b["server_id"] == WEB_SERVER}

    yaml_stack.run("preview", "--expect-no-changes")
    refreshed = yaml_stack.run("refresh", "--yes", "--skip-preview")
    assert "2 unchanged" in refreshed.out, refreshed.out
    yaml_stack.run("preview", "--expect-no-changes")

    destroyed = yaml_stack.run("destroy", "--yes", "--skip-preview")
    assert "- 2 deleted" in destroyed.out, destroyed.out
    assert world(fake.app) == start, "the fake ends as it started"
    # Found through Pulumi.yaml and next to `pulumi`: no "using … from $PATH" warning.
    for ran in yaml_stack.runs:
        assert "from $PATH" not in ran.out, str(ran)
