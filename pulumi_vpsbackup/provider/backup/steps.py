"""How a backup is made, waited for and removed: the steps `Backup`,
`BackupRotation` and `BackupFleet` share (a rotation or a fleet makes and
deletes its members exactly as a `Backup` does).

`create` (the marker create: a lost answer is adopted only on proof),
`settle_leftovers` / `leftover_keys` (an earlier run's backup for the same
owner key and intent is used or deleted, never piled up; one for another
intent is left alone and named), `wait_or_undo` (a new backup that fails or
times out is deleted before the error), `delete_and_settle` / `settle_own`
(a deleted resource's leftovers go with it) and `delete` (404 is done).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from typing import Any

from ...client import (
    BackupFailedError,
    BackupRecord,
    BadRequestError,
    ConflictError,
    CreateReconciliationError,
    VpsBackupError,
    VpsClient,
    WaitCancelledError,
    WaitError,
    WaitTimeoutError,
)
from ...client.marker import (
    MARKER_RESERVED,
    Marker,
    intent_digest,
    is_owner_key,
    parse_marker,
    strip_marker,
)
from ..core import validation as v
from ..core.base import first_line, progress, user_error, warn
from ..core.declaration import MANUAL_BACKUP_LIMIT

__all__ = [
    "MANUAL_BACKUP_LIMIT",
    "MAX_OWN_DESCRIPTION",
    "BackupSteps",
    "note_in_state",
    "release",
]

#: The longest description a created backup can have: the API's limit less the marker.
MAX_OWN_DESCRIPTION = v.MAX_DESCRIPTION_LENGTH - MARKER_RESERVED
#: How old a listing of a server's manual backups may be to settle leftovers:
#: long enough for create to reuse the one check just made in the same process.
LEFTOVER_LISTING_AGE = 5.0

# Backup ids this provider process has seen in state (the old outputs handed to
# diff, update, read and delete). A create never settles one of them as a
# leftover: with the same resource key, a replacement (`pulumi up --replace`,
# `replace_on_changes`) would otherwise take over the backup it replaces, which
# the engine then deletes. The engine diffs a resource before replacing it, in
# the same provider process.
_HELD_LOCK = threading.Lock()
_HELD_IN_STATE: set[int] = set()


def note_in_state(*ids: Any) -> None:
    found = set()
    for value in ids:
        try:
            found.add(v.positive_id("id", value))
        except v.FieldError:
            continue
    with _HELD_LOCK:
        _HELD_IN_STATE.update(found)


def release(*ids: int) -> None:
    """A create that fails records nothing in state: its backups are held no more,
    so a later create of the same resource may settle them."""
    with _HELD_LOCK:
        _HELD_IN_STATE.difference_update(ids)


def _held_in_state() -> frozenset[int]:
    with _HELD_LOCK:
        return frozenset(_HELD_IN_STATE)


def key_of(description: str | None) -> str | None:
    """The owner key in a description's marker, if it has one that proves an owner."""
    marker = parse_marker(description)
    return marker.key if marker is not None and marker.proves_owner else None


def owned_elsewhere(backup: BackupRecord, own_key: str | None, taking: str) -> str | None:
    """What to say before `taking` (an adoption, an import) makes this resource own a
    backup that another resource made: its marker names that one's owner key. Both
    would then own it, and whichever is destroyed first deletes it. None when the
    backup carries no owner's marker, or this resource's own."""
    key = key_of(backup.description)
    if key is None or key == own_key:
        return None
    return (
        f"backup {backup.id} of server {backup.server_id} was made by another resource: its "
        f"description carries that resource's marker (owner key {key}). {taking} makes this "
        "one own it too, and whichever of the two is destroyed first deletes it. If that "
        "resource still exists, remove the backup from its state first, or back up anew "
        "instead"
    )


def _owned(description: str | None) -> Marker | None:
    marker = parse_marker(description)
    return marker if marker is not None and marker.proves_owner else None


def _left_outside_state(
    backups: Iterable[BackupRecord], keys: Collection[str], intent: str | None = None
) -> list[BackupRecord]:
    """The backups marked with one of `keys` (and `intent`, when given) that no
    resource in state holds."""
    held = _held_in_state()
    found = []
    for b in backups:
        marker = _owned(b.description)
        if b.id in held or marker is None or marker.key not in keys:
            continue
        if intent is None or marker.intent == intent:
            found.append(b)
    return found


def intent_of(server_id: int, description: str | None, triggers: Any) -> str:
    """The intent digest of a backup made for these inputs (see `client.marker`)."""
    return intent_digest(server_id, description, triggers)


