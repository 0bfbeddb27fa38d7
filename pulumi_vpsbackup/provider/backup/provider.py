"""The `Backup` resource: one manual VPS.org backup managed by Pulumi.

What each engine call does for the user (preview, up, refresh, destroy, the
quota, the description marker, adoption): docs/resources.md, "What each
command does" and the sections after it. Rules this module must keep: a
create is as transactional as the API allows (a backup that fails or times
out is deleted before the error, and a leftover is settled only by its
owner key); read drops the resource only when a complete listing proves the
backup gone; every call uses the account stored with the resource.
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
    WaitCancelledError,
    status_phase,
)
from ...client.marker import is_owner_key, strip_marker
from ..core import validation as v
from ..core.base import VpsProvider, first_line, progress, warn
from ..queries.results import BackupInfo
from .declaration import BackupInputs
from .steps import (
    MANUAL_BACKUP_LIMIT,
    MAX_OWN_DESCRIPTION,
    BackupSteps,
    check_own_description,
    intent_of,
    note_in_state,
    owned_elsewhere,
    reporter,
    too_long,
)

__all__ = ["BackupProvider", "backup_outputs"]

#: The kinds of backup the API lists by (its ``backup_type`` filter).
BACKUP_TYPES = ("manual", "automatic")


def backup_outputs(backup: BackupRecord, inputs: BackupInputs, *, adopted: bool) -> dict[str, Any]:
    """Outputs: the backup as the API reports it, plus copies of the inputs
    (diff, update, read and delete only ever see the previous outputs)."""
    outs = inputs.to_props()
    reported = BackupInfo.from_backup(backup).to_dict()
    reported["backup_id"] = reported.pop("id")
    # The marker is the provider's, not the user's: outputs and diffs never see it.
    reported["description"] = strip_marker(backup.description) or inputs.description or None
    if adopted:
        reported["adopted"] = True  # kept by update and read; see _changes
    outs.update(reported)
    return outs


class BackupProvider(VpsProvider):
    """Dynamic provider behind `pulumi_vpsbackup.Backup` (do not rename: the
    class is referenced by name from every stack's state)."""

    # Every stack's state names this class by module path and name (the pickled
    # `__provider`); the path is the package's, as it was before the package was split.
    __module__ = "pulumi_vpsbackup.provider.backup"

    fields = BackupInputs.specs()
    reported_fields = ("description",)
    moved_hint = (
        "this backup was made in the account at the old URL and stays there (a replacement "
        "would create one in the other account and delete this one)."
    )

    # ---- check -------------------------------------------------------------
    def check_against_api(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        """What would certainly fail at `up`, asked only for a backup about to be made."""
        creating = not olds or bool(self._changes(olds, inputs)[1])
        if not creating:
            return []
        existing_id = inputs.get("existing_backup_id")
        described = inputs.get("description")
        if existing_id is None and isinstance(described, str):
            if len(described) > MAX_OWN_DESCRIPTION:
                return [CheckFailure("description", too_long(described))]
        if v.is_unknown(inputs["server_id"]) or v.contains_unknown(inputs.get("account")):
            return []
        server_id: int = inputs["server_id"]
        try:
            client = self.client_for(inputs.get("account"))
            # One request in the common case: the server's manual backups (one
            # page: at most 10), which create reuses to settle leftovers. Any of
            # them proves the server exists and names it; only an empty answer
            # (a new server, or one that does not exist) asks for the server.
            manual = client.list_backups(server_id=server_id, backup_type="manual", max_age=5.0)
            server_name = next((b.server_name for b in manual if b.server_name), None)
            if server_name is None:
                server_name = client.get_server(server_id).name
        except NotFoundError:
            return [CheckFailure("server_id", BackupSteps(client).unknown_server_reason(server_id))]
        except (ConfigurationError, TransportError, ApiError) as exc:
            warn(f"could not verify server {server_id} before the update ({first_line(exc)})")
            return []
        if existing_id is not None and not v.is_unknown(existing_id):
            # Not among the manual ones: find_backup tells automatic from absent,
            # and confirms an absence with a fresh listing (a cached one may be old).
            match = next((b for b in manual if b.id == existing_id), None) or client.find_backup(
                existing_id, server_id=server_id, max_age=5.0
            )
            if match is None:
                return [
                    CheckFailure(
                        "existing_backup_id",
                        f"backup {existing_id} does not exist on server {server_id} "
                        f"({server_name}); list them with get_backups(server_id={server_id})",
                    )
                ]
            if match.backup_type != "manual":
                return [
                    CheckFailure(
                        "existing_backup_id",
                        f"backup {existing_id} is {match.backup_type}; only manual backups can "
                        "be adopted (reference an automatic one with Backup.get instead)",
                    )
                ]
            note = owned_elsewhere(match, inputs.get("resource_key"), "Adopting it")
            if note:
                warn(note)
            return []
        if len(manual) >= MANUAL_BACKUP_LIMIT:
            # A warning, not a check failure: the engine checks a replacement a
            # second time with no old inputs, exactly like a fresh create, and a
            # replacement with delete_before_replace frees its own slot first.
            failed = sum(1 for b in manual if b.status == "failed")
            warn(
                f"server {server_id} ({server_name}) already has {len(manual)} manual backups"
                + (f" ({failed} of them failed)" if failed else "")
                + f", the limit is {MANUAL_BACKUP_LIMIT}: a new backup will be refused unless "
                f"one is deleted first (ids: {', '.join(str(b.id) for b in manual)}); when this "
                "replaces a backup, ResourceOptions(delete_before_replace=True) frees its slot"
            )
        return []

    # ---- diff --------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        note_in_state(_id, olds.get("backup_id"))
        changed, replaces = self._changes(olds, news)
        return DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    def changed_names(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return self._changes(olds, news)[0]

    def _changes(self, olds: dict[str, Any], news: dict[str, Any]) -> tuple[list[str], list[str]]:
        """The changed fields and those that replace, with exceptions that protect backups.

        - No `description` in the program means "whatever the backup has": the
          output holds the API's description, which is not a change request.
        - An adopted backup is never replaced for its description or triggers:
          the replacement would adopt the same backup again and then delete it
          as the old one. Naming the backup the resource already holds in
          `existing_backup_id`, or dropping `existing_backup_id` once it has
          done its job, changes no backup either: both update in place.
        """
        changed = [
            name
            for name in v.changed_fields(self.fields, olds, news)
            if name not in ("resource_key", "previous_keys")
        ]
        if v.is_absent(news.get("description")) and "description" in changed:
            changed.remove("description")
        new_adopt = news.get("existing_backup_id")
        holds_it = (
            new_adopt is not None
            and not v.is_unknown(new_adopt)
            and v.canonical(new_adopt) == v.canonical(olds.get("backup_id"))
        )
        keep: set[str] = set()  # changed, but updated in place rather than replaced
        if "existing_backup_id" in changed and (new_adopt is None or holds_it):
            keep.add("existing_backup_id")
        adopting = new_adopt is not None and ("existing_backup_id" not in changed or holds_it)
        if adopting:
            keep.add("triggers")
        # An adopted backup's description is VPS.org's, never the program's: it
        # is no reason to replace, even after existing_backup_id is dropped.
        if (adopting or olds.get("adopted")) and "description" in changed:
            changed.remove("description")
        replaces = [name for name in changed if self._spec(name).replaces and name not in keep]
        return changed, replaces

    # ---- create ------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = BackupInputs.parse(props)
        steps = BackupSteps(self.client_for(inputs.account))
        key = inputs.resource_key
        adopting = inputs.existing_backup_id is not None
        if inputs.existing_backup_id is not None:
            backup = steps.adopt(inputs.server_id, inputs.existing_backup_id)
        else:
            check_own_description(inputs.description)
            # Only a key made from the stack's identity proves ownership (one
            # from state written by 0.1 does not): without one, no leftover is
            # settled and the marker carries no key.
            key = key if is_owner_key(key) else None
            intent = intent_of(inputs.server_id, inputs.description, inputs.triggers)
            found = (
                steps.settle_leftovers(
                    inputs.server_id,
                    key,
                    intent,
                    inputs.description,
                    inputs.timeout,
                    inputs.previous_keys or (),
                )
                if key
                else None
            )
            if found is None:
                backup = steps.create(
                    inputs.server_id, inputs.description, key, intent if key else None
                )
                progress(
                    f"created backup {backup.id} of server {inputs.server_id} ({backup.status})"
                )
            else:
                backup = found
        if inputs.wait_for_completion and backup.is_in_progress:
            try:
                backup = steps.wait_or_undo(backup, inputs.timeout, undo=not adopting, key=key)
            except WaitCancelledError as exc:
                # A running backup cannot be deleted: it is handed on (the native
                # plugin gives it to the engine, which keeps it in state), so none
                # is left outside state.
                exc.made = (str(backup.id), backup_outputs(backup, inputs, adopted=adopting))
                exc.next_step = (
                    f"Backup {backup.id} of server {backup.server_id} is kept in state as not "
                    "finished; the next `pulumi up` waits for it."
                )
                raise
            except VpsBackupError as exc:
                if exc.left_record is not None:
                    exc.handover = (
                        str(exc.left_record.id),
                        backup_outputs(exc.left_record, inputs, adopted=adopting),
                    )
                raise
        return CreateResult(str(backup.id), backup_outputs(backup, inputs, adopted=adopting))

    # ---- update ------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record the new inputs; when waiting is switched on for a backup that is
        still running, wait for it now so that dependents see it completed."""
        note_in_state(id_, olds.get("backup_id"))
        outs = super().update(id_, olds, news).outs or {}
        inputs = BackupInputs.parse(outs)
        if inputs.wait_for_completion and status_phase(olds.get("status")) == "running":
            backup = self.client_for(inputs.account).wait_for_backup(
                int(id_),
                server_id=inputs.server_id,
                timeout=inputs.timeout,
                on_progress=reporter(inputs.timeout),
            )
            outs.update(backup_outputs(backup, inputs, adopted=bool(olds.get("adopted"))))
        return UpdateResult(outs)

    # ---- read --------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        backup_id = v.positive_id("id", id_)
        note_in_state(backup_id)
        server_id = BackupInputs.stored(props, "server_id")  # None from a `Backup.get`
        # Of its own kind when state knows it: the API filters, so a server's
        # automatic backups add no pages to a manual backup's refresh.
        kind = props.get("backup_type") if props.get("backup_type") in BACKUP_TYPES else None
        # Shared listings (one per server, or one of the account for a refresh
        # spread over many servers); absence is believed only when seen twice,
        # since dropping state would leave a live backup unmanaged.
        client = self.client_for(props.get("account"))
        backup = client.refresh_backup(backup_id, server_id=server_id, backup_type=kind)
        if backup is None:
            return ReadResult(None, {})
        inputs = BackupInputs.parse({**props, "server_id": server_id or backup.server_id})
        if backup.description is not None:
            inputs = inputs.replace(description=strip_marker(backup.description))
        outs = backup_outputs(backup, inputs, adopted=bool(props.get("adopted")))
        return ReadResult(str(backup.id), outs, inputs.to_props())

    # ---- delete ------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        """Delete the backup, then any its own earlier runs left for the same inputs."""
        server_id = BackupInputs.stored(props, "server_id")
        key = props.get("resource_key")
        adopted = bool(props.get("adopted")) or props.get("existing_backup_id") is not None
        intent = None
        if server_id is not None and not adopted:
            intent = intent_of(server_id, props.get("description"), props.get("triggers"))
        BackupSteps(self.client_for(props.get("account"))).delete_and_settle(
            v.positive_id("id", id_),
            server_id=server_id,
            key=key if isinstance(key, str) and not adopted else None,
            intent=intent,
            timeout=BackupInputs.stored(props, "timeout"),
        )
