"""The `BackupFleet` resource: one backup of each of many servers, made in one step.

Why it exists: every `Backup` that waits holds one of the SDK provider host's
four worker threads for the whole backup, so 64 backups of duration T take
about 16 T. A fleet starts all its backups first and then waits for all of
them in one shared polling loop (one listing per server per poll, whatever
the number of backups), so the whole fleet takes about T.

Each backup is made exactly as `Backup` makes one (the same code: the
description marker, a lost POST answer adopted only on proof, a leftover of
an earlier run found by its key and settled, a failed or timed-out backup
deleted again). A member's marker key is derived from the fleet's key and its
server (`member_key`), so leftovers are found per server and never taken from
another fleet or server. Outputs map each server (as a string, Pulumi's map
keys) to its backup: `backup_ids`, `statuses`, `server_names`.

Lifecycle, as the engine drives it:

- check: validates inputs (`server_ids` is normalised to a sorted list
  without duplicates); for servers about to get a backup, one listing of
  the account's servers tells whether each exists.
- diff: `description` and `triggers` replace (the new fleet is made before
  the old one is deleted); adding or removing servers updates in place, and
  so does a fleet whose backups no longer match its servers (after a refresh
  dropped one that was deleted outside Pulumi). The plan is printed.
- create: one listing of the account's manual backups finds the servers
  holding a leftover of an earlier run (only those are settled one by one);
  then it starts one backup per server (a few at a time), waits for all of
  them together, deletes the ones that failed or timed out, and fails when
  any did: the completed ones carry the fleet's markers and the next `up`
  uses them instead of making new ones.
- update: makes the added servers' backups as create does, then deletes the
  removed servers' backups; the other members are not touched. A backup that
  cannot be deleted stays a member (with a warning) and the next update
  tries again.
- read: one account listing of manual backups (one per server for a fleet
  of one server); a member is dropped only when a second, fresh listing
  agrees that it is gone.
- delete: deletes every member (404 is done; a running one is waited for,
  then deleted).
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from pulumi.dynamic import CheckFailure, CreateResult, DiffResult, ReadResult, UpdateResult

from ..client import (
    ApiError,
    AuthenticationError,
    Backup,
    ConfigurationError,
    TransportError,
    VpsBackupError,
    VpsClient,
)
from ..client.marker import resource_key
from ..client.models import RUNNING_BACKUP_STATUSES
from . import validation as v
from .backup import (
    MAX_OWN_DESCRIPTION,
    _held_in_state,
    _key_of,
    _note_in_state,
    _too_long,
    resource_key_input,
)
from .base import VpsProvider, first_line, progress, user_error, warn
from .rotation import _backup_steps

__all__ = ["FleetProvider", "member_key"]

#: How many servers one fleet may hold (the engine sends its state in one message).
MAX_SERVERS = 1000
#: Requests a fleet sends at once (starts, polls, deletes): enough to overlap
#: latency, few enough not to look like a burst to the API's rate limit.
CONCURRENCY = 8

T = TypeVar("T")
R = TypeVar("R")


def server_id_list(field: str, value: Any) -> list[Any]:
    """The servers of a fleet: a non-empty list of distinct server ids, sorted."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise v.FieldError(field, f"must be a list of server ids, got {v._show(value)}")
    if v.contains_unknown(value):
        return list(value)  # preview: some ids are not known yet
    ids = [v.positive_id(f"{field}[{i}]", item) for i, item in enumerate(value)]
    if not ids:
        raise v.FieldError(field, "must name at least one server, got an empty list")
    if len(ids) > MAX_SERVERS:
        raise v.FieldError(field, f"must name at most {MAX_SERVERS} servers, got {len(ids)}")
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise v.FieldError(
            field,
            f"names server {', '.join(map(str, twice))} more than once; each server gets "
            "one backup, so list it once",
        )
    return sorted(ids)


def _server_set(value: Any) -> Any:
    """What a diff compares: the set of servers, in any order."""
    if isinstance(value, (list, tuple)) and not v.contains_unknown(value):
        return sorted(v.canonical(i) for i in value)
    return value


def _text(field: str, value: Any) -> str:
    if not isinstance(value, str):
        raise v.FieldError(field, f"must be a string, got {v._show(value)}")
    return value


