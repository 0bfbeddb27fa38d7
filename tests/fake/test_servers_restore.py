"""Servers (list, detail) and the restore flow modelled on the snapshot restore."""

from __future__ import annotations

import httpx
import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeVps

from ._support import TOKEN, make_client

SERVER_FIELDS = {
    "id", "name", "hostname", "status", "ip_address", "location", "plan", "os",
    "created_at", "updated_at", "last_restore",
}  # fmt: skip


def test_servers_list_has_the_documented_fields(client: httpx.Client) -> None:
    body = client.get("/servers/").json()
    assert body["count"] == 2
    assert [s["id"] for s in body["results"]] == [12345, 12346]
    for server in body["results"]:
        assert set(server) == SERVER_FIELDS
        assert set(server["plan"]) == {"id", "name", "vcpus", "memory", "storage"}
        assert set(server["os"]) == {"id", "name"}
        assert server["status"] == "active"
        assert server["last_restore"] is None


def test_servers_filter_by_status_and_location(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_server(id=777, name="old-box", status="stopped", location="ams1")
    assert [s["id"] for s in client.get("/servers/?status=stopped").json()["results"]] == [777]
    ams = client.get("/servers/", params={"location": "ams1"}).json()["results"]
    assert [s["id"] for s in ams] == [777, 12346]
    both = client.get("/servers/", params={"location": "ams1", "status": "active"}).json()
    assert [s["id"] for s in both["results"]] == [12346]


def test_server_detail_and_404(client: httpx.Client) -> None:
    detail = client.get("/servers/12345/").json()
    assert detail["name"] == "web-server-01"
    missing = client.get("/servers/999/")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "Not found."}


def test_restore_succeeds_and_takes_restore_seconds(fake: FakeVps, client: httpx.Client) -> None:
    response = client.post("/servers/12345/restore/", json={"backup_id": 501})
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "success"
    assert body["message"] == (
        "Server is being restored from backup 501. This may take 5-15 minutes."
    )
    assert body["backup"]["id"] == 501
    assert body["server"] == {"id": 12345, "name": "web-server-01", "status": "restoring"}

    server = client.get("/servers/12345/").json()
    assert server["status"] == "restoring"
    assert server["last_restore"] == {
        "backup_id": 501,
        "status": "in_progress",
        "started_at": "2025-01-17T12:00:00Z",
        "finished_at": None,
    }
    fake.advance(fake.behaviour.restore_seconds - 1)
    assert client.get("/servers/12345/").json()["status"] == "restoring"
    fake.advance(1)
    server = client.get("/servers/12345/").json()
    assert server["status"] == "active"
    assert server["last_restore"]["status"] == "completed"
    assert server["last_restore"]["finished_at"] == "2025-01-17T12:00:10Z"


def test_restore_while_restoring_is_refused(client: httpx.Client) -> None:
    assert client.post("/servers/12345/restore/", json={"backup_id": 501}).status_code == 200
    response = client.post("/servers/12345/restore/", json={"backup_id": 495})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Server is not in a valid state for restoration (status: restoring)."
    }


def test_restore_of_a_stopped_server_is_refused(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_server(id=777, name="old-box", status="stopped")
    fake.seed_backup(id=900, server_id=777)
    response = client.post("/servers/777/restore/", json={"backup_id": 900})
    assert response.status_code == 400
    assert "(status: stopped)" in response.json()["detail"]


def test_failed_restore_leaves_the_server_stopped(clock: FakeClock) -> None:
    fake = FakeVps(token=TOKEN, clock=clock, restore_failure_rate=1.0)
    with make_client(fake) as client:
        assert client.post("/servers/12345/restore/", json={"backup_id": 501}).status_code == 200
        fake.advance(fake.behaviour.restore_seconds)
        server = client.get("/servers/12345/").json()
    assert server["status"] == "stopped"
    assert server["last_restore"]["status"] == "failed"
    assert server["last_restore"]["finished_at"] is not None


def test_restore_of_unknown_server_is_404_before_body_checks(client: httpx.Client) -> None:
    response = client.post("/servers/999/restore/", json={})
    assert response.status_code == 404
    assert response.json() == {"detail": "Server 999 not found."}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "This field is required."),
        ({"backup_id": "501"}, "A valid integer is required."),
        ({"backup_id": False}, "A valid integer is required."),
        ({"backup_id": 999}, 'Invalid pk "999" - object does not exist.'),
    ],
)
def test_restore_rejects_bad_backup_id(
    client: httpx.Client, body: dict[str, object], message: str
) -> None:
    response = client.post("/servers/12345/restore/", json=body)
    assert response.status_code == 400
    assert response.json() == {"backup_id": [message]}
    assert client.get("/servers/12345/").json()["status"] == "active"


def test_restore_from_a_running_backup_names_its_status(client: httpx.Client) -> None:
    backup_id = client.post("/backups/", json={"server_id": 12345}).json()["id"]
    response = client.post("/servers/12345/restore/", json={"backup_id": backup_id})
    assert response.status_code == 400
    assert "in_progress" in response.json()["detail"]


def test_restore_from_a_failed_backup_names_its_status(fake: FakeVps, client: httpx.Client) -> None:
    fake.seed_backup(id=800, server_id=12345, status="failed")
    response = client.post("/servers/12345/restore/", json={"backup_id": 800})
    assert response.status_code == 400
    assert "failed" in response.json()["detail"]


def test_restore_from_another_servers_backup_names_both(client: httpx.Client) -> None:
    response = client.post("/servers/12346/restore/", json={"backup_id": 501})
    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "12345" in detail and "12346" in detail and "501" in detail
