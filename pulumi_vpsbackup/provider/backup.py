"""The `Backup` resource: a manual VPS.org backup managed by Pulumi.

Lifecycle, as the engine drives it:

- check: validates and normalises inputs; for a backup about to be created,
  and when the values are known, asks the API whether the create would
  certainly fail (unknown server, 10-manual-backup limit). An unreachable API
  or bad credentials only warn here: preview stays usable in review.
- diff: `server_id`, `description`, `triggers` and `existing_backup_id` replace
  (except where that would delete an adopted backup: see `_changes`);
  `wait_for_completion` and `timeout` update in place, and switching waiting
  on for a running backup waits for it.
  Replacement creates the new backup before deleting the old one (a server is
  never left without the backup), which needs one free slot of the quota; see
  the README for `delete_before_replace`.
- create: as transactional as the API allows. The description sent carries a
  marker (see `pulumi_vpsbackup.client.marker`): a random token per request,
  so a lost answer adopts only the backup that request made, and the
  resource's stable key (`resource_key`, from project, stack and resource
  name), so a backup an earlier run left outside state (a wait timeout, a
  lost answer whose check failed, an interrupted `pulumi up`) is found and
  settled by the next create of the same resource instead of piling up. If
  waiting fails or times out, the new backup is deleted before the error is
  raised; an error names any backup that could not be removed, and says
  whether the next `pulumi up` will settle it.
- read: refreshes every output; removes the resource from state only when a
  complete listing proves the backup is gone.
- delete: a 404 counts as done; a backup still being created is waited for,
  then deleted.

Every call uses the account stored with the resource (`account`, see
`pulumi_vpsbackup.provider.account`), else the stack's settings. A new token
for the same URL updates in place and touches no backup; a new URL is refused
by check (`VpsProvider._account_moved`).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, UpdateResult

from ..client import (
    ApiError,
    Backup,
    BackupFailedError,
    BadRequestError,
    ConfigurationError,
    ConflictError,
    CreateReconciliationError,
    NotFoundError,
    TransportError,
    VpsBackupError,
    VpsClient,
    WaitError,
    WaitTimeoutError,
)
from ..client.marker import MARKER_RESERVED, is_resource_key, parse_marker, strip_marker
from ..client.models import RUNNING_BACKUP_STATUSES
from . import validation as v
from .account import account_identity, account_input
from .base import VpsProvider, first_line, progress, user_error, warn
from .results import BackupInfo

MANUAL_BACKUP_LIMIT = 10
#: The longest description a created backup can have: the API's limit less the marker.
MAX_OWN_DESCRIPTION = v.MAX_DESCRIPTION_LENGTH - MARKER_RESERVED


def resource_key_input(field: str, value: Any) -> str:
    """The hidden `resource_key` input that `Backup` derives from project, stack and name."""
    if not is_resource_key(value):
        raise v.FieldError(field, f"must be 8 lowercase hex digits, got {value!r}")
    return str(value)


INPUT_FIELDS = [
    v.FieldSpec("server_id", v.positive_id, required=True, replaces=True),
    v.FieldSpec("description", v.description, replaces=True, compare=v.same_text),
    v.FieldSpec("triggers", v.triggers, replaces=True),
    v.FieldSpec("existing_backup_id", v.positive_id, replaces=True),
    v.FieldSpec("wait_for_completion", v.boolean, default=True),
    v.FieldSpec("timeout", v.duration_seconds, default=v.DEFAULT_TIMEOUT_SECONDS),
    # Never compared by diff: renaming or moving a resource changes no backup.
    v.FieldSpec("resource_key", resource_key_input),
    # URL and token; a new token (rotation) updates in place, a new URL fails check.
    v.FieldSpec("account", account_input, compare=account_identity),
]
INPUT_NAMES = [spec.name for spec in INPUT_FIELDS]

# Backup ids this provider process has seen in state (the old outputs handed to
# diff, update, read and delete). A create never settles one of them as a
# leftover: with the same resource key, a replacement (`pulumi up --replace`,
# `replace_on_changes`) would otherwise take over the backup it replaces, which
# the engine then deletes. The engine diffs a resource before replacing it, in
# the same provider process.
_HELD_LOCK = threading.Lock()
_HELD_IN_STATE: set[int] = set()


def _note_in_state(*ids: Any) -> None:
    found = set()
    for value in ids:
        try:
            found.add(v.positive_id("id", value))
        except v.FieldError:
            continue
    with _HELD_LOCK:
        _HELD_IN_STATE.update(found)


def _held_in_state() -> frozenset[int]:
    with _HELD_LOCK:
        return frozenset(_HELD_IN_STATE)


def backup_outputs(backup: Backup, inputs: dict[str, Any]) -> dict[str, Any]:
    """Outputs: the backup as the API reports it, plus copies of the inputs
    (diff, update, read and delete only ever see the previous outputs)."""
    outs = {name: inputs[name] for name in INPUT_NAMES if inputs.get(name) is not None}
    reported = BackupInfo.from_backup(backup).to_dict()
    reported["backup_id"] = reported.pop("id")
    # The marker is the provider's, not the user's: outputs and diffs never see it.
    reported["description"] = strip_marker(backup.description) or inputs.get("description") or None
    outs.update(reported)
    return outs


class BackupProvider(VpsProvider):
    """Dynamic provider behind `pulumi_vpsbackup.Backup` (do not rename: the
    class is referenced by name from every stack's state)."""

    fields = INPUT_FIELDS
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
                return [CheckFailure("description", _too_long(described))]
        if v.is_unknown(inputs["server_id"]) or v.contains_unknown(inputs.get("account")):
            return []
        server_id: int = inputs["server_id"]
        try:
            client = self.client_for(inputs)
            server = client.get_server(server_id)
            backups = client.list_backups(server_id=server_id, max_age=5.0)
        except NotFoundError:
            return [CheckFailure("server_id", self._unknown_server_reason(client, server_id))]
        except (ConfigurationError, TransportError, ApiError) as exc:
            warn(f"could not verify server {server_id} before the update ({first_line(exc)})")
            return []
        if existing_id is not None and not v.is_unknown(existing_id):
            # find_backup confirms an absence with a fresh listing; the cached one may be old.
            match = client.find_backup(existing_id, server_id=server_id, max_age=5.0)
            if match is None:
                return [
                    CheckFailure(
                        "existing_backup_id",
                        f"backup {existing_id} does not exist on server {server_id} "
                        f"({server.name}); list them with get_backups(server_id={server_id})",
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
            return []
        manual = [b for b in backups if b.backup_type == "manual"]
        if len(manual) >= MANUAL_BACKUP_LIMIT:
            # A warning, not a check failure: the engine checks a replacement a
            # second time with no old inputs, exactly like a fresh create, and a
            # replacement with delete_before_replace frees its own slot first.
            failed = sum(1 for b in manual if b.status == "failed")
            warn(
                f"server {server_id} ({server.name}) already has {len(manual)} manual backups"
                + (f" ({failed} of them failed)" if failed else "")
                + f", the limit is {MANUAL_BACKUP_LIMIT}: a new backup will be refused unless "
                f"one is deleted first (ids: {', '.join(str(b.id) for b in manual)}); when this "
                "replaces a backup, ResourceOptions(delete_before_replace=True) frees its slot"
            )
        return []

    def _refusal(self, client: VpsClient, server_id: int, exc: BadRequestError) -> VpsBackupError:
        """A refused create, said as what to do: at the quota, which backups hold it."""
        try:
            manual = client.list_backups(server_id=server_id, backup_type="manual")
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

    def _unknown_server_reason(self, client: VpsClient, server_id: int) -> str:
        reason = f"server {server_id} does not exist or is not visible to this API token"
        try:
            servers = client.list_servers()
        except VpsBackupError:
            return reason
        if servers:
            known = ", ".join(f"{s.id} ({s.name})" for s in servers[:10])
            reason += f"; servers available: {known}"
        return reason

    # ---- diff --------------------------------------------------------------
    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        _note_in_state(_id, olds.get("backup_id"))
        changed, replaces = self._changes(olds, news)
        return DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

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
            name for name in v.changed_fields(self.fields, olds, news) if name != "resource_key"
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
        inputs = _known_inputs(props)
        client = self.client_for(inputs)
        server_id = inputs["server_id"]
        existing_id = inputs.get("existing_backup_id")
        key = inputs.get("resource_key")
        if existing_id is not None:
            backup = self._adopt(client, server_id, existing_id)
            created = False
        else:
            description = inputs.get("description")
            if description is not None and len(description) > MAX_OWN_DESCRIPTION:
                raise user_error(f"description: {_too_long(description)}")
            found = self._settle_leftovers(client, inputs) if key else None
            if found is None:
                backup = self._create(client, server_id, description, key)
                progress(f"created backup {backup.id} of server {server_id} ({backup.status})")
            else:
                backup = found
            created = True
        if inputs["wait_for_completion"] and backup.is_in_progress:
            backup = self._wait_or_undo(client, backup, inputs["timeout"], undo=created, key=key)
        outs = backup_outputs(backup, inputs)
        if not created:
            outs["adopted"] = True  # kept by update and read; see _changes
        return CreateResult(str(backup.id), outs)

    def _create(
        self, client: VpsClient, server_id: int, description: str | None, key: str | None
    ) -> Backup:
        try:
            return client.create_backup(server_id, description, resource_key=key)
        except BadRequestError as exc:
            raise self._refusal(client, server_id, exc) from exc
        except CreateReconciliationError as exc:
            if key is None:
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

    def _settle_leftovers(self, client: VpsClient, inputs: dict[str, Any]) -> Backup | None:
        """A backup an earlier run of this resource left outside state, settled.

        Looks for manual backups of the server whose marker carries this
        resource's key and that no resource in state holds. The newest one
        that is completed or still running, with the wanted description, is
        returned to be used instead of a new backup; every other one (failed,
        or with an old description) is deleted. If one cannot be deleted yet,
        the create fails and names it: the next create finds it again.
        """
        key = inputs["resource_key"]
        server_id = inputs["server_id"]
        held = _held_in_state()
        mine = [
            b
            for b in client.list_backups(server_id=server_id, backup_type="manual")
            if b.id not in held and _key_of(b.description) == key
        ]
        if not mine:
            return None
        wanted = inputs.get("description") or ""

        def usable(b: Backup) -> bool:
            return (b.status == "completed" or b.is_in_progress) and (
                strip_marker(b.description) or ""
            ) == wanted

        keep = max(
            (b for b in mine if usable(b)),
            key=lambda b: (b.status == "completed", b.id),
            default=None,
        )
        stuck: list[str] = []
        for backup in mine:
            if backup is keep:
                continue
            left = self._remove_after_failure(client, backup, time.monotonic(), inputs["timeout"])
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
                f"an earlier run of this resource and could not be deleted yet; nothing was "
                f"created. Run `pulumi up` again: it will find them by their marker "
                f"[pvb:{key}] and settle them."
            )
        if keep is not None:
            progress(
                f"found backup {keep.id} of server {server_id} ({keep.status}) left outside "
                f"state by an earlier run of this resource [pvb:{key}]; using it instead of "
                "creating another"
            )
        return keep

    def _adopt(self, client: VpsClient, server_id: int, backup_id: int) -> Backup:
        backup = client.find_backup(backup_id, server_id=server_id)
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

    def _wait_or_undo(
        self, client: VpsClient, backup: Backup, timeout: float, undo: bool, key: str | None = None
    ) -> Backup:
        started = time.monotonic()
        try:
            return client.wait_for_backup(
                backup.id,
                server_id=backup.server_id,
                timeout=timeout,
                on_progress=_reporter(timeout),
            )
        except VpsBackupError as exc:  # failed, timed out, or the API gave out
            if not undo:
                raise
            # Our own next step follows: not the client's generic advice as well.
            what = (
                exc.what_happened() if isinstance(exc, WaitError) else first_line(exc).rstrip(".")
            )
            left = self._remove_after_failure(client, backup, started, timeout)
            if left is None:
                raise user_error(
                    f"{what}. The backup was deleted so that it does not use a slot of the "
                    f"server's {MANUAL_BACKUP_LIMIT}-backup quota; nothing was recorded in "
                    "state. Run `pulumi up` again (raise `timeout` first if the server is "
                    "large).",
                    exc,
                ) from exc
            if key is not None and _key_of(backup.description) == key:
                raise user_error(
                    f"{what}. Backup {backup.id} on server {backup.server_id} could not be "
                    f"deleted afterwards ({left}) and is not in Pulumi state yet; its "
                    f"description carries this resource's marker [pvb:{key}]. Run `pulumi up` "
                    "again (raise `timeout` first if the server is large): it will find this "
                    "backup and wait for it, or delete it if it failed, instead of creating "
                    "another.",
                    exc,
                ) from exc
            raise user_error(
                f"{what}. Backup {backup.id} on server {backup.server_id} could not be deleted "
                f"afterwards ({left}) and is NOT in Pulumi state: delete it yourself "
                f"(DELETE /backups/{backup.id}/) or adopt it with existing_backup_id="
                f"{backup.id}.",
                exc,
            ) from exc

    def _remove_after_failure(
        self, client: VpsClient, backup: Backup, started: float, timeout: float
    ) -> str | None:
        """Delete a backup this create made; None on success, else why not."""
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

    # ---- update ------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        """Record the new inputs; when waiting is switched on for a backup that is
        still running, wait for it now so that dependents see it completed."""
        _note_in_state(id_, olds.get("backup_id"))
        outs = super().update(id_, olds, news).outs or {}
        if news.get("wait_for_completion") and olds.get("status") in RUNNING_BACKUP_STATUSES:
            client = self.client_for(outs)
            timeout = float(news.get("timeout") or v.DEFAULT_TIMEOUT_SECONDS)
            backup = client.wait_for_backup(
                int(id_),
                server_id=v.positive_id("server_id", outs["server_id"]),  # floats on the wire
                timeout=timeout,
                on_progress=_reporter(timeout),
            )
            outs.update(backup_outputs(backup, outs))
        return UpdateResult(outs)

    # ---- read --------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        backup_id = v.positive_id("id", id_)
        _note_in_state(backup_id)
        server_id = props.get("server_id")
        server_id = v.positive_id("server_id", server_id) if server_id is not None else None
        # A short-lived shared listing: a refresh of many backups on one server
        # costs one listing, not one per backup.
        client = self.client_for(props)
        backup = client.find_backup(backup_id, server_id=server_id, max_age=2.0)
        if backup is None:
            # Dropping it from state leaves a live backup unmanaged if the listing
            # was wrong (paging is no snapshot), so absence must be seen twice.
            backup = client.find_backup(backup_id, server_id=server_id)
        if backup is None:
            return ReadResult(None, {})
        inputs = {name: props[name] for name in INPUT_NAMES if props.get(name) is not None}
        inputs.setdefault("server_id", backup.server_id)
        inputs.setdefault("wait_for_completion", True)
        inputs.setdefault("timeout", v.DEFAULT_TIMEOUT_SECONDS)
        if backup.description is not None:
            inputs["description"] = strip_marker(backup.description)
        outs = backup_outputs(backup, inputs)
        if props.get("adopted"):
            outs["adopted"] = True
        return ReadResult(str(backup.id), outs, inputs)

    # ---- delete ------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        backup_id = v.positive_id("id", id_)
        _note_in_state(backup_id)
        client = self.client_for(props)
        try:
            deleted = client.delete_backup(backup_id)
        except ConflictError:
            # The API refuses to delete a backup that is still being made:
            # wait for it (within the resource's timeout), then delete.
            timeout = float(props.get("timeout") or v.DEFAULT_TIMEOUT_SECONDS)
            progress(f"backup {backup_id} is still being created; waiting before deleting it")
            server_id = props.get("server_id")
            try:
                client.wait_for_backup(
                    backup_id,
                    server_id=int(server_id) if server_id is not None else None,
                    timeout=timeout,
                )
            except BackupFailedError:
                pass  # a failed backup can be deleted like any other
            deleted = client.delete_backup(backup_id)
        if not deleted:
            progress(f"backup {backup_id} was already gone")


def _reporter(timeout: float) -> Callable[[Backup, float], None]:
    def report(current: Backup, waited: float) -> None:
        progress(
            f"backup {current.id} of server {current.server_id} is {current.status} "
            f"after {waited:.0f}s (timeout {timeout:.0f}s)"
        )

    return report


def _key_of(description: str | None) -> str | None:
    marker = parse_marker(description)
    return marker.key if marker is not None else None


def _too_long(description: str) -> str:
    return (
        f"must be at most {MAX_OWN_DESCRIPTION} characters for a new backup, got "
        f"{len(description)}: VPS.org keeps {v.MAX_DESCRIPTION_LENGTH}, and {MARKER_RESERVED} "
        "are kept for the marker that lets the provider recognise its own backup"
    )


def _known_inputs(props: dict[str, Any]) -> dict[str, Any]:
    """Create/update props are fully known; normalise engine floats again."""
    inputs = {name: props[name] for name in INPUT_NAMES if props.get(name) is not None}
    inputs["server_id"] = v.positive_id("server_id", inputs.get("server_id"))
    if "existing_backup_id" in inputs:
        inputs["existing_backup_id"] = v.positive_id(
            "existing_backup_id", inputs["existing_backup_id"]
        )
    inputs.setdefault("wait_for_completion", True)
    inputs["timeout"] = float(inputs.get("timeout", v.DEFAULT_TIMEOUT_SECONDS))
    return inputs
