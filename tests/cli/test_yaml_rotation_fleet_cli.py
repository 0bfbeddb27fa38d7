"""examples/yaml-rotation, examples/yaml-fleet and examples/yaml-restore under Pulumi's real
YAML host (no SDK: the host reads the native plugin's schema), against the fake.

- the rotation: three releases with keep=2 (each adds a backup, the third
  deletes the first), a clean refresh, destroy;
- the fleet: one server, then a second added in place (the first server's
  backup kept), a clean refresh, destroy;
- the restore: refused until a `backupId` is chosen, then once from it, no
  restore while nothing changed, another server's backup rejected by the
  preview, again from another `backupId`; destroy leaves the server alone.

Each ends with the fake as it started. Skipped without the hosts (`make
hosts`) or the plugin (`make install`), except in CI (CI=true), where that fails.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.fake import FakeServer
from tests.cli.test_real_hosts_cli import YAML_HOST, about, language_host, yaml_project
from tests.programs.scenarios import (
    REPO,
    TOKEN,
    WEB_SERVER,
    backups,
    last_restore,
    restore_requests,
    world,
)
from vpsbackup_dev.cli_project import CliProject, offline_env

pytestmark = pytest.mark.cli


@pytest.fixture
def yaml_stack_of(
    tmp_path: Path, fake: FakeServer, cli_home: Path, real_hosts: Path
) -> Iterator[Callable[[str], CliProject]]:
    """Stack `test` of a YAML example under the real YAML host, configured for the fake."""
    scripts = Path(sys.executable).parent
    if shutil.which("pulumi-resource-vpsbackup", path=str(scripts)) is None:
        reason = f"the native plugin is not in {scripts} (`make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    made: list[CliProject] = []

    def make(example: str) -> CliProject:
        state = tmp_path / "state"
        state.mkdir(exist_ok=True)
        env = {
            **os.environ,
            **offline_env(state, cli_home),
            # Only the hosts' directory and the system's tools: the plugin is
            # found through Pulumi.yaml.
            "PATH": os.pathsep.join([str(real_hosts), "/usr/bin", "/bin"]),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
            "VPS_API_TOKEN": "",
            "VPS_API_URL": "",
        }
        project = CliProject(yaml_project(tmp_path / example, scripts, example), env)
        made.append(project)
        project.run("stack", "init", "test")
        project.config("vpsbackup:apiUrl", fake.url)
        project.config("vpsbackup:apiToken", TOKEN, secret=True)
        report = about(project.path, project.env)
        assert language_host(report, "yaml") == YAML_HOST, report["plugins"]
        return project

    yield make
    for project in made:
        # A failed test must not leave backups behind in a fake that outlives it.
        project.run("destroy", "--yes", "--skip-preview", ok=False)
        project.run("stack", "rm", "--yes", "--force", ok=False)


def refresh_finds_nothing_then_destroy(stack: CliProject, fake: FakeServer, start: Any) -> None:
    """A refresh that changes nothing, a preview with no changes, then a destroy that
    leaves the fake exactly as it started."""
    refreshed = stack.run("refresh", "--yes", "--skip-preview")
    assert "2 unchanged" in refreshed.out, refreshed.out
    stack.run("preview", "--expect-no-changes")
    destroyed = stack.run("destroy", "--yes", "--skip-preview")
    assert "- 2 deleted" in destroyed.out, destroyed.out
    assert world(fake.app) == start, "the fake ends as it started"


def test_yaml_rotation_keeps_the_last_two_releases(
    yaml_stack_of: Callable[[str], CliProject], fake: FakeServer
) -> None:
    stack = yaml_stack_of("yaml-rotation")
    start = world(fake.app)
    preview = stack.preview()
    assert "+ 2 to create" in preview.out, preview.out
    assert "rotation releases: will add 1 backup of server 12345 (keeps 2)" in preview.out
    assert world(fake.app) == start, "a preview must not touch the API"

    history: list[list[int]] = []
    for version in ("1.0.0", "1.1.0", "1.2.0"):
        stack.config("appVersion", version)
        if history:
            preview = stack.preview()
            assert "~ 1 to update" in preview.out, preview.out
        stack.up()
        out = stack.outputs()
        ids = [int(i) for i in out["backupIds"]]
        assert len(ids) == min(len(history) + 1, 2)
        assert int(out["latestBackupId"]) == ids[0]
        newest = backups(fake.app)[ids[0]]
        assert (newest["server_id"], newest["status"]) == (WEB_SERVER, "completed")
        assert strip_marker(newest["description"]) == f"Before {version}"
        assert out["serverName"] == "web-server-01"
        if history:
            assert ids[1] == history[-1][0]
        history.append(ids)
    # The third release's preview named the first release's backup, and up deleted it.
    assert f"and delete {history[0][0]} (keeps 2)" in preview.out, preview.out
    assert history[0][0] not in backups(fake.app)

    refresh_finds_nothing_then_destroy(stack, fake, start)


def test_yaml_fleet_adds_a_server_in_place(
    yaml_stack_of: Callable[[str], CliProject], fake: FakeServer
) -> None:
    stack = yaml_stack_of("yaml-fleet")
    start = world(fake.app)
    preview = stack.preview()
    assert "fleet nightly: will back up 1 server(s) at once" in preview.out, preview.out
    assert world(fake.app) == start, "a preview must not touch the API"
    stack.up()
    out = stack.outputs()
    web = int(out["backupIds"]["12345"])
    assert out["statuses"] == {"12345": "completed"}
    assert strip_marker(backups(fake.app)[web]["description"]) == "Nightly backup"

    # A list in stack config, as a user sets it: `pulumi config set --path 'serverIds[1]' ...`.
    stack.run("config", "set", "--path", "serverIds[0]", "12346")
    stack.run("config", "set", "--path", "serverIds[1]", "12345")
    preview = stack.preview()
    assert "~ 1 to update" in preview.out, preview.out
    # The server as its id, not as the engine's float (`12346.0`).
    assert re.search(r"fleet nightly: will back up server 12346(?![.\d])", preview.out), preview.out
    stack.up()
    out = stack.outputs()
    assert int(out["backupIds"]["12345"]) == web, "the first server's backup is kept"
    db = int(out["backupIds"]["12346"])
    assert backups(fake.app)[db]["server_id"] == 12346
    assert out["serverNames"] == {"12345": "web-server-01", "12346": "db-server-01"}

    refresh_finds_nothing_then_destroy(stack, fake, start)


def test_yaml_restore_runs_once_per_chosen_backup(
    yaml_stack_of: Callable[[str], CliProject], fake: FakeServer
) -> None:
    stack = yaml_stack_of("yaml-restore")
    start = world(fake.app)
    completed = {i: b for i, b in start["backups"].items() if b["status"] == "completed"}
    newest = max(
        (i for i, b in completed.items() if b["server_id"] == WEB_SERVER),
        key=lambda i: completed[i]["created_at"],
    )
    pinned = min(i for i, b in completed.items() if b["server_id"] == WEB_SERVER)
    assert pinned != newest

    # A restore overwrites the server: without a chosen backup nothing runs.
    unchosen = stack.preview(ok=False)
    assert unchosen.code != 0 and "backupId" in unchosen.out, unchosen.out
    assert restore_requests(fake.app, WEB_SERVER) == 0

    stack.config("backupId", str(newest))
    preview = stack.preview()
    assert "+ 2 to create" in preview.out, preview.out
    assert restore_requests(fake.app, WEB_SERVER) == 0, "a preview must not restore"

    stack.up()
    assert restore_requests(fake.app, WEB_SERVER) == 1
    record = last_restore(fake.app, WEB_SERVER)
    assert record is not None and (record["backup_id"], record["status"]) == (
        newest,
        "completed",
    )
    out = stack.outputs()
    assert int(out["restoredFromBackupId"]) == newest
    assert int(out["newestCompletedBackupId"]) == newest
    assert (out["restoreStatus"], out["serverStatus"], out["serverName"]) == (
        "completed",
        "active",
        "web-server-01",
    )

    # Nothing changed: no second restore.
    stack.run("preview", "--expect-no-changes")
    again = stack.up()
    assert "2 unchanged" in again.out, again.out
    assert restore_requests(fake.app, WEB_SERVER) == 1

    # A preview already rejects another server's backup, naming the field.
    other = next(i for i, b in completed.items() if b["server_id"] != WEB_SERVER)
    stack.config("backupId", str(other))
    rejected = stack.preview(ok=False)
    assert rejected.code != 0
    assert f"backupId value {{{other}}} has a problem: backup {other} belongs to server" in (
        rejected.out
    ), rejected.out
    assert restore_requests(fake.app, WEB_SERVER) == 1

    stack.config("backupId", str(pinned))
    preview = stack.preview()
    assert "+-1 to replace" in preview.out, preview.out
    stack.up()
    assert restore_requests(fake.app, WEB_SERVER) == 2
    record = last_restore(fake.app, WEB_SERVER)
    assert record is not None and record["backup_id"] == pinned
    assert int(stack.outputs()["restoredFromBackupId"]) == pinned

    fake.app.clear_requests()
    destroyed = stack.run("destroy", "--yes", "--skip-preview")
    assert "- 2 deleted" in destroyed.out, destroyed.out
    writes = [r for r in fake.app.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes == [], "destroy forgets the restore; it sends the API nothing that changes it"
    assert world(fake.app) == start, "the server and its backups are as they started"
