"""Fault injection: status codes, 429 + Retry-After, latency, drops, phases, triggers."""

from __future__ import annotations

import time

import httpx
import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, FaultRule

from ._support import START, TOKEN, make_client


def _manual_count(fake: FakeVps) -> int:
    return sum(1 for b in fake.state()["backups"] if b["backup_type"] == "manual")


def test_status_before_does_not_process_the_request(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(method="POST", path="/api/v1/backups/", status=503)
    response = client.post("/backups/", json={"server_id": 12345})
    assert response.status_code == 503
    assert response.json() == {"detail": "Injected fault: HTTP 503."}
    assert _manual_count(fake) == 1
    # Other methods on the same path pass.
    assert client.get("/backups/").status_code == 200


def test_429_carries_retry_after(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(path="/api/v1/*", status=429, retry_after=2, count=1)
    throttled = client.get("/backups/")
    assert throttled.status_code == 429
    assert throttled.headers["retry-after"] == "2"
    assert throttled.json() == {"detail": "Request was throttled."}
    assert client.get("/backups/").status_code == 200


def test_custom_body_and_headers(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(status=502, body={"error": "bad gateway"}, headers={"X-Fault": "yes"})
    response = client.get("/servers/")
    assert response.status_code == 502
    assert response.json() == {"error": "bad gateway"}
    assert response.headers["x-fault"] == "yes"


def test_phase_after_processes_then_replaces_the_answer(
    fake: FakeVps, client: httpx.Client
) -> None:
    fake.add_fault(method="POST", path="/api/v1/backups/", status=500, phase="after", count=1)
    response = client.post("/backups/", json={"server_id": 12345, "description": "lost reply"})
    assert response.status_code == 500
    created = [b for b in fake.state()["backups"] if b["description"] == "lost reply"]
    assert len(created) == 1 and created[0]["status"] == "in_progress"


def test_count_retires_the_rule(fake: FakeVps, client: httpx.Client) -> None:
    rule = fake.add_fault(status=503, count=2)
    assert [client.get("/servers/").status_code for _ in range(3)] == [503, 503, 200]
    assert rule.fired == 2
    assert fake.faults.list() == []


def test_skip_lets_the_first_matches_pass(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(status=500, skip=2, count=1)
    assert [client.get("/servers/").status_code for _ in range(4)] == [200, 200, 500, 200]


def _probability_run(seed: int) -> list[int]:
    fake = FakeVps(token=TOKEN, clock=FakeClock(START, 0), seed=seed)
    fake.add_fault(status=503, probability=0.5)
    with make_client(fake) as client:
        return [client.get("/servers/").status_code for _ in range(40)]


def test_probability_is_seeded_and_reproducible() -> None:
    first = _probability_run(5)
    assert first == _probability_run(5)
    assert set(first) == {200, 503}
    assert first != _probability_run(6)


def test_latency_delays_then_answers_normally(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(action="latency", latency=0.2, path="/api/v1/servers/", count=1)
    started = time.perf_counter()
    response = client.get("/servers/")
    assert time.perf_counter() - started >= 0.2
    assert response.status_code == 200
    assert response.json()["count"] == 2
    entry = fake.requests()[-1]
    assert entry["duration_ms"] >= 200


def test_drop_in_process_is_a_transport_error(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(action="drop", count=1)
    with pytest.raises(httpx.RemoteProtocolError):
        client.get("/backups/")
    assert client.get("/backups/").status_code == 200


def test_drop_over_real_http_closes_without_answer(
    fake: FakeVps, served: FakeServer, http: httpx.Client
) -> None:
    fake.add_fault(action="drop", path="/api/v1/backups/", count=1)
    with pytest.raises(httpx.TransportError):
        http.get("/backups/")
    # The server keeps serving afterwards.
    assert http.get("/backups/").status_code == 200


def test_drop_after_over_real_http_still_creates_the_backup(
    fake: FakeVps, served: FakeServer, http: httpx.Client
) -> None:
    fake.add_fault(action="drop", method="POST", path="/api/v1/backups/", phase="after", count=1)
    with pytest.raises(httpx.TransportError):
        http.post("/backups/", json={"server_id": 12345, "description": "reply dropped"})
    listed = http.get("/backups/", params={"server_id": 12345}).json()["results"]
    assert [b["description"] for b in listed].count("reply dropped") == 1


def test_a_dropped_request_is_journaled_before_the_client_sees_the_drop(
    fake: FakeVps, served: FakeServer, http: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The journal is written by the server's thread: a test reading it right after
    the client gave up must find the dropped request, however late that thread runs."""
    record = fake.journal.record

    def late(entry: dict) -> None:
        time.sleep(0.3)  # the server's thread, descheduled on a loaded machine
        record(entry)

    monkeypatch.setattr(fake.journal, "record", late)
    fake.add_fault(action="drop", method="POST", path="/api/v1/backups/", phase="after", count=1)
    with pytest.raises(httpx.TransportError):
        http.post("/backups/", json={"server_id": 12345, "description": "reply dropped"})
    (dropped,) = fake.requests()
    assert (dropped["method"], dropped["path"], dropped["status"]) == (
        "POST",
        "/api/v1/backups/",
        201,
    )
    assert dropped["fault"]["action"] == "drop"


def test_faults_never_touch_admin_routes(fake: FakeVps, admin: httpx.Client) -> None:
    fake.add_fault(path="*", status=500)
    assert admin.get("/health").status_code == 200


def test_path_glob_matches_ids(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(method="DELETE", path="/api/v1/backups/*/", status=500)
    assert client.delete("/backups/501/").status_code == 500
    assert client.get("/backups/").json()["count"] == 4


def test_fault_rules_validate() -> None:
    with pytest.raises(ValueError):
        FaultRule(action="explode")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        FaultRule(probability=2)
    with pytest.raises(ValueError):
        FaultRule.from_dict({"status": 500, "nonsense": 1})


def test_faults_over_the_admin_routes(
    fake: FakeVps, admin: httpx.Client, client: httpx.Client
) -> None:
    created = admin.post("/faults", json={"status": 418, "path": "/api/v1/servers/"})
    assert created.status_code == 201
    rule = created.json()
    assert rule["id"] >= 1 and rule["remaining"] is None
    assert client.get("/servers/").status_code == 418
    listed = admin.get("/faults").json()["results"]
    assert listed[0]["fired"] == 1
    assert admin.delete(f"/faults/{rule['id']}/").status_code == 204
    assert admin.delete(f"/faults/{rule['id']}/").status_code == 404
    assert client.get("/servers/").status_code == 200
    admin.post("/faults", json={"status": 500})
    assert admin.delete("/faults").status_code == 204
    assert admin.get("/faults").json() == {"results": []}
    assert admin.post("/faults", json={"action": "boom"}).status_code == 400


# -- raw bodies and deferred requests --------------------------------------------------

GATEWAY_PAGE = "<html><body><h1>502 Bad Gateway</h1><p>nginx</p></body></html>"


def test_raw_body_after_creates_then_answers_an_html_page(
    fake: FakeVps, served: FakeServer, http: httpx.Client
) -> None:
    fake.add_fault(
        method="POST",
        path="/api/v1/backups/",
        status=200,
        phase="after",
        raw_body=GATEWAY_PAGE,
        count=1,
    )
    before = _manual_count(fake)
    response = http.post("/backups/", json={"server_id": 12345, "description": "html reply"})
    assert response.status_code == 200
    assert response.text == GATEWAY_PAGE
    assert response.headers["content-type"].startswith("text/html")
    assert _manual_count(fake) == before + 1


def test_raw_body_can_be_empty_or_truncated_json(
    fake: FakeVps, served: FakeServer, http: httpx.Client
) -> None:
    fake.add_fault(method="POST", path="/api/v1/backups/", status=200, raw_body="", count=1)
    fake.add_fault(
        method="POST",
        path="/api/v1/backups/",
        status=201,
        raw_body='{"id": 5',
        headers={"Content-Type": "application/json"},
        count=1,
    )
    before = _manual_count(fake)
    empty = http.post("/backups/", json={"server_id": 12345})
    assert (empty.status_code, empty.content) == (200, b"")
    assert "content-type" not in empty.headers
    cut = http.post("/backups/", json={"server_id": 12345})
    assert (cut.status_code, cut.text) == (201, '{"id": 5')
    assert cut.headers["content-type"] == "application/json"
    assert _manual_count(fake) == before  # phase "before": neither reached the model


def test_defer_answers_at_once_and_lands_after_the_delay(
    fake: FakeVps, served: FakeServer, http: httpx.Client
) -> None:
    fake.add_fault(
        method="POST", path="/api/v1/backups/", action="defer", status=504, delay=30, count=1
    )
    before = _manual_count(fake)
    response = http.post("/backups/", json={"server_id": 12345, "description": "late"})
    assert response.status_code == 504
    listed = http.get("/backups/", params={"server_id": 12345}).json()["results"]
    assert "late" not in [b["description"] for b in listed]
    assert fake.state()["deferred"] == [
        {"method": "POST", "path": "/api/v1/backups/", "due": "2025-01-17T12:00:30Z"}
    ]
    fake.advance(29)
    assert _manual_count(fake) == before
    fake.advance(1)
    assert _manual_count(fake) == before + 1
    assert fake.state()["deferred"] == []
    listed = http.get("/backups/", params={"server_id": 12345}).json()["results"]
    assert [b["description"] for b in listed].count("late") == 1
    posts = [e for e in fake.requests() if e["method"] == "POST"]
    assert len(posts) == 1 and posts[0]["status"] == 504 and posts[0]["fault"]["delay"] == 30


def test_a_deferred_request_lands_before_the_next_request_once_due(
    fake: FakeVps, client: httpx.Client
) -> None:
    fake.add_fault(method="POST", path="/api/v1/backups/", action="defer", status=504, count=1)
    assert (
        client.post("/backups/", json={"server_id": 12345, "description": "now"}).status_code == 504
    )
    # delay 0: due at once, so the very next API request sees it.
    listed = client.get("/backups/", params={"server_id": 12345}).json()["results"]
    assert [b["description"] for b in listed].count("now") == 1


def test_reset_drops_deferred_requests(fake: FakeVps, client: httpx.Client) -> None:
    fake.add_fault(method="POST", path="/api/v1/backups/", action="defer", delay=5, count=1)
    client.post("/backups/", json={"server_id": 12345, "description": "never"})
    fake.reset()
    fake.advance(10)
    assert "never" not in [b["description"] for b in fake.state()["backups"]]


def test_defer_and_raw_body_validate_and_travel_over_the_admin_routes(
    fake: FakeVps, admin: httpx.Client, client: httpx.Client
) -> None:
    with pytest.raises(ValueError, match="phase"):
        FaultRule(action="defer", phase="after")
    with pytest.raises(ValueError):
        FaultRule(action="defer", delay=-1)
    with pytest.raises(ValueError, match="raw_body"):
        FaultRule(raw_body=b"x")  # type: ignore[arg-type]
    rule = admin.post(
        "/faults",
        json={
            "action": "defer",
            "method": "POST",
            "path": "/api/v1/backups/",
            "status": 504,
            "delay": 2,
            "count": 1,
        },
    )
    assert rule.status_code == 201 and rule.json()["delay"] == 2
    html = admin.post(
        "/faults", json={"path": "/api/v1/servers/", "status": 200, "raw_body": "<p>"}
    )
    assert html.status_code == 201
    assert client.get("/servers/").text == "<p>"
    assert client.post("/backups/", json={"server_id": 12345}).status_code == 504
    assert admin.get("/state").json()["deferred"][0]["path"] == "/api/v1/backups/"
