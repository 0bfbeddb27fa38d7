"""PollPolicy schedules and the wait loops, on an injected clock."""

from __future__ import annotations

import random
from collections.abc import Callable

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from pulumi_vpsbackup.client import (
    BackupFailedError,
    BackupRecord,
    BackupVanishedError,
    PollPolicy,
    RestoreFailedError,
    Server,
    WaitTimeoutError,
)
from pulumi_vpsbackup.client.polling import poll_until
from pulumi_vpsbackup.client.waiting import Waiter

from .conftest import BASE, Harness, ManualClock, backup_json, json_response, page, server_json

MakeClient = Callable[..., Harness]


def test_delays_grow_exponentially_and_cap() -> None:
    policy = PollPolicy(initial=1, factor=2, max_interval=10, jitter=0)
    assert [policy.delay(n) for n in range(6)] == [1, 2, 4, 8, 10, 10]
    assert policy.base_delay(10_000) == 10  # no overflow


def test_last_delay_is_shortened_to_the_deadline() -> None:
    policy = PollPolicy(initial=1, factor=2, max_interval=10, jitter=0)
    assert policy.delays(20) == [1, 2, 4, 8, 5]
    assert PollPolicy(initial=0).delays(100) == []


@given(
    initial=st.floats(0.5, 5),
    factor=st.floats(1, 4),
    cap=st.floats(5, 200),
    jitter=st.floats(0, 0.99),
    timeout=st.floats(0.1, 2000),
    seed=st.integers(0, 2**32),
)
def test_schedule_properties(
    initial: float, factor: float, cap: float, jitter: float, timeout: float, seed: int
) -> None:
    policy = PollPolicy(initial=initial, factor=factor, max_interval=cap, jitter=jitter)
    delays = policy.delays(timeout, random.Random(seed))
    assert sum(delays) == pytest.approx(timeout)
    assert all(0 <= d <= cap for d in delays)
    for n, d in enumerate(delays[:-1]):
        base = policy.base_delay(n)
        assert base * (1 - jitter) - 1e-9 <= d <= min(cap, base * (1 + jitter)) + 1e-9


def test_jitter_stays_within_bounds() -> None:
    policy = PollPolicy(initial=10, factor=1, max_interval=100, jitter=0.1)
    rng = random.Random(1)
    samples = [policy.delay(0, rng) for _ in range(500)]
    assert min(samples) >= 9 and max(samples) <= 11
    assert max(samples) - min(samples) > 1  # it really jitters


class _Late(Exception):
    pass


def _poll_second_time_done(clock: ManualClock, timeout: float, *, after_delay: bool) -> list[float]:
    """The elapsed times at which `poll_until` checked; done at the second check."""
    checks: list[float] = []

    def check(elapsed: float) -> tuple[bool, int]:
        checks.append(elapsed)
        return len(checks) == 2, len(checks)

    policy = PollPolicy(initial=2, factor=2, max_interval=60, jitter=0)
    try:
        poll_until(
            check,
            timeout=timeout,
            policy=policy,
            sleep=clock.sleep,
            clock=clock,
            rng=None,
            on_timeout=lambda _value, _elapsed: _Late(),
            first_check_after_delay=after_delay,
        )
    except _Late:
        checks.append(-1.0)  # marks the timeout
    return checks


def test_poll_until_checks_at_once_unless_asked_to_wait_one_interval_first() -> None:
    at_once = ManualClock()
    assert _poll_second_time_done(at_once, 100, after_delay=False) == [0, 2]
    assert at_once.sleeps == [2]
    later = ManualClock()
    assert _poll_second_time_done(later, 100, after_delay=True) == [2, 6]
    assert later.sleeps == [2, 4]  # the schedule goes on from its second delay


def test_a_first_delay_longer_than_the_timeout_is_cut_to_it_and_checked_once() -> None:
    clock = ManualClock()
    assert _poll_second_time_done(clock, 1.5, after_delay=True) == [1.5, -1.0]
    assert clock.sleeps == [1.5]


def test_the_client_hands_on_the_timing_it_was_made_with(make_client: MakeClient) -> None:
    """A caller running its own wait (a fleet) sleeps and reads time as the client does."""
    h = make_client()
    timing = h.client.timing
    assert (timing.sleep, timing.clock) == (h.clock.sleep, h.clock)
    assert timing.rng.random() == random.Random(7).random()  # the harness's seeded rng
    with pytest.raises(AttributeError):
        h.client.timing = timing  # type: ignore[misc]


