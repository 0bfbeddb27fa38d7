"""The native plugin's engine calls as users meet them under the real CLI: the
waitForBackups function from a program on the generated Python SDK.

Needs what tests/cli/test_native_sdks_cli.py needs (the generated SDKs, the
plugin on this virtualenv's PATH).
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import yaml

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from tests.cli import test_native_sdks_cli as native
from tests.programs.scenarios import TOKEN, WEB_SERVER, backups
from vpsbackup_dev.cli_project import CANCELLING, CliProject, interrupt

pytestmark = pytest.mark.cli

# The native SDK tests' fixtures: the generated SDKs, the plugin, a project directory's stack.
native_sdks = native.native_sdks
node_modules = native.node_modules
plugin = native.plugin
project_in = native.project_in


@pytest.fixture
def fake(pulumi_cli: str) -> Iterator[FakeServer]:
    """Backups that take two seconds of real time, so that a wait is a wait."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=2)
    with serve(app) as server:
        yield server


def python_project(path: Path, program: str, make: Callable[[Path], CliProject]) -> CliProject:
    """A Python program on the generated SDK, run by this interpreter's virtualenv."""
    path.mkdir()
    (path / "__main__.py").write_text(textwrap.dedent(program), "utf-8")
    settings = native.example_settings("native-python")
    settings["runtime"]["options"]["virtualenv"] = sys.prefix
    (path / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    project = make(path)
    project.config("vpsbackup:pollInterval", "0.2")
    project.config("vpsbackup:maxPollInterval", "0.5")
    return project


WAIT_PROGRAM = f"""\
    import pulumi
    import pulumi_vpsbackup_native as vps

    a = vps.Backup("a", server_id={WEB_SERVER}, description="a", wait_for_completion=False)
    b = vps.Backup("b", server_id={WEB_SERVER}, description="b", wait_for_completion=False)
    done = vps.wait_for_backups_output(backup_ids=[a.backup_id, b.backup_id], timeout="5m")
    pulumi.export("ids", [a.backup_id, b.backup_id])
    pulumi.export("started", [a.status, b.status])
    pulumi.export("waited", done.backups.apply(lambda found: [[x.id, x.status] for x in found]))
    """


def test_wait_for_backups_from_a_native_python_program(
    native_sdks: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    project = python_project(tmp_path / "wait", WAIT_PROGRAM, project_in)

    project.up()
    out = project.outputs()
    first, second = out["ids"]
    assert out["started"] == ["in_progress", "in_progress"], "the resources did not wait"
    assert out["waited"] == [[first, "completed"], [second, "completed"]]

    # An error is the function's one message, in the SDK's words, at preview already.
    (project.path / "__main__.py").write_text(
        "import pulumi_vpsbackup_native as vps\nvps.wait_for_backups(backup_ids=[987654])\n",
        "utf-8",
    )
    failed = project.preview(ok=False)
    assert failed.code != 0
    assert "waitForBackups: Backup 987654 disappeared" in failed.out, failed.out
    assert "Traceback" not in failed.out.split("waitForBackups:")[1], failed.out


def test_ctrl_c_during_a_create_wait_keeps_the_backup_in_state_and_up_finishes_it(
    native_sdks: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    """One Ctrl-C: the engine sends Cancel; the plugin stops waiting at once and hands
    the running backup to the engine, which records it (with its init error) rather
    than leaving it outside state; the next `pulumi up` waits for it."""
    program = f"""\
        import pulumi
        import pulumi_vpsbackup_native as vps

        b = vps.Backup("b", server_id={WEB_SERVER}, description="long")
        pulumi.export("status", b.status)
        """
    project = python_project(tmp_path / "cancel", program, project_in)
    fake.app.set_behaviour(backup_seconds=3600)
    before = set(backups(fake.app))

    proc = project.start("up", "--yes", "--skip-preview")
    out = interrupt(proc, wait_for="in_progress after", within=120)
    assert CANCELLING in out
    assert proc.returncode != 0, out
    assert "Stopped waiting for backup" in out and "kept in state as not finished" in out, out
    (made,) = set(backups(fake.app)) - before
    exported = json.loads(project.export())
    (kept,) = [
        r for r in exported["deployment"]["resources"] if r["type"] == "vpsbackup:index:Backup"
    ]
    assert kept["id"] == str(made), "the running backup is in state, not outside it"
    assert kept["outputs"]["status"] == "in_progress"
    assert kept.get("initErrors"), kept

    project.run("cancel", "--yes", ok=False)  # a lock left by the interrupted run, if any
    fake.app.set_behaviour(backup_seconds=1)
    project.up()
    assert set(backups(fake.app)) - before == {made}, "no second backup"
    assert project.outputs()["status"] == "completed"
    project.run("preview", "--expect-no-changes")


def test_preview_diff_shows_what_changes_and_what_replaces(
    native_sdks: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    """`pulumi preview --diff` lists each changed input from the plugin's detailed diff:
    a Backup's new description replaces it; a provider's new URL or token updates it
    in place (an explicit provider: the engine never shows the default one)."""
    program = f"""\
        import pulumi
        import pulumi_vpsbackup_native as vps

        config = pulumi.Config()
        account = vps.Provider(
            "account", api_url=config.require("url"), api_token=config.require_secret("token")
        )
        vps.Backup(
            "b",
            server_id={WEB_SERVER},
            description=config.require("description"),
            opts=pulumi.ResourceOptions(provider=account),
        )
        """
    project = python_project(tmp_path / "diff", program, project_in)
    fake.app.set_behaviour(backup_seconds=0)
    project.config("description", "before the migration")
    project.config("url", fake.url)
    project.config("token", TOKEN, secret=True)
    # With its preview first: the engine cancels the preview's plugin when it closes
    # it, which must not stop the update that follows.
    project.run("up", "--yes")

    project.config("description", "after the migration")
    replace = project.run("preview", "--diff").out
    assert "+-vpsbackup:index:Backup: (replace)" in replace, replace
    assert '~ description: "before the migration" => "after the migration"' in replace, replace
    assert "+-1 to replace" in replace
    # Only that: not the outputs a replacement recomputes, nor the plugin's own inputs.
    assert "- status" not in replace and "- backupId" not in replace, replace
    assert "resourceKey" not in replace and "waitForCompletion" not in replace, replace

    project.config("description", "before the migration")
    moved = fake.url.replace("127.0.0.1", "localhost")
    project.config("url", moved)
    project.config("token", "vps_rotated_token_0123456789", secret=True)
    update = project.run("preview", "--diff").out
    assert "~ pulumi:providers:vpsbackup: (update)" in update, update
    assert f'~ apiUrl  : "{fake.url}" => "{moved}"' in update, update
    assert "~ apiToken: [secret] => [secret]" in update, update
    assert "vps_rotated_token" not in update and TOKEN not in update
    assert "~ 1 to update" in update


ENV_ONLY_PROGRAM = f"""\
    import * as pulumi from "@pulumi/pulumi";
    import * as vps from "@pulumi-vpsbackup/native";

    const viaDefault = new vps.Backup("default", {{ serverId: {WEB_SERVER}, description: "a" }});
    const account = new vps.Provider("from-env", {{}});
    const viaExplicit = new vps.Backup(
        "explicit",
        {{ serverId: {WEB_SERVER}, description: "env b" }},
        {{ provider: account }},
    );
    export const apiUrl = vps.config.apiUrl;
    export const ids = [viaDefault.backupId, viaExplicit.backupId];
    """


def test_a_typescript_program_with_only_the_environment_and_no_token_in_state(
    node_modules: Path,
    plugin: str,
    tmp_path: Path,
    fake: FakeServer,
    project_in: Callable[[Path], CliProject],
) -> None:
    """VPS_API_TOKEN and VPS_API_URL alone (no stack setting): the plugin's default
    provider reads them, and the generated SDK fills an explicit `vps.Provider` and
    `vps.config` from them (the schema's defaultInfo). The token is never in state
    as text: the SDK passes it plain, the plugin's CheckConfig makes it secret."""
    path = native.typescript_dir(tmp_path / "env-only", node_modules, ENV_ONLY_PROGRAM)
    settings = yaml.safe_load((path / "Pulumi.yaml").read_text("utf-8"))
    settings.pop("config", None)  # the example's apiUrl for the demo fake
    (path / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    project = project_in(path)
    project.run("config", "rm", "vpsbackup:apiUrl")
    project.run("config", "rm", "vpsbackup:apiToken")
    project.env.update(
        VPS_API_TOKEN=TOKEN, VPS_API_URL=fake.url, PULUMI_NODEJS_TRANSPILE_ONLY="true"
    )
    fake.app.set_behaviour(backup_seconds=0)
    before = set(backups(fake.app))

    project.up()
    out = project.outputs()
    assert out["apiUrl"] == fake.url
    assert set(backups(fake.app)) - before == set(out["ids"])

    exported = project.export()
    assert TOKEN not in exported
    stored = [p for p in (tmp_path / "state").rglob("*") if p.is_file()]
    assert stored and not any(TOKEN.encode() in p.read_bytes() for p in stored)
    resources = json.loads(exported)["deployment"]["resources"]
    providers = {r["urn"].rsplit("::", 1)[-1]: r for r in resources if "providers:" in r["type"]}
    explicit = providers["from-env"]
    assert set(explicit["inputs"]["apiToken"]) >= {"ciphertext"}, explicit["inputs"]
    (default,) = [r for name, r in providers.items() if name.startswith("default")]
    assert "apiToken" not in default["inputs"], "the environment's token stays out of state"
