"""Resolving a POST whose outcome is unknown (the policy is in ``VpsClient``'s docstring).

:func:`create_backup_reconciled` marks every POST's description with a
random marker (:mod:`.marker`); after an ambiguous failure it lists the
server's manual backups and adopts only the backup that carries one of its
markers, re-posts when none does and raises :class:`CreateReconciliationError`
when there are several or the listing fails too.
:func:`accept_lost_restore` decides from the server whether a restore whose
answer was lost did start; a restore is never re-posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from .errors import ApiError, CreateReconciliationError, TransportError, VpsBackupError
from .marker import Marker, parse_marker, strip_marker, with_marker
from .models import BackupRecord, RestoreResult, Server
from .polling import Timing
from .settings import ClientSettings

__all__ = ["CreateApi", "Pacing", "accept_lost_restore", "create_backup_reconciled"]

logger = logging.getLogger("pulumi_vpsbackup.client")


class Pacing(Protocol):
    """The retry pause and the clocks (the client's :class:`HttpSession`)."""

    timing: Timing

    def backoff(self, retry: int) -> float: ...


class CreateApi(Protocol):
    """What reconciling a create needs from the client; :class:`VpsClient` is one.

    ``_pacing`` is the transport's retry pause and clocks; ``_send_create``
    sends one ``POST /backups/`` and parses its 2xx answer, dropping the
    server's cached listings whatever the outcome. Both are the client's own
    (underscored): only this module calls them.
    """

    settings: ClientSettings

    @property
    def _pacing(self) -> Pacing: ...

    def list_backups(
        self,
        *,
        server_id: int | None = None,
        backup_type: str | None = None,
        max_age: float = 0.0,
    ) -> list[BackupRecord]: ...

    def _send_create(self, server_id: int, body: dict[str, Any]) -> BackupRecord: ...


def create_backup_reconciled(
    api: CreateApi,
    server_id: int,
    description: str | None,
    *,
    resource_key: str | None = None,
    new_marker: Callable[[str | None], Marker] = Marker.new,
) -> BackupRecord:
    """Create a backup with ``POST /backups/``, reconciling an ambiguous failure.

    Every POST sends ``description`` followed by a fresh :class:`Marker` (see
    :mod:`.marker`). After a failure whose outcome is unknown, the server's
    manual backups are listed: the one backup carrying one of this create's
    markers is adopted (that is the proof); when none carries one, the
    request did not take effect and is sent again; several raise
    :class:`CreateReconciliationError` naming them. Backups with the same
    description but without this create's marker (another stack's, a
    person's) are never adopted, only named in the log.

    The caller holds the server's create lock.
    """
    pacing = api._pacing
    clock, settings = pacing.timing.clock, api.settings
    sent: list[Marker] = []
    started = clock()
    posts = 0
    while True:
        posts += 1
        marker = new_marker(resource_key)
        sent.append(marker)
        body: dict[str, Any] = {
            "server_id": int(server_id),
            "description": with_marker(description, marker),
        }
        try:
            return api._send_create(server_id, body)
        except (ApiError, TransportError) as err:
            if not err.outcome_unknown:
                raise
            ambiguous: ApiError | TransportError = err

        logger.warning(
            "POST /backups/ for server %s failed without a clear answer (%s); "
            "listing the server's backups for the marker %s",
            server_id,
            type(ambiguous).__name__,
            marker,
        )
        try:
            after = api.list_backups(server_id=server_id, backup_type="manual")
        except VpsBackupError as list_error:
            raise CreateReconciliationError(
                server_id,
                [],
                f"listing after the failure also failed: {list_error}",
                marker=str(marker),
                resource_key=resource_key,
            ) from ambiguous
        ours = [b for b in after if parse_marker(b.description) in sent]
        if len(ours) == 1:
            logger.warning(
                "adopting backup %d of server %s: its description carries the marker %s "
                "of the request whose answer was lost",
                ours[0].id,
                server_id,
                parse_marker(ours[0].description),
            )
            return ours[0]
        if len(ours) > 1:
            raise CreateReconciliationError(
                server_id,
                sorted(b.id for b in ours),
                marker=str(marker),
                resource_key=resource_key,
            ) from ambiguous
        lookalikes = [
            b.id
            for b in after
            if (strip_marker(b.description) or "") == (description or "") and b.is_in_progress
        ]
        if lookalikes:
            logger.warning(
                "backups %s of server %s have the same description but not the marker %s: "
                "they are not this create's and are left alone",
                ", ".join(str(i) for i in lookalikes),
                server_id,
                marker,
            )
        delay = pacing.backoff(posts)
        elapsed = clock() - started
        if posts >= settings.max_attempts or elapsed + delay > settings.max_retry_seconds:
            raise ambiguous
        logger.info(
            "no backup carries the marker %s, so the request did not take effect; "
            "sending it again in %.2f s",
            marker,
            delay,
        )
        pacing.timing.sleep(delay)


def accept_lost_restore(
    server_id: int, backup_id: int, requested_at: datetime, server: Server
) -> RestoreResult | None:
    """An ``accepted`` result if ``server`` shows the restore began, else None.

    ``server`` was read after a restore of ``backup_id`` requested at
    ``requested_at`` failed without a clear answer. The restore counts as
    started when the server is ``restoring``, or its ``last_restore`` names this
    backup and started no earlier than ``requested_at`` (less
    :data:`.status.RESTORE_CLOCK_TOLERANCE`).
    """
    record = server.restore_record
    # Here a record without a start time proves nothing: it may be an old one.
    ours = (
        record is not None
        and record.started_at is not None
        and record.may_be(backup_id, requested_at)
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
        message=(
            "the answer was lost or could not be read; the server's state shows the restore started"
        ),
        server_id=server_id,
        server_status=server.status,
        backup_id=backup_id,
    )