def test_wait_for_backup_completes_and_reports_progress(make_client: MakeClient) -> None:
    h = make_client(
        page(backup_json(5, status="in_progress")),
        page(backup_json(5, status="in_progress")),
        page(backup_json(5, status="completed", size_mb=321)),
        poll=PollPolicy(initial=1, factor=2, max_interval=60, jitter=0),
    )
    seen: list[tuple[str, float]] = []
    backup = h.client.wait_for_backup(
        5, server_id=12345, timeout=600, on_progress=lambda b, t: seen.append((b.status, t))
    )
    assert backup.status == "completed" and backup.size_mb == 321
    assert h.clock.sleeps == [1, 2]
    assert seen == [("in_progress", 0), ("in_progress", 1), ("completed", 3)]
    # Once seen, the backup's kind is known: later polls list only that kind (one page).
    assert (
        h.script.calls
        == ["GET /backups/?server_id=12345"]
        + ["GET /backups/?server_id=12345&backup_type=manual"] * 2
    )


def test_wait_from_a_backup_in_hand_polls_after_an_interval_one_filtered_listing(
    make_client: MakeClient,
) -> None:
    """The answer to a create is a fresh sighting: no poll at once, and every poll
    lists only the backup's server and kind, whatever else the server keeps."""
    h = make_client(
        page(backup_json(5, status="in_progress")),
        page(backup_json(5, status="completed")),
        poll=PollPolicy(initial=1, factor=2, max_interval=60, jitter=0),
    )
    started = BackupRecord.from_dict(backup_json(5, status="in_progress"))
    backup = h.client.wait_for_backup(5, server_id=12345, timeout=600, seen=started)
    assert backup.status == "completed"
    assert h.clock.sleeps == [1, 2]
    assert h.script.calls == ["GET /backups/?server_id=12345&backup_type=manual"] * 2


def test_wait_learns_the_server_from_the_first_poll(make_client: MakeClient) -> None:
    h = make_client(
        page(backup_json(5, status="in_progress")),
        page(backup_json(5, status="completed")),
        poll=PollPolicy(initial=1, jitter=0),
    )
    h.client.wait_for_backup(5, timeout=60)
    assert h.script.calls == ["GET /backups/", "GET /backups/?server_id=12345&backup_type=manual"]


def test_wait_for_backup_failed(make_client: MakeClient) -> None:
    h = make_client(
        page(backup_json(5, status="in_progress")),
        page(backup_json(5, status="failed", message="Disk full")),
        poll=PollPolicy(initial=3, jitter=0),
    )
    with pytest.raises(BackupFailedError) as info:
        h.client.wait_for_backup(5, server_id=12345, timeout=60)
    assert info.value.last_status == "failed" and info.value.waited == 3
    assert "Backup 5 ended with status failed after 3.0 s: Disk full." == str(info.value)


def test_wait_for_backup_unknown_terminal_status_fails(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(5, status="corrupted")))
    with pytest.raises(BackupFailedError, match="corrupted"):
        h.client.wait_for_backup(5, server_id=12345, timeout=60)


def test_wait_for_backup_vanished_when_two_listings_in_a_row_miss_it(
    make_client: MakeClient,
) -> None:
    h = make_client(
        page(backup_json(5, status="in_progress")),
        page(backup_json(4)),
        page(backup_json(4)),
        poll=PollPolicy(initial=2, jitter=0),
    )
    with pytest.raises(BackupVanishedError) as info:
        h.client.wait_for_backup(5, server_id=12345, timeout=60)
    assert "disappeared" in str(info.value)
    assert info.value.last_status == "in_progress"
    assert len(h.script.requests) == 3


def test_a_backup_missing_from_one_listing_is_not_vanished(make_client: MakeClient) -> None:
    """Paging is no snapshot: the next listing shows it again, and it completes."""
    h = make_client(
        page(backup_json(5, status="in_progress")),
        page(backup_json(4)),
        page(backup_json(5, status="completed")),
        poll=PollPolicy(initial=2, jitter=0),
    )
    assert h.client.wait_for_backup(5, server_id=12345, timeout=60).status == "completed"


def test_wait_for_backup_timeout_names_id_status_and_time(make_client: MakeClient) -> None:
    steps = [page(backup_json(5, status="in_progress")) for _ in range(10)]
    h = make_client(*steps, poll=PollPolicy(initial=4, factor=2, max_interval=60, jitter=0))
    with pytest.raises(WaitTimeoutError) as info:
        h.client.wait_for_backup(5, server_id=12345, timeout=20)
    # Sleeps 4, 8, then the last is cut to the 20 s deadline; one final poll there.
    assert h.clock.sleeps == [4, 8, 8]
    assert len(h.script.requests) == 4
    text = str(info.value)
    assert "backup 5" in text and "in_progress" in text and "20.0 s" in text
    assert (info.value.resource_id, info.value.waited) == (5, 20)


