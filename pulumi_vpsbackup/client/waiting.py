"""Waiting for long work: a backup to finish, a server to come back from a restore.

The loops poll through the callables they are given (``VpsClient.find_backup``,
``VpsClient.get_server``) on the schedule of a :class:`PollPolicy`, with an
injected sleep and clock, so tests run them instantly.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import BackupFailedError, BackupVanishedError, RestoreFailedError, WaitTimeoutError
from .models import Backup, Server
from .polling import PollPolicy, poll_until

__all__ = ["Waiter", "restore_backup_id"]

logger = logging.getLogger("pulumi_vpsbackup.client")

TRANSITIONAL_SERVER_STATUSES = frozenset({"stopped", "stopping", "starting", "rebooting"})
RUNNING_RESTORE_STATUSES = frozenset({"restoring", "in_progress", "pending", "queued", "running"})
FAILED_STATUSES = frozenset({"failed", "error", "errored", "cancelled", "canceled"})


def restore_backup_id(last_restore: Mapping[str, Any]) -> int | None:
    """The backup a ``last_restore`` record names (``backup_id`` or ``backup.id``)."""
    raw = last_restore.get("backup_id")
    if raw is None and isinstance(last_restore.get("backup"), Mapping):
        raw = last_restore["backup"].get("id")
    try:
        return int(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        return None


def _describe_restore(last_restore: Mapping[str, Any] | None) -> str:
    if not last_restore:
        return ""
    parts = [f"{k}={last_restore[k]}" for k in sorted(last_restore) if last_restore[k] is not None]
    return "last_restore: " + ", ".join(parts)


def _notify(callback: Callable[[Any, float], None] | None, value: Any, elapsed: float) -> None:
    if callback is None:
        return
    try:
        callback(value, elapsed)
    except Exception:  # a progress reporter must not break the wait
        logger.warning("progress callback failed", exc_info=True)


@dataclass(frozen=True)
class Waiter:
    """The polling schedule and seams shared by both waits."""

    policy: PollPolicy
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    rng: random.Random | None
    redact: Callable[[str], str]

    def backup(
        self,
        find: Callable[[int, int | None], Backup | None],
        backup_id: int,
        *,
        server_id: int | None,
        timeout: float,
        on_progress: Callable[[Backup, float], None] | None,
    ) -> Backup:
        """See :meth:`VpsClient.wait_for_backup`."""
        last: list[Backup] = []
        known_server = [server_id]

        def check(elapsed: float) -> tuple[bool, Backup | None]:
            backup = find(backup_id, known_server[0])
            if backup is None:
                raise BackupVanishedError(
                    "backup", backup_id, last[-1].status if last else None, elapsed
                )
            last.append(backup)
            known_server[0] = backup.server_id  # later polls list only its server
            _notify(on_progress, backup, elapsed)
            if backup.is_in_progress:
                return False, backup
            if backup.status == "completed":
                return True, backup
            detail = self.redact(backup.message or "")
            raise BackupFailedError("backup", backup_id, backup.status, elapsed, detail)

        def timed_out(backup: Backup | None, waited: float) -> BaseException:
            return WaitTimeoutError("backup", backup_id, backup.status if backup else None, waited)

        done = poll_until(
            check,
            timeout=timeout,
            policy=self.policy,
            sleep=self.sleep,
            clock=self.clock,
            rng=self.rng,
            on_timeout=timed_out,
        )
        assert done is not None
        return done

    def restore(
        self,
        get_server: Callable[[int], Server],
        server_id: int,
        *,
        timeout: float,
        on_progress: Callable[[Server, float], None] | None,
        backup_id: int | None,
    ) -> Server:
        """See :meth:`VpsClient.wait_for_restore`."""

        def check(elapsed: float) -> tuple[bool, Server]:
            server = get_server(server_id)
            _notify(on_progress, server, elapsed)
            last = server.last_restore or {}
            restore_status = str(last.get("status") or "").lower()
            if server.status == "restoring" or restore_status in RUNNING_RESTORE_STATUSES:
                return False, server
            failed_ours = (
                backup_id is not None
                and restore_status in FAILED_STATUSES
                and restore_backup_id(last) == backup_id
            )
            if server.status == "active" and not failed_ours:
                return True, server
            # VPS.org stops a server before restoring it (documented for the
            # snapshot restore), so a stopped server is only a failure once
            # the restore record says so; otherwise the deadline decides.
            if server.status in TRANSITIONAL_SERVER_STATUSES and restore_status not in (
                FAILED_STATUSES | {"completed", "success", "succeeded"}
            ):
                return False, server
            detail = self.redact(_describe_restore(last))
            raise RestoreFailedError("restore", server_id, server.status, elapsed, detail)

        def timed_out(server: Server, waited: float) -> BaseException:
            return WaitTimeoutError("restore of server", server_id, server.status, waited)

        return poll_until(
            check,
            timeout=timeout,
            policy=self.policy,
            sleep=self.sleep,
            clock=self.clock,
            rng=self.rng,
            on_timeout=timed_out,
        )
