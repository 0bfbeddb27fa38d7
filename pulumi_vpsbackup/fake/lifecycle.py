"""What the passage of fake time does to the world.

Nothing in the fake runs in the background: these functions are applied
lazily, under the model's lock, before every operation. Each returns whether
it changed anything, so the model saves the state file only when needed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from .behaviour import Behaviour
from .entities import StoredBackup, StoredServer
from .worlds import AUTOMATIC_DESCRIPTION, size_for

__all__ = [
    "complete_backups",
    "expire_automatic",
    "finish_restores",
    "run_schedule",
    "whole_seconds",
]

SCHEDULE_HOUR_UTC = 3


def whole_seconds(value: datetime) -> datetime:
    """The documents show whole-second timestamps; keeping them whole also makes
    "newest first" ties explicit (broken by id) instead of accidental."""
    return value.replace(microsecond=0)


def run_schedule(
    servers: dict[int, StoredServer],
    backups: dict[int, StoredBackup],
    behaviour: Behaviour,
    since: datetime,
    now: datetime,
    take_id: Callable[[], int],
) -> bool:
    """Create the daily automatic backups due in ``(since, now]``."""
    if not behaviour.automatic_schedule or now <= since:
        return False
    retention = timedelta(days=behaviour.retention_days)
    # Only days whose backups would still be alive are worth creating, which
    # also bounds the work after a large jump of the clock.
    start = max(since, now - retention)
    slot = start.replace(hour=SCHEDULE_HOUR_UTC, minute=0, second=0, microsecond=0)
    if slot <= start:
        slot += timedelta(days=1)
    created = False
    while slot <= now:
        for server in sorted(servers.values(), key=lambda s: s.id):
            backup_id = take_id()
            backups[backup_id] = StoredBackup(
                id=backup_id,
                server_id=server.id,
                server_name=server.name,
                backup_type="automatic",
                status="completed",
                size_mb=size_for(server, backup_id),
                created_at=slot,
                expires_at=slot + retention,
                description=AUTOMATIC_DESCRIPTION,
                finished_at=slot,
            )
            created = True
        slot += timedelta(days=1)
    return created


def expire_automatic(backups: dict[int, StoredBackup], now: datetime) -> bool:
    """Automatic backups vanish once ``expires_at`` has passed; manual ones never do."""
    gone = [
        b.id
        for b in backups.values()
        if b.backup_type == "automatic" and b.expires_at is not None and b.expires_at <= now
    ]
    for backup_id in gone:
        del backups[backup_id]
    return bool(gone)


def _is_due(backup: StoredBackup, behaviour: Behaviour, now: datetime) -> bool:
    if behaviour.completion == "immediate":
        return True
    if behaviour.completion == "reads":
        return backup.reads >= behaviour.completion_reads
    return now >= backup.created_at + timedelta(seconds=behaviour.backup_seconds)


def complete_backups(
    servers: dict[int, StoredServer],
    backups: dict[int, StoredBackup],
    behaviour: Behaviour,
    now: datetime,
) -> bool:
    """Finish running backups whose time (or read count) has come."""
    changed = False
    for backup in backups.values():
        if backup.status != "in_progress" or not _is_due(backup, behaviour, now):
            continue
        backup.finished_at = now
        if backup.will_fail:
            backup.status = "failed"
        else:
            server = servers.get(backup.server_id)
            backup.status = "completed"
            backup.size_mb = size_for(server, backup.id) if server else 1024
        changed = True
    return changed


def finish_restores(servers: dict[int, StoredServer], now: datetime) -> bool:
    """End restores whose duration has passed: ``active`` on success, ``stopped`` on failure."""
    changed = False
    for server in servers.values():
        record = server.last_restore
        if record is None or record.status != "in_progress" or now < record.finishes_at:
            continue
        record.status = "failed" if record.will_fail else "completed"
        record.finished_at = whole_seconds(record.finishes_at)
        if server.status == "restoring":
            server.status = "stopped" if record.will_fail else "active"
        server.updated_at = record.finished_at
        changed = True
    return changed
