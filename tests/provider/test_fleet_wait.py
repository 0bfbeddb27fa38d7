"""The fleet's one wait for all its backups, on the client's injected time (no HTTP)."""

from __future__ import annotations

import random
from types import SimpleNamespace
from typing import Any

from pulumi_vpsbackup.client import BackupRecord, PollPolicy, ServerRef
from pulumi_vpsbackup.client.polling import Timing
from pulumi_vpsbackup.provider.fleet.wait import wait_all


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def _backup(backup_id: int, server_id: int, status: str) -> BackupRecord:
    return BackupRecord(
        id=backup_id,
        server=ServerRef(id=server_id, name=f"s{server_id}"),
        backup_type="manual",
        status=status,
        size_mb=None,
        created_at=None,
        expires_at=None,
        description=None,
    )


class _Client:
    """What `wait_all` uses of a client: its poll schedule, its timing, its listings.

    `answers[server]` is the status each listing shows in turn (None: absent),
    the last one repeated.
    """

    def __init__(self, answers: dict[int, list[str | None]]) -> None:
        self.clock = _Clock()
        self.settings = SimpleNamespace(
            poll=PollPolicy(initial=4, factor=1, max_interval=4, jitter=0)
        )
        self.timing = Timing(sleep=self.clock.sleep, clock=self.clock, rng=random.Random(1))
        self.answers = answers
        self.listed: list[tuple[float, int]] = []

    def list_backups(self, *, server_id: int, backup_type: str) -> list[BackupRecord]:
        assert backup_type == "manual"
        self.listed.append((self.clock.now, server_id))
        script = self.answers[server_id]
        status = script.pop(0) if len(script) > 1 else script[0]
        return [] if status is None else [_backup(server_id * 10, server_id, status)]


def _wait(client: _Client, running: dict[int, str], timeout: float) -> tuple[Any, Any]:
    backups = {s: _backup(s * 10, s, status) for s, status in running.items()}
    return wait_all(client, backups, timeout, "test")  # type: ignore[arg-type]


def test_the_first_poll_comes_after_one_interval_and_each_poll_lists_each_waiting_server():
    client = _Client({1: ["in_progress", "completed"], 2: ["completed"]})
    done, failed = _wait(client, {1: "in_progress", 2: "in_progress", 3: "completed"}, 60)
    assert sorted(done) == [1, 2, 3] and failed == {}
    assert sorted(client.listed) == [(4.0, 1), (4.0, 2), (8.0, 1)]  # 2 is done after one
    assert client.clock.sleeps == [4, 4]


def test_nothing_running_means_no_poll_and_no_sleep():
    client = _Client({})
    done, failed = _wait(client, {1: "completed", 2: "failed"}, 60)
    assert list(done) == [1] and failed[2][1] == "ended failed"
    assert client.listed == [] and client.clock.sleeps == []


def test_the_deadline_marks_the_rest_failed_instead_of_raising():
    client = _Client({1: ["in_progress"], 2: ["in_progress", "error"]})
    done, failed = _wait(client, {1: "in_progress", 2: "in_progress"}, 10)
    assert done == {}
    assert failed[1][1] == "was still in_progress after 10s"
    assert failed[2][1] == "ended error"
    assert client.clock.sleeps == [4, 4, 2]  # the last poll is at the deadline


def test_a_backup_is_vanished_only_when_two_listings_in_a_row_miss_it():
    client = _Client({1: [None, "in_progress", None, None], 2: ["in_progress", "completed"]})
    done, failed = _wait(client, {1: "in_progress", 2: "in_progress"}, 60)
    assert list(done) == [2]
    assert failed[1][1] == "vanished while it was being made"
    assert [t for t, s in client.listed if s == 1] == [4, 8, 12, 16]
