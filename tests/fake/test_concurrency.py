"""Many simultaneous requests against a real threaded server lose nothing."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from pulumi_vpsbackup.fake import FakeClock, FakeVps, serve

from ._support import START, TOKEN

HEADERS = {"Authorization": f"Bearer {TOKEN}"}


def test_100_concurrent_creates_get_distinct_ids_and_all_persist(tmp_path: Path) -> None:
    state = tmp_path / "world.json"
    fake = FakeVps(
        token=TOKEN, clock=FakeClock(START, 0), state_file=state, manual_backup_limit=1000
    )
    with serve(fake) as server, httpx.Client(base_url=server.url, headers=HEADERS) as client:

        def create(i: int) -> httpx.Response:
            body = {"server_id": 12345 + i % 2, "description": f"concurrent {i}"}
            return client.post("/backups/", json=body, timeout=30)

        with ThreadPoolExecutor(max_workers=32) as pool:
            responses = list(pool.map(create, range(100)))
        assert [r.status_code for r in responses] == [201] * 100
        ids = sorted(r.json()["id"] for r in responses)
        assert ids == list(range(502, 602))
        listed = client.get("/backups/", params={"backup_type": "manual"}).json()
        assert listed["count"] == 101
        descriptions = {b["description"] for b in listed["results"]}
        assert {f"concurrent {i}" for i in range(100)} <= descriptions
    saved = json.loads(state.read_text())
    assert saved["next_id"] == 602 and len(saved["backups"]) == 104


def test_concurrent_mixed_traffic_has_no_server_errors() -> None:
    fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0), manual_backup_limit=1000)
    with serve(fake) as server, httpx.Client(base_url=server.url, headers=HEADERS) as client:

        def work(i: int) -> int:
            kind = i % 4
            if kind == 0:
                return client.post("/backups/", json={"server_id": 12346}, timeout=30).status_code
            if kind == 1:
                return client.get("/backups/", timeout=30).status_code
            if kind == 2:
                return client.get("/servers/12345/", timeout=30).status_code
            return client.get("/account/me/", timeout=30).status_code

        with ThreadPoolExecutor(max_workers=32) as pool:
            statuses = list(pool.map(work, range(200)))
    assert set(statuses) == {200, 201}
    assert statuses.count(201) == 50


def test_only_one_of_many_simultaneous_restores_wins() -> None:
    fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0))
    with serve(fake) as server, httpx.Client(base_url=server.url, headers=HEADERS) as client:

        def restore(_: int) -> int:
            response = client.post("/servers/12345/restore/", json={"backup_id": 501}, timeout=30)
            return response.status_code

        with ThreadPoolExecutor(max_workers=20) as pool:
            statuses = list(pool.map(restore, range(20)))
    assert statuses.count(200) == 1
    assert statuses.count(400) == 19
