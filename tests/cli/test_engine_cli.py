"""Engine behaviours that only the real CLI can answer, each pinned by a test.

Import, custom timeouts, protect, retain_on_delete, refresh after a delete
behind the stack's back, `--parallel 16`, Ctrl-C while a backup is waited for,
and what `pulumi stack export` and the state file hold.
"""

from __future__ import annotations

import json
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import BACKUP, RESTORE, TOKEN, backups, restore_requests
from vpsbackup_dev.cli_project import CliProject, Watched, interrupt

pytestmark = pytest.mark.cli

Make = Callable[..., CliProject]
SERVER = 12345
OTHER = 12346
PRE_UPDATE = 499  # the demo world's manual backup of 12345
POST_BACKUP = ("POST", "/api/v1/backups/")


def program(body: str) -> str:
    return "import pulumi\nimport pulumi_vpsbackup as vps\n" + textwrap.dedent(body)


def state_ids(project: CliProject) -> list[int]:
    exported = json.loads(project.export())
    return sorted(
        int(r["id"])
        for r in exported["deployment"].get("resources", [])
        if r["type"] == BACKUP and not r.get("delete")
    )


def pending_operations(project: CliProject) -> list[str]:
    exported = json.loads(project.export())
    return [op["type"] for op in exported["deployment"].get("pending_operations") or []]


def new_backups(fake: FakeServer, before: dict[int, dict[str, object]]) -> list[int]:
    return sorted(set(backups(fake.app)) - set(before))


def slow_backups(fake: FakeServer, seconds: float) -> None:
    fake.app.set_behaviour(completion="time", backup_seconds=seconds)
    fake.app.set_time_scale(1)


# ---- import ------------------------------------------------------------------------------


