"""Waiting for long work: a backup to finish, a server to come back from a restore.

Both waits run one loop (:func:`.polling.poll_until` on the schedule of a
:class:`PollPolicy`, with an injected sleep and clock, so tests run them
instantly); they differ only in what one poll reads and how it is judged, using
the status words of :mod:`.status`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from .errors import (
    BackupFailedError,
    BackupVanishedError,
    RestoreFailedError,
    WaitCancelledError,
    WaitTimeoutError,
)
from .models import BackupRecord, Server
from .polling import PollPolicy, Timing, poll_until
from .status import TRANSITIONAL_SERVER_STATUSES

__all__ = ["WaitApi", "Waiter"]

logger = logging.getLogger("pulumi_vpsbackup.client")

T = TypeVar("T")


class WaitApi(Protocol):
    """The reads a wait polls; :class:`VpsClient` is one."""

    def find_backup(
        self,
        backup_id: int,
        *,
        server_id: int | None = None,
        max_age: float = 0.0,
        backup_type: str | None = None,
    ) -> BackupRecord | None: ...

    def get_server(self, server_id: int) -> Server: ...


def _notify(callback: Callable[[Any, float], None] | None, value: Any, elapsed: float) -> None:
    if callback is None:
        return
    try:
        callback(value, elapsed)
    except Exception:  # a progress reporter must not break the wait
        logger.warning("progress callback failed", exc_info=True)


@dataclass(frozen=True)
class Waiter:
    """The API to poll, the polling schedule and the seams shared by both waits."""

    api: WaitApi
    policy: PollPolicy
    timing: Timing
    redact: Callable[[str], str]

    def _wait(
        self,
        poll: Callable[[float], T],
        judge: Callable[[T, float], bool],
        *,
        timeout: float,
        on_progress: Callable[[T, float], None] | None,
        timed_out: Callable[[T, float], BaseException],
        cancelled: Callable[[T | None, float], BaseException],
        first_check_after_delay: bool = False,
    ) -> T:
        """Poll until ``judge(value, elapsed)`` says done (either may raise a failure),
        or the timing's `cancel` is set (``cancelled(last value, elapsed)`` is raised)."""

        def check(elapsed: float) -> tuple[bool, T]:
            value = poll(elapsed)
            _notify(on_progress, value, elapsed)
            return judge(value, elapsed), value

        return poll_until(
            check,
            timeout=timeout,
            policy=self.policy,
            sleep=self.timing.sleep,
            clock=self.timing.clock,
            rng=self.timing.rng,
            on_timeout=timed_out,
            first_check_after_delay=first_check_after_delay,
            cancel=self.timing.cancel,
            on_cancel=cancelled,
        )

    def backup(
        self,
        backup_id: int,
        *,
        server_id: int | None,
        timeout: float,
        on_progress: Callable[[BackupRecord, float], None] | None,
        seen: BackupRecord | None = None,
    ) -> BackupRecord:
        """See :meth:`VpsClient.wait_for_backup`."""
        last: list[BackupRecord] = [seen] if seen is not None else []

        def poll(elapsed: float) -> BackupRecord:
            # Once the backup has been seen, polls list only its server and kind
            # (one page, however many automatic backups the server keeps).
            known = last[-1] if last else None
            backup = self.api.find_backup(
                backup_id,
                server_id=known.server_id if known else server_id,
                backup_type=known.backup_type if known else None,
            )
            if backup is None:
                status = last[-1].status if last else None
                raise BackupVanishedError("backup", backup_id, status, elapsed)
            last.append(backup)
            return backup

        def judge(backup: BackupRecord, elapsed: float) -> bool:
            if backup.is_in_progress:
                return False
            if backup.is_completed:
                return True
            detail = self.redact(backup.message or "")
            raise BackupFailedError("backup", backup_id, backup.status, elapsed, detail)

        def timed_out(backup: BackupRecord, waited: float) -> BaseException:
            return WaitTimeoutError("backup", backup_id, backup.status, waited)

        def cancelled(_backup: BackupRecord | None, waited: float) -> BaseException:
            return WaitCancelledError(
                "backup", backup_id, last[-1].status if last else None, waited
            )

        return self._wait(
            poll,
            judge,
            timeout=timeout,
            on_progress=on_progress,
            timed_out=timed_out,
            cancelled=cancelled,
            first_check_after_delay=seen is not None,
        )

    def restore(
        self,
        server_id: int,
        *,
        timeout: float,
        on_progress: Callable[[Server, float], None] | None,
        backup_id: int | None,
    ) -> Server:
        """See :meth:`VpsClient.wait_for_restore`."""

        def judge(server: Server, elapsed: float) -> bool:
            record = server.restore_record
            phase = record.phase if record is not None else "unknown"
            if server.status == "restoring" or phase == "running":
                return False
            failed_ours = (
                backup_id is not None
                and record is not None
                and phase == "failed"
                and record.backup_id == backup_id
            )
            if server.status == "active" and not failed_ours:
                return True
            # VPS.org stops a server before restoring it (documented for the
            # snapshot restore), so a stopped server is only a failure once
            # the restore record says so; otherwise the deadline decides.
            if server.status in TRANSITIONAL_SERVER_STATUSES and phase not in (
                "failed",
                "succeeded",
            ):
                return False
            detail = self.redact(record.describe()) if record is not None else ""
            raise RestoreFailedError("restore", server_id, server.status, elapsed, detail)

        def timed_out(server: Server, waited: float) -> BaseException:
            return WaitTimeoutError("restore of server", server_id, server.status, waited)

        def cancelled(server: Server | None, waited: float) -> BaseException:
            status = server.status if server is not None else None
            return WaitCancelledError("restore of server", server_id, status, waited)

        return self._wait(
            lambda elapsed: self.api.get_server(server_id),
            judge,
            timeout=timeout,
            on_progress=on_progress,
            timed_out=timed_out,
            cancelled=cancelled,
        )
