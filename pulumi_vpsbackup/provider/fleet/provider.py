"""The `BackupFleet` resource: one backup of each of many servers, made in one step.

It exists because every waiting `Backup` holds one of the dynamic provider
host's four threads; a fleet starts all its backups and then waits for them in
one polling loop. Each backup is made by `Backup`'s own code
(`BackupSteps`), with a marker key derived from the fleet's key and the server
(`member_key`), so a leftover is never taken from another fleet or server.
What each command does: docs/resources.md, `BackupFleet`.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, UpdateResult

from ...client import (
    ApiError,
    BackupRecord,
    ConfigurationError,
    TransportError,
    VpsBackupError,
    VpsClient,
    WaitCancelledError,
)
from ...client.marker import derived_key, is_owner_key
from ..backup.steps import (
    MAX_OWN_DESCRIPTION,
    BackupSteps,
    check_own_description,
    intent_of,
    note_in_state,
    release,
    too_long,
)
from ..core import validation as v
from ..core.base import VpsProvider, first_line, progress, user_error, warn
from .declaration import FleetInputs
from .wait import each, wait_all

__all__ = ["FleetProvider", "member_key"]

HIDDEN = FleetInputs.hidden


def member_key(fleet_key: str, server_id: int) -> str:
    """The owner key of a fleet's backup of one server (the fleet's stack tag)."""
    return derived_key(fleet_key, "fleet-member", str(int(server_id)))


class FleetProvider(VpsProvider):
    """Dynamic provider behind `pulumi_vpsbackup.BackupFleet` (do not rename: the
    class is referenced by name from every stack's state)."""

    # Every stack's state names this class by module path and name (the pickled
    # `__provider`); the path is the package's, as it was before the package was split.
    __module__ = "pulumi_vpsbackup.provider.fleet"

    fields = FleetInputs.specs()

    # ---- check -------------------------------------------------------------
    def check_against_api(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        described = inputs.get("description")
        if isinstance(described, str) and len(described) > MAX_OWN_DESCRIPTION:
            return [CheckFailure("description", too_long(described))]
        servers = inputs.get("server_ids")
        if v.contains_unknown(servers) or not isinstance(servers, list):
            return []
        # Check's olds are the old inputs: the servers that already have a backup.
        replacing = bool(olds) and bool(self._replaces(olds, inputs))
        held = set() if replacing else {v.canonical(s) for s in olds.get("server_ids") or []}
        adding = [s for s in servers if s not in held]
        if not adding:
            return []
        try:
            client = self.client()
            known = {s.id: s for s in client.list_servers()}
        except (ConfigurationError, TransportError, ApiError) as exc:
            warn(f"could not verify the fleet's servers before the update ({first_line(exc)})")
            return []
        unknown = [s for s in adding if s not in known]
        if unknown:
            shown = ", ".join(f"{s.id} ({s.name})" for s in list(known.values())[:10])
            return [
                CheckFailure(
                    "server_ids",
                    f"server {', '.join(map(str, unknown))} does not exist or is not visible to "
                    f"this API token" + (f"; servers available: {shown}" if shown else ""),
                )
            ]
        if not olds:
            progress(f"fleet {_name(inputs)}: will back up {len(adding)} server(s) at once")
        return []

    # ---- diff --------------------------------------------------------------
    def changed_names(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return self._changes(olds, news)

    def _changes(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        changed = [n for n in v.changed_fields(self.fields, olds, news) if n not in HIDDEN]
        if v.is_absent(news.get("description")) and "description" in changed:
            changed.remove("description")  # no description: whatever the backups have
        servers = news.get("server_ids")
        if "server_ids" not in changed and isinstance(servers, list):
            if not v.contains_unknown(servers) and set(_members(olds)) != set(servers):
                # A refresh dropped a member, or a removed server's backup could not
                # be deleted: the update makes the members match the servers again.
                changed.append("server_ids")
        return changed

    def _replaces(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return [n for n in self._changes(olds, news) if self._spec(n).replaces]

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        members = _members(olds)
        note_in_state(*members.values())
        changed = self._changes(olds, news)
        replaces = [n for n in changed if self._spec(n).replaces]
        if changed and not replaces:
            self._show_plan(olds, news, members)
        return DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    def planned_members(
        self, olds: dict[str, Any], news: dict[str, Any]
    ) -> dict[int, int | None] | None:
        """Each server's backup after an update, None for the servers it backs up; None
        when the servers are not known before it runs. `update` deletes exactly the
        backups of the servers this leaves out, unless VPS.org refuses a delete."""
        servers = news.get("server_ids")
        if not isinstance(servers, list) or v.contains_unknown(servers):
            return None
        members = _members(olds)
        return {v.canonical(s): members.get(v.canonical(s)) for s in servers}

    def _show_plan(
        self, olds: dict[str, Any], news: dict[str, Any], members: dict[int, int]
    ) -> None:
        planned = self.planned_members(olds, news)
        if planned is None:
            return
        added = [s for s, backup_id in planned.items() if backup_id is None]
        removed = [s for s in members if s not in planned]
        parts = []
        if added:
            parts.append(f"back up server {', '.join(map(str, added))}")
        if removed:
            ids = ", ".join(str(members[s]) for s in removed)
            parts.append(f"delete backup {ids} (server {', '.join(map(str, removed))})")
        if parts:
            name = _name(news) if news.get("resource_name") else _name(olds)
            progress(f"fleet {name}: will {' and '.join(parts)}")

    # ---- create ------------------------------------------------------------
    def create(self, props: dict[str, Any]) -> CreateResult:
        inputs = FleetInputs.parse_keyed(props, "fleets with BackupFleet(...)")
        fleet_id = f"fleet-{inputs.resource_key}-{secrets.token_hex(4)}"
        try:
            made = self._back_up(self.client(), inputs, inputs.server_ids)
        except WaitCancelledError as exc:
            if exc.made is not None:  # the backups started: the fleet that holds them
                exc.made = (fleet_id, exc.made[1])
            raise
        except VpsBackupError as exc:
            if exc.handover is not None:
                exc.handover = (fleet_id, exc.handover[1])
            raise
        return CreateResult(fleet_id, _outputs(inputs, made))

    def _back_up(
        self, client: VpsClient, inputs: FleetInputs, servers: list[int]
    ) -> dict[int, BackupRecord]:
        """One backup per server: started together, waited for together.

        Returns the completed backups by server. If any backup failed, timed
        out or could not be started, the failed ones are deleted and an error
        says what happened to each server; the completed ones are left (with
        their markers) for the next run to use.
        """
        started_at = time.monotonic()
        check_own_description(inputs.description)
        steps = BackupSteps(client)
        fleet_key = inputs.resource_key
        assert fleet_key is not None  # parse_keyed
        intents = {s: intent_of(s, inputs.description, inputs.triggers) for s in servers}
        if not is_owner_key(fleet_key):
            # A key from state written by 0.1 proves no ownership: nothing is settled.
            return self._start_and_wait(client, inputs, servers, started_at, {}, intents, None)
        keys = {server_id: member_key(fleet_key, server_id) for server_id in servers}
        # One account listing names the servers holding a leftover of an
        # earlier run (a fleet of one server, or a failed listing: ask each).
        wanted = {keys[s]: intents[s] for s in servers}
        # (A renamed fleet asks each server: the listing knows only current keys.)
        many = len(servers) > 1 and not inputs.previous_keys
        leftovers = steps.leftover_keys(wanted) if many else None
        return self._start_and_wait(client, inputs, servers, started_at, keys, intents, leftovers)

    def _start_and_wait(
        self,
        client: VpsClient,
        inputs: FleetInputs,
        servers: list[int],
        started_at: float,
        keys: dict[int, str],
        intents: dict[int, str],
        leftovers: set[str] | None,
    ) -> dict[int, BackupRecord]:
        steps = BackupSteps(client)

        def start(server_id: int) -> BackupRecord:
            key = keys.get(server_id)
            intent = intents[server_id]
            if key is not None and (leftovers is None or key in leftovers):
                before = [member_key(k, server_id) for k in inputs.previous_keys or ()]
                found = steps.settle_leftovers(
                    server_id, key, intent, inputs.description, inputs.timeout, before
                )
                if found is not None:
                    return found
            return steps.create(server_id, inputs.description, key, intent if key else None)

        started, problems = each(start, servers)
        if started:
            progress(
                f"fleet {inputs.name}: started {len(started)} backup(s): "
                + ", ".join(f"{b.id} (server {s})" for s, b in sorted(started.items()))
            )
        try:
            done, failed = wait_all(client, started, inputs.timeout, inputs.name)
        except WaitCancelledError as exc:
            # Running backups cannot be deleted: they are handed on as the fleet's
            # members (the native plugin gives them to the engine to keep in state).
            exc.made = ("", _outputs(inputs, started))
            exc.next_step = (
                f"Fleet {inputs.name} is kept in state with its {len(started)} started "
                "backup(s); `pulumi refresh` or the next `pulumi up` reads how they ended."
            )
            raise

        def undo(item: tuple[int, tuple[BackupRecord, str]]) -> str | None:
            backup, _ = item[1]
            return steps.remove_after_failure(backup, started_at, inputs.timeout)

        undone, undo_errors = each(undo, list(failed.items()))
        if not failed and not problems:
            return done
        release(*(b.id for b in started.values()))  # nothing is recorded in state
        lines = [f"server {s}: not started ({first_line(e)})" for s, e in sorted(problems.items())]
        for server_id, (backup, why) in sorted(failed.items()):
            if server_id in undo_errors:
                left: str | None = first_line(undo_errors[server_id])
            else:
                left = undone.get(server_id)
            if left is None:
                lines.append(f"server {server_id}: backup {backup.id} {why}; it was deleted")
            else:
                lines.append(
                    f"server {server_id}: backup {backup.id} {why} and could not be deleted "
                    f"({left}); the next `pulumi up` finds it by its marker and settles it"
                )
        kept = ", ".join(f"{b.id} (server {s})" for s, b in sorted(done.items()))
        # What stays on VPS.org: the completed members, and the failed ones that
        # could not be deleted.
        remaining = dict(done)
        for server_id, (backup, _) in failed.items():
            if server_id in undo_errors or undone.get(server_id) is not None:
                remaining[server_id] = backup
        error = user_error(
            f"Fleet {inputs.name}: {len(failed) + len(problems)} of {len(servers)} backup(s) "
            "did not complete; nothing was recorded in state.\n  "
            + "\n  ".join(lines)
            + (
                f"\nCompleted: {kept}; they carry this fleet's markers and the next `pulumi up` "
                "uses them instead of making new ones."
                if kept
                else ""
            )
            + "\nRun `pulumi up` again (raise `timeout` first if the servers are large)."
        )
        if remaining:
            error.handover = ("", _outputs(inputs, remaining))
        raise error

    # ---- update ------------------------------------------------------------
    # Makes the added servers' backups as create does, then deletes the removed
    # servers' backups; the other members are not touched.
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = FleetInputs.parse_keyed(news, "fleets with BackupFleet(...)")
        members = _members(olds)
        note_in_state(*members.values())
        known = _maps(olds)
        client = self.client()
        added = [s for s in inputs.server_ids if s not in members]
        removed = [s for s in members if s not in inputs.server_ids]
        backups: dict[int, BackupRecord] = {}
        if added:
            backups = self._back_up(client, inputs, added)
        gone, stuck = self._delete_members(client, members, removed, inputs.timeout, inputs)
        for server_id in gone:
            progress(
                f"fleet {inputs.name}: deleted backup {members[server_id]} "
                f"(server {server_id} left the fleet)"
            )
            del members[server_id]
        for server_id, exc in stuck.items():
            warn(
                f"fleet {inputs.name}: could not delete backup {members[server_id]} of server "
                f"{server_id} ({first_line(exc)}); it stays in the fleet and the next update "
                "deletes it"
            )
        return UpdateResult(_outputs(inputs, backups, members, known))

    # ---- read --------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = FleetInputs.parse(props)
        members = _members(props)
        note_in_state(*members.values())
        client = self.client()
        servers = sorted(set(members))

        def listing() -> dict[int, BackupRecord]:
            # One account listing of manual backups; a fleet of one server lists that server.
            if len(servers) == 1:
                return {b.id: b for b in client.list_backups(server_id=servers[0])}
            return {b.id: b for b in client.list_backups(backup_type="manual")}

        seen = listing()
        missing = [s for s, b in members.items() if b not in seen]
        if missing:
            # Paging is no snapshot: a member is dropped only when a second listing agrees.
            seen.update(listing())
            gone = [s for s in missing if members[s] not in seen]
            if gone:
                progress(
                    f"fleet {inputs.name}: backup "
                    + ", ".join(f"{members[s]} (server {s})" for s in gone)
                    + " gone from VPS.org; dropped from the fleet"
                )
            for server_id in gone:
                del members[server_id]
        found = {s: seen[b] for s, b in members.items() if b in seen}
        outs = _outputs(inputs, found, members, _maps(props))
        return ReadResult(id_, outs, inputs.to_props())

    # ---- delete ------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        inputs = FleetInputs.parse(props)
        members = _members(props)
        note_in_state(*members.values())
        _, stuck = self._delete_members(
            self.client(), members, sorted(members), inputs.timeout, inputs
        )
        if stuck:
            raise user_error(
                f"Fleet {inputs.name}: backup "
                + ", ".join(
                    f"{members[s]} of server {s} ({first_line(e)})"
                    for s, e in sorted(stuck.items())
                )
                + " could not be deleted; the fleet stays in the stack. Run `pulumi destroy` "
                "again: a backup already deleted counts as done."
            )

    def _delete_members(
        self,
        client: VpsClient,
        members: dict[int, int],
        servers: list[int],
        timeout: float,
        inputs: FleetInputs | None = None,
    ) -> tuple[dict[int, None], dict[int, VpsBackupError]]:
        """Delete these servers' backups a few at a time (404 is done, a running one waited for)."""
        steps = BackupSteps(client)

        def remove(server_id: int) -> None:
            steps.delete(members[server_id], server_id=server_id, timeout=timeout)
            fleet_key = inputs.resource_key if inputs is not None else None
            if inputs is not None and is_owner_key(fleet_key):
                assert fleet_key is not None
                intent = intent_of(server_id, inputs.description, inputs.triggers)
                steps.settle_own(server_id, member_key(fleet_key, server_id), intent, timeout)

        return each(remove, servers)


def _members(props: dict[str, Any]) -> dict[int, int]:
    """Server id -> backup id, from outputs (map keys are strings, numbers may be floats)."""
    members: dict[int, int] = {}
    raw = props.get("backup_ids") if props else None
    if not isinstance(raw, dict):
        return members
    for server, backup in raw.items():
        try:
            members[v.positive_id("backup_ids", server)] = v.positive_id("backup_ids", backup)
        except v.FieldError:
            continue
    return members


def _maps(props: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        key: dict(props.get(key) or {})
        for key in ("statuses", "server_names")
        if isinstance(props.get(key), dict)
    }


def _name(inputs: dict[str, Any]) -> str:
    name = inputs.get("resource_name")
    return name if isinstance(name, str) and name else "(unnamed)"


def _outputs(
    inputs: FleetInputs,
    backups: dict[int, BackupRecord],
    members: dict[int, int] | None = None,
    known: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Copies of the inputs and, per server (string keys), its backup's id, status and name.

    `backups` are fresh answers; `members` the other members, reported as
    `known` (the previous outputs) said.
    """
    outs = inputs.to_props()
    ids: dict[str, int] = {}
    statuses: dict[str, str] = {}
    names: dict[str, str] = {}
    previous = known or {}
    for server_id, backup_id in (members or {}).items():
        key = str(server_id)
        ids[key] = backup_id
        if key in previous.get("statuses", {}):
            statuses[key] = previous["statuses"][key]
        if key in previous.get("server_names", {}):
            names[key] = previous["server_names"][key]
    for server_id, backup in backups.items():
        key = str(server_id)
        ids[key] = backup.id
        statuses[key] = backup.status
        if backup.server_name:
            names[key] = backup.server_name
    order = sorted(ids, key=int)
    outs["backup_ids"] = {k: ids[k] for k in order}
    outs["statuses"] = {k: statuses[k] for k in order if k in statuses}
    outs["server_names"] = {k: names[k] for k in order if k in names}
    return outs