def test_the_import_option_adopts_the_backup_instead_of_failing(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(
        program(f"""
        b = vps.Backup("imported", server_id={SERVER},
                       opts=pulumi.ResourceOptions(import_="{PRE_UPDATE}"))
        pulumi.export("id", b.backup_id)
        """)
    )
    ran = project.up()
    assert "carried out as existing_backup_id" in ran.out
    assert state_ids(project) == [PRE_UPDATE]
    assert backups(fake.app) == before, "adopting makes no new backup"
    project.run("preview", "--expect-no-changes")
    project.run("destroy", "--yes", "--skip-preview")
    assert PRE_UPDATE not in backups(fake.app), "an adopted backup is managed: destroy deletes it"


def test_the_import_command_fails_in_pulumis_host_and_changes_nothing(
    cli_project: Make, fake: FakeServer
) -> None:
    """pulumi/pulumi#16175: `pulumi import` of a dynamic resource calls Read
    without `__provider`, which Pulumi's host cannot serve. The README points
    to `existing_backup_id` (or `import_`, above) instead."""
    before = backups(fake.app)
    project = cli_project(program(""))
    ran = project.run("import", BACKUP, "imported", str(PRE_UPDATE), "--yes", ok=False)
    assert ran.code != 0
    assert "__provider" in ran.out
    assert state_ids(project) == []
    assert backups(fake.app) == before


# ---- options the engine keeps to itself -----------------------------------------------------


def test_custom_timeouts_create_becomes_the_wait_timeout(
    cli_project: Make, fake: FakeServer
) -> None:
    slow_backups(fake, 600)
    fake.app.set_behaviour(delete_in_progress="allow")
    before = backups(fake.app)
    project = cli_project(
        program(f"""
        vps.Backup("b", server_id={SERVER}, opts=pulumi.ResourceOptions(
            custom_timeouts=pulumi.CustomTimeouts(create="2s", delete="5m")))
        """)
    )
    ran = project.up(ok=False)
    assert "Timed out" in ran.out and "after 2.0 s" in ran.out, ran.out
    assert "custom_timeouts delete has no effect" in ran.out
    assert backups(fake.app) == before


def test_protect_refuses_destroy_and_keeps_the_backup(cli_project: Make, fake: FakeServer) -> None:
    protected = program(f"""
        vps.Backup("b", server_id={SERVER}, opts=pulumi.ResourceOptions(protect=True))
    """)
    project = cli_project(protected)
    project.up()
    (kept,) = state_ids(project)
    ran = project.run("destroy", "--yes", "--skip-preview", ok=False)
    assert ran.code != 0 and "protected" in ran.out
    assert kept in backups(fake.app)
    project.write(protected.replace("protect=True", "protect=False"))
    project.up()
    project.run("destroy", "--yes", "--skip-preview")
    assert kept not in backups(fake.app)


def test_retain_on_delete_leaves_the_backup_on_vps_org(cli_project: Make, fake: FakeServer) -> None:
    project = cli_project(
        program(f"""
        vps.Backup("b", server_id={SERVER},
                   opts=pulumi.ResourceOptions(retain_on_delete=True))
        """)
    )
    project.up()
    (kept,) = state_ids(project)
    project.run("destroy", "--yes", "--skip-preview")
    assert state_ids(project) == []
    assert kept in backups(fake.app), "retained: still on VPS.org"
    fake.app.remove_backup(kept)


# ---- refresh, parallelism -------------------------------------------------------------------


def test_refresh_after_a_delete_behind_the_stacks_back_drops_it_and_up_makes_it_again(
    cli_project: Make, fake: FakeServer
) -> None:
    project = cli_project(program(f'vps.Backup("b", server_id={SERVER})\n'))
    project.up()
    (gone,) = state_ids(project)
    fake.app.remove_backup(gone)
    ran = project.run("refresh", "--yes", "--skip-preview")
    assert "deleted" in ran.out, ran.out
    assert state_ids(project) == []
    preview = project.preview()
    assert "+ 1 to create" in preview.out, preview.out
    project.up()
    (again,) = state_ids(project)
    assert again != gone and again in backups(fake.app)


def test_up_with_parallel_16_makes_16_backups_and_no_more(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(
        program(f"""
        for i in range(16):
            vps.Backup(f"b{{i}}", server_id={SERVER} if i % 2 else {OTHER},
                       description=f"parallel {{i}}")
        """)
    )
    project.up("--parallel", "16")
    made = new_backups(fake, before)
    assert len(made) == 16
    assert state_ids(project) == made
    project.run("preview", "--expect-no-changes")
    project.run("destroy", "--yes", "--skip-preview", "--parallel", "16")
    assert backups(fake.app) == before


def test_up_with_parallel_8_waits_for_8_backups_at_once(
    cli_project: Make, fake: FakeServer
) -> None:
    """Pulumi's dynamic-provider host serves four calls at a time; this package
    widens its pool, so `--parallel` decides how many backups are waited for."""
    fake.app.set_behaviour(completion="time", backup_seconds=60)  # frozen clock: none ends
    project = cli_project(
        program("""
        for i in range(8):
            vps.Backup(f"w{i}", server_id=12345 if i % 2 else 12346, description=f"wait {i}")
        """)
    )
    project.config("vpsbackup:pollInterval", "0.1")
    project.config("vpsbackup:maxPollInterval", "0.2")

    def posted() -> int:
        return sum(1 for r in fake.app.requests() if (r["method"], r["path"]) == POST_BACKUP)

    up = Watched(project.start("up", "--yes", "--skip-preview", "--parallel", "8"))
    deadline = time.monotonic() + 60
    while posted() < 8 and up.proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    waiting = posted()
    # Let every backup end, those posted so far and any still to come.
    fake.app.set_behaviour(completion="immediate")
    fake.app.clock.advance(60)
    out = up.finish()
    assert waiting == 8, f"{waiting} backups were waited for at once (Pulumi's host runs 4)"
    assert up.proc.returncode == 0, out
    assert len(state_ids(project)) == 8


# ---- interrupts -----------------------------------------------------------------------------


def test_ctrl_c_while_a_backup_is_waited_for_then_up_again(
    cli_project: Make, fake: FakeServer
) -> None:
    """One Ctrl-C: the engine lets the running create finish and records it."""
    slow_backups(fake, 8)
    before = backups(fake.app)
    project = cli_project(program(f'vps.Backup("b", server_id={SERVER})\n'))
    proc = project.start("up", "--yes", "--skip-preview")
    out = interrupt(proc, wait_for="in_progress after")
    assert proc.returncode != 0, out
    project.run("cancel", "--yes", ok=False)  # a lock left by the interrupted run, if any
    project.up()
    made = new_backups(fake, before)
    assert len(made) == 1, f"one backup, not {made}:\n{out}"
    assert state_ids(project) == made
    project.run("preview", "--expect-no-changes")


@pytest.mark.parametrize("by_then", ["still running", "finished"])
def test_a_restore_killed_after_it_was_accepted_runs_once_after_cancel_and_up(
    cli_project: Make, fake: FakeServer, by_then: str
) -> None:
    """A restore runs once per intent: `up` is killed (SIGKILL) after VPS.org
    accepted the restore; the user runs `pulumi cancel` and `pulumi up` as the
    CLI suggests. That `up` takes the accepted restore as its own (waiting for it
    while it runs) instead of restoring the server a second time over what was
    written since."""
    fake.app.set_behaviour(restore_seconds=600)  # the clock is frozen: it runs until advanced
    project = cli_project(
        program(f'vps.Restore("r", server_id={SERVER}, backup_id={PRE_UPDATE})\n')
    )
    first = Watched(project.start("up", "--yes", "--skip-preview"))
    first.wait_for(f"restoring server {SERVER} from backup {PRE_UPDATE}")
    out = first.kill()
    assert restore_requests(fake.app, SERVER) == 1, out
    project.run("cancel", "--yes", ok=False)  # the lock the killed run left
    if by_then == "finished":
        fake.app.advance(600)  # the server is active again: VPS.org would accept another
    second = Watched(project.start("up", "--yes", "--skip-preview"))
    second.wait_for(
        f"restore of server {SERVER} from backup {PRE_UPDATE} was already accepted",
        unless=f"restoring server {SERVER} from backup {PRE_UPDATE}:",  # a second POST
    )
    if by_then == "still running":
        fake.app.advance(600)  # the one restore ends while the `up` waits for it
    again = second.finish()
    assert second.proc.returncode == 0, again
    assert "earlier interrupted run of this resource; waiting for it instead of starting" in again
    assert restore_requests(fake.app, SERVER) == 1, f"one restore, not a second:\n{again}"
    exported = json.loads(project.export())
    resources = exported["deployment"]["resources"]
    (restore,) = [r for r in resources if r["type"] == RESTORE and not r.get("delete")]
    assert restore["outputs"]["restore_status"] == "completed"
    assert restore["outputs"]["backup_id"] == PRE_UPDATE
    project.run("preview", "--expect-no-changes")
    assert restore_requests(fake.app, SERVER) == 1


def test_a_changed_trigger_restores_again_right_after_the_last_restore(
    cli_project: Make, fake: FakeServer
) -> None:
    """The other half of "once per intent": a new intent must run even while the server's
    record still shows the previous restore of the same backup, moments old
    (the replacement's create learns that restore's start from the engine's Diff)."""
    restore = 'vps.Restore("r", server_id={s}, backup_id={b}, triggers=["{t}"])\n'
    project = cli_project(program(restore.format(s=SERVER, b=PRE_UPDATE, t="first")))
    project.up()
    assert restore_requests(fake.app, SERVER) == 1
    project.write(program(restore.format(s=SERVER, b=PRE_UPDATE, t="again")))
    again = project.up()
    assert "is the one this resource recorded before" in again.out, again.out
    # The engine checks the replacement again with no olds; that check must not
    # announce an adoption the create will not make.
    assert "will wait for it instead of restoring" not in again.out, again.out
    assert restore_requests(fake.app, SERVER) == 2, again.out


# ---- secrets --------------------------------------------------------------------------------


def test_the_token_is_in_no_export_state_file_or_output(
    cli_project: Make, fake: FakeServer, tmp_path: Path
) -> None:
    project = cli_project(program(f'vps.Backup("b", server_id={SERVER})\n'))
    outputs = [project.up().out, project.run("refresh", "--yes", "--skip-preview").out]
    exported = project.export()
    outputs.append(exported)
    for text in outputs:
        assert TOKEN not in text
    # The engine's default `pulumi-python` provider keeps the stack config as its
    # inputs, the token among them: as a secret, ciphertext in state.
    (provider,) = [
        r
        for r in json.loads(exported)["deployment"]["resources"]
        if r["type"] == "pulumi:providers:pulumi-python"
    ]
    held = provider["inputs"]["vpsbackup:apiToken"]
    assert held["4dabf18193072939515e22adb298388d"] == "1b47061264138c4ac30d75fd1eb44270"
    assert "ciphertext" in held
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            assert TOKEN.encode() not in path.read_bytes(), path
    stack_config = (project.path / "Pulumi.test.yaml").read_text()
    assert "vpsbackup:apiToken:" in stack_config and "secure:" in stack_config
    assert TOKEN not in stack_config


def test_two_ctrl_c_stop_the_running_create_and_the_next_up_settles_its_backup(
    cli_project: Make, fake: FakeServer
) -> None:
    """Two Ctrl-Cs: the CLI stops at once, the provider host with it, while the
    backup runs on VPS.org outside state. The next `up` finds it by its marker
    and waits for it instead of making a second one."""
    slow_backups(fake, 6)
    before = backups(fake.app)
    project = cli_project(program(f'vps.Backup("b", server_id={SERVER})\n'))
    proc = project.start("up", "--yes", "--skip-preview")
    out = interrupt(proc, wait_for="in_progress after", times=2)
    assert proc.returncode != 0, out
    left = new_backups(fake, before)
    assert len(left) == 1 and state_ids(project) == [], out
    project.run("cancel", "--yes", ok=False)
    again = project.up()
    assert "left outside state by an earlier run of this resource" in again.out
    made = new_backups(fake, before)
    assert made == left, f"the leftover is used, not a second backup: {made}"
    assert state_ids(project) == left
    project.run("preview", "--expect-no-changes")
    # The engine remembers the interrupted create (and warns on each run) until
    # a refresh clears it; the backup is already settled, so clearing is safe.
    assert pending_operations(project) == ["creating"]
    project.run("refresh", "--yes", "--skip-preview", "--clear-pending-creates")
    assert pending_operations(project) == []
    assert state_ids(project) == left
