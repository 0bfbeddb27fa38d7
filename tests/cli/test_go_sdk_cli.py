"""The native plugin's Go SDK, and examples/native-go on it, under the real CLI.

`tools/build_sdks.sh` generates the Go SDK into build/sdks/go with `pulumi
package gen-sdk --language go` (the stand-in host in tools/pulumi-cli runs
pkg/v3's Go generator) and makes it a module. Here: what it writes, that
examples/native-go compiles against it as committed (go.mod, go.sum and its
`replace`), that a program passing the wrong type does not, and the example
through preview, up, a change and destroy against the fake under Pulumi's own
Go language host (sdk/v3 v3.66.0, which `make hosts` builds; see
tools/hosts/build.sh), with the plugin `pulumi-resource-vpsbackup`.

Needs Go (and what the generated SDKs need: Node.js and npm). Skipped without
them, without the plugin or without the hosts, except in CI (CI=true), where
that fails.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from pulumi_vpsbackup import __version__
from pulumi_vpsbackup.fake import FakeServer
from tests.cli import test_native_sdks_cli as sdks
from tests.cli.conftest import HOSTS_HINT
from tests.programs.scenarios import REPO, TOKEN, WEB_SERVER, backups
from vpsbackup_dev.cli_project import CliProject

#: The fleet's and the rotation's server in the example (`db-server-01` in the fake).
OTHER_SERVER = 12346

pytestmark = pytest.mark.cli

# The fixtures the TypeScript and Python SDK tests use: the SDKs, the plugin, a project.
native_sdks = sdks.native_sdks
plugin = sdks.plugin
project_in = sdks.project_in

EXAMPLE = REPO / "examples" / "native-go"
SDK_MODULE = "github.com/pulumi-vpsbackup/pulumi-vpsbackup/sdk/go"
GO_HOST = "3.66.0"
# A first build compiles the Pulumi Go SDK and its dependencies: about 70 s with
# Go's build cache warm from `make cli`, 4-5 minutes from an empty one on two
# loaded cores.
GO_TIMEOUT = 900


def _go() -> str:
    found = shutil.which("go")
    if found is None:
        sdks._unavailable("Go is needed for the Go SDK and its example (https://go.dev/dl)")
    assert found is not None
    return found


def go_build(directory: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """`go build -o OUT` in `directory`, as Pulumi's Go host builds a program; go.mod
    and go.sum are used as they are (the default -mod=readonly)."""
    env = {**os.environ, "GOFLAGS": "-buildvcs=false"}
    return subprocess.run(
        [_go(), "build", "-o", str(out), "."],
        cwd=directory,
        env=env,
        capture_output=True,
        text=True,
        timeout=GO_TIMEOUT,
        check=False,
    )


def example_copy(into: Path, go_sdk: Path, program: str | None = None) -> Path:
    """examples/native-go with its plugin path and its SDK `replace` made absolute
    (the example's are relative to the repository); `program` replaces main.go."""
    into.mkdir(parents=True)
    for name in ("main.go", "go.mod", "go.sum"):
        shutil.copy2(EXAMPLE / name, into / name)
    settings = sdks.example_settings("native-go")
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    if program is not None:
        (into / "main.go").write_text(program, "utf-8")
    done = subprocess.run(
        [_go(), "mod", "edit", f"-replace={SDK_MODULE}={go_sdk}"],
        cwd=into,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return into


@pytest.fixture(scope="session")
def go_sdk(native_sdks: Path) -> Path:
    _go()
    return native_sdks / "go"


@pytest.fixture(scope="session")
def example_binary(go_sdk: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/native-go built in place, against build/sdks/go through its own `replace`."""
    assert go_sdk == REPO / "build" / "sdks" / "go", "the example's replace names build/sdks/go"
    out = tmp_path_factory.mktemp("go") / "native-go"
    done = go_build(EXAMPLE, out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def test_gen_sdk_writes_a_go_module_from_the_schema(go_sdk: Path) -> None:
    schema = json.loads(sdks.SCHEMA.read_text("utf-8"))
    base = schema["language"]["go"]["importBasePath"]
    assert base == f"{SDK_MODULE}/vpsbackup"
    module = re.search(r"^module (\S+)$", (go_sdk / "go.mod").read_text("utf-8"), re.M)
    assert module is not None and module.group(1) == SDK_MODULE
    # The Pulumi Go SDK it requires is the one of the pinned CLI.
    pinned = re.search(
        r"^\s*github.com/pulumi/pulumi/sdk/v3 (v\S+)",
        (REPO / "tools" / "pulumi-cli" / "go.mod").read_text("utf-8"),
        re.M,
    )
    assert pinned is not None
    assert f"github.com/pulumi/pulumi/sdk/v3 {pinned.group(1)}\n" in (go_sdk / "go.mod").read_text(
        "utf-8"
    )
    assert (go_sdk / "go.sum").stat().st_size > 0

    package = go_sdk / "vpsbackup"
    plugin_json = json.loads((package / "pulumi-plugin.json").read_text("utf-8"))
    assert plugin_json == {
        "resource": True,
        "name": "vpsbackup",
        "version": __version__,
        "server": "github://api.github.com/pulumi-vpsbackup/pulumi-vpsbackup",
    }
    # Resources register with the version and download URL (respectSchemaVersion).
    utilities = (package / "internal" / "pulumiUtilities.go").read_text("utf-8")
    assert f'semver.MustParse("{__version__}")' in utilities
    # BackupArgs has a field for each input of the schema's Backup.
    backup = (package / "backup.go").read_text("utf-8")
    args = backup[backup.index("type BackupArgs struct {") :]
    args = args[: args.index("\n}")]
    fields = set(re.findall(r"^\t(\w+) ", args, re.M))
    inputs = schema["resources"]["vpsbackup:index:Backup"]["inputProperties"]
    assert fields == {name[0].upper() + name[1:] for name in inputs}
    for query in ("getBackups", "getLatestBackup"):
        assert (package / f"{query}.go").exists(), query


def test_the_example_requires_the_pinned_pulumi_go_sdk() -> None:
    """Bumping tools/pulumi-cli/go.mod raises the SDK's requirement: the example's
    go.mod and go.sum must follow (`go mod tidy` in examples/native-go)."""
    pinned = re.search(
        r"^\s*github.com/pulumi/pulumi/sdk/v3 (v\S+)",
        (REPO / "tools" / "pulumi-cli" / "go.mod").read_text("utf-8"),
        re.M,
    )
    assert pinned is not None
    example = (EXAMPLE / "go.mod").read_text("utf-8")
    assert f"github.com/pulumi/pulumi/sdk/v3 {pinned.group(1)}\n" in example, (
        "examples/native-go/go.mod must require the sdk/v3 version tools/pulumi-cli/go.mod pins"
    )
    assert f"replace {SDK_MODULE} => ../../build/sdks/go\n" in example


def test_the_go_example_compiles_against_the_sdk(example_binary: Path, go_sdk: Path) -> None:
    assert example_binary.stat().st_size > 0
    # The types are the schema's: a server id is an int, not a server's name.
    bad = example_copy(
        example_binary.parent / "bad",
        go_sdk,
        """\
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/pulumi-vpsbackup/pulumi-vpsbackup/sdk/go/vpsbackup"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := vpsbackup.NewBackup(ctx, "b", &vpsbackup.BackupArgs{
			ServerId: pulumi.String("web-server-01"),
		})
		return err
	})
}
""",
    )
    done = go_build(bad, bad / "bin")
    assert done.returncode != 0
    assert "main.go:12" in done.stderr and "IntInput" in done.stderr, done.stderr


def test_the_clis_own_go_host_generates_sdks_and_names_the_host_that_runs_programs(
    pulumi_cli: str, go_sdk: Path, tmp_path: Path, project_in: Callable[[Path], CliProject]
) -> None:
    """`make cli`'s directory has a stand-in pulumi-language-go for `gen-sdk` only
    (Pulumi's Go host of v3.66.0 cannot generate); a program run with it fails
    with one line that says where Pulumi's Go host is."""
    project = project_in(example_copy(tmp_path / "native-go", go_sdk))
    project.env["PATH"] = os.pathsep.join([str(Path(pulumi_cli).parent), project.env["PATH"]])
    failed = project.preview(ok=False)
    assert failed.code != 0
    assert "only generates Go SDKs" in failed.out, failed.out
    assert 'PATH="$(tools/hosts/build.sh | tail -1):$PATH"' in failed.out


@pytest.fixture(scope="session")
def go_host(real_hosts: Path) -> Path:
    """`make hosts`' directory, which must hold Pulumi's Go host too."""
    if not os.access(real_hosts / "pulumi-language-go", os.X_OK):
        sdks._unavailable(f"{real_hosts} has no pulumi-language-go; {HOSTS_HINT}")
    return real_hosts


def test_the_go_example_under_pulumis_go_host(
    example_binary: Path,
    go_sdk: Path,
    go_host: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    project = project_in(example_copy(tmp_path / "native-go", go_sdk))
    # Pulumi's Go host, found first on PATH and next to the `pulumi` there.
    project.env["PATH"] = os.pathsep.join([str(go_host), project.env["PATH"]])
    about = project.run("about", "--json")
    report = json.loads(about.out[about.out.index("{") :])
    (version,) = [
        p["version"] for p in report["plugins"] if p["kind"] == "language" and p["name"] == "go"
    ]
    assert version == GO_HOST, report["plugins"]
    start = backups(fake.app)

    preview = project.preview()
    assert backups(fake.app) == start, "a preview must not touch the API"
    assert "vpsbackup:index:Backup" in preview.out

    project.up()
    out = project.outputs()
    made = set(backups(fake.app)) - set(start)
    fleet = set(out["fleetBackupIds"].values())
    assert len(fleet) == 1 and len(out["rotationBackupIds"]) == 1, out
    assert made == {out["backupId"], *fleet, *out["rotationBackupIds"]}
    # waitForBackups waited for the fleet's backup: it reports it completed.
    assert out["waitedStatuses"] == ["completed"]
    assert {backups(fake.app)[i]["server_id"] for i in fleet | set(out["rotationBackupIds"])} == {
        OTHER_SERVER
    }
    first = backups(fake.app)[out["backupId"]]
    assert first["server_id"] == WEB_SERVER
    assert first["description"].startswith("Go backup taken by Pulumi")
    assert first["status"] == out["backupStatus"] == "completed"
    assert out["serverName"] == "web-server-01"
    # The queries ran after the backup: it is listed, and it is the latest manual one.
    assert out["serverBackupIds"][0] == out["backupId"], out
    assert out["latestBackupId"] == out["backupId"]
    assert TOKEN not in project.export()

    assert "4 unchanged" in project.preview().out

    # A new description takes a new backup; the old one goes once it is replaced.
    # It is the rotation's trigger too: a second member, the first kept (keep 2);
    # the fleet is untouched.
    project.config("description", "After the schema migration")
    project.up()
    again = project.outputs()
    second = again["backupId"]
    assert second != out["backupId"]
    now = backups(fake.app)
    assert out["backupId"] not in now
    assert now[second]["description"].startswith("After the schema migration")
    assert again["fleetBackupIds"] == out["fleetBackupIds"]
    assert len(again["rotationBackupIds"]) == 2
    assert out["rotationBackupIds"][0] in again["rotationBackupIds"]

    project.run("destroy", "--yes", "--skip-preview")
    assert backups(fake.app) == start, "the backup, the fleet's and the rotation's are gone"
    for ran in project.runs:
        assert "from $PATH" not in ran.out, str(ran)