def test_slow_polls_count_against_the_deadline(make_client: MakeClient) -> None:
    def slow(request: httpx.Request) -> httpx.Response:
        h.clock.advance(15)
        return page(backup_json(5, status="in_progress"))

    h = make_client(slow, slow, poll=PollPolicy(initial=1, jitter=0))
    with pytest.raises(WaitTimeoutError):
        h.client.wait_for_backup(5, server_id=12345, timeout=20)
    assert h.clock.sleeps == [1]


def test_a_failing_progress_callback_does_not_break_the_wait(make_client: MakeClient) -> None:
    h = make_client(page(backup_json(5, status="completed")))

    def broken(backup: BackupRecord, elapsed: float) -> None:
        raise RuntimeError("display broke")

    assert h.client.wait_for_backup(5, server_id=12345, timeout=1, on_progress=broken).id == 5


def test_wait_for_restore_until_active(make_client: MakeClient) -> None:
    h = make_client(
        json_response(200, server_json(7, status="restoring")),
        json_response(200, server_json(7, status="restoring")),
        json_response(200, server_json(7, status="active")),
        poll=PollPolicy(initial=5, jitter=0),
    )
    seen: list[str] = []
    server = h.client.wait_for_restore(
        7, timeout=600, on_progress=lambda s, t: seen.append(s.status)
    )
    assert isinstance(server, Server) and server.status == "active"
    assert seen == ["restoring", "restoring", "active"]
    assert h.clock.sleeps == [5, 10]


def test_wait_for_restore_keeps_waiting_while_last_restore_runs(make_client: MakeClient) -> None:
    h = make_client(
        json_response(
            200, server_json(7, status="stopped", last_restore={"status": "in_progress"})
        ),
        json_response(200, server_json(7, status="active", last_restore={"status": "completed"})),
        poll=PollPolicy(initial=1, jitter=0),
    )
    assert h.client.wait_for_restore(7, timeout=60).status == "active"


def test_wait_for_restore_waits_through_a_stopped_server_without_a_record(
    make_client: MakeClient,
) -> None:
    # VPS.org stops a server before restoring it: stopped alone is not failure.
    h = make_client(
        json_response(200, server_json(7, status="stopped")),
        json_response(200, server_json(7, status="restoring")),
        json_response(200, server_json(7, status="active")),
        poll=PollPolicy(initial=1, jitter=0),
    )
    assert h.client.wait_for_restore(7, timeout=60, backup_id=501).status == "active"


def test_wait_for_restore_stopped_for_good_ends_at_the_deadline(make_client: MakeClient) -> None:
    steps = [json_response(200, server_json(7, status="stopped")) for _ in range(4)]
    h = make_client(*steps, poll=PollPolicy(initial=10, factor=1, max_interval=10, jitter=0))
    with pytest.raises(WaitTimeoutError, match="still stopped"):
        h.client.wait_for_restore(7, timeout=25)


def test_wait_for_restore_failure_includes_last_restore(make_client: MakeClient) -> None:
    last = {"backup_id": 501, "status": "failed", "message": "checksum mismatch"}
    h = make_client(json_response(200, server_json(7, status="stopped", last_restore=last)))
    with pytest.raises(RestoreFailedError) as info:
        h.client.wait_for_restore(7, timeout=60)
    text = str(info.value)
    assert "server 7" in text and "stopped" in text and "checksum mismatch" in text


def test_wait_for_restore_active_but_our_restore_failed(make_client: MakeClient) -> None:
    last = {"backup_id": 501, "status": "failed"}
    h = make_client(
        json_response(200, server_json(7, status="active", last_restore=last)),
        json_response(200, server_json(7, status="active", last_restore=last)),
    )
    assert h.client.wait_for_restore(7, timeout=60).status == "active"  # someone else's
    with pytest.raises(RestoreFailedError):
        h.client.wait_for_restore(7, timeout=60, backup_id=501)


def test_wait_for_restore_timeout(make_client: MakeClient) -> None:
    steps = [json_response(200, server_json(7, status="restoring")) for _ in range(5)]
    h = make_client(*steps, poll=PollPolicy(initial=10, factor=1, max_interval=10, jitter=0))
    with pytest.raises(WaitTimeoutError) as info:
        h.client.wait_for_restore(7, timeout=25)
    assert h.clock.sleeps == [10, 10, 5]
    assert "restore of server 7" in str(info.value) and "restoring" in str(info.value)


# -- many backups in one wait ---------------------------------------------------

SERVERS = (12345, 12346, 12347, 12348)


