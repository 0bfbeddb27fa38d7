"""Waits learn how long a server's backups take and poll around the prediction."""

from __future__ import annotations

import json
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

import pytest

from pulumi_vpsbackup.client import ClientSettings, PollPolicy, VpsClient
from pulumi_vpsbackup.client.history import HISTORY_ENV, History, Prediction, Span, predict
from pulumi_vpsbackup.client.polling import PredictedSchedule
from pulumi_vpsbackup.client.settings import poll_policy

fake = pytest.importorskip("pulumi_vpsbackup.fake")

TOKEN = "vps_history_test_token_0123456789"
SERVER = 12345


@contextmanager
def waiting_client(
    duration: float, history: History | None
) -> Iterator[tuple[VpsClient, Callable[[], float], Callable[[float], dict[str, float]]]]:
    """A client on a frozen-clock fake over 127.0.0.1, and a function that makes one
    backup of ``duration`` seconds, waits for it as `Backup` does and tells how it went."""
    clock = fake.FakeClock(start=datetime(2030, 1, 1, 12, tzinfo=timezone.utc), scale=0)
    app = fake.FakeVps(token=TOKEN, clock=clock, completion="time", backup_seconds=duration)

    def now() -> float:
        return clock.now().timestamp()

    with fake.serve(app) as served:
        settings = ClientSettings(token=TOKEN, base_url=served.url)
        with VpsClient(
            settings,
            sleep=clock.advance,
            clock=now,
            wall_clock=now,
            rng=random.Random(7),
            history=history,
        ) as client:

            def one(took: float) -> dict[str, float]:
                app.set_behaviour(backup_seconds=took)
                clock.advance(math.ceil(now()) - now() + 0.3)
                backup = client.create_backup(SERVER, "history")
                assert backup.created_at is not None
                done_at = backup.created_at.timestamp() + took
                before = len(app.requests())
                client.wait_for_backup(backup.id, server_id=SERVER, timeout=7200, seen=backup)
                polls = sum(
                    r["method"] == "GET" and r["path"] == "/api/v1/backups/"
                    for r in app.requests()[before:]
                )
                seen = now()
                client.delete_backup(backup.id)
                clock.advance(3600)
                return {"polls": polls, "late": seen - done_at}

            yield client, now, one


@pytest.mark.parametrize("duration", [5.0, 60.0, 900.0, 3600.0])
def test_a_steady_server_is_polled_at_most_three_times_and_noticed_within_tolerance(
    duration: float,
) -> None:
    with waiting_client(duration, History(None)) as (_, _, one):
        first = one(duration)  # no history yet: the fixed schedule
        for _ in range(3):
            one(duration)
        learned = one(duration)
    assert learned["polls"] <= 3, (first, learned)
    assert 0 <= learned["late"] <= max(2.0, 0.03 * duration), (first, learned)
    if duration >= 60:
        assert learned["polls"] < first["polls"]


def test_without_history_the_wait_keeps_the_fixed_schedule() -> None:
    with waiting_client(900.0, None) as (_, _, one):
        runs = [one(900.0) for _ in range(3)]
    # 1, 3, 7, ... doubling to 120 s: the same (many) polls every time, late by up to a pause.
    assert {r["polls"] for r in runs} == {runs[0]["polls"]}
    assert runs[0]["polls"] >= 10


def test_a_backup_much_longer_than_its_history_is_still_noticed() -> None:
    with waiting_client(60.0, History(None)) as (_, _, one):
        for _ in range(3):
            one(60.0)
        slow = one(600.0)
    # Beyond the predicted range the pauses double from there, never past 120 s:
    # about as many polls as the fixed schedule's 11 for 600 s, and no later.
    assert 0 <= slow["late"] <= 120
    assert slow["polls"] <= 14


def test_a_backup_much_shorter_than_its_history_is_noticed_by_the_probe() -> None:
    with waiting_client(900.0, History(None)) as (_, _, one):
        for _ in range(3):
            one(900.0)
        quick = one(100.0)
    # One probe at half the predicted duration: noticed there, not at 15 minutes.
    assert quick["polls"] == 1
    assert quick["late"] < 450