INPUT_FIELDS = [
    v.FieldSpec("server_ids", server_id_list, required=True, compare=_server_set),
    v.FieldSpec("description", v.description, replaces=True, compare=v.same_text),
    v.FieldSpec("triggers", v.triggers, replaces=True),
    v.FieldSpec("timeout", v.duration_seconds, default=v.DEFAULT_TIMEOUT_SECONDS),
    # Hidden, set by the resource class, never compared by diff.
    v.FieldSpec("resource_key", resource_key_input),
    v.FieldSpec("resource_name", _text),
]
INPUT_NAMES = [spec.name for spec in INPUT_FIELDS]
HIDDEN = ("resource_key", "resource_name")


def member_key(fleet_key: str, server_id: int) -> str:
    """The marker key of a fleet's backup of one server (8 hex digits, like any key)."""
    return resource_key("fleet", fleet_key, str(int(server_id)))


class FleetProvider(VpsProvider):
    """Dynamic provider behind `pulumi_vpsbackup.BackupFleet` (do not rename: the
    class is referenced by name from every stack's state)."""

    fields = INPUT_FIELDS

    # ---- check -------------------------------------------------------------
    def check_against_api(self, olds: dict[str, Any], inputs: dict[str, Any]) -> list[CheckFailure]:
        described = inputs.get("description")
        if isinstance(described, str) and len(described) > MAX_OWN_DESCRIPTION:
            return [CheckFailure("description", _too_long(described))]
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
        except (ConfigurationError, AuthenticationError, TransportError, ApiError) as exc:
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
    def _changes(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        changed = [n for n in v.changed_fields(self.fields, olds, news) if n not in HIDDEN]
        if v.is_absent(news.get("description")) and "description" in changed:
            changed.remove("description")  # no description: whatever the backups have
        servers = news.get("server_ids")
        if "server_ids" not in changed and isinstance(servers, list):
            if not v.contains_unknown(servers) and set(_members(olds)) != set(servers):
                changed.append("server_ids")  # a member was dropped by a refresh
        return changed

    def _replaces(self, olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
        return [n for n in self._changes(olds, news) if self._spec(n).replaces]

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        members = _members(olds)
        _note_in_state(*members.values())
        changed = self._changes(olds, news)
        replaces = [n for n in changed if self._spec(n).replaces]
        if changed and not replaces:
            self._show_plan(olds, news, members)
        return DiffResult(
            changes=bool(changed), replaces=replaces, stables=[], delete_before_replace=False
        )

    def _show_plan(
        self, olds: dict[str, Any], news: dict[str, Any], members: dict[int, int]
    ) -> None:
        servers = news.get("server_ids")
        if not isinstance(servers, list) or v.contains_unknown(servers):
            return
        added = [s for s in servers if v.canonical(s) not in members]
        removed = [s for s in members if s not in {v.canonical(x) for x in servers}]
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
        inputs = _known_inputs(props)
        made = self._back_up(self.client(), inputs, inputs["server_ids"])
        fleet_id = f"fleet-{inputs['resource_key']}-{secrets.token_hex(4)}"
        return CreateResult(fleet_id, _outputs(inputs, made))

    def _back_up(
        self, client: VpsClient, inputs: dict[str, Any], servers: list[int]
    ) -> dict[int, Backup]:
        """One backup per server: started together, waited for together.

        Returns the completed backups by server. If any backup failed, timed
        out or could not be started, the failed ones are deleted and an error
        says what happened to each server; the completed ones are left (with
        their markers) for the next run to use.
        """
        started_at = time.monotonic()
        timeout = inputs["timeout"]
        steps = _backup_steps(client, self._config)

        leftovers = self._leftover_servers(client, inputs, servers)

        def start(server_id: int) -> Backup:
            member = _member_inputs(inputs, server_id)
            if leftovers is None or server_id in leftovers:
                found = steps._settle_leftovers(client, member)
                if found is not None:
                    return found
            return steps._create(
                client, server_id, inputs.get("description"), member["resource_key"]
            )

        started, problems = _each(start, servers)
        if started:
            progress(
                f"fleet {_name(inputs)}: started {len(started)} backup(s): "
                + ", ".join(f"{b.id} (server {s})" for s, b in sorted(started.items()))
            )
        done, failed = self._wait_all(client, started, timeout, inputs)

        def undo(item: tuple[int, tuple[Backup, str]]) -> str | None:
            backup, _ = item[1]
            return steps._remove_after_failure(client, backup, started_at, timeout)

        undone, undo_errors = _each(undo, list(failed.items()))
        if not failed and not problems:
            return done
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
        raise user_error(
            f"Fleet {_name(inputs)}: {len(failed) + len(problems)} of {len(servers)} backup(s) "
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

    def _leftover_servers(
        self, client: VpsClient, inputs: dict[str, Any], servers: list[int]
    ) -> set[int] | None:
        """The servers that hold a backup an earlier run of this fleet left outside state.

        One listing of the account's manual backups instead of one per server;
        only the servers it names are then settled one by one (as `Backup`
        settles). None when that listing fails: then every server is asked.
        """
        if len(servers) < 2:
            return None
        keys = {member_key(inputs["resource_key"], s): s for s in servers}
        held = _held_in_state()
        try:
            manual = client.list_backups(backup_type="manual")
        except VpsBackupError:
            return None
        return {
            keys[key]
            for b in manual
            if b.id not in held and (key := _key_of(b.description)) in keys
        }

    def _wait_all(
        self,
        client: VpsClient,
        running: dict[int, Backup],
        timeout: float,
        inputs: dict[str, Any],
    ) -> tuple[dict[int, Backup], dict[int, tuple[Backup, str]]]:
        """Poll every running backup in one loop: one listing per server per poll.

        Returns the completed backups and the others (with why) by server. The
        first poll comes after the first interval: a backup just started is
        not finished. A backup missing from a listing is called vanished only
        when the next listing of its server agrees.
        """
        policy = client.settings.poll
        sleep, clock = client._sleep, client._clock
        start = clock()
        done: dict[int, Backup] = {}
        failed: dict[int, tuple[Backup, str]] = {}
        waiting = {s: b for s, b in running.items() if b.is_in_progress}
        for server_id, backup in running.items():
            if server_id in waiting:
                continue
            if backup.status == "completed":
                done[server_id] = backup
            else:
                failed[server_id] = (backup, f"ended {backup.status}")
        missing: set[int] = set()
        n = 0
        last_report = start
        while waiting:
            remaining = timeout - (clock() - start)
            if remaining <= 0:
                for server_id, backup in waiting.items():
                    failed[server_id] = (backup, f"was still {backup.status} after {timeout:g}s")
                break
            delay = policy.delay(n, client._rng) if policy.initial else 0.0
            sleep(min(delay, remaining))
            n += 1

            def poll(server_id: int) -> Backup | None:
                # Manual backups only: the API filters, so the server's automatic
                # backups never add pages (a server holds at most 10 manual ones).
                backup_id = waiting[server_id].id
                listing = client.list_backups(server_id=server_id, backup_type="manual")
                return next((b for b in listing if b.id == backup_id), None)

            seen, errors = _each(poll, list(waiting))
            for exc in errors.values():
                if not isinstance(exc, (TransportError, ApiError)):
                    raise exc
                # A poll that failed is tried again at the next interval.
            for server_id, current in seen.items():
                backup = waiting[server_id]
                if current is None:
                    if server_id in missing:
                        failed[server_id] = (backup, "vanished while it was being made")
                        del waiting[server_id]
                    else:
                        missing.add(server_id)
                    continue
                missing.discard(server_id)
                if current.status in RUNNING_BACKUP_STATUSES or current.is_in_progress:
                    waiting[server_id] = current
                elif current.status == "completed":
                    done[server_id] = current
                    del waiting[server_id]
                else:
                    failed[server_id] = (current, f"ended {current.status}")
                    del waiting[server_id]
            if waiting and clock() - last_report >= 30:
                last_report = clock()
                progress(
                    f"fleet {_name(inputs)}: {len(done)} completed, {len(failed)} failed, "
                    f"{len(waiting)} running after {clock() - start:.0f}s (timeout {timeout:g}s)"
                )
        return done, failed

    # ---- update ------------------------------------------------------------
    def update(self, id_: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        inputs = _known_inputs(news)
        members = _members(olds)
        _note_in_state(*members.values())
        known = _maps(olds)
        client = self.client()
        added = [s for s in inputs["server_ids"] if s not in members]
        removed = [s for s in members if s not in inputs["server_ids"]]
        backups: dict[int, Backup] = {}
        if added:
            backups = self._back_up(client, inputs, added)
        steps = _backup_steps(client, self._config)

        def remove(server_id: int) -> None:
            steps.delete(str(members[server_id]), {"server_id": server_id, **_timeout(inputs)})

        gone, stuck = _each(remove, removed)
        for server_id in gone:
            progress(
                f"fleet {_name(inputs)}: deleted backup {members[server_id]} "
                f"(server {server_id} left the fleet)"
            )
            del members[server_id]
        for server_id, exc in stuck.items():
            warn(
                f"fleet {_name(inputs)}: could not delete backup {members[server_id]} of server "
                f"{server_id} ({first_line(exc)}); it stays in the fleet and the next update "
                "deletes it"
            )
        return UpdateResult(_outputs(inputs, backups, members, known))

    # ---- read --------------------------------------------------------------
    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        inputs = {name: props[name] for name in INPUT_NAMES if props.get(name) is not None}
        members = _members(props)
        _note_in_state(*members.values())
        client = self.client()
        servers = sorted(set(members))

        def listing() -> dict[int, Backup]:
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
                    f"fleet {_name(inputs)}: backup "
                    + ", ".join(f"{members[s]} (server {s})" for s in gone)
                    + " gone from VPS.org; dropped from the fleet"
                )
            for server_id in gone:
                del members[server_id]
        found = {s: seen[b] for s, b in members.items() if b in seen}
        outs = _outputs(inputs, found, members, _maps(props))
        return ReadResult(id_, outs, inputs)

    # ---- delete ------------------------------------------------------------
    def delete(self, id_: str, props: dict[str, Any]) -> None:
        members = _members(props)
        _note_in_state(*members.values())
        steps = _backup_steps(self.client(), self._config)

        def remove(server_id: int) -> None:
            steps.delete(str(members[server_id]), {"server_id": server_id, **_timeout(props)})

        _, stuck = _each(remove, sorted(members))
        if stuck:
            raise user_error(
                f"Fleet {_name(props)}: backup "
                + ", ".join(
                    f"{members[s]} of server {s} ({first_line(e)})"
                    for s, e in sorted(stuck.items())
                )
                + " could not be deleted; the fleet stays in the stack. Run `pulumi destroy` "
                "again: a backup already deleted counts as done."
            )


def _each(
    work: Callable[[T], R], items: Iterable[T]
) -> tuple[dict[Any, R], dict[Any, VpsBackupError]]:
    """`work(item)` for every item, a few at a time: results and errors, by item.

    An item that is a (key, value) pair is reported under its key.
    """
    todo = list(items)
    results: dict[Any, R] = {}
    errors: dict[Any, VpsBackupError] = {}
    if not todo:
        return results, errors

    def run(item: T) -> None:
        key = item[0] if isinstance(item, tuple) else item
        try:
            results[key] = work(item)
        except VpsBackupError as exc:  # anything else is a bug: it propagates
            errors[key] = exc

    if len(todo) == 1:
        run(todo[0])
    else:
        with ThreadPoolExecutor(min(CONCURRENCY, len(todo))) as pool:
            list(pool.map(run, todo))
    return results, errors


def _member_inputs(inputs: dict[str, Any], server_id: int) -> dict[str, Any]:
    """What Backup's steps need to make (or settle) one member."""
    return {
        "server_id": server_id,
        "description": inputs.get("description"),
        "timeout": inputs["timeout"],
        "resource_key": member_key(inputs["resource_key"], server_id),
    }


def _timeout(props: dict[str, Any]) -> dict[str, float]:
    return {"timeout": float(props.get("timeout") or v.DEFAULT_TIMEOUT_SECONDS)}


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
    inputs: dict[str, Any],
    backups: dict[int, Backup],
    members: dict[int, int] | None = None,
    known: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Copies of the inputs and, per server (string keys), its backup's id, status and name.

    `backups` are fresh answers; `members` the other members, reported as
    `known` (the previous outputs) said.
    """
    outs = {name: inputs[name] for name in INPUT_NAMES if inputs.get(name) is not None}
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


def _known_inputs(props: dict[str, Any]) -> dict[str, Any]:
    """Create/update props are fully known; normalise engine floats again."""
    inputs = {name: props[name] for name in INPUT_NAMES if props.get(name) is not None}
    inputs["server_ids"] = server_id_list("server_ids", inputs.get("server_ids"))
    inputs["timeout"] = float(inputs.get("timeout", v.DEFAULT_TIMEOUT_SECONDS))
    if not inputs.get("resource_key"):
        raise user_error("resource_key: missing; create fleets with BackupFleet(...)")
    return inputs
