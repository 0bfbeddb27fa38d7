"""The `Restore` resource: restore a server from a backup, once per intent.

A restore is an action, not an object the API keeps, so the resource records
that the action ran; deleting it only forgets it and never touches the
server. Create first reads the server's restore record and may adopt a
restore this intent already sent (the rule: `intent`). What each command
does: docs/resources.md, `Restore` and "What each command does".
"""

from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Any

from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, UpdateResult

from ...client import (
    ApiError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    RestoreFailedError,
    Server,
    TransportError,
    VpsBackupError,
    VpsClient,
    WaitCancelledError,
    WaitTimeoutError,
)
from ...client.echo import echo
from ..core import validation as v
from ..core.base import VpsProvider, first_line, progress, user_error, warn
from .declaration import RestoreInputs
from .intent import (
    api_time,
    decide,
    intent_key,
    peek_superseded,
    remember_superseded,
    superseded_point,
    take_superseded,
)

UNSETTLED = ("started", "timed_out", "unconfirmed")


def _settled(recorded: str, server: Server, backup_id: Any, restored_at: Any) -> str:
    """What the server's restore record says about a restore whose end was not seen.

    Only a record of this backup, started no earlier than this resource's
    request, counts; and only an explicit outcome settles it (an unknown or
    missing status may be a restore that has not begun).
    """
    record = server.restore_record
    if record is None or backup_id is None or not record.may_be(int(backup_id), restored_at):
        return recorded  # no record of ours (or an older restore of the same backup)
    if record.phase == "failed":
        return "failed"
    if record.phase == "succeeded" or (
        not record.status and server.status == "active" and record.finished_at is not None
    ):
        return "completed"
    return recorded


def _not_restorable(server: Server) -> str:
    """Why VPS.org will refuse to restore `server` now, and what to do about it."""
    text = f"server {server.id} ({server.name}) is {server.status}"
    record = server.restore_record
    if record is not None and record.backup_id is not None:
        when = record.finished_at or record.started_at
        at = f" at {when.astimezone(timezone.utc):%Y-%m-%dT%H:%M:%SZ}" if when else ""
        outcome = record.status or "unknown"
        text += f" (its last restore, from backup {record.backup_id}, is {outcome}{at})"
    if server.status == "restoring":
        return text + "; VPS.org restores only an active server: wait until it is active"
    return (
        text + "; VPS.org restores only an active server: start it in the VPS.org panel "
        "first (a failed restore leaves it stopped)"
    )


def parse_restore_id(id_: str) -> dict[str, Any]:
    """What a restore's id records: ``"<server_id>:<backup_id>:<UTC time>"``.

    The time is when the restore was requested, as create wrote it
    (``20261201T120000.000000Z``); a record read by id alone is unsettled until
    the server's restore record says how it ended.
    """
    parts = str(id_).split(":")
    try:
        server_id, backup_id = int(parts[0]), int(parts[1])
        when = datetime.strptime(parts[2], "%Y%m%dT%H%M%S.%fZ").replace(tzinfo=timezone.utc)
        if len(parts) != 3 or server_id <= 0 or backup_id <= 0:
            raise ValueError(id_)
    except (IndexError, ValueError):
        raise user_error(
            f"id: {echo(id_)} is not the id of a Restore; it looks like "
            "'12345:499:20261201T120000.000000Z' (server, backup, time), as `pulumi stack "
            "export` shows it"
        ) from None
    return {
        "server_id": server_id,
        "backup_id": backup_id,
        "restored_at": when.isoformat().replace("+00:00", "Z"),
        "restore_status": "unconfirmed",
    }


