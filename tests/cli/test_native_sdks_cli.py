"""The native plugin's generated SDKs, and programs on them, under the real CLI.

`tools/build_sdks.sh` generates the Python and TypeScript SDKs from the
plugin's schema with `pulumi package gen-sdk` (served by the stand-in
language hosts in tools/pulumi-cli). Here: what it writes, that TypeScript
type-checks against it, that the stand-in Node.js host runs a TypeScript
program under `pulumi up`, and the two examples (examples/native-typescript,
examples/native-python) through preview, up, a change and destroy against
the fake, with the plugin `pulumi-resource-vpsbackup`.

Needs Node.js and npm (the first run installs `@pulumi/pulumi` from npm; npm's
cache serves later runs). Skipped without them, or without the plugin,
except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_vpsbackup import __version__
from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import REPO, TOKEN, WEB_SERVER, backups
from vpsbackup_dev.cli_project import CliProject, offline_env

pytestmark = pytest.mark.cli

SCHEMA = REPO / "pulumi_vpsbackup" / "plugin" / "schema.json"
EXAMPLES = REPO / "examples"
TARBALL = "pulumi-vpsbackup-native.tgz"
# Long enough for a cold npm cache on a loaded 2-core machine.
NPM_TIMEOUT = 600


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


def _path_with_venv() -> str:
    """PATH with this virtualenv's bin first: where `make install` puts the plugin."""
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.fixture(scope="session")
def native_sdks(pulumi_cli: str) -> Path:
    """build/sdks, generated (or reused) by tools/build_sdks.sh, as `make sdks` does."""
    if not SCHEMA.exists():
        _unavailable(f"no plugin schema at {SCHEMA}")
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable(
            "Node.js and npm are needed for the TypeScript SDK (apt-get install nodejs npm)"
        )
    done = subprocess.run(
        [str(REPO / "tools" / "build_sdks.sh"), str(REPO / "build" / "sdks")],
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    sdks = Path(done.stdout.strip().splitlines()[-1])
    install_python_sdk(sdks)
    return sdks


def install_python_sdk(sdks: Path) -> None:
    """Into this virtualenv, as `make sdks` does (same stamp): the SDK reads its version
    from its installed metadata, so a PYTHONPATH entry is not enough."""
    stamp = Path(sys.prefix) / ".native-sdk"
    key = (sdks / ".key").read_text("utf-8")
    if stamp.exists() and stamp.read_text("utf-8") == key:
        return
    done = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--quiet", "--no-deps"),
            *("--force-reinstall", "--disable-pip-version-check", str(sdks / "python")),
        ],
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    stamp.write_text(key, "utf-8")


@pytest.fixture(scope="session")
def plugin() -> str:
    """The native provider plugin, as the engine finds it: on PATH."""
    found = shutil.which("pulumi-resource-vpsbackup", path=_path_with_venv())
    if found is None:
        _unavailable(
            "the native plugin pulumi-resource-vpsbackup is not installed (`make install`)"
        )
    assert found is not None
    return found


