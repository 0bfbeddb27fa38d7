"""Ctrl-C during `tofu apply`: the running backup is handed to state, never orphaned.

OpenTofu sends StopProvider on an interrupt and waits for the calls in flight.
The provider stops its wait at once; a create that already started a backup
returns it with an error, and OpenTofu keeps it in state, tainted (VPS.org
refuses to delete a running backup, so handing it over is the only way to
leave nothing outside state). The next apply replaces it: no duplicate, no
orphan.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve

from .conftest import TOKEN
from .harness import REQUIRED, Tofu, clean_env, provider_block


@pytest.fixture
def slow_fake(tofu_bin: str) -> Iterator[FakeServer]:
    """Backups take an hour of fake time, which stands still until the test moves it."""
    clock = FakeClock(scale=0)
    app = FakeVps(token=TOKEN, clock=clock, backup_seconds=3600, restore_seconds=0)
    with serve(app) as server:
        yield server


def _manual(fake: FakeServer, server_id: int) -> list[dict[str, object]]:
    return [
        b
        for b in fake.app.state()["backups"]
        if b["backup_type"] == "manual" and b["server"]["id"] == server_id
    ]


def _posted(fake: FakeServer) -> bool:
    return any(
        r.get("method") == "POST" and "/backups" in str(r.get("path")) for r in fake.app.requests()
    )


def interrupted_apply(tofu: Tofu, fake: FakeServer, sig: int, *args: str) -> tuple[int, str]:
    """`tofu apply ARGS`, sent `sig` to its whole process group once it has asked
    VPS.org for a backup (as Ctrl-C at a terminal, or a CI runner cancelling a job,
    would); its exit code and stdout."""
    fake.app.clear_requests()
    env = clean_env(
        {
            "TF_CLI_CONFIG_FILE": str(tofu.cli_config),
            "TF_DATA_DIR": str(tofu.workdir / ".tofu-data"),
        }
    )
    proc = subprocess.Popen(
        [tofu.binary, "apply", "-auto-approve", "-input=false", "-no-color", *args],
        cwd=tofu.workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not _posted(fake):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the backup was never requested"
            time.sleep(0.1)
        os.killpg(proc.pid, sig)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    return proc.returncode, out


# Ctrl-C at a terminal, and SIGTERM to the process group (how CI runners cancel a
# job): OpenTofu takes both as an interrupt and asks the provider to stop.
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_ctrl_c_keeps_the_running_backup_in_state_and_the_next_apply_replaces_it(
    slow_fake: FakeServer, tofu: Tofu, tmp_path: Path, sig: signal.Signals
) -> None:
    fake = slow_fake
    before = {b["id"] for b in fake.app.state()["backups"]}
    tofu.write(
        REQUIRED
        + provider_block(fake.url, TOKEN)
        + 'resource "vpsbackup_backup" "pre" {\n  server_id = 12345\n}\n'
    )
    code, out = interrupted_apply(tofu, fake, sig)
    assert code != 0
    assert "Interrupt received" in out
    made = [b for b in fake.app.state()["backups"] if b["id"] not in before]
    assert len(made) == 1 and made[0]["status"] == "in_progress", made
    shown = tofu.run("state", "show", "vpsbackup_backup.pre").stdout
    assert "# vpsbackup_backup.pre: (tainted)" in shown
    assert f'id                  = "{made[0]["id"]}"' in shown

    fake.app.advance(3600)  # the backup finishes
    fake.app.set_behaviour(backup_seconds=0)
    again = tofu.apply().stdout
    assert "Resources: 1 added, 0 changed, 1 destroyed." in again
    now = [b for b in fake.app.state()["backups"] if b["id"] not in before]
    assert len(now) == 1 and now[0]["id"] != made[0]["id"], now
    assert tofu.resources()["vpsbackup_backup.pre"]["id"] == str(now[0]["id"])


def test_a_create_timeout_fails_naming_the_timeout_and_leaves_nothing_outside_state(
    slow_fake: FakeServer, tofu: Tofu
) -> None:
    fake = slow_fake
    before = {b["id"] for b in fake.app.state()["backups"]}
    tofu.write(
        REQUIRED
        + provider_block(fake.url, TOKEN)
        + 'resource "vpsbackup_backup" "pre" {\n  server_id = 12345\n'
        + '  timeouts { create = "2s" }\n}\n'
    )
    out = tofu.apply(check=False)
    assert out.returncode == 1
    assert "Error: Timed out waiting for backup" in out.stderr, out.stderr
    assert "kept in state, tainted" in out.stderr
    assert "pulumi" not in out.stderr.lower()
    made = [b for b in fake.app.state()["backups"] if b["id"] not in before]
    # VPS.org refuses to delete the running backup: it is in state, never outside.
    assert len(made) == 1 and made[0]["status"] == "in_progress", made
    shown = tofu.run("state", "show", "vpsbackup_backup.pre").stdout
    assert "# vpsbackup_backup.pre: (tainted)" in shown
    assert f'id                  = "{made[0]["id"]}"' in shown

    fake.app.advance(3600)
    fake.app.set_behaviour(backup_seconds=0)
    tofu.apply()
    now = [b for b in fake.app.state()["backups"] if b["id"] not in before]
    assert len(now) == 1 and now[0]["id"] != made[0]["id"], now


def test_a_fleet_that_fails_on_one_server_keeps_the_other_in_state(
    slow_fake: FakeServer, tofu: Tofu
) -> None:
    fake = slow_fake
    before = {b["id"] for b in fake.app.state()["backups"]}
    fake.app.set_behaviour(backup_seconds=0)
    # The second server is full (10 manual backups): VPS.org refuses its backup.
    full = [
        fake.app.seed_backup(server_id=12346, backup_type="manual", description="old")["id"]
        for _ in range(10 - len(_manual(fake, 12346)))
    ]
    before |= set(full)
    tofu.write(
        REQUIRED
        + provider_block(fake.url, TOKEN)
        + 'resource "vpsbackup_backup_fleet" "all" {\n  server_ids = [12345, 12346]\n}\n'
    )
    out = tofu.apply(check=False)
    assert out.returncode == 1, out.stdout
    err = " ".join(out.stderr.split())
    assert "1 of 2 backup(s) did not complete" in err, out.stderr
    assert "server 12346: not started" in err, out.stderr
    assert "kept in state, tainted" in err and "pulumi" not in err.lower(), out.stderr
    made = [b for b in fake.app.state()["backups"] if b["id"] not in before]
    in_state = tofu.resources().get("vpsbackup_backup_fleet.all")
    assert made, out.stderr
    assert in_state is not None, out.stderr
    assert {int(i) for i in in_state["backup_ids"].values()} == {b["id"] for b in made}
    for backup_id in full:
        fake.app.remove_backup(backup_id)
    tofu.apply()
    now = [b for b in fake.app.state()["backups"] if b["id"] not in before]
    assert len(now) == 2 and not {b["id"] for b in now} & {b["id"] for b in made}, now


def _rotation_with_one_backup(fake: FakeServer, tofu: Tofu, keep: int, more: str = "") -> int:
    """A rotation of server 12346 (`triggers = [var.release]`), applied once with
    release=1 while backups finish at once; the id of its one backup."""
    fake.app.set_behaviour(backup_seconds=0)
    tofu.write(
        REQUIRED
        + provider_block(fake.url, TOKEN)
        + 'variable "release" { type = string }\n'
        + 'resource "vpsbackup_backup_rotation" "r" {\n'
        + f"  server_id = 12346\n  keep = {keep}\n  triggers = [var.release]\n  {more}\n}}\n"
    )
    tofu.apply("-var", "release=1")
    [first] = _members(tofu)
    return first


def _members(tofu: Tofu) -> list[int]:
    return [int(i) for i in tofu.resources()["vpsbackup_backup_rotation.r"]["backup_ids"]]


def test_a_rotation_update_that_times_out_keeps_its_new_backup_in_state(
    slow_fake: FakeServer, tofu: Tofu
) -> None:
    fake = slow_fake
    first = _rotation_with_one_backup(fake, tofu, keep=2, more='timeouts { update = "2s" }')
    before = {b["id"] for b in _manual(fake, 12346)}
    fake.app.set_behaviour(backup_seconds=3600)
    out = tofu.apply("-var", "release=2", check=False)
    assert out.returncode == 1
    assert "Error: Timed out waiting for backup" in out.stderr, out.stderr
    made = [b for b in _manual(fake, 12346) if b["id"] not in before]
    assert len(made) == 1 and made[0]["status"] == "in_progress", made
    err = " ".join(out.stderr.split())
    assert f"now holds backup_ids [{made[0]['id']}, {first}]" in err, out.stderr
    assert "not in state" not in err and "pulumi" not in err.lower(), out.stderr
    # VPS.org refuses to delete the running backup: the rotation holds it.
    held = _members(tofu)
    assert held == [made[0]["id"], first], out.stderr
    fake.app.advance(3600)
    fake.app.set_behaviour(backup_seconds=0)
    # A later release adds one more and deletes the oldest: nothing orphaned.
    tofu.apply("-var", "release=3")
    final = _members(tofu)
    assert final[1] == made[0]["id"] and len(final) == 2
    assert {b["id"] for b in _manual(fake, 12346)} == (before - {first}) | set(final)


def test_ctrl_c_during_a_rotation_update_keeps_its_new_backup_in_state(
    slow_fake: FakeServer, tofu: Tofu
) -> None:
    fake = slow_fake
    first = _rotation_with_one_backup(fake, tofu, keep=1)
    before = {b["id"] for b in _manual(fake, 12346)}
    fake.app.set_behaviour(backup_seconds=3600)
    code, out = interrupted_apply(tofu, fake, signal.SIGINT, "-var", "release=2")
    assert code != 0 and "Interrupt received" in out
    made = [b for b in _manual(fake, 12346) if b["id"] not in before]
    assert len(made) == 1 and made[0]["status"] == "in_progress", made
    # Nothing was pruned (the new one never finished), and nothing is outside state.
    held = _members(tofu)
    assert held == [made[0]["id"], first]
    fake.app.advance(3600)
    tofu.apply("-var", "release=2")
    final = _members(tofu)
    assert final == [made[0]["id"]], "the next apply prunes to keep = 1, adding nothing"
    assert {b["id"] for b in _manual(fake, 12346)} == (before - {first}) | {made[0]["id"]}
