"""Shared pieces of the reliability tests: the fast fake, engines, state inspection."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from vpsbackup_dev.engine import Engine

TOKEN = "vps_reliability_7c41e0b2d9f3a6"
PROGRAMS = Path(__file__).resolve().parent / "programs"
CAMPAIGN_PROGRAM = PROGRAMS / "campaign.py"
LOAD_PROGRAM = PROGRAMS / "load.py"
BACKUP_TYPE = "pulumi-python:dynamic/vpsbackup:Backup"
RESTORE_TYPE = "pulumi-python:dynamic/vpsbackup:Restore"
ROTATION_TYPE = "pulumi-python:dynamic/vpsbackup:BackupRotation"
SERVERS = (12345, 12346)


def fast_fake(seed: int = 0, **behaviour: Any) -> FakeVps:
    """The demo world on a frozen clock; backups finish on first access, restores at once."""
    settings: dict[str, Any] = {"completion": "immediate", "restore_seconds": 0}
    settings.update(behaviour)
    return FakeVps(token=TOKEN, clock=FakeClock(scale=0), seed=seed, **settings)


@contextmanager
def served_fake(seed: int = 0, **behaviour: Any) -> Iterator[FakeServer]:
    with serve(fast_fake(seed, **behaviour)) as server:
        yield server


def make_engine(
    state: Path,
    url: str,
    program: Path,
    *,
    parallel: int = 1,
    stack: str = "reliability",
    **project: str,
) -> Engine:
    """One stack whose settings come only from its config (never the shell)."""
    namespace = program.stem
    config = {
        "vpsbackup:apiToken": TOKEN,
        "vpsbackup:apiUrl": url,
        "vpsbackup:pollInterval": "0.01",
        "vpsbackup:maxPollInterval": "0.05",
    }
    config.update({f"{namespace}:{k}": v for k, v in project.items()})
    return Engine(
        state,
        project=namespace,
        stack=stack,
        config=config,
        secret_keys={"vpsbackup:apiToken"},
        env={"VPS_API_TOKEN": "", "VPS_API_URL": ""},
        program=program,
        parallel=parallel,
    )


def fake_backups(app: FakeVps) -> dict[int, dict[str, Any]]:
    return {int(b["id"]): b for b in app.state()["backups"]}


def manual_ids(app: FakeVps) -> set[int]:
    return {i for i, b in fake_backups(app).items() if b["backup_type"] == "manual"}


def state_backup_ids(engine: Engine) -> list[int]:
    """Backup ids of every Backup resource in state (pending deletes included)."""
    ids = []
    for res in engine.resources():
        if res.type == BACKUP_TYPE and res.id:
            ids.append(int(res.outputs.get("backup_id") or res.id))
    return ids


def live_urns(engine: Engine) -> list[str]:
    return [r.urn for r in engine.resources() if not r.delete]


_NUMBER = re.compile(r"\b\d{3,}\b")


def numbers_in(text: str) -> set[int]:
    return {int(n) for n in _NUMBER.findall(text)}
