"""The one classification of status words and the one reading of a restore record."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pulumi_vpsbackup.client import (
    BackupRecord,
    RestoreRecord,
    Server,
    status_phase,
)
from pulumi_vpsbackup.client.status import RESTORE_CLOCK_TOLERANCE

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("word", "phase"),
    [
        ("in_progress", "running"),
        ("queued", "running"),
        ("Pending ", "running"),
        ("restoring", "running"),
        ("completed", "succeeded"),
        ("SUCCESS", "succeeded"),
        ("failed", "failed"),
        ("cancelled", "failed"),
        ("", "unknown"),
        ("archived", "unknown"),
        (None, "unknown"),
    ],
)
def test_status_phase(word: object, phase: str) -> None:
    assert status_phase(word) == phase


@pytest.mark.parametrize(
    ("status", "in_progress", "completed"),
    [
        ("in_progress", True, False),
        ("queued", True, False),  # waited on by wait_for_backup, so restorable after a wait
        ("completed", False, True),
        ("failed", False, False),
        ("archived", False, False),
    ],
)
def test_a_backup_reads_its_phase_from_the_one_classification(
    status: str, in_progress: bool, completed: bool
) -> None:
    backup = BackupRecord.from_dict({"id": 1, "server": 3, "status": status})
    assert (backup.is_in_progress, backup.is_completed) == (in_progress, completed)


def test_restore_record_reads_either_backup_spelling_and_the_first_start_time() -> None:
    nested = RestoreRecord.from_dict(
        {"backup": {"id": "499"}, "status": "Completed", "requested_at": "2026-12-01T12:00:00Z"}
    )
    assert nested is not None
    assert (nested.backup_id, nested.status, nested.phase) == (499, "completed", "succeeded")
    assert nested.started_at == T0
    flat = RestoreRecord.from_dict(
        {"backup_id": 7, "started_at": "junk", "created_at": "2026-12-01T11:00:00Z"}
    )
    assert flat is not None
    assert (flat.backup_id, flat.started_at, flat.phase) == (7, None, "unknown")
    assert RestoreRecord.from_dict(None) is None
    assert RestoreRecord.from_dict({}) is None
    assert RestoreRecord.from_dict("restoring") is None


def test_restore_record_may_be_a_request_only_for_its_backup_and_not_before_it() -> None:
    record = RestoreRecord.from_dict({"backup_id": 499, "started_at": "2026-12-01T12:00:00Z"})
    assert record is not None
    assert record.may_be(499, T0)
    assert record.may_be(499, "2026-12-01T12:00:00Z")
    assert record.may_be(499, T0 + RESTORE_CLOCK_TOLERANCE)  # the API's clock runs behind
    assert not record.may_be(499, T0 + RESTORE_CLOCK_TOLERANCE + timedelta(seconds=1))
    assert not record.may_be(500, T0)
    assert record.may_be(499, None)  # no request time: the backup decides


def test_a_server_parses_its_last_restore_once() -> None:
    server = Server.from_dict(
        {"id": 9, "status": "stopped", "last_restore": {"backup_id": 1, "status": "failed"}}
    )
    record = server.restore_record
    assert record is not None and record.phase == "failed"
    assert record.describe() == "last_restore: backup_id=1, status=failed"
    assert server.to_dict()["last_restore"] == {"backup_id": 1, "status": "failed"}
    assert Server.from_dict({"id": 9}).restore_record is None