def test_history_is_kept_in_its_file_for_the_next_process_and_names_no_url_or_token(
    tmp_path: Path,
) -> None:
    path = tmp_path / "history.json"
    with waiting_client(60.0, History(path)) as (client, _, one):
        one(60.0)
        url = client.settings.base_url
    text = path.read_text()
    assert TOKEN not in text and "127.0.0.1" not in text and url not in text
    again = History(path).bind(url)
    spans = again.history.spans(again.origin, SERVER, "backup")
    assert len(spans) == 1 and spans[0].hi >= 60
    assert again.predict(SERVER, "backup") is not None
    assert again.predict(SERVER + 1, "backup") is None  # per server


def test_an_unreadable_history_file_is_ignored_and_rewritten(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    path.write_text("{not json")
    history = History(path).bind("http://127.0.0.1:1")
    assert history.predict(SERVER, "backup") is None
    history.note(SERVER, "backup", Span(10.0, 12.0))
    assert json.loads(path.read_text())["version"] == 1


def test_two_processes_writing_one_file_keep_both_spans(tmp_path: Path) -> None:
    path = tmp_path / "history.json"
    one, two = History(path).bind("http://a"), History(path).bind("http://a")
    one.predict(SERVER, "backup"), two.predict(SERVER, "backup")  # both loaded, file empty
    one.note(SERVER, "backup", Span(10.0, 11.0))
    two.note(SERVER, "backup", Span(20.0, 21.0))
    fresh = History(path).bind("http://a")
    assert sorted(s.hi for s in fresh.history.spans(fresh.origin, SERVER, "backup")) == [11, 21]


def test_the_environment_names_the_file_or_turns_history_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HISTORY_ENV, "off")
    assert History.shared() is None
    monkeypatch.setenv(HISTORY_ENV, str(tmp_path / "h.json"))
    shared = History.shared()
    assert shared is not None and shared.path == tmp_path / "h.json"


def test_a_schedule_the_user_set_is_not_predicted() -> None:
    policy = poll_policy({"vpsbackup:pollInterval": "5"})
    assert policy is not None and not policy.predictive
    assert PollPolicy().predictive


def test_prediction_from_spans() -> None:
    assert predict([]) is None
    exact = predict([Span(900.0, 900.0)] * 3)
    assert exact == Prediction(900.0, 900.0)
    # Steady durations: spans overlap and the range narrows to their intersection.
    assert predict([Span(847.0, 967.0), Span(887.0, 927.0)]) == Prediction(887.0, 927.0)
    # Spans that do not overlap (durations vary): quartiles.
    noisy = predict([Span(80.0, 82.0), Span(100.0, 102.0), Span(120.0, 122.0)])
    assert noisy == Prediction(90.0, 112.0)
    # Spans seen by the fixed schedule: running at 1 s, done at 3 s.
    assert predict([Span(1.0, 3.0)]) == Prediction(1.0, 3.0)
    # A wait whose first poll found it done knows only the upper bound.
    unknown_lo = predict([Span(None, 100.0)])
    assert (
        unknown_lo is not None and unknown_lo.hi == 100 and unknown_lo.lo == 97
    )  # 3 % of 100 s below
    with pytest.raises(ValueError):
        Span(5.0, 4.0)


def test_the_predicted_schedule() -> None:
    policy = PollPolicy()
    steady = PredictedSchedule(Prediction(900.0, 900.0), 0.0, policy)
    assert steady.next_at(0.0) == 450.0  # the probe at half
    assert steady.next_at(450.0) == 900.25  # just after the predicted completion
    late = steady.next_at(900.25)
    assert 900.25 < late <= 900.25 + 27
    # Beyond the range pauses double with the distance, at most max_interval.
    assert steady.next_at(2000.0) - 2000.0 == 120.0
    short = PredictedSchedule(Prediction(2.0, 2.0), 0.0, policy)
    assert short.next_at(0.0) == 2.25  # no probe under a minute
    # A wait that begins late (the backup had been running 500 s) skips the probe.
    assert PredictedSchedule(Prediction(900.0, 900.0), 500.0, policy).next_at(0.0) == 400.25
