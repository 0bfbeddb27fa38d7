"""The /__fake/ admin routes, their Python twins, and the request journal."""

from __future__ import annotations

import httpx

from pulumi_vpsbackup.fake import FakeServer, FakeVps

from ._support import TOKEN


def test_health_needs_no_token(admin: httpx.Client) -> None:
    body = admin.get("/health").json()
    assert body == {"status": "ok", "now": "2025-01-17T12:00:00Z"}


def test_reset_restores_the_world_and_can_switch_it(
    fake: FakeVps, admin: httpx.Client, client: httpx.Client
) -> None:
    client.delete("/backups/501/")
    fake.add_fault(status=500, path="/nothing")
    assert admin.post("/reset", json={}).status_code == 200
    assert client.get("/backups/").json()["count"] == 4
    assert fake.faults.list() == []
    assert admin.post("/reset", json={"world": "empty"}).json()["world"] == "empty"
    assert client.get("/backups/").json()["count"] == 0
    assert admin.post("/reset", json={"world": "mars"}).status_code == 400


def test_add_server_then_back_it_up(admin: httpx.Client, client: httpx.Client) -> None:
    response = admin.post("/servers", json={"id": 4242, "name": "cache-01", "location": "fra1"})
    assert response.status_code == 201
    assert response.json()["hostname"] == "cache-01.example.com"
    assert client.get("/servers/4242/").json()["location"] == "fra1"
    assert client.post("/backups/", json={"server_id": 4242}).status_code == 201
    assert admin.post("/servers", json={"id": 4242}).status_code == 409


def test_seed_backup_bypasses_the_limit_and_sets_anything(
    admin: httpx.Client, client: httpx.Client
) -> None:
    for _ in range(12):
        assert admin.post("/backups", json={"server_id": 12346}).status_code == 201
    seeded = admin.post(
        "/backups",
        json={
            "server_id": 12345,
            "backup_type": "automatic",
            "status": "in_progress",
            "created_at": "2025-01-10T03:00:00Z",
            "description": "seeded",
        },
    ).json()
    assert seeded["status"] == "in_progress" and seeded["size_mb"] is None
    assert seeded["expires_at"] == "2025-02-09T03:00:00Z"
    manual = client.get("/backups/", params={"server_id": 12346, "backup_type": "manual"})
    assert manual.json()["count"] == 12
    assert admin.post("/backups", json={"server_id": 1}).status_code == 404
    assert admin.post("/backups", json={}).status_code == 400


def test_remove_backup_behind_the_providers_back(admin: httpx.Client, client: httpx.Client) -> None:
    backup_id = client.post("/backups/", json={"server_id": 12345}).json()["id"]
    # Unlike the API, the admin route removes even a running backup.
    assert admin.delete(f"/backups/{backup_id}/").status_code == 204
    assert admin.delete(f"/backups/{backup_id}/").status_code == 404
    ids = [b["id"] for b in client.get("/backups/").json()["results"]]
    assert backup_id not in ids


def test_state_dump_includes_internal_fields(admin: httpx.Client) -> None:
    state = admin.get("/state").json()
    assert state["next_id"] == 502
    assert {s["id"] for s in state["servers"]} == {12345, 12346}
    assert {"will_fail", "reads"} <= set(state["backups"][0])
    assert state["behaviour"]["completion"] == "time"
    assert state["faults"] == []
    assert state["clock"]["now"] == "2025-01-17T12:00:00Z"


def test_clock_route_reads_sets_advances_and_scales(
    admin: httpx.Client, client: httpx.Client
) -> None:
    assert admin.get("/clock").json() == {"now": "2025-01-17T12:00:00Z", "scale": 0.0}
    backup_id = client.post("/backups/", json={"server_id": 12345}).json()["id"]
    assert admin.post("/clock", json={"advance": 5}).json()["now"] == "2025-01-17T12:00:05Z"
    statuses = {b["id"]: b["status"] for b in client.get("/backups/").json()["results"]}
    assert statuses[backup_id] == "completed"
    moved = admin.post("/clock", json={"now": "2025-03-01T00:00:00Z"}).json()
    assert moved["now"] == "2025-03-01T00:00:00Z"
    assert admin.post("/clock", json={"scale": 2}).json()["scale"] == 2
    assert admin.post("/clock", json={"advance": -1}).status_code == 400
    assert admin.post("/clock", json={"rewind": 1}).status_code == 400


def test_behaviour_route(admin: httpx.Client, client: httpx.Client) -> None:
    assert admin.get("/behaviour").json()["delete_in_progress"] == "reject"
    updated = admin.post("/behaviour", json={"delete_in_progress": "allow", "page_size": 2})
    assert updated.status_code == 200
    assert updated.json()["page_size"] == 2
    assert len(client.get("/backups/").json()["results"]) == 2
    assert admin.post("/behaviour", json={"failure_rate": 3}).status_code == 400
    assert admin.post("/behaviour", json={"no_such_setting": 1}).status_code == 400


def test_admin_unknown_route_and_method(admin: httpx.Client) -> None:
    assert admin.get("/nope").status_code == 404
    assert admin.put("/reset").status_code == 405


def test_journal_records_requests_with_the_token_redacted(
    fake: FakeVps, admin: httpx.Client, client: httpx.Client
) -> None:
    client.get("/backups/", params={"server_id": 12345})
    client.post("/backups/", json={"server_id": 999})
    admin.get("/health")  # admin traffic is not journaled
    journal = admin.get("/requests").json()
    assert journal["count"] == 2
    first, second = journal["results"]
    assert first["method"] == "GET" and first["path"] == "/api/v1/backups/"
    assert first["query"] == {"server_id": ["12345"]}
    assert first["status"] == 200 and first["duration_ms"] >= 0
    assert second["status"] == 404
    assert first["headers"]["Authorization"] == "[redacted]"
    assert TOKEN not in str(journal)
    assert admin.delete("/requests").status_code == 204
    assert fake.requests() == []


def test_journal_is_bounded(fake: FakeVps, client: httpx.Client) -> None:
    fake.set_behaviour(journal_size=5)
    for _ in range(8):
        client.get("/servers/")
    entries = fake.requests()
    assert len(entries) == 5
    assert entries[-1]["seq"] == 8


def test_journal_marks_injected_faults(fake: FakeVps, client: httpx.Client) -> None:
    rule = fake.add_fault(status=503, count=1)
    client.get("/servers/")
    assert fake.requests()[-1]["fault"] == {"id": rule.id, "action": "status", "phase": "before"}
    assert fake.requests()[-1]["status"] == 503


def test_admin_over_real_http(served: FakeServer) -> None:
    assert served.url == f"http://127.0.0.1:{served.port}/api/v1"
    assert served.root_url == f"http://127.0.0.1:{served.port}"
    assert httpx.get(served.root_url + "/__fake/health", timeout=10).json()["status"] == "ok"