def _running(*servers: int) -> list[BackupRecord]:
    return [
        BackupRecord.from_dict(backup_json(10 + i, s, status="in_progress"))
        for i, s in enumerate(servers)
    ]


def _waiter(h: Harness) -> Waiter:
    return Waiter(h.client, h.client.settings.poll, h.client.timing, str)


def test_many_on_few_servers_lists_each_server_once_per_poll(make_client: MakeClient) -> None:
    running = _running(12345, 12346, 12345)
    h = make_client(
        page(*[backup_json(b.id, b.server_id, status="completed") for b in running[::2]]),
        page(backup_json(11, 12346, status="completed")),
        poll=PollPolicy(initial=1, jitter=0),
    )
    waited = _waiter(h).many(running, timeout=60)
    assert sorted(waited.completed) == [10, 11, 12] and waited.failed == {}
    assert sorted(h.script.calls) == [
        "GET /backups/?server_id=12345&backup_type=manual",
        "GET /backups/?server_id=12346&backup_type=manual",
    ]
    assert h.clock.sleeps == [1]  # backups just seen running: the first poll waits


def test_many_on_four_servers_asks_the_listing_size_once_and_lists_the_account(
    make_client: MakeClient,
) -> None:
    running = _running(*SERVERS)
    h = make_client(
        page(*[backup_json(b.id, b.server_id, status="in_progress") for b in running]),  # size
        page(*[backup_json(b.id, b.server_id, status="in_progress") for b in running]),
        page(*[backup_json(b.id, b.server_id, status="completed") for b in running]),
        poll=PollPolicy(initial=1, jitter=0),
    )
    waited = _waiter(h).many(running, timeout=60)
    assert sorted(waited.completed) == [10, 11, 12, 13]
    assert h.script.calls == ["GET /backups/?backup_type=manual"] * 3


def test_many_keeps_to_the_servers_when_the_account_listing_has_more_pages(
    make_client: MakeClient,
) -> None:
    running = _running(*SERVERS)
    h = make_client(
        page(backup_json(1), next_url=f"{BASE}/backups/?page=2", count=50),  # 50 pages of 1
        *[page(backup_json(b.id, b.server_id, status="completed")) for b in running],
        poll=PollPolicy(initial=1, jitter=0),
    )
    waited = _waiter(h).many(running, timeout=60)
    assert sorted(waited.completed) == [10, 11, 12, 13]
    assert h.script.calls[0] == "GET /backups/?backup_type=manual"
    assert sorted(h.script.calls[1:]) == [
        f"GET /backups/?server_id={s}&backup_type=manual" for s in SERVERS
    ]


def test_many_reports_each_outcome_and_the_deadline_fails_the_rest(
    make_client: MakeClient,
) -> None:
    running = _running(12345, 12346)
    steps = [
        page(backup_json(10, status="failed", message="disk full")),
        page(backup_json(11, 12346, status="in_progress")),
    ] + [page(backup_json(11, 12346, status="in_progress")) for _ in range(3)]
    h = make_client(*steps, poll=PollPolicy(initial=4, factor=1, max_interval=4, jitter=0))
    waited = _waiter(h).many(running, timeout=10)
    assert waited.completed == {} and waited.running == {}
    assert waited.failed[10].reason == "ended failed"
    assert isinstance(waited.failed[10].error, BackupFailedError)
    assert "disk full" in str(waited.failed[10].error)
    assert waited.failed[11].reason == "was still in_progress after 10s"
    assert isinstance(waited.failed[11].error, WaitTimeoutError)


def test_many_by_id_starts_with_the_account_listing_then_the_one_server(
    make_client: MakeClient,
) -> None:
    h = make_client(
        page(backup_json(10, status="in_progress"), backup_json(11, status="in_progress")),
        page(backup_json(10, status="completed"), backup_json(11, status="completed")),
        poll=PollPolicy(initial=1, jitter=0),
    )
    waited = _waiter(h).many([10, 11], timeout=60, fail_fast=True)
    assert sorted(waited.completed) == [10, 11]
    assert h.script.calls == ["GET /backups/", "GET /backups/?server_id=12345&backup_type=manual"]


def test_many_with_an_account_scope_lists_the_account_whatever_the_servers(
    make_client: MakeClient,
) -> None:
    running = _running(12345, 12346)
    h = make_client(
        page(*[backup_json(b.id, b.server_id, status="completed") for b in running]),
        poll=PollPolicy(initial=1, jitter=0),
    )
    waited = _waiter(h).many(running, timeout=60, scope="account")
    assert sorted(waited.completed) == [10, 11]
    assert h.script.calls == ["GET /backups/?backup_type=manual"]
