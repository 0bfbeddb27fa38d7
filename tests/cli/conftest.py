"""Fixtures for the real-CLI tests: the `pulumi` binary, a fake API, one stack per example."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from tests.programs.scenarios import REPO, TOKEN, Scenario, project_settings
from vpsbackup_dev.cli_project import CliProject, make_project, offline_env

HINT = "build it with `make cli` and put the directory it prints first on PATH (`make test` does)"


@pytest.fixture(scope="session")
def pulumi_cli() -> str:
    """The `pulumi` on PATH; in CI (CI=true) a missing CLI fails instead of skipping."""
    path = shutil.which("pulumi")
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"the Pulumi CLI is not on PATH; {HINT}")
        pytest.skip(f"the Pulumi CLI is not on PATH; {HINT}")
    return path


@pytest.fixture(scope="session")
def cli_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A PULUMI_HOME of the test session's own: no plugin, credential or cache of the user's."""
    return tmp_path_factory.mktemp("pulumi-home")


@pytest.fixture
def fake(pulumi_cli: str) -> Iterator[FakeServer]:
    """The demo world on a free loopback port; backups and restores finish at once."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0)
    with serve(app) as server:
        yield server


def project_copy(scenario: Scenario, into: Path) -> Path:
    """The example's program with a Pulumi.yaml whose virtualenv is this interpreter's.

    The copy keeps Pulumi.<stack>.yaml out of the repository; the relative
    virtualenv path of the original would not resolve from tmp_path.
    """
    into.mkdir(parents=True)
    shutil.copy2(scenario.path / "__main__.py", into / "__main__.py")
    settings = project_settings(scenario.example)
    settings["runtime"]["options"]["virtualenv"] = sys.prefix
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return into


@pytest.fixture
def stack_for(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> Iterator[Callable[[Scenario], auto.Stack]]:
    """A new stack `test` of a scenario's example: file backend, passphrase secrets, config set."""
    yield from example_stacks(tmp_path, fake, cli_home)


def example_stacks(
    tmp_path: Path, fake: FakeServer, cli_home: Path, *, path_first: Path | None = None
) -> Iterator[Callable[[Scenario], auto.Stack]]:
    """What `stack_for` yields; `path_first` goes first on the CLI's PATH (another
    `pulumi` with other language hosts beside it, see tests/cli/test_real_hosts_cli.py)."""
    made: list[auto.Stack] = []

    def make(scenario: Scenario) -> auto.Stack:
        state = tmp_path / "state"
        state.mkdir(exist_ok=True)
        env = {
            **offline_env(state, cli_home),
            # pulumi_vpsbackup importable by the program and the provider host alike.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            # Settings come from the stack config only.
            "VPS_API_TOKEN": "",
            "VPS_API_URL": "",
        }
        if path_first is not None:
            env["PATH"] = os.pathsep.join([str(path_first), os.environ.get("PATH", "")])
        work_dir = project_copy(scenario, tmp_path / scenario.example)
        stack = auto.create_stack(
            "test",
            work_dir=str(work_dir),
            opts=auto.LocalWorkspaceOptions(
                work_dir=str(work_dir),
                env_vars=env,
                secrets_provider="passphrase",
            ),
        )
        config = {
            "vpsbackup:apiUrl": auto.ConfigValue(fake.url),
            "vpsbackup:apiToken": auto.ConfigValue(TOKEN, secret=True),
        }
        config.update({k: auto.ConfigValue(v) for k, v in scenario.first.items()})
        stack.set_all_config(config)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        # A failed test must not leave backups behind in a fake that outlives it.
        try:
            stack.destroy()
        except auto.CommandError:
            pass
        try:
            stack.workspace.remove_stack(stack.name, force=True)
        except auto.CommandError:
            pass


class Projects:
    """Makes CLI projects sharing one state directory, and destroys and removes
    them at the end: a failed test must not leave backups in a fake that outlives it."""

    def __init__(self, root: Path, home: Path, *, path_first: Path | None = None) -> None:
        self.root = root
        self.state = root / "state"
        self.state.mkdir()
        self.env = {
            **offline_env(self.state, home),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "VPS_API_TOKEN": "",
            "VPS_API_URL": "",
        }
        if path_first is not None:
            self.env["PATH"] = os.pathsep.join([str(path_first), os.environ.get("PATH", "")])
        self.made: list[CliProject] = []

    def make(self, name: str, program: str, url: str, token: str) -> CliProject:
        project = make_project(self.root, name, program, dict(self.env), url, token)
        self.made.append(project)
        return project

    def close(self) -> None:
        for project in self.made:
            project.run("destroy", "--yes", "--skip-preview", ok=False)
            project.run("stack", "rm", "--yes", "--force", ok=False)


@pytest.fixture
def cli_project(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> Iterator[Callable[..., CliProject]]:
    """Make projects from program text; each is destroyed and removed afterwards."""
    projects = Projects(tmp_path, cli_home)

    def make(program: str, *, name: str = "cli-test", token: str = TOKEN) -> CliProject:
        return projects.make(name, program, fake.url, token)

    yield make
    projects.close()


#: What tools/hosts/build.sh lays out: Pulumi's real language hosts beside `pulumi`.
HOST_FILES = (
    "pulumi",
    "pulumi-resource-pulumi-python",
    "pulumi-language-python",
    "python-host/pulumi-language-python",
    "python-host/pulumi-language-python-exec",
    "pulumi-language-yaml",
)
HOSTS_HINT = 'build them with `make hosts` and set VPSBACKUP_HOSTS_DIR="$(tools/hosts/build.sh)"'


@pytest.fixture(scope="session")
def real_hosts(pulumi_cli: str) -> Path:
    """The directory tools/hosts/build.sh printed: `pulumi` with the real hosts beside it."""
    named = os.environ.get("VPSBACKUP_HOSTS_DIR")
    reason = None
    if not named:
        reason = f"VPSBACKUP_HOSTS_DIR is not set; {HOSTS_HINT}"
    else:
        missing = [f for f in HOST_FILES if not os.access(Path(named) / f, os.X_OK)]
        if missing:
            reason = f"{named} lacks {', '.join(missing)}; {HOSTS_HINT}"
    if reason is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return Path(str(named))
