"""The client over real HTTP against the project's fake API on 127.0.0.1."""

from __future__ import annotations

import random
import threading
import time as real_time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest

from pulumi_vpsbackup.client import (
    AuthenticationError,
    BackupFailedError,
    ClientSettings,
    ConflictError,
    CreateReconciliationError,
    PollPolicy,
    RateLimitedError,
    RestoreFailedError,
    Secret,
    UnexpectedResponseError,
    VpsClient,
    WaitTimeoutError,
)
from pulumi_vpsbackup.client.marker import parse_marker, strip_marker

fake = pytest.importorskip("pulumi_vpsbackup.fake")

TOKEN = "vps_fake_integration_token_0123456789"
SERVER = 12345


class FakeTime:
    """The client's clock and sleep, tied to the fake's clock: sleeping advances both."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds
        self.app.advance(seconds)


class Env:
    def __init__(self, app: Any, url: str, time: FakeTime, client: VpsClient) -> None:
        self.app, self.url, self.time, self.client = app, url, time, client

    def calls(self, method: str | None = None, suffix: str = "") -> list[dict[str, Any]]:
        # A dropped connection is journalled by the server thread just after the
        # client saw the drop; give that thread a moment before counting.
        deadline = real_time.monotonic() + 1.0
        while real_time.monotonic() < deadline and any(
            e.get("status") is None for e in self.app.requests()
        ):
            real_time.sleep(0.01)
        real_time.sleep(0.02)
        return [
            e
            for e in self.app.requests()
            if (method is None or e["method"] == method) and e["path"].endswith(suffix)
        ]

    def manual_backups(self) -> list[int]:
        return [
            b["id"]
            for b in self.app.state()["backups"]
            if b["server"]["id"] == SERVER and b["backup_type"] == "manual"
        ]


@pytest.fixture
def env() -> Iterator[Callable[..., Env]]:
    cleanups: list[Callable[[], None]] = []

    def start(*, token: str = TOKEN, max_attempts: int = 5, **behaviour: Any) -> Env:
        app = fake.FakeVps(
            token=TOKEN,
            clock=fake.FakeClock(start=datetime(2025, 1, 16, 12, tzinfo=timezone.utc), scale=0),
            **behaviour,
        )
        server_cm = fake.serve(app)
        server = server_cm.__enter__()
        cleanups.append(lambda: server_cm.__exit__(None, None, None))
        time = FakeTime(app)
        settings = ClientSettings(
            token=Secret(token),
            base_url=server.url,
            timeout=10,
            max_attempts=max_attempts,
            poll=PollPolicy(initial=2, factor=2, max_interval=30, jitter=0),
        )
        client = VpsClient(settings, sleep=time.sleep, clock=time.clock, rng=random.Random(1))
        cleanups.append(client.close)
        return Env(app, server.url, time, client)

    yield start
    for cleanup in reversed(cleanups):
        cleanup()


def test_happy_path_create_wait_delete(env: Callable[..., Env]) -> None:
    e = env(backup_seconds=30)
    assert e.client.get_account().permissions
    assert {s.id for s in e.client.list_servers()} == {12345, 12346}
    assert e.client.get_server(SERVER).status == "active"
    before = {b.id for b in e.client.list_backups(server_id=SERVER)}
    assert before == {501, 499, 495}

    backup = e.client.create_backup(SERVER, "integration")
    assert backup.is_in_progress and strip_marker(backup.description) == "integration"
    progress: list[str] = []
    done = e.client.wait_for_backup(
        backup.id, server_id=SERVER, timeout=600, on_progress=lambda b, t: progress.append(b.status)
    )
    assert done.status == "completed" and done.size_mb
    assert progress[0] == "in_progress" and progress[-1] == "completed"
    assert sum(e.time.sleeps) >= 30

    assert e.client.find_backup(backup.id, server_id=SERVER) == done
    assert e.client.delete_backup(backup.id) is True
    assert e.client.delete_backup(backup.id) is False
    assert e.client.find_backup(backup.id, server_id=SERVER) is None


def test_create_wait_delete_sends_what_a_hand_written_client_would(
    env: Callable[..., Env],
) -> None:
    """The POST, one listing of the server's manual backups per poll (the read), the
    DELETE: nothing more (bench/overhead.py times this cycle against bare httpx)."""
    e = env(backup_seconds=2)  # done by the first poll, 2 s after the POST
    e.app.clear_requests()
    made = e.client.create_backup(SERVER, "cycle")
    done = e.client.wait_for_backup(made.id, server_id=SERVER, timeout=60, seen=made)
    assert done.is_completed
    assert e.client.delete_backup(made.id) is True
    sent = [(c["method"], c["path"].removeprefix("/api/v1"), c.get("query")) for c in e.calls()]
    assert sent == [
        ("POST", "/backups/", {}),
        ("GET", "/backups/", {"server_id": [str(SERVER)], "backup_type": ["manual"]}),
        ("DELETE", f"/backups/{made.id}/", {}),
    ]


def test_pagination_over_the_fake(env: Callable[..., Env]) -> None:
    e = env(page_size=1)
    expected = sorted(b["id"] for b in e.app.state()["backups"])
    assert len(expected) > 2
    assert sorted(b.id for b in e.client.list_backups()) == expected
    assert len(e.calls("GET", "/backups/")) == len(expected)


def test_deleting_a_running_backup_is_a_conflict(env: Callable[..., Env]) -> None:
    e = env(backup_seconds=300)
    backup = e.client.create_backup(SERVER)
    with pytest.raises(ConflictError, match="still being created"):
        e.client.delete_backup(backup.id)


@pytest.mark.parametrize(
    "fault",
    [
        {"action": "drop", "phase": "after"},
        {"action": "status", "status": 502, "phase": "after"},
        {"action": "status", "status": 504, "phase": "after"},
    ],
    ids=["drop-after", "502-after", "504-after"],
)
def test_lost_create_answer_is_adopted_without_a_duplicate(
    env: Callable[..., Env], fault: dict[str, Any]
) -> None:
    e = env()
    before = set(e.manual_backups())
    e.app.add_fault(method="POST", path="/api/v1/backups/", count=1, **fault)
    backup = e.client.create_backup(SERVER, "lost answer")
    after = set(e.manual_backups())
    assert after - before == {backup.id}
    assert strip_marker(backup.description) == "lost answer"
    assert len(e.calls("POST", "/backups/")) == 1


def test_a_lost_create_never_adopts_a_look_alike_made_meanwhile(env: Callable[..., Env]) -> None:
    # The POST is dropped before it takes effect, and while its answer
    # is awaited someone else (a person, another stack) makes a manual backup of
    # the same server with the same description. It is not this create's: it
    # lacks the request's marker. The create must send again, not adopt it.
    e = env()
    before = set(e.manual_backups())
    e.app.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="before", count=1)
    e.app.add_fault(method="POST", path="/api/v1/backups/", action="latency", latency=0.3, count=1)
    theirs: list[int] = []

    def person() -> None:
        real_time.sleep(0.1)
        theirs.append(e.app.model.create_backup(SERVER, "lost answer")["id"])

    other = threading.Thread(target=person)
    other.start()
    ours = e.client.create_backup(SERVER, "lost answer")
    other.join()
    assert ours.id not in theirs
    assert set(e.manual_backups()) - before == {ours.id, *theirs}
    assert parse_marker(ours.description) is not None
    assert len(e.calls("POST", "/backups/")) == 2


def test_create_dropped_before_it_took_effect_is_sent_again(env: Callable[..., Env]) -> None:
    e = env()
    before = set(e.manual_backups())
    e.app.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="before", count=1)
    backup = e.client.create_backup(SERVER, "second try")
    assert set(e.manual_backups()) - before == {backup.id}
    assert len(e.calls("POST", "/backups/")) == 2


# -- 2xx answers the client cannot read ------------------------------------------------

KEY = "5d0c91aa3f9a2c1e"  # an owner key as a resource class makes one
INTENT = "61c0de2b"
GATEWAY_PAGE = "<html><head><title>502</title></head><body>Bad Gateway</body></html>"
UNREADABLE = {
    "html": {"status": 200, "raw_body": GATEWAY_PAGE},
    "empty": {"status": 201, "raw_body": ""},
    "cut-json": {
        "status": 201,
        "raw_body": '{"id": 7, "server": {"id": 123',
        "headers": {"Content-Type": "application/json"},
    },
    "not-an-object": {"status": 201, "body": ["created"]},
    "no-id": {"status": 201, "body": {"status": "in_progress"}},
}


@pytest.mark.parametrize("answer", sorted(UNREADABLE))
def test_an_unreadable_create_answer_is_adopted_by_its_marker(
    env: Callable[..., Env], answer: str
) -> None:
    e = env()
    before = set(e.manual_backups())
    e.app.add_fault(
        method="POST", path="/api/v1/backups/", phase="after", count=1, **UNREADABLE[answer]
    )
    backup = e.client.create_backup(SERVER, "unreadable", resource_key=KEY, intent=INTENT)
    assert set(e.manual_backups()) - before == {backup.id}  # exactly one, and it is ours
    assert strip_marker(backup.description) == "unreadable"
    marker = parse_marker(backup.description)
    assert marker is not None and marker.key == KEY
    assert len(e.calls("POST", "/backups/")) == 1


def test_an_unreadable_create_answer_that_made_nothing_is_sent_again(
    env: Callable[..., Env],
) -> None:
    e = env()
    before = set(e.manual_backups())
    e.app.add_fault(
        method="POST", path="/api/v1/backups/", phase="before", count=1, **UNREADABLE["html"]
    )
    backup = e.client.create_backup(SERVER, "second try", resource_key=KEY, intent=INTENT)
    assert set(e.manual_backups()) - before == {backup.id}
    assert len(e.calls("POST", "/backups/")) == 2


def test_unreadable_create_answers_that_made_nothing_end_in_a_clear_error(
    env: Callable[..., Env],
) -> None:
    e = env(max_attempts=2)
    before = set(e.manual_backups())
    e.app.add_fault(method="POST", path="/api/v1/backups/", phase="before", **UNREADABLE["html"])
    with pytest.raises(CreateReconciliationError) as info:
        e.client.create_backup(SERVER, "never made", resource_key=KEY, intent=INTENT)
    assert set(e.manual_backups()) == before
    assert info.value.outcome_unknown and info.value.unresolved
    assert isinstance(info.value.__cause__, UnexpectedResponseError)
    assert "not JSON" in str(info.value.__cause__)
    text = str(info.value)
    assert "the outcome is unknown" in text and "200 OK" in text
    assert f"finds such a backup by its marker [pvb:{KEY}]" in text
    assert len(e.calls("POST", "/backups/")) == 2


@pytest.mark.parametrize("answer", ["html", "empty", "cut-json", "not-an-object"])
def test_an_unreadable_restore_answer_is_accepted_from_the_server(
    env: Callable[..., Env], answer: str
) -> None:
    e = env()
    e.app.add_fault(
        method="POST",
        path="/api/v1/servers/*/restore/",
        phase="after",
        count=1,
        **UNREADABLE[answer],
    )
    result = e.client.restore_server(SERVER, 501)
    assert result.status == "accepted" and result.server_status == "restoring"
    assert len(e.calls("POST", "/restore/")) == 1


def test_an_unreadable_restore_answer_that_started_nothing_is_a_clear_error(
    env: Callable[..., Env],
) -> None:
    e = env()
    e.app.add_fault(
        method="POST",
        path="/api/v1/servers/*/restore/",
        phase="before",
        count=1,
        **UNREADABLE["html"],
    )
    with pytest.raises(UnexpectedResponseError) as info:
        e.client.restore_server(SERVER, 501)
    assert info.value.outcome_unknown
    assert "took effect is unknown" in str(info.value)
    assert e.client.get_server(SERVER).status == "active"
    assert len(e.calls("POST", "/restore/")) == 1  # a restore is never sent twice


# -- a POST that lands after the reconciliation listing -----------------------------------


def test_a_create_landing_after_the_first_listing_is_adopted_by_the_second(
    env: Callable[..., Env],
) -> None:
    # The gateway answers 504 at once; the API creates the backup 1 s later,
    # after the first listing. The second listing, a short wait later, finds it.
    e = env()
    before = set(e.manual_backups())
    e.app.add_fault(
        method="POST", path="/api/v1/backups/", action="defer", status=504, delay=1, count=1
    )
    backup = e.client.create_backup(SERVER, "late", resource_key=KEY, intent=INTENT)
    e.app.advance(3600)  # anything still on its way has landed by now
    assert set(e.manual_backups()) - before == {backup.id}
    assert strip_marker(backup.description) == "late"
    assert len(e.calls("POST", "/backups/")) == 1
    assert [c["status"] for c in e.calls("GET", "/backups/")] == [200, 200]


def test_a_create_landing_after_every_listing_is_an_unknown_outcome_named_by_marker(
    env: Callable[..., Env],
) -> None:
    # Every POST is answered 504 and lands ten minutes later: the client cannot
    # know within its budget. It must say so, bounded, and name the markers the
    # late backups will carry, which hold the resource key the next run looks for.
    e = env(max_attempts=2)
    before = set(e.manual_backups())
    e.app.add_fault(method="POST", path="/api/v1/backups/", action="defer", status=504, delay=600)
    with pytest.raises(CreateReconciliationError) as info:
        e.client.create_backup(SERVER, "very late", resource_key=KEY, intent=INTENT)
    err = info.value
    assert err.unresolved and err.outcome_unknown and err.candidates == []
    text = str(err)
    assert "the outcome is unknown" in text and "504 Gateway Timeout" in text
    assert f"the next run finds such a backup by its marker [pvb:{KEY}]" in text
    assert len(e.calls("POST", "/backups/")) == 2
    assert sum(e.time.sleeps) <= e.client.settings.max_retry_seconds
    assert set(e.manual_backups()) == before  # nothing yet
    e.app.advance(600)
    landed = [b for b in e.app.state()["backups"] if b["id"] in set(e.manual_backups()) - before]
    assert len(landed) == 2
    markers = [parse_marker(b["description"]) for b in landed]
    assert {str(m) for m in markers} == set(err.markers)
    assert all(m is not None and m.key == KEY for m in markers)


def test_rate_limit_with_retry_after_is_waited_out(env: Callable[..., Env]) -> None:
    e = env()
    e.app.add_fault(method="GET", path="/api/v1/backups/", status=429, retry_after=7, count=2)
    assert len(e.client.list_backups()) == len(e.app.state()["backups"])
    assert e.time.sleeps == [7.0, 7.0]
    assert [c["status"] for c in e.calls("GET", "/backups/")] == [429, 429, 200]


def test_rate_limit_beyond_the_budget(env: Callable[..., Env]) -> None:
    e = env()
    e.app.add_fault(method="GET", path="/api/v1/servers/", status=429, retry_after=3600)
    with pytest.raises(RateLimitedError, match="3600 s"):
        e.client.list_servers()
    assert len(e.calls("GET", "/servers/")) == 1


def test_server_errors_are_retried_for_reads(env: Callable[..., Env]) -> None:
    e = env()
    e.app.add_fault(method="GET", path="/api/v1/servers/*", status=503, count=2)
    assert e.client.get_server(SERVER).id == SERVER
    assert len(e.calls("GET", f"/servers/{SERVER}/")) == 3


def test_lost_delete_answer_counts_as_deleted(env: Callable[..., Env]) -> None:
    e = env()
    e.app.add_fault(
        method="DELETE", path="/api/v1/backups/*", action="drop", phase="after", count=1
    )
    assert e.client.delete_backup(499) is True
    assert [c["status"] for c in e.calls("DELETE")][-1] == 404


def test_failed_backup(env: Callable[..., Env]) -> None:
    e = env(failure_rate=1.0, backup_seconds=10)
    backup = e.client.create_backup(SERVER, "doomed")
    with pytest.raises(BackupFailedError) as info:
        e.client.wait_for_backup(backup.id, server_id=SERVER, timeout=300)
    assert info.value.last_status == "failed"


def test_wait_timeout_against_the_fake_clock(env: Callable[..., Env]) -> None:
    e = env(backup_seconds=3600)
    backup = e.client.create_backup(SERVER)
    with pytest.raises(WaitTimeoutError) as info:
        e.client.wait_for_backup(backup.id, server_id=SERVER, timeout=100)
    assert info.value.waited == pytest.approx(100)
    assert sum(e.time.sleeps) == pytest.approx(100)
    assert e.time.sleeps == [2, 4, 8, 16, 30, 30, 10]


def test_restore_and_wait(env: Callable[..., Env]) -> None:
    e = env(restore_seconds=60)
    result = e.client.restore_server(SERVER, 501)
    assert (result.status, result.server_status, result.backup_id) == ("success", "restoring", 501)
    server = e.client.wait_for_restore(SERVER, timeout=600, backup_id=501)
    assert server.status == "active"
    assert server.last_restore and server.last_restore["backup_id"] == 501


def test_failed_restore(env: Callable[..., Env]) -> None:
    e = env(restore_seconds=20, restore_failure_rate=1.0)
    e.client.restore_server(SERVER, 501)
    with pytest.raises(RestoreFailedError, match="stopped"):
        e.client.wait_for_restore(SERVER, timeout=600)


def test_lost_restore_answer_is_accepted_not_resent(env: Callable[..., Env]) -> None:
    e = env()
    e.app.add_fault(
        method="POST", path="/api/v1/servers/*/restore/", action="drop", phase="after", count=1
    )
    result = e.client.restore_server(SERVER, 501)
    assert result.status == "accepted" and result.server_status == "restoring"
    assert len(e.calls("POST", "/restore/")) == 1


def test_refresh_of_many_backups_shares_listings(env: Callable[..., Env]) -> None:
    e = env()
    for _ in range(40):
        e.app.seed_backup(server_id=SERVER, backup_type="automatic")
    ids = [b.id for b in e.client.list_backups(server_id=SERVER)]
    e.app.clear_requests()
    found: list[int] = []
    lock = threading.Lock()

    def refresh(chunk: list[int]) -> None:
        for backup_id in chunk:
            b = e.client.find_backup(backup_id, server_id=SERVER, max_age=60)
            assert b is not None
            with lock:
                found.append(b.id)

    threads = [threading.Thread(target=refresh, args=(ids[i::4],)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(found) == sorted(ids)
    assert len(e.calls("GET", "/backups/")) == 1


def test_wrong_token(env: Callable[..., Env]) -> None:
    e = env(token="vps_wrong_token")
    with pytest.raises(AuthenticationError) as info:
        e.client.list_backups()
    assert "VPS_API_TOKEN" in str(info.value)
    assert "vps_wrong_token" not in str(info.value)
    assert len(e.calls()) == 1