class RestoreProvider(VpsProvider):
    """Dynamic provider behind `pulumi_vpsbackup.Restore` (do not rename: the
    class is referenced by name from every stack's state)."""

    # Every stack's state names this class by module path and name (the pickled
    # `__provider`); the path is the package's, as it was before the package was split.
    __module__ = "pulumi_vpsbackup.provider.restore"

    fields = RestoreInputs.specs()
    moved_hint = (
        "this restore ran through the old URL; running it through another account would "
        "restore a different server (give the Restore a new name to restore there)."
    )

    def check_against_api(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        changed = v.changed_fields(self.fields, olds, inputs) if olds else RestoreInputs.names()
        if not any(self._spec(name).replaces for name in changed):
            return []  # no restore will run: no reason to ask the API
        if v.is_unknown(inputs["server_id"]) or v.is_unknown(inputs["backup_id"]):
            return []
        if v.contains_unknown(inputs.get("account")):
            return []
        server_id: int = inputs["server_id"]
        backup_id: int = inputs["backup_id"]
        try:
            client = self.client_for(inputs.get("account"))
            server = client.get_server(server_id)
        except NotFoundError:
            return [
                CheckFailure(
                    "server_id",
                    f"server {server_id} does not exist or is not visible to this token",
                )
            ]
        except (ConfigurationError, TransportError, ApiError) as exc:
            warn(f"could not verify the restore of server {server_id} ({first_line(exc)})")
            return []
        try:
            backup = client.find_backup(backup_id, server_id=server_id, max_age=5.0)
            if backup is None:
                elsewhere = client.find_backup(backup_id, max_age=5.0)
            else:
                elsewhere = None
        except (TransportError, ApiError) as exc:
            warn(f"could not verify backup {backup_id} ({first_line(exc)})")
            return []
        if backup is None:
            if elsewhere is not None:
                return [
                    CheckFailure(
                        "backup_id",
                        f"backup {backup_id} belongs to server {elsewhere.server_id}, not to "
                        f"server {server_id}; a server can only be restored from its own backups",
                    )
                ]
            return [
                CheckFailure(
                    "backup_id",
                    f"backup {backup_id} does not exist; list the server's backups with "
                    f"get_backups(server_id={server_id})",
                )
            ]
        if not (backup.is_completed or backup.is_in_progress):  # queued waits, as at `up`
            return [
                CheckFailure(
                    "backup_id",
                    f"backup {backup_id} is {backup.status}; only a completed backup can be "
                    "restored",
                )
            ]
        adopted = None
        if not olds:
            # What create will decide. The engine checks a replacement again with no
            # olds after its diff, which left the replaced restore's start to peek at.
            key = intent_key(server_id, backup_id, inputs.get("triggers"))
            now = datetime.now(timezone.utc)
            adopted = decide(server, backup_id, superseded=peek_superseded(key), now=now)
        if adopted is not None and adopted.record is not None:
            progress(
                f"{adopted.why} is taken as this restore's: `pulumi up` will wait for it instead "
                f"of restoring server {server_id} again"
            )
        elif server.status != "active":
            # A warning, not a failure: the server may be started (or its
            # restore finish) between this preview and the `up`.
            warn(f"{_not_restorable(server)}; as it is now, `pulumi up` will fail")
        return []

    def diff(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        """As for every resource; a replacement of a restore of the same server also
        leaves, for the create that follows, when the replaced restore started:
        that record (or an older one) is never adopted in place of the new intent."""
        result = super().diff(id_, olds, news)
        if result.changes and result.replaces and not v.contains_unknown(news):
            point = superseded_point(olds)
            same_server = v.canonical(olds.get("server_id")) == v.canonical(news.get("server_id"))
            if point is not None and same_server:
                key = intent_key(news.get("server_id"), news.get("backup_id"), news.get("triggers"))
                remember_superseded(key, point)
        return result

    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = RestoreInputs.parse(props)
        server_id, backup_id, timeout = inputs.server_id, inputs.backup_id, inputs.timeout
        superseded = take_superseded(intent_key(server_id, backup_id, inputs.triggers))
        client = self.client_for(inputs.account)
        deadline = time.monotonic() + timeout
        self._ensure_restorable(client, server_id, backup_id, deadline)

        now = datetime.now(timezone.utc)
        before = client.get_server(server_id)
        decision = decide(before, backup_id, superseded=superseded, now=now)
        adopted = decision.record
        started_at = adopted.started_at if adopted is not None else None
        if adopted is not None and started_at is not None:
            requested_at = started_at
            doing = "waiting for it" if inputs.wait_for_completion else "recording it"
            warn(
                f"restore of server {server_id} from backup {backup_id} was already accepted "
                f"at {api_time(started_at)} (VPS.org's clock; it is {adopted.status}), taken "
                f"as sent by an earlier interrupted run of this resource; {doing} instead of "
                "starting another. If it was not (another stack or person restored this "
                "backup since), change `triggers` and run `pulumi up` to restore again."
            )
            status = before.status
        else:
            if decision.why:
                progress(f"{decision.why}; starting a new restore")
            requested_at = now
            try:
                result = client.restore_server(server_id, backup_id)
            except BadRequestError as exc:
                refusal = self._refusal(client, server_id)
                if refusal is None:
                    raise
                raise user_error(
                    f"VPS.org refused to restore server {server_id} from backup {backup_id}: "
                    f"{refusal}. Nothing was restored or recorded.",
                    exc,
                ) from exc
            progress(
                f"restoring server {server_id} from backup {backup_id}: {result.message or ''}"
            )
            status = result.server_status or "restoring"
        server_name = None
        restore_status = "started"
        seen: Server | None = None
        if inputs.wait_for_completion:
            remaining = max(1.0, deadline - time.monotonic())
            try:
                seen = client.wait_for_restore(
                    server_id,
                    backup_id=backup_id,
                    timeout=remaining,
                    on_progress=lambda s, waited: progress(
                        f"server {server_id} is {s.status} after {waited:.0f}s"
                    ),
                )
            except RestoreFailedError as exc:
                # It ended badly: nothing is recorded, so `pulumi up` tries again.
                raise user_error(
                    f"{exc.what_happened()}. The restore of server {server_id} from "
                    f"backup {backup_id} failed on VPS.org's side and cannot be undone; "
                    "nothing was recorded in state. VPS.org restores only an active server: "
                    "check and start the server in the VPS.org panel, then run `pulumi up` "
                    "again to retry.",
                    exc,
                ) from exc
            except VpsBackupError as exc:
                # The restore was accepted but its end was not seen (deadline, API
                # unreachable). Recording it is the lesser harm: raising would make
                # the next `pulumi up` restore again over whatever was written since.
                timed_out = isinstance(exc, WaitTimeoutError)
                restore_status = "timed_out" if timed_out else "unconfirmed"
                status = getattr(exc, "last_status", None) or "unknown"
                if timed_out:
                    why = f"still {status} after {timeout:.0f}s"
                elif isinstance(exc, WaitCancelledError):
                    why = "the operation was cancelled while it waited"
                else:
                    why = f"the API could not be asked ({type(exc).__name__})"
                warn(
                    f"the restore of server {server_id} from backup {backup_id} was accepted "
                    f"but not seen to finish ({why}). It is recorded as {restore_status}: the "
                    "next `pulumi up` will NOT restore again, and resources that depend on "
                    "this Restore are not held back. `pulumi refresh` shows the outcome in "
                    "restore_status; to restore again, change `triggers`."
                )
            else:
                status = seen.status
                server_name = seen.name
                restore_status = "completed"
        if started_at is None:
            started_at = self._record_start(client, seen, server_id, backup_id, requested_at)
        outs = inputs.to_props()
        outs.update(
            server_name=server_name,
            server_status=status,
            restore_status=restore_status,
            restored_at=requested_at.isoformat().replace("+00:00", "Z"),
            restore_started_at=api_time(started_at) if started_at is not None else None,
        )
        resource_id = f"{server_id}:{backup_id}:{requested_at.strftime('%Y%m%dT%H%M%S.%fZ')}"
        return CreateResult(resource_id, outs)

    @staticmethod
    def _record_start(
        client: VpsClient,
        seen: Server | None,
        server_id: int,
        backup_id: int,
        requested_at: datetime,
    ) -> datetime | None:
        """When VPS.org started the restore just requested, by its clock, if its record shows it.

        Kept in state so that a later replacement tells this record from its own
        without comparing our clock with VPS.org's.
        """
        if seen is None:
            try:
                seen = client.get_server(server_id)
            except VpsBackupError:
                return None
        record = seen.restore_record
        if record is None or record.started_at is None:
            return None
        return record.started_at if record.may_be(backup_id, requested_at) else None

    def _refusal(self, client: VpsClient, server_id: int) -> str | None:
        """Why a refused restore was refused, when the server's state explains it."""
        try:
            server = client.get_server(server_id)
        except VpsBackupError:
            return None
        return None if server.status == "active" else _not_restorable(server)

    def _ensure_restorable(
        self, client: VpsClient, server_id: int, backup_id: int, deadline: float
    ) -> None:
        backup = client.find_backup(backup_id, server_id=server_id)
        if backup is None:
            other = client.find_backup(backup_id)
            if other is not None:
                raise user_error(
                    f"backup_id: backup {backup_id} belongs to server {other.server_id}, not to "
                    f"server {server_id}"
                )
            raise user_error(f"backup_id: backup {backup_id} does not exist on server {server_id}")
        if backup.is_in_progress:
            progress(f"backup {backup_id} is still being created; waiting before the restore")
            backup = client.wait_for_backup(
                backup_id, server_id=server_id, timeout=max(1.0, deadline - time.monotonic())
            )
        if not backup.is_completed:
            raise user_error(
                f"backup_id: backup {backup_id} is {backup.status}; only a completed backup can "
                "be restored"
            )

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        """Re-read the server's status; with the id alone (`Restore.get`), the
        server, backup and time of the restore come from the id itself."""
        if props.get("server_id") is None:
            props = {**props, **parse_restore_id(id_)}
        inputs = RestoreInputs.parse(props)
        try:
            server = self.client_for(inputs.account).get_server(inputs.server_id)
        except NotFoundError:
            return ReadResult(None, {})  # the server itself is gone
        # The stored inputs, typed; a restore read by id alone gains no defaults.
        stored = {k: val for k, val in inputs.to_props().items() if k in props}
        outs = {k: val for k, val in props.items() if k != "__provider"}
        outs.update(stored, server_name=server.name, server_status=server.status)
        if outs.get("restore_status") in UNSETTLED:
            outs["restore_status"] = _settled(
                outs["restore_status"], server, inputs.backup_id, outs.get("restored_at")
            )
        return ReadResult(id_, outs, stored)

    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record the new inputs; when waiting is switched on for a restore whose end
        was not seen, wait for it now and settle it from the server's record.

        Like create, an outcome that is not seen is recorded with a warning
        rather than raised: the restore itself already ran.
        """
        outs = super().update(id_, olds, news).outs or {}
        recorded = olds.get("restore_status")
        if not (news.get("wait_for_completion") and recorded in UNSETTLED):
            return UpdateResult(outs)
        inputs = RestoreInputs.parse(outs)
        server_id, backup_id = inputs.server_id, inputs.backup_id
        client = self.client_for(inputs.account)
        try:
            client.wait_for_restore(
                server_id,
                backup_id=backup_id,
                timeout=inputs.timeout,
                on_progress=lambda s, waited: progress(
                    f"server {server_id} is {s.status} after {waited:.0f}s"
                ),
            )
        except VpsBackupError as exc:
            warn(f"the restore of server {server_id} is still not settled ({first_line(exc)})")
        try:
            server = client.get_server(server_id)
        except VpsBackupError as exc:
            warn(f"could not read server {server_id} after waiting ({first_line(exc)})")
            return UpdateResult(outs)
        outs.update(
            server_name=server.name,
            server_status=server.status,
            restore_status=_settled(str(recorded), server, backup_id, outs.get("restored_at")),
        )
        return UpdateResult(outs)

    def delete(self, id_: str, props: dict[str, Any]) -> None:
        progress(
            f"forgetting restore {id_}: the server keeps the data it was restored to "
            "(destroy does not undo a restore)"
        )
