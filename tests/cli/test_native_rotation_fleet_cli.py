"""`BackupRotation` and `BackupFleet` through the native plugin under the real CLI, against
the dynamic provider running the same program.

One Python program, written once, runs twice: on the dynamic provider
(`import pulumi_vpsbackup as vps`) and on the native plugin's generated SDK
(`import pulumi_vpsbackup_native as vps`, the same names and arguments), each
against a fake of its own that starts from the same world. The scenario: a
rotation keeping one backup and a fleet of one server; then a new release (the
rotation adds a backup and prunes the old one) and a second server (the fleet
updates in place, keeping the first server's backup); then destroy. After
every step the two fakes must hold the same backups (by server, type, status
and description without the marker, whose key differs per stack) and the two
stacks the same outputs. The requests each command sent are printed (`-s`).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from tests.cli.conftest import Projects
from tests.cli.test_native_sdks_cli import (  # noqa: F401 (fixtures)
    native_sdks,
    node_modules,
    plugin,
    tsc,
    typescript_dir,
)
from tests.programs.scenarios import TOKEN, backups
from vpsbackup_dev.cli_project import CliProject

pytestmark = pytest.mark.cli

PROGRAM = """\
import pulumi
import {module} as vps

config = pulumi.Config()
version = config.require("appVersion")
servers = [int(s) for s in config.require("servers").split(",")]
rotation = vps.BackupRotation(
    "releases", server_id=12345, keep=1, triggers=[version], description=f"Before {{version}}"
)
fleet = vps.BackupFleet("nightly", server_ids=servers, description="nightly")
pulumi.export("rotationBackupIds", rotation.backup_ids)
pulumi.export("latestBackupId", rotation.latest_backup_id)
pulumi.export("fleetBackupIds", fleet.backup_ids)
pulumi.export("fleetStatuses", fleet.statuses)
pulumi.export("fleetServerNames", fleet.server_names)
"""
#: (appVersion, servers) of each `pulumi up`.
STEPS = [("1.0", "12345"), ("1.1", "12346,12345")]
DYNAMIC = "pulumi_vpsbackup"
NATIVE = "pulumi_vpsbackup_native"

Label = tuple[int, str, str, str]


def label(fake: FakeServer, backup_id: int) -> Label:
    """A backup as both runs can agree on it: server, type, status, description
    without the marker (its key is the stack's own)."""
    b = backups(fake.app)[backup_id]
    return (b["server_id"], b["backup_type"], b["status"], strip_marker(b["description"]) or "")


def made(fake: FakeServer, before: dict[int, Any]) -> list[Label]:
    """What the fake holds beyond its starting world (and whether any of that is gone)."""
    now = backups(fake.app)
    assert set(before) <= set(now), "nothing the stack did not make is touched"
    return sorted(label(fake, i) for i in now if i not in before)


def outputs_by_label(fake: FakeServer, out: dict[str, Any]) -> dict[str, Any]:
    """The stack's outputs with each backup id replaced by its label."""
    return {
        "rotation": [label(fake, i) for i in out["rotationBackupIds"]],
        "latest": label(fake, out["latestBackupId"]),
        "fleet": {s: label(fake, i) for s, i in out["fleetBackupIds"].items()},
        "statuses": out["fleetStatuses"],
        "names": out["fleetServerNames"],
    }


def requests(fake: FakeServer) -> Counter[str]:
    """The API requests since the last call, by method (and cleared)."""
    sent = Counter(r["method"] for r in fake.app.requests() if r["path"].startswith("/api/"))
    fake.app.clear_requests()
    return sent


def run_scenario(project: CliProject, fake: FakeServer) -> tuple[list[Any], dict[str, Counter]]:
    """The scenario's steps; what each left on the fake and in outputs, and the
    requests of each command."""
    before = backups(fake.app)
    fake.app.clear_requests()
    seen: list[Any] = []
    sent: dict[str, Counter] = {}
    kept = None
    for n, (version, servers) in enumerate(STEPS, 1):
        project.config("appVersion", version)
        project.config("servers", servers)
        preview = project.preview()
        sent[f"preview {n}"] = requests(fake)
        assert made(fake, before) == (seen[-1][0] if seen else []), "a preview touches nothing"
        if n > 1:
            assert "~ 2 to update" in preview.out, preview.out
            assert "will add 1 backup of server 12345 and delete" in preview.out, preview.out
            assert "fleet nightly: will back up server 12346" in preview.out, preview.out
        project.up()
        sent[f"up {n}"] = requests(fake)
        out = project.outputs()
        if n > 1:
            assert out["fleetBackupIds"]["12345"] == kept, "the first server's backup is kept"
        kept = out["fleetBackupIds"]["12345"]
        seen.append((made(fake, before), outputs_by_label(fake, out)))
    project.preview("--expect-no-changes")
    sent["preview, no changes"] = requests(fake)
    project.run("refresh", "--yes", "--skip-preview")
    sent["refresh"] = requests(fake)
    project.run("destroy", "--yes", "--skip-preview")
    sent["destroy"] = requests(fake)
    seen.append((made(fake, before), None))
    return seen, sent


@pytest.fixture
def projects(tmp_path: Path, pulumi_cli: str, cli_home: Path) -> Iterator[Projects]:
    # The plugin is found through Pulumi.yaml (see `project`), not on PATH.
    made = Projects(tmp_path, cli_home)
    yield made
    made.close()


def fresh_fake() -> FakeVps:
    return FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate")


def project(projects: Projects, module: str, url: str) -> CliProject:
    made = projects.make(module.replace("_", "-"), PROGRAM.format(module=module), url, TOKEN)
    if module == NATIVE:
        settings = yaml.safe_load((made.path / "Pulumi.yaml").read_text("utf-8"))
        settings["plugins"] = {
            "providers": [{"name": "vpsbackup", "path": str(Path(sys.executable).parent)}]
        }
        (made.path / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return made


def test_rotation_and_fleet_end_as_the_dynamic_ones_do(
    native_sdks: Path,  # noqa: F811 (the fixture: the SDK installed in this virtualenv)
    plugin: str,  # noqa: F811
    projects: Projects,
) -> None:
    runs: dict[str, tuple[list[Any], dict[str, Counter]]] = {}
    for module in (DYNAMIC, NATIVE):
        with serve(fresh_fake()) as fake:
            runs[module] = run_scenario(project(projects, module, fake.url), fake)
    (dynamic, dynamic_sent), (native, native_sent) = runs[DYNAMIC], runs[NATIVE]

    print("\n    API requests per command (dynamic | native plugin):")
    for command in dynamic_sent:
        d, n = dynamic_sent[command], native_sent[command]
        print(f"    {command:22} {d.total():3} {dict(d)} | {n.total():3} {dict(n)}")

    assert native == dynamic
    first, second, destroyed = native
    # What the scenario is about, said once more in plain terms.
    assert first[1]["rotation"] == [(12345, "manual", "completed", "Before 1.0")]
    assert second[1]["rotation"] == [(12345, "manual", "completed", "Before 1.1")]
    assert set(second[1]["fleet"]) == {"12345", "12346"}
    assert sorted(second[0]) == sorted(
        [second[1]["latest"], second[1]["fleet"]["12345"], second[1]["fleet"]["12346"]]
    )
    assert destroyed[0] == []


def test_the_typescript_sdk_types_a_rotation_and_a_fleet(
    node_modules: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    good = typescript_dir(
        tmp_path / "good",
        node_modules,
        """\
        import * as vps from "@pulumi-vpsbackup/native";
        const rotation = new vps.BackupRotation("releases", {
            serverId: 12345, keep: 2, triggers: ["1.0"], description: "Before 1.0",
        });
        const fleet = new vps.BackupFleet("nightly", { serverIds: [12345, 12346] });
        export const latest: vps.BackupRotation["latestBackupId"] = rotation.latestBackupId;
        export const ids = rotation.backupIds.apply((ids: number[]) => ids.length);
        export const web = fleet.backupIds.apply((m: { [server: string]: number }) => m["12345"]);
        export const states = fleet.statuses;
        """,
    )
    done = tsc(good)
    assert done.returncode == 0, done.stdout + done.stderr

    # The typings are the schema's: keep is required, serverIds a list of numbers.
    bad = typescript_dir(
        tmp_path / "bad",
        node_modules,
        """\
        import * as vps from "@pulumi-vpsbackup/native";
        new vps.BackupRotation("r", { serverId: 12345 });
        new vps.BackupFleet("f", { serverIds: ["web-server-01"] });
        """,
    )
    done = tsc(bad)
    assert done.returncode != 0
    assert "index.ts(2," in done.stdout and "keep" in done.stdout, done.stdout
    assert "index.ts(3," in done.stdout and "number" in done.stdout, done.stdout
