"""Contract of /api/v1/backups/: list, create, delete, and their errors."""

from __future__ import annotations

import httpx
import pytest

from pulumi_vpsbackup.fake import FakeVps

from ._support import make_client

CREATE_MESSAGE = "Backup is being created. This may take several minutes depending on server size."


def test_demo_world_lists_the_documented_backups_newest_first(client: httpx.Client) -> None:
    response = client.get("/backups/", params={"server_id": 12345})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["count"] == 3
    assert body["next"] is None and body["previous"] is None
    assert [b["id"] for b in body["results"]] == [501, 495, 499]
    first = body["results"][0]
    assert first == {
        "id": 501,
        "server": {"id": 12345, "name": "web-server-01"},
        "backup_type": "automatic",
        "status": "completed",
        "size_mb": 4523,
        "created_at": "2025-01-16T03:00:00Z",
        "expires_at": "2025-02-15T03:00:00Z",
        "description": "Automatic daily backup",
    }
    manual = body["results"][2]
    assert manual["backup_type"] == "manual"
    assert manual["expires_at"] is None
    assert manual["description"] == "Pre-update backup"


def test_list_without_filter_covers_every_server(client: httpx.Client) -> None:
    body = client.get("/backups/").json()
    assert body["count"] == 4
    assert {b["server"]["id"] for b in body["results"]} == {12345, 12346}


@pytest.mark.parametrize(("backup_type", "ids"), [("manual", [499]), ("automatic", [501, 495])])
def test_list_filters_by_type(client: httpx.Client, backup_type: str, ids: list[int]) -> None:
    body = client.get("/backups/", params={"server_id": 12345, "backup_type": backup_type}).json()
    assert [b["id"] for b in body["results"]] == ids
    assert body["count"] == len(ids)


def test_list_of_unknown_server_is_empty_not_an_error(client: httpx.Client) -> None:
    response = client.get("/backups/", params={"server_id": 999})
    assert response.status_code == 200
    assert response.json()["count"] == 0


def test_empty_filter_values_are_ignored(client: httpx.Client) -> None:
    body = client.get("/backups/?server_id=&backup_type=").json()
    assert body["count"] == 4


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"server_id": "abc"}, "server_id"),
        ({"server_id": "12.5"}, "server_id"),
        ({"backup_type": "weekly"}, "backup_type"),
    ],
)
def test_list_rejects_malformed_filters(
    client: httpx.Client, query: dict[str, str], field: str
) -> None:
    response = client.get("/backups/", params=query)
    assert response.status_code == 400
    body = response.json()
    assert list(body) == [field]
    assert isinstance(body[field], list) and body[field][0]


def test_list_reports_both_bad_filters_at_once(client: httpx.Client) -> None:
    response = client.get("/backups/", params={"server_id": "x", "backup_type": "y"})
    assert response.status_code == 400
    assert set(response.json()) == {"server_id", "backup_type"}
    assert response.json()["server_id"] == ["A valid integer is required."]


def test_create_returns_the_documented_in_progress_shape(client: httpx.Client) -> None:
    response = client.post(
        "/backups/", json={"server_id": 12345, "description": "Pre-deployment backup"}
    )
    assert response.status_code == 201
    assert response.json() == {
        "id": 502,
        "server": {"id": 12345, "name": "web-server-01"},
        "backup_type": "manual",
        "status": "in_progress",
        "size_mb": None,
        "created_at": "2025-01-17T12:00:00Z",
        "expires_at": None,
        "description": "Pre-deployment backup",
        "message": CREATE_MESSAGE,
    }
    listed = client.get("/backups/", params={"server_id": 12345}).json()
    assert listed["count"] == 4
    assert listed["results"][0]["id"] == 502
    assert "message" not in listed["results"][0]


def test_create_without_description_stores_an_empty_one(client: httpx.Client) -> None:
    response = client.post("/backups/", json={"server_id": 12346})
    assert response.status_code == 201
    assert response.json()["description"] == ""


def test_ids_increase(client: httpx.Client) -> None:
    ids = [client.post("/backups/", json={"server_id": 12346}).json()["id"] for _ in range(3)]
    assert ids == [502, 503, 504]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({}, "server_id", "This field is required."),
        ({"description": "x"}, "server_id", "This field is required."),
        ({"server_id": None}, "server_id", "This field may not be null."),
        ({"server_id": "12345"}, "server_id", "A valid integer is required."),
        ({"server_id": True}, "server_id", "A valid integer is required."),
        ({"server_id": 12345.5}, "server_id", "A valid integer is required."),
        ({"server_id": 12345, "description": 7}, "description", "Not a valid string."),
        ({"server_id": 12345, "description": None}, "description", "This field may not be null."),
        (
            {"server_id": 12345, "description": "x" * 256},
            "description",
            "Ensure this field has no more than 255 characters.",
        ),
    ],
)
def test_create_rejects_invalid_fields(
    client: httpx.Client, body: dict[str, object], field: str, message: str
) -> None:
    response = client.post("/backups/", json=body)
    assert response.status_code == 400
    assert response.json() == {field: [message]}
    assert client.get("/backups/").json()["count"] == 4


