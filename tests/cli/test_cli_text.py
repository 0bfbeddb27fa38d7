"""What a user reads in the real CLI's output, for each way a deploy can go wrong.

Each test runs `pulumi` as a user types it and asserts on its text: the error
block of the resource (Pulumi's "Diagnostics" section) starts with what went
wrong and what to do, stays short, and carries no Python traceback; warnings
and progress lines arrive while the work happens, not only at the end.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import BACKUP, backups
from vpsbackup_dev.cli_project import CliProject

pytestmark = pytest.mark.cli

Make = Callable[..., CliProject]
SERVER = 12345  # web-server-01 in the demo world
OTHER = 12346  # db-server-01

# The engine's own lines in a failed update's stack block: not ours to shorten.
ENGINE_NOISE = {"error: update failed", "error: Resource monitor has terminated, shutting down"}


def diagnostics(out: str, type_: str, name: str) -> list[str]:
    """The lines of one resource's block in the CLI's "Diagnostics:" section."""
    lines = out.splitlines()
    try:
        start = lines.index("Diagnostics:")
    except ValueError:
        return []
    header = f"  {type_} ({name}):"
    block: list[str] = []
    inside = False
    for line in lines[start + 1 :]:
        if line == header:
            inside = True
            continue
        if inside:
            if not line.strip() or not line.startswith("    "):
                break
            block.append(line.strip())
    return block


def stack_messages(out: str) -> list[str]:
    lines = out.splitlines()
    if "Diagnostics:" not in lines:
        return []
    found = []
    inside = False
    for line in lines[lines.index("Diagnostics:") + 1 :]:
        if line.startswith("  pulumi:pulumi:Stack ("):
            inside = True
            continue
        if inside:
            if line.startswith("  ") and not line.startswith("    ") and line.strip():
                break
            if line.strip():
                found.append(line.strip())
    return found


def assert_short_error(block: list[str], *needles: str) -> None:
    assert block, "the resource has no error block"
    print("\n".join(block))  # `pytest -s` shows what users read
    first = block[0]
    assert first.startswith("error: "), block
    for needle in needles:
        assert needle in first, f"{needle!r} not in the first line: {first}"
    assert len(block) <= 3, "\n".join(block)
    assert not any("Traceback" in line or 'File "' in line for line in block), "\n".join(block)


def one_backup(server: int | str, **extra: str) -> str:
    args = "".join(f", {k}={v}" for k, v in extra.items())
    return f"""
        import pulumi_vpsbackup as vps
        vps.Backup("b", server_id={server}, description="cli text"{args})
    """


def test_a_waiting_create_relays_its_progress_while_it_waits(
    cli_project: Make, fake: FakeServer
) -> None:
    fake.app.set_behaviour(completion="time", backup_seconds=3)
    fake.app.set_time_scale(1)
    project = cli_project(one_backup(SERVER))
    out = project.up().out
    lines = out.splitlines()
    waiting = [
        i
        for i, line in enumerate(lines)
        if re.search(r"vpsbackup: backup \d+ .* in_progress after", line)
    ]
    created = [i for i, line in enumerate(lines) if f"{BACKUP} b created" in line]
    assert waiting and created, out
    # Relayed as it happens: the waiting lines come before the resource's "created".
    assert waiting[0] < created[0], out
    # ... attributed by the CLI to the stack, not the resource (the host's stderr).
    assert "pulumi:pulumi:Stack" in lines[waiting[0]], lines[waiting[0]]


def test_an_unknown_server_fails_at_preview_naming_the_field(cli_project: Make) -> None:
    project = cli_project(one_backup(99999))
    ran = project.preview(ok=False)
    assert ran.code != 0
    block = diagnostics(ran.out, BACKUP, "b")
    assert_short_error(block, "server_id", "server 99999 does not exist", "12345 (web-server-01)")


def test_an_unknown_server_fails_at_up_before_anything_is_made(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(one_backup(99999))
    ran = project.up(ok=False)
    assert ran.code != 0
    assert_short_error(diagnostics(ran.out, BACKUP, "b"), "server_id", "does not exist")
    assert backups(fake.app) == before


def test_bad_input_fails_at_preview_naming_the_field_and_what_is_allowed(
    cli_project: Make,
) -> None:
    project = cli_project(one_backup(SERVER, timeout='"soon"'))
    ran = project.preview(ok=False)
    assert ran.code != 0
    block = diagnostics(ran.out, BACKUP, "b")
    assert_short_error(block, "property timeout")


def test_a_full_server_warns_at_preview_and_the_refusal_says_what_to_do(
    cli_project: Make, fake: FakeServer
) -> None:
    for i in range(10):
        fake.app.seed_backup(server_id=OTHER, backup_type="manual", description=f"kept {i}")
    before = backups(fake.app)
    project = cli_project(one_backup(OTHER))

    preview = project.preview()
    warning = [m for m in stack_messages(preview.out) if "warning" in m]
    assert warning and "already has 10 manual backups" in warning[0], preview.out
    assert "delete_before_replace" in warning[0]

    ran = project.up(ok=False)
    assert ran.code != 0
    assert_short_error(
        diagnostics(ran.out, BACKUP, "b"),
        "limit of 10 manual backups",
        "Delete one you no longer need, then run `pulumi up` again",
        "delete_before_replace",
    )
    assert backups(fake.app) == before, "a refused create leaves nothing behind"


def test_a_wait_timeout_names_the_backup_and_one_next_step(
    cli_project: Make, fake: FakeServer
) -> None:
    fake.app.set_behaviour(completion="time", backup_seconds=600, delete_in_progress="allow")
    fake.app.set_time_scale(1)
    before = backups(fake.app)
    project = cli_project(one_backup(SERVER, timeout='"2s"'))
    ran = project.up(ok=False)
    assert ran.code != 0
    block = diagnostics(ran.out, BACKUP, "b")
    assert_short_error(block, "Timed out", "backup")
    # One true next step: the backup was deleted, so nothing is "picked up" later.
    assert "was deleted" in block[0] and "pick it up" not in block[0]
    assert block[0].count("pulumi up") == 1, block[0]
    assert backups(fake.app) == before, "the timed-out backup is not left behind"


def test_a_missing_token_warns_at_preview_and_fails_up_with_the_command_to_fix_it(
    cli_project: Make, fake: FakeServer
) -> None:
    before = backups(fake.app)
    project = cli_project(one_backup(SERVER), token="")
    preview = project.preview()
    assert any("vpsbackup:apiToken" in m for m in stack_messages(preview.out)), preview.out

    ran = project.up(ok=False)
    assert ran.code != 0
    block = diagnostics(ran.out, BACKUP, "b")
    assert_short_error(
        block, "No VPS.org API token", "pulumi config set --secret vpsbackup:apiToken"
    )
    assert not {m for m in stack_messages(ran.out) if m.startswith("error:")} - ENGINE_NOISE
    assert backups(fake.app) == before


def test_a_refused_value_is_echoed_escaped_and_cut_not_raw(cli_project: Make) -> None:
    # A bidirectional override and 100,000 more characters, where a duration belongs.
    project = cli_project(one_backup(SERVER, timeout='"\\u202e" + "9" * 100000'))
    ran = project.preview(ok=False)
    assert ran.code != 0
    block = diagnostics(ran.out, BACKUP, "b")
    assert_short_error(block, "timeout: must be a duration")
    assert "\u202e" not in ran.out, "the override character reached the terminal raw"
    assert "\\u202e" in block[0] and "100001 characters" in block[0], block[0]
    longest = max(len(line) for line in ran.out.splitlines())
    assert longest < 1000, f"a {longest}-character line reached the terminal"