def _name_others(server_id: int, key: str, intent: str, backups: Iterable[BackupRecord]) -> None:
    """Backups with this resource's key made for another intent: named, left alone."""
    others = [
        b
        for b in _left_outside_state(backups, {key})
        if (m := _owned(b.description)) is not None and m.intent != intent
    ]
    if others:
        ids = ", ".join(f"{b.id} ({b.status})" for b in others)
        warn(
            f"backups {ids} of server {server_id} carry this resource's marker [pvb:{key}] but "
            "were made by an earlier, interrupted run for other inputs (another description "
            "or other triggers) and are in no state this run knows; they are left alone. "
            "Delete them if you do not need them (vps.get_backups lists them)."
        )


def too_long(description: str) -> str:
    return (
        f"must be at most {MAX_OWN_DESCRIPTION} characters for a new backup, got "
        f"{len(description)}: VPS.org keeps {v.MAX_DESCRIPTION_LENGTH}, and {MARKER_RESERVED} "
        "are kept for the marker that lets the provider recognise its own backup"
    )


def check_own_description(description: str | None) -> None:
    """A description too long to carry the marker is refused before any request."""
    if description is not None and len(description) > MAX_OWN_DESCRIPTION:
        raise user_error(f"description: {too_long(description)}")


def reporter(timeout: float) -> Callable[[BackupRecord, float], None]:
    def report(current: BackupRecord, waited: float) -> None:
        progress(
            f"backup {current.id} of server {current.server_id} is {current.status} "
            f"after {waited:.0f}s (timeout {timeout:.0f}s)"
        )

    return report


def left_behind(backup: BackupRecord, error: VpsBackupError) -> VpsBackupError:
    """`error`, noting the backup its create could not undo (`left_record`): the
    resource's provider turns it into the error's `handover`."""
    error.left_record = backup
    return error


