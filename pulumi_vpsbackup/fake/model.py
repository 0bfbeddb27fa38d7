"""State and rules of the fake VPS.org account.

``VpsModel`` owns servers, backups and restores, enforces the API's rules and
raises :mod:`~pulumi_vpsbackup.fake.errors` exceptions; it knows nothing about
HTTP. Everything happens under one re-entrant lock so concurrent requests never
lose an update. Slow work (backups, restores, expiry, the daily schedule) is
settled lazily at the start of every operation against the fake clock, which
keeps the fake free of background threads and fully deterministic.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import lifecycle
from .behaviour import Behaviour
from .clock import FakeClock, parse_time
from .entities import StoredBackup, StoredRestore, StoredServer
from .errors import Conflict, FieldError, NotFound, ValidationFailed
from .persistence import load_state, save_state
from .worlds import build_world, size_for

__all__ = ["VpsModel"]

CREATE_MESSAGE = "Backup is being created. This may take several minutes depending on server size."
STATE_VERSION = 1


_whole_seconds = lifecycle.whole_seconds


class VpsModel:
    """The account's world, its rules, and its optional state file."""

    def __init__(
        self,
        clock: FakeClock,
        behaviour: Behaviour,
        *,
        seed: int = 0,
        world: str = "demo",
        state_file: str | Path | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self._behaviour = behaviour
        self._seed = seed
        self._world = world
        self.state_file = Path(state_file) if state_file is not None else None
        self._rng = random.Random(seed)
        self.servers: dict[int, StoredServer] = {}
        self.backups: dict[int, StoredBackup] = {}
        self.next_id = 0
        self._schedule_cursor = clock.now()
        self._dirty = False
        if self.state_file is not None and self.state_file.exists():
            self._load(load_state(self.state_file))
        else:
            self.reset(world)

    # -- settings ------------------------------------------------------------

    @property
    def behaviour(self) -> Behaviour:
        return self._behaviour

    def set_behaviour(self, behaviour: Behaviour) -> None:
        with self._operation():
            self._behaviour = behaviour
            self._commit()

    # -- lifecycle -------------------------------------------------------------

    def reset(self, world: str | None = None) -> None:
        """Rebuild the world from scratch (and re-seed the random generator)."""
        with self._operation():
            world = world or self._world
            now = self.clock.now()
            servers, backups, next_id = build_world(world, now, self._retention())
            self._world = world
            self.servers, self.backups, self.next_id = servers, backups, next_id
            self._rng = random.Random(self._seed)
            self._schedule_cursor = now
            self._commit()

    def touch(self) -> None:
        """Settle and save after something outside the model changed (the clock)."""
        with self._operation():
            self._commit()

    @contextmanager
    def _operation(self) -> Iterator[None]:
        """Lock, settle, run the body, then save once if anything changed."""
        with self.lock:
            self._settle()
            try:
                yield
            finally:
                if self._dirty:
                    self._dirty = False
                    if self.state_file is not None:
                        save_state(self.state_file, self._to_state())

    # -- public API operations -------------------------------------------------

    def list_backups(self, server_id: int | None, backup_type: str | None) -> list[dict[str, Any]]:
        """Backups newest first (created_at, then id), as public dicts."""
        with self._operation():
            rows = [
                b
                for b in self.backups.values()
                if (server_id is None or b.server_id == server_id)
                and (backup_type is None or b.backup_type == backup_type)
            ]
            rows.sort(key=lambda b: (b.created_at, b.id), reverse=True)
            result = [b.public() for b in rows]
            if self._behaviour.completion == "reads":
                running = [b for b in rows if b.status == "in_progress"]
                for backup in running:
                    backup.reads += 1
                if running:
                    self._commit()
            return result

    def create_backup(self, server_id: int, description: str) -> dict[str, Any]:
        with self._operation():
            server = self.servers.get(server_id)
            if server is None:
                raise NotFound(f"Server {server_id} not found.")
            limit = self._behaviour.manual_backup_limit
            if self._manual_count(server_id) >= limit:
                raise ValidationFailed(
                    f"Backup limit reached: server {server_id} already has {limit} manual "
                    "backups. Delete one before creating another."
                )
            backup = StoredBackup(
                id=self._take_id(),
                server_id=server.id,
                server_name=server.name,
                backup_type="manual",
                status="in_progress",
                size_mb=None,
                created_at=_whole_seconds(self.clock.now()),
                expires_at=None,
                description=description,
                # Always draw, so the sequence of outcomes does not depend on
                # the rate in force when earlier backups were made.
                will_fail=self._rng.random() < self._behaviour.failure_rate,
            )
            self.backups[backup.id] = backup
            self._commit()
            body = backup.public()
            body["message"] = CREATE_MESSAGE
            return body

    def delete_backup(self, backup_id: int) -> None:
        with self._operation():
            backup = self.backups.get(backup_id)
            if backup is None:
                raise NotFound()
            if backup.status == "in_progress" and self._behaviour.delete_in_progress == "reject":
                raise Conflict(
                    f"Backup {backup_id} is still being created; try again when it has "
                    "completed or failed."
                )
            del self.backups[backup_id]
            self._commit()

    def restore(self, server_id: int, backup_id: int) -> dict[str, Any]:
        """Start restoring ``server_id`` from ``backup_id`` (see module docs for order)."""
        with self._operation():
            server = self.servers.get(server_id)
            if server is None:
                raise NotFound(f"Server {server_id} not found.")
            backup = self.backups.get(backup_id)
            if backup is None:
                raise FieldError("backup_id", f'Invalid pk "{backup_id}" - object does not exist.')
            if backup.server_id != server_id:
                raise ValidationFailed(
                    f"Backup {backup_id} belongs to server {backup.server_id}, "
                    f"not to server {server_id}."
                )
            if backup.status != "completed":
                raise ValidationFailed(
                    f"Backup {backup_id} cannot be restored: its status is {backup.status} "
                    "(only completed backups can be restored)."
                )
            if server.status != "active":
                raise ValidationFailed(
                    f"Server is not in a valid state for restoration (status: {server.status})."
                )
            now = self.clock.now()
            server.status = "restoring"
            server.updated_at = _whole_seconds(now)
            server.last_restore = StoredRestore(
                backup_id=backup_id,
                started_at=_whole_seconds(now),
                finishes_at=now + timedelta(seconds=self._behaviour.restore_seconds),
                will_fail=self._rng.random() < self._behaviour.restore_failure_rate,
            )
            self._commit()
            return {
                "status": "success",
                "message": (
                    f"Server is being restored from backup {backup_id}. This may take 5-15 minutes."
                ),
                "backup": backup.public(),
                "server": {"id": server.id, "name": server.name, "status": server.status},
            }

    def list_servers(self, status: str | None, location: str | None) -> list[dict[str, Any]]:
        with self._operation():
            return [
                s.public()
                for _, s in sorted(self.servers.items())
                if (status is None or s.status == status)
                and (location is None or s.location == location)
            ]

    def get_server(self, server_id: int) -> dict[str, Any]:
        with self._operation():
            server = self.servers.get(server_id)
            if server is None:
                raise NotFound()
            return server.public()

    def require_server(self, server_id: int) -> None:
        """404 unless the server exists (for routes that must check it first)."""
        with self.lock:
            if server_id not in self.servers:
                raise NotFound(f"Server {server_id} not found.")

    # -- admin operations (bypass the API's rules on purpose) -------------------

    def add_server(self, fields: dict[str, Any]) -> dict[str, Any]:
        with self._operation():
            now = _whole_seconds(self.clock.now())
            server_id = int(fields.get("id") or max(self.servers, default=20000) + 1)
            if server_id in self.servers:
                raise Conflict(f"Server {server_id} already exists.")
            name = str(fields.get("name") or f"server-{server_id}")
            server = StoredServer(
                id=server_id,
                name=name,
                hostname=str(fields.get("hostname") or f"{name}.example.com"),
                status=str(fields.get("status") or "active"),
                ip_address=str(fields.get("ip_address") or f"198.51.100.{server_id % 250 + 1}"),
                location=str(fields.get("location") or "nyc1"),
                plan=dict(
                    fields.get("plan")
                    or {"id": 1, "name": "Standard 1GB", "vcpus": 1, "memory": 1024, "storage": 25}
                ),
                os=dict(fields.get("os") or {"id": 1, "name": "Ubuntu 22.04 LTS"}),
                created_at=now,
                updated_at=now,
            )
            self.servers[server_id] = server
            self._commit()
            return server.public()

    def seed_backup(self, fields: dict[str, Any]) -> dict[str, Any]:
        """Insert any backup (type, status, dates) without the API's checks."""
        with self._operation():
            server = self.servers.get(int(fields["server_id"]))
            if server is None:
                raise NotFound(f"Server {fields['server_id']} not found.")
            kind = str(fields.get("backup_type", "manual"))
            if kind not in ("manual", "automatic"):
                raise FieldError("backup_type", "must be manual or automatic")
            backup_id = int(fields["id"]) if fields.get("id") is not None else self._take_id()
            if backup_id in self.backups:
                raise Conflict(f"Backup {backup_id} already exists.")
            self.next_id = max(self.next_id, backup_id + 1)
            created = (
                parse_time(fields["created_at"])
                if fields.get("created_at")
                else _whole_seconds(self.clock.now())
            )
            status = str(fields.get("status", "completed"))
            if "expires_at" in fields:
                expires = parse_time(fields["expires_at"]) if fields["expires_at"] else None
            else:
                expires = created + self._retention() if kind == "automatic" else None
            size = fields.get("size_mb")
            if size is None and status == "completed":
                size = size_for(server, backup_id)
            backup = StoredBackup(
                id=backup_id,
                server_id=server.id,
                server_name=server.name,
                backup_type=kind,
                status=status,
                size_mb=int(size) if size is not None else None,
                created_at=created,
                expires_at=expires,
                description=str(fields.get("description") or ""),
                will_fail=bool(fields.get("will_fail", False)),
                finished_at=created if status != "in_progress" else None,
            )
            self.backups[backup_id] = backup
            self._commit()
            return backup.public()

    def remove_backup(self, backup_id: int) -> None:
        """Delete regardless of status, as if someone used the web console."""
        with self._operation():
            if self.backups.pop(backup_id, None) is None:
                raise NotFound()
            self._commit()

    def dump(self) -> dict[str, Any]:
        """Everything, including internal fields, in the state-file format."""
        with self._operation():
            return self._to_state()

    # -- internals ---------------------------------------------------------------

    def _retention(self) -> timedelta:
        return timedelta(days=self._behaviour.retention_days)

    def _take_id(self) -> int:
        backup_id = self.next_id
        self.next_id += 1
        return backup_id

    def _manual_count(self, server_id: int) -> int:
        counted = {"in_progress", "completed"}
        if self._behaviour.count_failed_in_limit:
            counted.add("failed")
        return sum(
            1
            for b in self.backups.values()
            if b.server_id == server_id and b.backup_type == "manual" and b.status in counted
        )

    def _settle(self) -> None:
        """Apply everything the passage of fake time implies, in causal order."""
        now = self.clock.now()
        cursor, self._schedule_cursor = self._schedule_cursor, now
        changed = lifecycle.run_schedule(
            self.servers, self.backups, self._behaviour, cursor, now, self._take_id
        )
        changed |= lifecycle.expire_automatic(self.backups, now)
        changed |= lifecycle.complete_backups(self.servers, self.backups, self._behaviour, now)
        changed |= lifecycle.finish_restores(self.servers, now)
        if changed:
            self._commit()

    def _commit(self) -> None:
        """Mark the state changed; :meth:`_operation` saves it once at the end."""
        self._dirty = True

    def _to_state(self) -> dict[str, Any]:
        version, internal, gauss = self._rng.getstate()
        return {
            "version": STATE_VERSION,
            "world": self._world,
            "clock": self.clock.to_dict(),
            "next_id": self.next_id,
            "schedule_cursor": self._schedule_cursor.isoformat(),
            "rng": [version, list(internal), gauss],
            "servers": [s.to_state() for _, s in sorted(self.servers.items())],
            "backups": [b.to_state() for _, b in sorted(self.backups.items())],
        }

    def _load(self, data: dict[str, Any]) -> None:
        if data.get("version") != STATE_VERSION:
            raise ValueError(f"unsupported fake state version {data.get('version')!r}")
        self.clock.load_dict(data["clock"])
        self._world = str(data.get("world", self._world))
        self.next_id = int(data["next_id"])
        self._schedule_cursor = parse_time(data["schedule_cursor"])
        version, internal, gauss = data["rng"]
        self._rng.setstate((version, tuple(internal), gauss))
        self.servers = {s.id: s for s in map(StoredServer.from_state, data["servers"])}
        self.backups = {b.id: b for b in map(StoredBackup.from_state, data["backups"])}
