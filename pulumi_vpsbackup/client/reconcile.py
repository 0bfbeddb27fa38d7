"""Resolving a POST whose outcome is unknown (the policy is in ``VpsClient``'s docstring).

:func:`create_backup_reconciled` lists the server's manual backups before
posting and again after an ambiguous failure, adopts exactly one new backup
with the same description, re-posts when there is none and raises
:class:`CreateReconciliationError` when there are several.
:func:`accept_lost_restore` decides from the server whether a restore whose
answer was lost did start; a restore is never re-posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import httpx

from .errors import ApiError, CreateReconciliationError, TransportError, VpsBackupError
from .models import Backup, RestoreResult, Server, parse_timestamp
from .settings import ClientSettings
from .waiting import restore_backup_id

__all__ = ["RESTORE_CLOCK_TOLERANCE", "accept_lost_restore", "create_backup_reconciled"]

logger = logging.getLogger("pulumi_vpsbackup.client")

#: A ``last_restore`` that started this long before our request still counts as
#: ours when a lost answer is reconciled (the API's clock may run behind ours).
RESTORE_CLOCK_TOLERANCE = timedelta(seconds=30)


def _same_description(a: str | None, b: str | None) -> bool:
    return (a or "") == (b or "")


def create_backup_reconciled(
    server_id: int,
    description: str | None,
    *,
    post: Callable[[dict[str, Any]], httpx.Response],
    read_backup: Callable[[httpx.Response], Backup],
    list_manual: Callable[[], list[Backup]],
    forget_listings: Callable[[], None],
    backoff: Callable[[int], float],
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    settings: ClientSettings,
) -> Backup:
    """Create a backup with ``POST /backups/``, reconciling an ambiguous failure.

    ``post`` sends the body, ``read_backup`` parses a 2xx answer,
    ``list_manual`` lists the server's manual backups and ``forget_listings``
    drops the server's cached listings (after every POST, whatever its outcome).
    The caller holds the server's create lock.
    """
    body: dict[str, Any] = {"server_id": int(server_id)}
    if description is not None:
        body["description"] = description
    known = {b.id for b in list_manual()}
    started = clock()
    posts = 0
    while True:
        posts += 1
        try:
            response = post(body)
        except (ApiError, TransportError) as err:
            if not err.outcome_unknown:
                raise
            ambiguous: ApiError | TransportError = err
        else:
            forget_listings()
            return read_backup(response)

        forget_listings()
        logger.warning(
            "POST /backups/ for server %s failed without a clear answer (%s); "
            "listing the server's backups to find out whether it was created",
            server_id,
            type(ambiguous).__name__,
        )
        try:
            after = list_manual()
        except VpsBackupError as list_error:
            raise CreateReconciliationError(
                server_id, [], f"listing after the failure also failed: {list_error}"
            ) from ambiguous
        new = [b for b in after if b.id not in known]
        candidates = [b for b in new if _same_description(b.description, description)]
        if len(candidates) == 1:
            logger.warning(
                "adopting backup %d of server %s created by the failed request",
                candidates[0].id,
                server_id,
            )
            return candidates[0]
        if len(candidates) > 1:
            raise CreateReconciliationError(
                server_id, sorted(b.id for b in candidates)
            ) from ambiguous
        known |= {b.id for b in after}
        delay = backoff(posts)
        if posts >= settings.max_attempts or clock() - started + delay > settings.max_retry_seconds:
            raise ambiguous
        logger.info("no backup was created; sending the request again in %.2f s", delay)
        sleep(delay)


def accept_lost_restore(
    server_id: int, backup_id: int, requested_at: datetime, server: Server
) -> RestoreResult | None:
    """An ``accepted`` result if ``server`` shows the restore began, else None.

    ``server`` was read after a restore of ``backup_id`` requested at
    ``requested_at`` failed without a clear answer. The restore counts as
    started when the server is ``restoring``, or its ``last_restore`` names this
    backup and started no earlier than ``requested_at`` (less
    ``RESTORE_CLOCK_TOLERANCE``).
    """
    last = server.last_restore or {}
    last_started = parse_timestamp(
        last.get("started_at") or last.get("requested_at") or last.get("created_at")
    )
    ours = (
        restore_backup_id(last) == backup_id
        and last_started is not None
        and last_started >= requested_at - RESTORE_CLOCK_TOLERANCE
    )
    if server.status != "restoring" and not ours:
        return None
    logger.warning(
        "restore of server %s: the answer was lost but the server shows the restore "
        "started (status %s)",
        server_id,
        server.status,
    )
    return RestoreResult(
        status="accepted",
        message="the response was lost; the server's state shows the restore started",
        server_id=server_id,
        server_status=server.status,
        backup_id=backup_id,
    )