def test_description_of_exactly_255_characters_is_accepted(client: httpx.Client) -> None:
    response = client.post("/backups/", json={"server_id": 12345, "description": "d" * 255})
    assert response.status_code == 201


def test_create_rejects_malformed_json(client: httpx.Client) -> None:
    response = client.post(
        "/backups/", content=b'{"server_id": 12345,', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error - ")


def test_create_rejects_a_json_array(client: httpx.Client) -> None:
    response = client.post("/backups/", json=[{"server_id": 12345}])
    assert response.status_code == 400
    assert "non_field_errors" in response.json()


def test_create_for_unknown_server_is_404(client: httpx.Client) -> None:
    response = client.post("/backups/", json={"server_id": 999})
    assert response.status_code == 404
    assert response.json() == {"detail": "Server 999 not found."}


def test_eleventh_manual_backup_hits_the_limit(client: httpx.Client) -> None:
    # The demo world already holds one manual backup (499) of server 12345.
    for _ in range(9):
        assert client.post("/backups/", json={"server_id": 12345}).status_code == 201
    response = client.post("/backups/", json={"server_id": 12345})
    assert response.status_code == 400
    assert response.json() == {
        "detail": "Backup limit reached: server 12345 already has 10 manual backups. "
        "Delete one before creating another."
    }
    # The limit is per server, and automatic backups do not count.
    assert client.post("/backups/", json={"server_id": 12346}).status_code == 201


def test_deleting_one_frees_a_slot(fake: FakeVps, client: httpx.Client) -> None:
    for _ in range(9):
        client.post("/backups/", json={"server_id": 12345})
    assert client.post("/backups/", json={"server_id": 12345}).status_code == 400
    assert client.delete("/backups/499/").status_code == 204
    assert client.post("/backups/", json={"server_id": 12345}).status_code == 201


def test_failed_backups_count_towards_the_limit_unless_configured(fake: FakeVps) -> None:
    for _ in range(9):
        fake.seed_backup(server_id=12345, status="failed")
    assert fake.model.behaviour.count_failed_in_limit
    with make_client(fake) as client:
        assert client.post("/backups/", json={"server_id": 12345}).status_code == 400
        fake.set_behaviour(count_failed_in_limit=False)
        assert client.post("/backups/", json={"server_id": 12345}).status_code == 201


def test_limit_is_configurable(fake: FakeVps, client: httpx.Client) -> None:
    fake.set_behaviour(manual_backup_limit=2)
    assert client.post("/backups/", json={"server_id": 12345}).status_code == 201
    response = client.post("/backups/", json={"server_id": 12345})
    assert response.status_code == 400
    assert "already has 2 manual backups" in response.json()["detail"]


def test_delete_removes_the_backup(client: httpx.Client) -> None:
    response = client.delete("/backups/501/")
    assert response.status_code == 204
    assert response.content == b""
    ids = [b["id"] for b in client.get("/backups/").json()["results"]]
    assert 501 not in ids
    again = client.delete("/backups/501/")
    assert again.status_code == 404
    assert again.json() == {"detail": "Not found."}


def test_delete_in_progress_is_rejected_by_default(fake: FakeVps, client: httpx.Client) -> None:
    backup_id = client.post("/backups/", json={"server_id": 12345}).json()["id"]
    response = client.delete(f"/backups/{backup_id}/")
    assert response.status_code == 409
    assert response.json() == {
        "detail": f"Backup {backup_id} is still being created; try again when it has "
        "completed or failed."
    }
    fake.advance(5)
    assert client.delete(f"/backups/{backup_id}/").status_code == 204


def test_delete_in_progress_can_be_allowed(fake: FakeVps, client: httpx.Client) -> None:
    fake.set_behaviour(delete_in_progress="allow")
    backup_id = client.post("/backups/", json={"server_id": 12345}).json()["id"]
    assert client.delete(f"/backups/{backup_id}/").status_code == 204
    assert client.get("/backups/", params={"server_id": 12345}).json()["count"] == 3


def test_no_get_for_a_single_backup(client: httpx.Client) -> None:
    # Undocumented on purpose: clients must read one backup by listing.
    response = client.get("/backups/501/")
    assert response.status_code == 405
    assert "DELETE" in response.headers["allow"]


@pytest.mark.parametrize(("trim", "stored"), [(False, "  nightly "), (True, "nightly")])
def test_descriptions_are_trimmed_only_when_asked(
    fake: FakeVps, client: httpx.Client, trim: bool, stored: str
) -> None:
    fake.set_behaviour(trim_descriptions=trim)
    created = client.post("/backups/", json={"server_id": 12345, "description": "  nightly "})
    assert created.json()["description"] == stored
    padded = {"server_id": 12345, "description": " " + "d" * 255 + " "}
    assert client.post("/backups/", json=padded).status_code == (201 if trim else 400)
