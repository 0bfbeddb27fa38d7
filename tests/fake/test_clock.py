"""FakeClock: scaled, frozen, advanced, and safe across threads."""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone

import pytest

from pulumi_vpsbackup.fake import FakeClock
from pulumi_vpsbackup.fake.clock import format_time, parse_time

from ._support import START


def test_frozen_clock_only_moves_on_advance() -> None:
    clock = FakeClock(START, scale=0)
    time.sleep(0.01)
    assert clock.now() == START
    assert clock.advance(90) == START + timedelta(seconds=90)
    assert clock.now() == START + timedelta(seconds=90)


def test_scaled_clock_runs_faster_than_real_time() -> None:
    clock = FakeClock(START, scale=1000)
    time.sleep(0.02)
    elapsed = (clock.now() - START).total_seconds()
    assert elapsed >= 20
    assert elapsed < 5000


def test_default_clock_starts_near_real_now_in_utc() -> None:
    clock = FakeClock()
    now = clock.now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0)
    assert abs((now - datetime.now(timezone.utc)).total_seconds()) < 5


def test_set_scale_does_not_jump() -> None:
    clock = FakeClock(START, scale=0)
    clock.advance(10)
    clock.set_scale(0)
    assert clock.now() == START + timedelta(seconds=10)
    clock.set_scale(1)
    assert (clock.now() - START).total_seconds() < 11


def test_clock_refuses_to_go_backwards_by_advance() -> None:
    with pytest.raises(ValueError):
        FakeClock(START, 0).advance(-1)
    with pytest.raises(ValueError):
        FakeClock(START, -1)


def test_concurrent_advances_are_all_counted() -> None:
    clock = FakeClock(START, scale=0)

    def hammer() -> None:
        for _ in range(100):
            clock.advance(1)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert clock.now() == START + timedelta(seconds=800)


def test_snapshot_round_trip_continues_a_frozen_clock() -> None:
    clock = FakeClock(START, scale=0)
    clock.advance(3600)
    other = FakeClock(scale=5)
    other.load_dict(clock.to_dict())
    assert other.now() == START + timedelta(hours=1)
    assert other.scale == 0


def test_time_format_matches_the_documents() -> None:
    assert format_time(START) == "2025-01-17T12:00:00Z"
    assert parse_time("2025-01-17T12:00:00Z") == START
    assert parse_time("2025-01-17T12:00:00") == START
    assert format_time(START.replace(microsecond=5)) == "2025-01-17T12:00:00.000005Z"
