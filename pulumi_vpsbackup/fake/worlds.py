"""Starting worlds: what the fake contains after a start or a reset.

``demo`` mirrors the example responses of the VPS.org documents (servers
12345/12346, backups 501/499/495, next id 502) with timestamps placed relative
to the fake clock, so "yesterday's automatic backup" is always yesterday.
``empty`` has the same servers and no backups.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from .entities import StoredBackup, StoredServer

__all__ = ["WORLDS", "build_world", "size_for"]

WORLDS = ("demo", "empty")
FIRST_NEW_BACKUP_ID = 502
AUTOMATIC_DESCRIPTION = "Automatic daily backup"


def size_for(server: StoredServer, backup_id: int) -> int:
    """A plausible, deterministic backup size: ~9% of the disk, varied per id."""
    return server.storage_gb * 90 + (backup_id * 37) % 100


#: plan id: name, vcpus, memory (MB), storage (GB); os id: name.
_PLANS = {2: ("Standard 2GB", 2, 2048, 50), 3: ("Standard 4GB", 4, 4096, 80)}
_OSES = {1: "Ubuntu 22.04 LTS", 2: "Debian 12"}
#: The documents' two servers: id, name, address, location, plan id, os id.
_SERVERS = (
    (12345, "web-server-01", "203.0.113.10", "nyc1", 2, 1),
    (12346, "db-server-01", "203.0.113.11", "ams1", 3, 2),
)


def _plan(plan_id: int) -> dict[str, object]:
    name, vcpus, memory, storage = _PLANS[plan_id]
    return {"id": plan_id, "name": name, "vcpus": vcpus, "memory": memory, "storage": storage}


def _servers(now: datetime) -> list[StoredServer]:
    created = (now - timedelta(days=120)).replace(microsecond=0)
    return [
        StoredServer(
            id=ident,
            name=name,
            hostname=f"{name}.example.com",
            status="active",
            ip_address=address,
            location=location,
            plan=_plan(plan),
            os={"id": os, "name": _OSES[os]},
            created_at=created,
            updated_at=created,
        )
        for ident, name, address, location, plan, os in _SERVERS
    ]


def _at(now: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    day = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days_ago)
    return day + timedelta(hours=hour, minutes=minute)


def build_world(
    name: str, now: datetime, retention: timedelta
) -> tuple[dict[int, StoredServer], dict[int, StoredBackup], int]:
    """Servers, backups and the next backup id for world ``name``."""
    if name not in WORLDS:
        raise ValueError(f"unknown world {name!r}; choose one of {', '.join(WORLDS)}")
    servers = {s.id: s for s in _servers(now)}
    backups: dict[int, StoredBackup] = {}
    if name == "demo":
        web, db = servers[12345], servers[12346]
        rows: list[tuple[int, StoredServer, str, datetime, int, str]] = [
            (501, web, "automatic", _at(now, 1, 3), 4523, AUTOMATIC_DESCRIPTION),
            (495, web, "automatic", _at(now, 2, 3), 4389, AUTOMATIC_DESCRIPTION),
            (499, web, "manual", _at(now, 3, 10, 30), 4456, "Pre-update backup"),
            (500, db, "automatic", _at(now, 1, 3), 7215, AUTOMATIC_DESCRIPTION),
        ]
        for backup_id, server, kind, created, size, description in rows:
            backups[backup_id] = StoredBackup(
                id=backup_id,
                server_id=server.id,
                server_name=server.name,
                backup_type=kind,
                status="completed",
                size_mb=size,
                created_at=created,
                expires_at=created + retention if kind == "automatic" else None,
                description=description,
                finished_at=created,
            )
    return servers, backups, FIRST_NEW_BACKUP_ID
