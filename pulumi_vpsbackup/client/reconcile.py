"""Resolving a POST whose outcome is unknown (the policy is in ``VpsClient``'s docstring).

:func:`create_backup_reconciled` marks every POST's description with a
random marker (:mod:`.marker`); after an ambiguous failure it lists the
server's manual backups and adopts only the backup that carries one of its
markers, lists once more after a short wait when none does (a POST can land
after the first listing), then re-posts, and raises
:class:`CreateReconciliationError` when there are several, the listing fails
too or the budget runs out first.
:func:`accept_lost_restore` decides from the server whether a restore whose
answer was lost did start; a restore is never re-posted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from .errors import ApiError, CreateReconciliationError, TransportError, VpsBackupError
from .marker import Marker, parse_marker, strip_marker, with_marker
from .models import BackupRecord, RestoreResult, Server
from .polling import Timing
from .settings import ClientSettings

__all__ = ["CreateChannel", "Pacing", "accept_lost_restore", "create_backup_reconciled"]

logger = logging.getLogger("pulumi_vpsbackup.client")


class Pacing(Protocol):
    """The retry pause and the clocks (the client's :class:`HttpSession`)."""

    timing: Timing

    def backoff(self, retry: int) -> float: ...


@dataclass(frozen=True)
class CreateChannel:
    """What reconciling a create works through; each :class:`VpsClient` builds one.

    ``send`` sends one ``POST /backups/`` with the given body and parses its
    2xx answer (the client drops the server's cached listings whatever the
    outcome); ``list_manual`` lists a server's manual backups afresh;
    ``pacing`` is the transport's retry pause and clocks, so the waits here
    follow the same schedule as the transport's own retries.
    """

    settings: ClientSettings
    pacing: Pacing
    send: Callable[[int, dict[str, Any]], BackupRecord]
    list_manual: Callable[[int], list[BackupRecord]]


def create_backup_reconciled(
    api: CreateChannel,
    server_id: int,
    description: str | None,
    *,
    resource_key: str | None = None,
    intent: str | None = None,
    new_marker: Callable[[str | None, str | None], Marker] = Marker.new,
) -> BackupRecord:
    """Create a backup with ``POST /backups/``, reconciling an ambiguous failure.

    Every POST sends ``description`` followed by a fresh :class:`Marker` (see
    :mod:`.marker`). After a failure whose outcome is unknown (no answer, a
    5xx, a 2xx the client cannot read), the server's manual backups are
    listed: the one backup carrying one of this create's markers is adopted
    (that is the proof); several raise :class:`CreateReconciliationError`
    naming them. When none carries one, the listing is made once more after
    :data:`LATE_POST_RECHECK` seconds (or the retry pause, if longer): a
    gateway can answer 504 before the API acts on the request. Only then does
    the request count as not taken effect and is sent again. Every wait keeps
    within ``max_retry_seconds`` and every POST within ``max_attempts``; when
    they run out, :class:`CreateReconciliationError` (``unresolved``) says the
    outcome is unknown and names the markers a late backup will carry.
    Backups with the same description but without this create's marker
    (another stack's, a person's) are never adopted, only named in the log.

    The caller holds the server's create lock.
    """
    pacing = api.pacing
    clock, settings = pacing.timing.clock, api.settings
    sent: list[Marker] = []
    started = clock()
    posts = 0

    def unresolved(ambiguous: VpsBackupError, why: str) -> CreateReconciliationError:
        tries = "1 request" if posts == 1 else f"{posts} requests"
        return CreateReconciliationError(
            server_id,
            [],
            f"{why} after {tries}; the last one: {_said(ambiguous)}",
            marker=str(sent[-1]),
            resource_key=resource_key,
            markers=[str(m) for m in sent],
            unresolved=True,
        )

    while True:
        posts += 1
        marker = new_marker(resource_key, intent)
        sent.append(marker)
        body: dict[str, Any] = {
            "server_id": int(server_id),
            "description": with_marker(description, marker),
        }
        try:
            return api.send(server_id, body)
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
        found = _find_ours(api, server_id, description, sent, ambiguous, resource_key)
        if found is None:
            delay = max(LATE_POST_RECHECK, pacing.backoff(posts))
            if clock() - started + delay > settings.max_retry_seconds:
                raise unresolved(ambiguous, "the retry budget ran out") from ambiguous
            logger.info(
                "no backup of server %s carries the marker %s yet; listing again in %.2f s "
                "in case the request is still on its way",
                server_id,
                marker,
                delay,
            )
            pacing.timing.sleep(delay)
            found = _find_ours(api, server_id, description, sent, ambiguous, resource_key)
        if found is not None:
            return found
        if posts >= settings.max_attempts:
            raise unresolved(ambiguous, "no listing showed it") from ambiguous
        logger.info(
            "no backup carries the marker %s after two listings, so the request did not take "
            "effect; sending it again",
            marker,
        )


#: Seconds between the two listings that look for a create's backup after an
#: ambiguous failure (the retry pause is used instead when it is longer).
LATE_POST_RECHECK = 2.0


def _said(error: VpsBackupError) -> str:
    if isinstance(error, ApiError):
        return f"{error.status_code} {error.reason}".strip()
    if isinstance(error, TransportError):
        return f"no answer ({error.cause_type or 'transport error'})"
    return type(error).__name__


def _find_ours(
    api: CreateChannel,
    server_id: int,
    description: str | None,
    sent: list[Marker],
    ambiguous: ApiError | TransportError,
    resource_key: str | None,
) -> BackupRecord | None:
    """The one backup carrying a marker in ``sent``, or None; raises when the listing
    fails or several carry one."""
    marker = sent[-1]
    try:
        after = api.list_manual(server_id)
    except VpsBackupError as list_error:
        raise CreateReconciliationError(
            server_id,
            [],
            f"listing after the failure also failed: {list_error}",
            marker=str(marker),
            resource_key=resource_key,
            markers=[str(m) for m in sent],
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
        if len(sent) > 1:
            logger.warning(
                "an earlier request of this create (markers %s) may still take effect: a "
                "backup of server %s carrying one of them is a duplicate of backup %d",
                ", ".join(str(m) for m in sent if m != parse_marker(ours[0].description)),
                server_id,
                ours[0].id,
            )
        return ours[0]
    if len(ours) > 1:
        raise CreateReconciliationError(
            server_id,
            sorted(b.id for b in ours),
            marker=str(marker),
            resource_key=resource_key,
            markers=[str(m) for m in sent],
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
    return None


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