class BackupSteps:
    """The steps on one client (one account)."""

    def __init__(self, client: VpsClient) -> None:
        self.client = client

    def unknown_server_reason(self, server_id: int) -> str:
        reason = f"server {server_id} does not exist or is not visible to this API token"
        try:
            servers = self.client.list_servers()
        except VpsBackupError:
            return reason
        if servers:
            known = ", ".join(f"{s.id} ({s.name})" for s in servers[:10])
            reason += f"; servers available: {known}"
        return reason

    def _refusal(self, server_id: int, exc: BadRequestError) -> VpsBackupError:
        """A refused create, said as what to do: at the quota, which backups hold it."""
        try:
            manual = self.client.list_backups(server_id=server_id, backup_type="manual")
        except VpsBackupError:
            return exc  # the API's own words are all there is
        if len(manual) < MANUAL_BACKUP_LIMIT:
            return exc
        ids = ", ".join(str(b.id) for b in manual)
        said = (exc.message or str(exc)).rstrip(".")
        return user_error(
            f"Server {server_id} is at its limit of {MANUAL_BACKUP_LIMIT} manual backups "
            f"(ids {ids}), so VPS.org refused a new one ({said}); nothing "
            "was created. Delete one you no longer need, then run `pulumi up` again (for a "
            "replacement, ResourceOptions(delete_before_replace=True) frees its own slot).",
            exc,
        )

    def create(
        self, server_id: int, description: str | None, key: str | None, intent: str | None = None
    ) -> BackupRecord:
        """A new backup; with an owner `key`, its marker also carries `intent`.

        The new backup is noted as held at once: a replacement's old backup,
        deleted next in the same process, never takes it for a leftover.
        """
        if key is not None and intent is None:
            raise ValueError("a keyed create needs its intent")
        try:
            backup = self.client.create_backup(
                server_id, description, resource_key=key, intent=intent
            )
            note_in_state(backup.id)
            return backup
        except BadRequestError as exc:
            raise self._refusal(server_id, exc) from exc
        except CreateReconciliationError as exc:
            if key is None or exc.unresolved:  # its own text names the key's marker
                raise
            if exc.candidates:
                ids = ", ".join(str(i) for i in exc.candidates)
                raise user_error(
                    f"Creating a backup of server {server_id} failed without a clear answer, "
                    f"and backups {ids} all carry this resource's marker [pvb:{key}]; nothing "
                    "was recorded in state. Run `pulumi up` again: it will find them by that "
                    "marker, keep one and delete the others.",
                    exc,
                ) from exc
            raise user_error(
                f"Creating a backup of server {server_id} failed without a clear answer and "
                f"the listing to check it failed too ({exc.reason}): the backup may have been "
                f"created; the next `pulumi up` will find it by its marker [pvb:{key}] and "
                "will not create another. Run `pulumi up` again once the API answers.",
                exc,
            ) from exc

    def settle_leftovers(
        self,
        server_id: int,
        key: str,
        intent: str,
        description: str | None,
        timeout: float,
        previous_keys: Collection[str] = (),
    ) -> BackupRecord | None:
        """A backup an earlier run of this resource left outside state, settled.

        Looks for manual backups of the server whose marker carries this
        resource's owner key (or one of its `previous_keys`, the keys of the
        names it had before: its aliases) and this intent, and that no resource
        in state holds. The newest one that is completed or still running is returned
        to be used instead of a new backup; every other one (failed, or a
        duplicate) is deleted. If one cannot be deleted yet, the create fails
        and names it: the next create finds it again. A backup with this key
        made for another intent is named in a warning and left alone.
        """
        # The listing check made moments ago in this process, when there is one:
        # a leftover of an earlier run was there before this command started.
        manual = self.client.list_backups(
            server_id=server_id, backup_type="manual", max_age=LEFTOVER_LISTING_AGE
        )
        _name_others(server_id, key, intent, manual)
        mine = _left_outside_state(manual, {key, *previous_keys}, intent)
        if not mine:
            return None
        wanted = description or ""

        def usable(b: BackupRecord) -> bool:
            return (b.is_completed or b.is_in_progress) and (
                strip_marker(b.description) or ""
            ) == wanted

        keep = max(
            (b for b in mine if usable(b)),
            key=lambda b: (b.is_completed, b.id),
            default=None,
        )
        self._delete_leftovers(server_id, key, [b for b in mine if b is not keep], timeout)
        if keep is not None:
            note_in_state(keep.id)
            progress(
                f"found backup {keep.id} of server {server_id} ({keep.status}) left outside "
                f"state by an earlier run of this resource for the same inputs [pvb:{key}]; "
                "using it instead of creating another"
            )
        return keep

    def _delete_leftovers(
        self, server_id: int, key: str, doomed: list[BackupRecord], timeout: float
    ) -> None:
        stuck: list[str] = []
        for backup in doomed:
            left = self.remove_after_failure(backup, time.monotonic(), timeout)
            if left is None:
                progress(
                    f"deleted backup {backup.id} of server {server_id} ({backup.status}), "
                    f"left outside state by an earlier run of this resource [pvb:{key}]"
                )
            else:
                stuck.append(f"{backup.id} ({backup.status}: {left})")
        if stuck:
            raise user_error(
                f"Backups {', '.join(stuck)} of server {server_id} were left outside state by "
                f"an earlier run of this resource and could not be deleted yet. Run the "
                f"command again: it will find them by their marker [pvb:{key}] and settle "
                "them."
            )

    def _manual_or_warn(self, server_id: int, then: str = "") -> list[BackupRecord] | None:
        """The server's manual backups, to look for leftovers; None (with a warning
        that says so and what happens `then`) when the listing fails."""
        try:
            return self.client.list_backups(server_id=server_id, backup_type="manual")
        except VpsBackupError as exc:
            warn(
                f"could not list server {server_id}'s backups to look for ones an earlier "
                f"interrupted run of this resource left behind ({first_line(exc)}){then}"
            )
            return None

    def settle_own(self, server_id: int, key: str | None, intent: str, timeout: float) -> None:
        """After a resource's members are deleted: the backups its earlier runs left
        outside state for `intent` go too; others with its key are named."""
        if not is_owner_key(key):
            return
        assert key is not None
        manual = self._manual_or_warn(server_id)
        if manual is None:
            return
        _name_others(server_id, key, intent, manual)
        self._delete_leftovers(server_id, key, _left_outside_state(manual, {key}, intent), timeout)

    def delete_and_settle(
        self,
        backup_id: int,
        server_id: int | None,
        key: str | None,
        intent: str | None,
        timeout: float,
    ) -> None:
        """Delete this resource's backup, then the ones its own earlier runs left
        outside state for the same intent (an interrupted create's, a late POST's
        duplicate); those made for other intents are named and left alone.

        The intent is read from the deleted backup's own marker when the listing
        holds it (else `intent`, computed from the stored inputs). A key written
        by 0.1 (no stack identity) proves nothing: then only `backup_id` is
        deleted.
        """
        manual: list[BackupRecord] | None = None
        if server_id is not None and is_owner_key(key):
            manual = self._manual_or_warn(server_id, f"; only backup {backup_id} is deleted")
        self.delete(backup_id, server_id, timeout)
        if manual is None or server_id is None or key is None:
            return
        own = next((_owned(b.description) for b in manual if b.id == backup_id), None)
        if own is not None and own.key == key:
            intent = own.intent
        if intent is None:
            return
        rest = [b for b in manual if b.id != backup_id]
        _name_others(server_id, key, intent, rest)
        self._delete_leftovers(server_id, key, _left_outside_state(rest, {key}, intent), timeout)

    def leftover_keys(self, wanted: Mapping[str, str]) -> set[str] | None:
        """Which of the owner keys in `wanted` (key -> intent) mark a backup left
        outside state for that intent, from one account listing.

        For many resources at once (a fleet's members): only those named then
        need `settle_leftovers`, instead of one listing per server. None when
        the listing fails: then each must be asked on its own.
        """
        try:
            manual = self.client.list_backups(backup_type="manual")
        except VpsBackupError:
            return None
        found = set()
        for backup in _left_outside_state(manual, set(wanted)):
            marker = _owned(backup.description)
            if marker is not None and wanted.get(str(marker.key)) == marker.intent:
                found.add(str(marker.key))
        return found

    def adopt(self, server_id: int, backup_id: int) -> BackupRecord:
        backup = self.client.find_backup(backup_id, server_id=server_id)
        if backup is None:
            raise user_error(
                f"existing_backup_id: backup {backup_id} was not found on server {server_id}; "
                f"check the id with get_backups(server_id={server_id})"
            )
        if backup.backup_type != "manual":
            raise user_error(
                f"existing_backup_id: backup {backup_id} is {backup.backup_type}; only manual "
                "backups can be adopted (use Backup.get to reference an automatic one)"
            )
        progress(f"adopted existing backup {backup_id} of server {server_id}")
        return backup

    def wait_or_undo(
        self, backup: BackupRecord, timeout: float, undo: bool, key: str | None = None
    ) -> BackupRecord:
        """Wait for a new backup; if it fails or times out and `undo`, delete it again
        before raising, and say whether the next `pulumi up` settles it."""
        started = time.monotonic()
        try:
            return self.client.wait_for_backup(
                backup.id,
                server_id=backup.server_id,
                timeout=timeout,
                on_progress=reporter(timeout),
                seen=backup,
            )
        except WaitCancelledError:
            raise  # not a failure: the caller keeps the backup (see BackupProvider.create)
        except VpsBackupError as exc:  # failed, timed out, or the API gave out
            release(backup.id)
            if not undo:
                raise
            # Our own next step follows: not the client's generic advice as well.
            what = (
                exc.what_happened() if isinstance(exc, WaitError) else first_line(exc).rstrip(".")
            )
            left = self.remove_after_failure(backup, started, timeout)
            if left is None:
                raise user_error(
                    f"{what}. The backup was deleted so that it does not use a slot of the "
                    f"server's {MANUAL_BACKUP_LIMIT}-backup quota; nothing was recorded in "
                    "state. Run `pulumi up` again (raise `timeout` first if the server is "
                    "large).",
                    exc,
                ) from exc
            if key is not None and key_of(backup.description) == key:
                raise left_behind(
                    backup,
                    user_error(
                        f"{what}. Backup {backup.id} on server {backup.server_id} could not be "
                        f"deleted afterwards ({left}) and is not in Pulumi state yet; its "
                        f"description carries this resource's marker [pvb:{key}]. Run `pulumi up` "
                        "again (raise `timeout` first if the server is large): it will find this "
                        "backup and wait for it, or delete it if it failed, instead of creating "
                        "another.",
                        exc,
                    ),
                ) from exc
            raise left_behind(
                backup,
                user_error(
                    f"{what}. Backup {backup.id} on server {backup.server_id} could not be deleted "
                    f"afterwards ({left}) and is NOT in Pulumi state: delete it yourself "
                    f"(DELETE /backups/{backup.id}/) or adopt it with existing_backup_id="
                    f"{backup.id}.",
                    exc,
                ),
            ) from exc

    def remove_after_failure(
        self, backup: BackupRecord, started: float, timeout: float
    ) -> str | None:
        """Delete a backup this create made; None on success, else why not."""
        client = self.client
        try:
            client.delete_backup(backup.id)
            return None
        except ConflictError:
            pass  # still running: the API refuses; give it a bounded grace period
        except VpsBackupError as exc:
            return first_line(exc)
        grace = min(600.0, max(1.0, 0.25 * timeout))
        try:
            client.wait_for_backup(backup.id, server_id=backup.server_id, timeout=grace)
        except (BackupFailedError, WaitTimeoutError):
            pass
        except VpsBackupError as exc:
            return first_line(exc)
        try:
            client.delete_backup(backup.id)
            return None
        except VpsBackupError as exc:
            return first_line(exc)

    def delete(self, backup_id: int, server_id: int | None, timeout: float) -> None:
        """Delete a backup; a 404 is done, a running one is waited for (within `timeout`)."""
        note_in_state(backup_id)
        client = self.client
        try:
            deleted = client.delete_backup(backup_id)
        except ConflictError:
            # The API refuses to delete a backup that is still being made:
            # wait for it (within the resource's timeout), then delete.
            progress(f"backup {backup_id} is still being created; waiting before deleting it")
            try:
                client.wait_for_backup(backup_id, server_id=server_id, timeout=timeout)
            except BackupFailedError:
                pass  # a failed backup can be deleted like any other
            deleted = client.delete_backup(backup_id)
        if not deleted:
            progress(f"backup {backup_id} was already gone")