def install_example_dependencies(root: Path, tarball: Path) -> Path:
    """`npm install` in `root` of the TypeScript example's dependencies, the SDK from
    `tarball`; the node_modules it made."""
    package = json.loads((EXAMPLES / "native-typescript" / "package.json").read_text("utf-8"))
    package["dependencies"]["@pulumi-vpsbackup/native"] = f"file:{tarball}"
    (root / "package.json").write_text(json.dumps(package, indent=2), "utf-8")
    done = subprocess.run(
        ["npm", "install", "--prefer-offline", "--no-audit", "--no-fund", "--loglevel=error"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return root / "node_modules"


@pytest.fixture(scope="session")
def node_modules(native_sdks: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One `npm install` of the TypeScript example's dependencies, shared by the projects here."""
    return install_example_dependencies(tmp_path_factory.mktemp("npm"), native_sdks / TARBALL)


def example_settings(example: str) -> dict[str, Any]:
    """An example's Pulumi.yaml with its `plugins:` entry naming this virtualenv's
    scripts, where `make install` puts the plugin (the example's own path is
    relative to the repository)."""
    settings = yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text("utf-8"))
    (entry,) = settings["plugins"]["providers"]
    assert entry["name"] == "vpsbackup"
    entry["path"] = str(Path(sys.executable).parent)
    return dict(settings)


def typescript_dir(into: Path, node_modules: Path, program: str | None = None) -> Path:
    """The TypeScript example (or `program` as its index.ts), with the shared node_modules."""
    into.mkdir(parents=True)
    for name in ("package.json", "tsconfig.json", "index.ts"):
        shutil.copy2(EXAMPLES / "native-typescript" / name, into / name)
    settings = example_settings("native-typescript")
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    if program is not None:
        (into / "index.ts").write_text(textwrap.dedent(program), "utf-8")
    (into / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return into


def tsc(project: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["npx", "--no-install", "tsc", "-p", str(project)],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=NPM_TIMEOUT,
        check=False,
    )


@pytest.fixture
def project_in(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> Iterator[Callable[[Path], CliProject]]:
    """Stack `test` of a project directory, configured for the fake; destroyed afterwards."""
    made: list[CliProject] = []
    state = tmp_path / "state"
    state.mkdir()

    def make(path: Path) -> CliProject:
        env = {
            **os.environ,
            **offline_env(state, cli_home),
            # Not this virtualenv's bin: the examples name the plugin's directory.
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "VPS_API_TOKEN": "",
            "VPS_API_URL": "",
        }
        project = CliProject(path, env)
        made.append(project)
        project.run("stack", "init", "test")
        project.config("vpsbackup:apiUrl", fake.url)
        project.config("vpsbackup:apiToken", TOKEN, secret=True)
        return project

    yield make
    for project in made:
        # A failed test must not leave backups behind in a fake that outlives it.
        project.run("destroy", "--yes", "--skip-preview", ok=False)
        project.run("stack", "rm", "--yes", "--force", ok=False)


def test_gen_sdk_writes_both_sdks_from_the_schema(native_sdks: Path) -> None:
    schema = json.loads(SCHEMA.read_text("utf-8"))
    version = __version__  # the schema has none; build_sdks.sh passes _version.py's
    release = {"server": "github://api.github.com/pulumi-vpsbackup/pulumi-vpsbackup"}

    python = native_sdks / "python" / "pulumi_vpsbackup_native"
    plugin_json = json.loads((python / "pulumi-plugin.json").read_text("utf-8"))
    assert plugin_json == {"resource": True, "name": "vpsbackup", "version": version, **release}
    # The package imports in this interpreter, and BackupArgs takes the schema's inputs.
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import inspect, json, pulumi_vpsbackup_native as v;"
            "print(json.dumps([list(inspect.signature(v.BackupArgs).parameters),"
            " callable(v.get_backups_output), v.Provider.__name__]))",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    params, has_query, provider = json.loads(done.stdout)
    inputs = schema["resources"]["vpsbackup:index:Backup"]["inputProperties"]
    snake = {"".join(f"_{c.lower()}" if c.isupper() else c for c in prop) for prop in inputs}
    assert set(params) == snake
    assert has_query and provider == "Provider"

    package = json.loads((native_sdks / "nodejs" / "package.json").read_text("utf-8"))
    assert package["name"] == "@pulumi-vpsbackup/native"
    assert package["version"] == version
    assert package["pulumi"] == {
        "resource": True,
        "name": "vpsbackup",
        "version": version,
        **release,
    }
    typings = (native_sdks / "nodejs" / "bin" / "backup.d.ts").read_text("utf-8")
    for prop in schema["resources"]["vpsbackup:index:Backup"]["inputProperties"]:
        assert f"    {prop}?" in typings or f"    {prop}:" in typings, prop
    assert (native_sdks / TARBALL).stat().st_size > 0


def test_the_typescript_example_type_checks_against_the_sdk(
    node_modules: Path, tmp_path: Path
) -> None:
    good = typescript_dir(tmp_path / "good", node_modules)
    done = tsc(good)
    assert done.returncode == 0, done.stdout + done.stderr

    # The typings are the schema's: a server id must be a number.
    bad = typescript_dir(
        tmp_path / "bad",
        node_modules,
        """\
        import * as vps from "@pulumi-vpsbackup/native";
        new vps.Backup("b", { serverId: "web-server-01" });
        """,
    )
    done = tsc(bad)
    assert done.returncode != 0
    assert "index.ts(2," in done.stdout and "number" in done.stdout, done.stdout


def test_the_nodejs_host_runs_a_typescript_program(
    node_modules: Path, tmp_path: Path, project_in: Callable[[Path], CliProject]
) -> None:
    """No resource: config, a secret, outputs, a failing program, through the Node.js host."""
    program = """\
        import * as pulumi from "@pulumi/pulumi";
        const config = new pulumi.Config();
        export const greeting: string = `hello ${config.require("who")}`;
        export const tokenLength = config.requireSecret("token").apply((t) => t.length);
        export const apiUrl = new pulumi.Config("vpsbackup").require("apiUrl");
        """
    project = project_in(typescript_dir(tmp_path / "ts", node_modules, program))
    project.config("who", "world")
    project.config("token", "s3cret-value", secret=True)

    up = project.up()
    assert "+ 1 created" in up.out
    assert project.outputs() == {
        "greeting": "hello world",
        "tokenLength": "[secret]",
        "apiUrl": project.run("config", "get", "vpsbackup:apiUrl").out.strip(),
    }
    assert "s3cret-value" not in project.export()

    # Type checking (ts-node's default) was just shown; skip it from here on.
    project.env["PULUMI_NODEJS_TRANSPILE_ONLY"] = "true"
    preview = project.preview()
    assert "1 unchanged" in preview.out

    (project.path / "index.ts").write_text(
        program + 'throw new Error("serverId is not set: pulumi config set serverId <id>");\n',
        "utf-8",
    )
    failed = project.preview(ok=False)
    assert failed.code != 0
    assert "serverId is not set: pulumi config set serverId <id>" in failed.out

    destroy = project.run("destroy", "--yes", "--skip-preview")
    assert "1 deleted" in destroy.out


def test_the_typescript_example_under_the_real_cli(
    node_modules: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    project = project_in(typescript_dir(tmp_path / "native-typescript", node_modules))
    # Type checking is the tsc test's; this one is about the plugin and the CLI.
    project.env["PULUMI_NODEJS_TRANSPILE_ONLY"] = "true"
    start = backups(fake.app)

    preview = project.preview()
    assert backups(fake.app) == start, "a preview must not touch the API"
    assert "vpsbackup:index:Backup" in preview.out

    project.up()
    out = project.outputs()
    made = set(backups(fake.app)) - set(start)
    assert made == {out["backupId"]}
    first = backups(fake.app)[out["backupId"]]
    assert first["server_id"] == WEB_SERVER
    assert first["status"] == out["backupStatus"] == "completed"
    assert out["serverName"] == "web-server-01"
    assert out["backupId"] in out["serverBackupIds"]
    assert TOKEN not in project.export()

    assert "2 unchanged" in project.preview().out

    # A new description takes a new backup; the old one goes once it is replaced.
    project.config("description", "After the schema migration")
    project.up()
    second = project.outputs()["backupId"]
    assert second != out["backupId"]
    now = backups(fake.app)
    assert out["backupId"] not in now
    assert now[second]["description"].startswith("After the schema migration")

    project.run("destroy", "--yes", "--skip-preview")
    assert backups(fake.app) == start


def readme_typescript() -> str:
    """The README's TypeScript program, as written."""
    text = (REPO / "README.md").read_text("utf-8")
    blocks = re.findall(r"```typescript\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "the README has no TypeScript example"
    return str(blocks[0])


def test_the_readme_typescript_program_backs_up_through_its_explicit_provider(
    node_modules: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    """The README's second program, type-checked and run as written: its backup is made
    on the explicit `vps.Provider`'s account (the stack's own token is wrong here, so
    the default provider could not have made it), once per release, and destroyed."""
    project = project_in(typescript_dir(tmp_path / "readme", node_modules, readme_typescript()))
    project.config("vpsbackup:apiToken", "vps_not_the_production_token", secret=True)
    project.config("productionApiUrl", fake.url)
    project.config("productionApiToken", TOKEN, secret=True)
    project.config("appVersion", "1.0.0")
    start = backups(fake.app)

    project.up()
    first = project.outputs()["backupId"]
    assert set(backups(fake.app)) == set(start) | {first}
    assert backups(fake.app)[first]["server_id"] == WEB_SERVER
    assert TOKEN not in project.export()

    project.config("appVersion", "1.1.0")
    project.up()
    second = project.outputs()["backupId"]
    assert second != first
    assert set(backups(fake.app)) == set(start) | {second}

    project.run("destroy", "--yes", "--skip-preview")
    assert backups(fake.app) == start


def test_a_python_program_on_the_generated_sdk_under_the_real_cli(
    native_sdks: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    path = tmp_path / "native-python"
    path.mkdir()
    shutil.copy2(EXAMPLES / "native-python" / "__main__.py", path / "__main__.py")
    settings = example_settings("native-python")
    settings["runtime"]["options"]["virtualenv"] = sys.prefix
    (path / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    project = project_in(path)
    start = backups(fake.app)

    up = project.up()
    assert "from $PATH" not in up.out, str(up)  # found through Pulumi.yaml, not ambient
    out = project.outputs()
    assert set(backups(fake.app)) - set(start) == {out["backupId"]}
    assert out["backupStatus"] == "completed"
    assert out["backupId"] in out["serverBackupIds"]
    assert TOKEN not in project.export()
    assert "2 unchanged" in project.preview().out

    project.run("destroy", "--yes", "--skip-preview")
    assert backups(fake.app) == start
