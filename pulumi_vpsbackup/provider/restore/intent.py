"""Whether a `Restore`'s create is a new intent or a repeat of one already sent.

The API keeps per server one `last_restore` record and no mark of who asked,
so a create can only prove that a record is *not* its own, and adopts the rest
(waits for or records it instead of restoring again): see :func:`decide` for
the rules. What the user sees: docs/resources.md, `Restore`.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from ...client import Server
from ...client.models import RestoreRecord, parse_timestamp
from ...client.status import RESTORE_CLOCK_TOLERANCE
from ..core import validation as v

__all__ = [
    "RETRY_WINDOW",
    "Decision",
    "decide",
    "intent_key",
    "peek_superseded",
    "remember_superseded",
    "superseded_point",
    "take_superseded",
]

#: How long after its start a finished restore of the same backup is still
#: taken as the one an interrupted run of this resource sent.
RETRY_WINDOW = timedelta(hours=24)

# Diff is the only call that sees the old resource's outputs. The create of the
# replacement that follows in the same provider process takes the old restore's
# point from here (keyed by the new inputs, `intent_key`), and the check the
# engine runs again between them peeks at it, so that preview says what create
# will do.
_superseded: dict[str, datetime] = {}
_lock = threading.Lock()


def api_time(value: datetime) -> str:
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def intent_key(server_id: Any, backup_id: Any, triggers: Any) -> str:
    """What a replacement's diff and its create both know of the new intent."""
    return json.dumps(
        [v.canonical(server_id), v.canonical(backup_id), v.canonical(triggers) or None],
        sort_keys=True,
        default=repr,
    )


def superseded_point(old_outputs: dict[str, Any]) -> datetime | None:
    """The latest time the restore a resource recorded can have started, by VPS.org's clock.

    That is `restore_started_at` (VPS.org's clock, so clock skew plays no
    part), or for a state written before that output existed, `restored_at`
    (our clock) plus :data:`~pulumi_vpsbackup.client.status.RESTORE_CLOCK_TOLERANCE`.
    """
    started = parse_timestamp(old_outputs.get("restore_started_at"))
    if started is not None:
        return started
    requested = parse_timestamp(old_outputs.get("restored_at"))
    return requested + RESTORE_CLOCK_TOLERANCE if requested is not None else None


def remember_superseded(key: str, point: datetime) -> None:
    with _lock:
        _superseded[key] = point


def take_superseded(key: str) -> datetime | None:
    with _lock:
        return _superseded.pop(key, None)


def peek_superseded(key: str) -> datetime | None:
    """What :func:`take_superseded` will give, for the check the engine runs again
    (with no olds) between a replacement's diff and its create."""
    with _lock:
        return _superseded.get(key)


@dataclass(frozen=True)
class Decision:
    """What create does: adopt `record`, or request a new restore (record None)."""

    record: RestoreRecord | None
    why: str  # for the user: why the server's last restore was or was not taken


def decide(
    server: Server, backup_id: int, *, superseded: datetime | None, now: datetime
) -> Decision:
    """Adopt the server's restore record as this create's restore, or not.

    The record is adopted (waited for, recorded) instead of sending another
    restore when:

    * it names this backup, is still running or succeeded (a failed one is
      retried, as a failed create always was), and has a start time;
    * it started after `superseded`, the restore this create replaces (a
      changed `triggers` or `backup_id`), when there is one: the old
      resource's own record, or any older one, never stands in for a new
      intent (:func:`superseded_point` says how that point is found);
    * and, unless it is still running, it started less than
      :data:`RETRY_WINDOW` before `now`: the time in which a run killed after
      VPS.org accepted its restore is taken to be retried.

    A still-running restore of this backup is adopted within those bounds
    whatever its age: VPS.org refuses a second restore of a server that is
    restoring, and when the running one ends the server holds that backup.
    """
    record = server.restore_record
    if record is None or record.backup_id != backup_id:
        return Decision(None, "")
    started = record.started_at
    when = f"started at {api_time(started)} by VPS.org's clock" if started else "no start time"
    mine = f"the server's last restore, from backup {backup_id} ({when}, {record.status or '?'})"
    running = record.phase == "running" or (
        server.status == "restoring" and record.phase == "unknown"
    )
    if started is None:
        return Decision(None, f"{mine} cannot be told apart from an older one")
    if record.phase == "failed" or not (running or record.phase == "succeeded"):
        return Decision(None, f"{mine} did not succeed")
    if superseded is not None and started <= superseded:
        return Decision(
            None,
            f"{mine} is the one this resource recorded before (or older): triggers or "
            "backup_id changed, which asks for a new restore",
        )
    if not running and started < now - RETRY_WINDOW - RESTORE_CLOCK_TOLERANCE:
        hours = RETRY_WINDOW.total_seconds() / 3600
        return Decision(
            None, f"{mine} began more than {hours:.0f}h ago, too long ago to be an interrupted run"
        )
    return Decision(record, mine)
