"""A state file lets separate FakeVps objects (and processes) share one world."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeVps

from ._support import START, TOKEN, make_client


def _fake(state: Path, **kwargs: Any) -> FakeVps:
    return FakeVps(token=TOKEN, clock=FakeClock(START, 0), state_file=state, **kwargs)


def test_second_fake_sees_what_the_first_did(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    first = _fake(state)
    assert state.exists()
    with make_client(first) as client:
        created = client.post("/backups/", json={"server_id": 12345, "description": "kept"}).json()
        assert client.delete("/backups/495/").status_code == 204
        client.post("/servers/12346/restore/", json={"backup_id": 500})
    first.advance(2)

    second = _fake(state)
    with make_client(second) as client:
        backups = {b["id"]: b for b in client.get("/backups/").json()["results"]}
        assert 495 not in backups
        assert backups[created["id"]]["description"] == "kept"
        assert backups[created["id"]]["status"] == "in_progress"
        assert client.get("/servers/12346/").json()["status"] == "restoring"
        # The clock continued: 2 of the 5 seconds already passed.
        assert second.now() == START + timedelta(seconds=2)
        second.advance(3)
        assert client.get("/backups/?server_id=12345").json()["results"][0]["status"] == "completed"
        assert client.post("/backups/", json={"server_id": 12345}).json()["id"] == created["id"] + 1


def test_seeded_randomness_continues_across_a_restart(tmp_path: Path) -> None:
    def statuses(fake: FakeVps, n: int) -> list[str]:
        with make_client(fake) as client:
            ids = [
                client.post("/backups/", json={"server_id": 12346}).json()["id"] for _ in range(n)
            ]
            by_id = {b["id"]: b["status"] for b in client.get("/backups/").json()["results"]}
        return [by_id[i] for i in ids]

    settings: dict[str, Any] = {"failure_rate": 0.5, "completion": "immediate", "seed": 11}
    uninterrupted = statuses(FakeVps(token=TOKEN, clock=FakeClock(START, 0), **settings), 8)
    state = tmp_path / "s.json"
    halves = statuses(_fake(state, **settings), 4) + statuses(_fake(state, **settings), 4)
    assert halves == uninterrupted


def test_state_file_is_written_atomically_and_is_json(tmp_path: Path) -> None:
    state = tmp_path / "nested" / "world.json"
    fake = _fake(state)
    with make_client(fake) as client:
        for _ in range(5):
            client.post("/backups/", json={"server_id": 12345})
    data = json.loads(state.read_text())
    assert data["next_id"] == 507
    assert sorted(p.name for p in state.parent.iterdir()) == ["world.json"]  # no temp leftovers


def test_only_mutations_rewrite_the_state_file(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    fake = _fake(state)
    inode = state.stat().st_ino  # os.replace installs a new inode on every save
    with make_client(fake) as client:
        client.get("/backups/")
        client.get("/servers/")
        assert state.stat().st_ino == inode
        client.post("/backups/", json={"server_id": 12345})
    assert state.stat().st_ino != inode


def test_behaviour_comes_from_the_constructor_not_the_file(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    _fake(state, backup_seconds=1)
    assert _fake(state, backup_seconds=9).behaviour.backup_seconds == 9


def test_unknown_state_version_is_refused(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    state.write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="version"):
        _fake(state)
