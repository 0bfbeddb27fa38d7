"""The `BackupRotation` resource: the last N backups of a server, one per trigger change.

Members are the backups the rotation made (`backup_ids`, newest first), each
made by `Backup`'s own code (`BackupSteps`) with the rotation's marker key. The
rule not to break: a rotation deletes only ids from its own outputs, never
another backup of the same server or description. What each command does,
the quota and the guarantees: docs/resources.md, `BackupRotation`.
"""

from __future__ import annotations

from typing import Any

from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, UpdateResult

from ...client import (
    ApiError,
    BackupRecord,
    ConfigurationError,
    NotFoundError,
    TransportError,
    VpsBackupError,
    VpsClient,
    WaitCancelledError,
)
from ...client.marker import is_owner_key
from ..backup.steps import (
    MANUAL_BACKUP_LIMIT,
    MAX_OWN_DESCRIPTION,
    BackupSteps,
    check_own_description,
    intent_of,
    key_of,
    note_in_state,
    too_long,
)
from ..core import validation as v
from ..core.base import VpsProvider, first_line, progress, user_error, warn
from .declaration import RotationInputs

__all__ = ["RotationProvider"]

HIDDEN = RotationInputs.hidden


class RotationProvider(VpsProvider):
    """Dynamic provider behind `pulumi_vpsbackup.BackupRotation` (do not rename:
    the class is referenced by name from every stack's state)."""

    # Every stack's state names this class by module path and name (the pickled
    # `__provider`); the path is the package's, as it was before the package was split.
    __module__ = "pulumi_vpsbackup.provider.rotation"

    fields = RotationInputs.specs()

    # ---- check -------------------------------------------------------------
    def check_against_api(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        creating = not olds or "server_id" in self._changes(olds, inputs)
        adding = creating or "triggers" in self._changes(olds, inputs)
        if not adding:
            return []
        described = inputs.get("description")
        if isinstance(described, str) and len(described) > MAX_OWN_DESCRIPTION:
            return [CheckFailure("description", too_long(described))]
        server_id = inputs["server_id"]
        if v.is_unknown(server_id):
            return []
        name = _name(inputs)
        try:
            client = self.client()
            server = client.get_server(server_id)
            manual = client.list_backups(server_id=server_id, backup_type="manual", max_age=5.0)
        except NotFoundError:
            if creating:
                reason = BackupSteps(client).unknown_server_reason(server_id)
                return [CheckFailure("server_id", reason)]
            return []
        except (ConfigurationError, TransportError, ApiError) as exc:
            warn(f"could not verify server {server_id} before the update ({first_line(exc)})")
            return []
        keep = inputs.get("keep")
        if creating:
            keeps = "" if v.is_unknown(keep) else f" (keeps {keep})"
            progress(f"rotation {name}: will add 1 backup of server {server_id}{keeps}")
        if len(manual) >= MANUAL_BACKUP_LIMIT:
            key = inputs.get("resource_key")
            own = sorted(b.id for b in manual if key and key_of(b.description) == key)
            if isinstance(keep, int) and own and len(own) >= keep:
                then = (
                    f"`up` will delete its oldest backup {own[0]} first (it would be pruned "
                    "anyway) and then add the new one"
                )
            else:
                then = (
                    f"it holds {len(own)} of its own, fewer than keep, so `up` will refuse to "
                    "add one: delete a backup of the server first"
                )
            warn(
                f"rotation {name}: server {server_id} ({server.name}) already has {len(manual)} "
                f"manual backups, the limit is {MANUAL_BACKUP_LIMIT} "
                f"(ids: {', '.join(str(b.id) for b in manual)}); {then}"
            )
        return []

    # ---- diff --------------------------------------------------------------
    def changed_names(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return self._changes(olds, news)

    def _changes(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return [n for n in v.changed_fields(self.fields, olds, news) if n not in HIDDEN]

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        members = _member_ids(olds)
        note_in_state(*members)
        changed = self._changes(olds, news)
        replaces = [n for n in changed if self._spec(n).replaces]
        # A prune that failed (VPS.org refused a DELETE) left more members than
        # `keep`: the next `up` is an update that prunes them, inputs unchanged.
        pending = not changed and bool(_beyond(members, _known_keep(news)))
        # The plan goes out as a progress line: the SDK's dynamic provider host
        # sends the engine no detailed diff.
        if (changed or pending) and not replaces:
            self._show_plan(olds, news, members, adds="triggers" in changed)
        return DiffResult(
            changes=bool(changed) or pending,
            replaces=replaces,
            stables=[],
            delete_before_replace=False,
        )

    def planned_members(
        self, olds: dict[str, Any], news: dict[str, Any]
    ) -> list[int | None] | None:
        """The members an update leaves, newest first, with None for the backup it adds;
        None when that is not known before it runs (`keep` is computed). `update` deletes
        exactly the members this leaves out, unless VPS.org refuses a delete."""
        members = _member_ids(olds)
        keep = news.get("keep")
        adds = "triggers" in self._changes(olds, news)
        if keep is None or v.is_unknown(keep):
            return None
        kept: list[int | None] = list(members[: max(int(keep) - 1 if adds else int(keep), 0)])
        return [None, *kept] if adds else kept

    def _show_plan(
        self, olds: dict[str, Any], news: dict[str, Any], members: list[int], adds: bool
    ) -> None:
        server_id = v.canonical(olds.get("server_id"))
        name = _name(news) if news.get("resource_name") else _name(olds)
        planned = self.planned_members(olds, news)
        if planned is None:
            if adds:
                progress(f"rotation {name}: will add 1 backup of server {server_id}")
            return
        keep = int(news["keep"])
        doomed = [m for m in members if m not in planned]
        parts = [f"add 1 backup of server {server_id}"] if adds else []
        if doomed:
            parts.append(f"delete {', '.join(str(i) for i in doomed)}")
        if parts:
            progress(f"rotation {name}: will {' and '.join(parts)} (keeps {keep})")

    # ---- create ------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = RotationInputs.parse_keyed(props, "rotations with BackupRotation(...)")
        client = self.client()
        rotation_id = f"rotation-{inputs.server_id}-{inputs.resource_key}"
        try:
            backup, members = self._add(client, inputs, [])
        except WaitCancelledError as exc:
            if exc.made is not None:  # the backup started: the rotation that holds it
                exc.made = (rotation_id, exc.made[1])
            raise
        except VpsBackupError as exc:
            if exc.handover is not None:
                exc.handover = (rotation_id, exc.handover[1])
            raise
        members = self._prune(client, inputs, members)
        outs = _outputs(inputs, members, backup.server_name)
        return CreateResult(rotation_id, outs)

    def _add(
        self, client: VpsClient, inputs: RotationInputs, members: list[int]
    ) -> tuple[BackupRecord, list[int]]:
        """One new member, made and waited for exactly as `Backup` makes one."""
        server_id, key = inputs.server_id, inputs.resource_key
        check_own_description(inputs.description)
        steps = BackupSteps(client)
        # A key from state written by 0.1 proves no ownership: no leftover is settled.
        owner = key if is_owner_key(key) else None
        intent = intent_of(server_id, inputs.description, inputs.triggers)
        found = (
            steps.settle_leftovers(
                server_id,
                owner,
                intent,
                inputs.description,
                inputs.timeout,
                inputs.previous_keys or (),
            )
            if owner
            else None
        )
        if found is None:
            members = self._make_room(client, inputs, members)
            backup = steps.create(server_id, inputs.description, owner, intent if owner else None)
            progress(
                f"rotation {inputs.name}: created backup {backup.id} of server {server_id} "
                f"({backup.status})"
            )
        else:
            backup = found
        if backup.is_in_progress:
            try:
                backup = steps.wait_or_undo(backup, inputs.timeout, undo=True, key=key)
            except WaitCancelledError as exc:
                # A running backup cannot be deleted: handed on as the newest member.
                held = [backup.id, *(m for m in members if m != backup.id)]
                exc.made = ("", _outputs(inputs, held, backup.server_name))
                exc.next_step = (
                    f"Rotation {inputs.name} is kept in state with backup {backup.id}, not "
                    "finished; `pulumi refresh` or the next `pulumi up` reads how it ended."
                )
                raise
            except VpsBackupError as exc:
                if exc.left_record is not None:
                    held = [backup.id, *(m for m in members if m != backup.id)]
                    exc.handover = ("", _outputs(inputs, held, backup.server_name))
                raise
        note_in_state(backup.id)
        return backup, [backup.id, *(m for m in members if m != backup.id)]

    def _make_room(
        self, client: VpsClient, inputs: RotationInputs, members: list[int]
    ) -> list[int]:
        """On a full server, the oldest member goes first if the add would prune it anyway."""
        server_id = inputs.server_id
        manual = client.list_backups(server_id=server_id, backup_type="manual", max_age=5.0)
        if len(manual) < MANUAL_BACKUP_LIMIT:
            return members
        if not members or len(members) < inputs.keep:
            raise user_error(
                f"Rotation {inputs.name}: server {server_id} already has {len(manual)} manual "
                f"backups, the limit is {MANUAL_BACKUP_LIMIT}, and the rotation holds "
                f"{len(members)} of its own, fewer than keep={inputs.keep}, so it has none to "
                f"give up; nothing was changed. Delete a backup of the server (ids: "
                f"{', '.join(str(b.id) for b in manual)}) or lower keep, then run `pulumi up` "
                "again."
            )
        oldest = members[-1]
        progress(
            f"rotation {inputs.name}: server {server_id} is at its {MANUAL_BACKUP_LIMIT}-backup "
            f"limit; deleting its oldest backup {oldest} before adding the new one"
        )
        self._delete_member(client, oldest, inputs)
        return members[:-1]

    def _prune(self, client: VpsClient, inputs: RotationInputs, members: list[int]) -> list[int]:
        """Delete the oldest members beyond `keep`; one that cannot be deleted stays a member."""
        kept = list(members)
        for backup_id in reversed(_beyond(members, inputs.keep)):
            try:
                self._delete_member(client, backup_id, inputs)
            except VpsBackupError as exc:
                warn(
                    f"rotation {inputs.name}: could not delete backup {backup_id} "
                    f"({first_line(exc)}); it stays in the rotation and the next update "
                    "deletes it"
                )
                continue
            kept.remove(backup_id)
        return kept

    def _delete_member(self, client: VpsClient, backup_id: int, inputs: RotationInputs) -> None:
        BackupSteps(client).delete(backup_id, server_id=inputs.server_id, timeout=inputs.timeout)
        progress(f"rotation {inputs.name}: deleted backup {backup_id}")

    # ---- update ------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = RotationInputs.parse_keyed(news, "rotations with BackupRotation(...)")
        members = _member_ids(olds)
        note_in_state(*members)
        server_name = olds.get("server_name")
        if "triggers" in self._changes(olds, news):
            client = self.client()
            backup, members = self._add(client, inputs, members)
            server_name = backup.server_name or server_name
        if _beyond(members, inputs.keep):
            members = self._prune(self.client(), inputs, members)
        return UpdateResult(_outputs(inputs, members, server_name))

    # ---- read --------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = RotationInputs.parse(props)
        members = _member_ids(props)
        note_in_state(*members)
        client = self.client()
        listing = {b.id: b for b in client.list_backups(server_id=inputs.server_id)}
        missing = [m for m in members if m not in listing]
        if missing:
            # Paging is no snapshot: a member is dropped only when a second listing agrees.
            again = {b.id: b for b in client.list_backups(server_id=inputs.server_id)}
            gone = [m for m in missing if m not in again]
            listing.update(again)
            if gone:
                progress(
                    f"rotation {inputs.name}: backups {', '.join(map(str, gone))} are gone "
                    "from VPS.org; dropped from the rotation"
                )
            members = [m for m in members if m not in gone]
        names = [listing[m].server_name for m in members if m in listing]
        server_name = next((n for n in names if n), None) or props.get("server_name")
        outs = _outputs(inputs, members, server_name)
        return ReadResult(id_, outs, inputs.to_props())

    # ---- delete ------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        members = _member_ids(props)
        note_in_state(*members)
        inputs = RotationInputs.parse(props)
        client = self.client()
        deleted: list[str] = []
        stuck: list[str] = []
        for backup_id in reversed(members):  # oldest first, like pruning
            try:
                self._delete_member(client, backup_id, inputs)
                deleted.append(str(backup_id))
            except VpsBackupError as exc:
                stuck.append(f"{backup_id} ({first_line(exc)})")
        if not stuck:
            intent = intent_of(inputs.server_id, inputs.description, inputs.triggers)
            BackupSteps(client).settle_own(
                inputs.server_id, inputs.resource_key, intent, inputs.timeout
            )
        if stuck:
            raise user_error(
                f"Rotation {inputs.name}: backups {', '.join(stuck)} of server "
                f"{inputs.server_id} could not be deleted"
                + (f" (deleted: {', '.join(deleted)})" if deleted else "")
                + "; the rotation stays in the stack. Run `pulumi destroy` again: a backup "
                "already deleted counts as done."
            )


def _known_keep(news: dict[str, Any]) -> int:
    """`keep` when it is known (not during a preview that computes it), else a value
    that leaves every member in place."""
    keep = news.get("keep")
    if keep is None or v.is_unknown(keep):
        return 10**9
    try:
        return int(keep)
    except (TypeError, ValueError):
        return 10**9


def _beyond(members: list[int], keep: int) -> list[int]:
    """The members past the newest `keep` (newest first, as `members`)."""
    return members[max(keep, 0) :]


def _member_ids(props: dict[str, Any]) -> list[int]:
    ids = []
    for value in props.get("backup_ids") or []:
        try:
            ids.append(v.positive_id("backup_ids", value))
        except v.FieldError:
            continue
    return ids


def _name(inputs: dict[str, Any]) -> str:
    name = inputs.get("resource_name")
    return name if isinstance(name, str) and name else "(unnamed)"


def _outputs(inputs: RotationInputs, members: list[int], server_name: Any) -> dict[str, Any]:
    """Members newest first, and copies of the inputs (later calls see only outputs)."""
    outs = inputs.to_props()
    outs["backup_ids"] = list(members)
    if members:
        outs["latest_backup_id"] = members[0]
    if server_name:
        outs["server_name"] = server_name
    return outs
