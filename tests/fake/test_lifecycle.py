"""Backups that finish later: completion modes, failures, expiry and the schedule."""

from __future__ import annotations

from datetime import timedelta

import httpx

from pulumi_vpsbackup.fake import Behaviour, FakeClock, FakeVps

from ._support import START, TOKEN, make_client


def _create(client: httpx.Client, server_id: int = 12345) -> int:
    response = client.post("/backups/", json={"server_id": server_id})
    assert response.status_code == 201
    assert response.json()["status"] == "in_progress"
    return int(response.json()["id"])


def _find(client: httpx.Client, backup_id: int) -> dict[str, object]:
    for backup in client.get("/backups/").json()["results"]:
        if backup["id"] == backup_id:
            return dict(backup)
    raise AssertionError(f"backup {backup_id} not listed")


def test_time_mode_completes_after_backup_seconds(fake: FakeVps, client: httpx.Client) -> None:
    backup_id = _create(client)
    fake.advance(4.9)
    assert _find(client, backup_id)["status"] == "in_progress"
    assert _find(client, backup_id)["size_mb"] is None
    fake.advance(0.1)
    done = _find(client, backup_id)
    assert done["status"] == "completed"
    # Deterministic from the plan's storage (50 GB for server 12345).
    assert isinstance(done["size_mb"], int) and 4500 <= done["size_mb"] < 4600
    assert done["expires_at"] is None


def test_size_is_deterministic_across_fakes() -> None:
    sizes = []
    for _ in range(2):
        fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0), completion="immediate")
        with make_client(fake) as client:
            backup_id = _create(client, 12346)
            sizes.append(_find(client, backup_id)["size_mb"])
    assert sizes[0] == sizes[1] is not None


def test_immediate_mode_completes_on_the_next_access(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, behaviour=Behaviour(completion="immediate"))
    with make_client(fake) as client:
        backup_id = _create(client)
        assert _find(client, backup_id)["status"] == "completed"


def test_reads_mode_completes_after_n_reads(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, completion="reads", completion_reads=2)
    with make_client(fake) as client:
        backup_id = _create(client)
        assert _find(client, backup_id)["status"] == "in_progress"
        # A read that does not include it does not count.
        client.get("/backups/", params={"server_id": 12346})
        assert _find(client, backup_id)["status"] == "in_progress"
        assert _find(client, backup_id)["status"] == "completed"


def test_failure_rate_one_fails_every_backup(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, failure_rate=1.0, completion="immediate")
    with make_client(fake) as client:
        backup_id = _create(client)
        failed = _find(client, backup_id)
    assert failed["status"] == "failed"
    assert failed["size_mb"] is None


def _outcomes(seed: int) -> list[str]:
    fake = FakeVps(
        token=TOKEN, clock=FakeClock(START, 0), seed=seed, failure_rate=0.5, completion="immediate"
    )
    fake.set_behaviour(manual_backup_limit=100)
    with make_client(fake) as client:
        ids = [_create(client) for _ in range(30)]
        statuses = {b["id"]: b["status"] for b in client.get("/backups/").json()["results"]}
    return [statuses[i] for i in ids]


def test_failure_rate_is_reproducible_with_a_seed() -> None:
    first, second = _outcomes(seed=7), _outcomes(seed=7)
    assert first == second
    assert {"completed", "failed"} == set(first)
    assert _outcomes(seed=8) != first


def test_reset_restarts_the_random_sequence(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, failure_rate=0.5, completion="immediate", seed=3)
    with make_client(fake) as client:
        runs = []
        for _ in range(2):
            fake.reset()
            ids = [_create(client, 12346) for _ in range(8)]
            by_id = {b["id"]: b["status"] for b in client.get("/backups/").json()["results"]}
            runs.append([by_id[i] for i in ids])
    assert runs[0] == runs[1]


def test_automatic_backups_expire_when_the_clock_passes_expires_at(
    fake: FakeVps, client: httpx.Client
) -> None:
    # 495 was made 2025-01-15 03:00, so with 30 days' retention it expires 2025-02-14 03:00.
    until_495 = (START.replace(day=14, month=2, hour=3) - START).total_seconds()
    fake.advance(until_495 - 1)
    ids = {b["id"] for b in client.get("/backups/").json()["results"]}
    assert {495, 499, 501, 500} <= ids
    fake.advance(1)
    ids = {b["id"] for b in client.get("/backups/").json()["results"]}
    assert 495 not in ids and 501 in ids
    fake.advance(timedelta(days=400).total_seconds())
    remaining = client.get("/backups/").json()["results"]
    # Manual backups never expire.
    assert [b["id"] for b in remaining] == [499]


def test_retention_is_configurable(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, retention_days=7)
    with make_client(fake) as client:
        first = client.get("/backups/").json()["results"][0]
    assert first["expires_at"] == "2025-01-23T03:00:00Z"


def test_automatic_schedule_adds_a_backup_per_server_each_day_at_3(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, world="empty", automatic_schedule=True)
    with make_client(fake) as client:
        fake.advance(timedelta(hours=14, minutes=59).total_seconds())  # 2025-01-18 02:59
        assert client.get("/backups/").json()["count"] == 0
        fake.advance(60)  # 03:00
        body = client.get("/backups/").json()
        assert body["count"] == 2
        assert {b["backup_type"] for b in body["results"]} == {"automatic"}
        assert {b["created_at"] for b in body["results"]} == {"2025-01-18T03:00:00Z"}
        assert {b["status"] for b in body["results"]} == {"completed"}
        assert body["results"][0]["expires_at"] == "2025-02-17T03:00:00Z"
        fake.advance(timedelta(days=2).total_seconds())
        assert client.get("/backups/", params={"server_id": 12345}).json()["count"] == 3


def test_schedule_is_off_by_default(fake: FakeVps, client: httpx.Client) -> None:
    fake.advance(timedelta(days=3).total_seconds())
    automatic = client.get("/backups/", params={"backup_type": "automatic"}).json()
    assert {b["id"] for b in automatic["results"]} <= {500, 501, 495}


def test_empty_world_has_servers_and_no_backups(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, world="empty")
    with make_client(fake) as client:
        assert client.get("/backups/").json() == {
            "count": 0,
            "next": None,
            "previous": None,
            "results": [],
        }
        assert client.get("/servers/").json()["count"] == 2
        assert client.post("/backups/", json={"server_id": 12345}).json()["id"] == 502
