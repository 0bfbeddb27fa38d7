"""Figure 2: how many requests waiting costs, and how late completion is noticed.

A backup takes D seconds of fake time (5 s, 1 min, 15 min, 1 h). The fake's
clock is frozen; ``VpsClient`` gets a ``sleep`` that advances it and clocks
that read it, so an hour's wait runs in milliseconds and is exact. Each seed
is a fresh fake and a fresh (in-memory) history; each wait starts at a random
fraction of a second (the API's ``created_at`` is whole seconds) and is
``VpsClient.wait_for_backup`` from the create's answer, as `Backup` waits.

Side by side, for every duration:
- **no history** (the first backup on a server, or history turned off): the
  default ``PollPolicy`` (1 s, doubling, at most 120 s, 10 % jitter), the same
  schedule as before prediction (checked against its arithmetic, `simulate`);
- **steady history**: every backup takes D; ``WARMUP`` backups teach the
  history (what the client's own waits saw), then ``MEASURED`` are measured;
- **noisy history**: each backup takes D x U(1 - NOISE, 1 + NOISE);
- a **fixed-interval poller** (every 1 s, measured the same way) and the
  **floor**: one poll, exactly at completion.
Targets: with a steady history at most 3 polls and a delay within max(2 s,
3 % of D); without history no worse than before.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from pulumi_vpsbackup.client import ClientSettings, PollPolicy, VpsClient
from pulumi_vpsbackup.client.history import History
from pulumi_vpsbackup.provider.fleet.wait import wait_all

from .core import TOKEN, Figure, Options, api_requests, fake_server, frozen_clock, last_seq, median

GROUP = "polling"
SERVER = 12345
DURATIONS = (5.0, 60.0, 900.0, 3600.0)
HISTORIES = ("none", "steady", "noisy")
NOISE = 0.10
WARMUP = 5
MEASURED = 3
MAX_POLLS_WITH_HISTORY = 3
FIXED = PollPolicy(initial=1.0, factor=1.0, max_interval=1.0, jitter=0.0, predictive=False)


def tolerance(duration: float) -> float:
    return max(2.0, 0.03 * duration)


@dataclass
class Wait:
    seed: int
    duration: float
    offset: float  # how far into its second the POST was answered
    requests: int  # GETs while waiting (the POST is not part of waiting)
    delay: float  # fake seconds between completion and the poll that saw it
    #: (polls, delay) the schedule before prediction would give this wait, by its arithmetic.
    before: tuple[int, float]


def measure(
    duration: float,
    history: str,
    seed: int,
    policy: PollPolicy | None = None,
    measured: int = MEASURED,
) -> list[Wait]:
    """The measured waits of one seed: ``WARMUP`` teach the history first (none without)."""
    rng = random.Random(seed)
    clock = frozen_clock()
    learning = WARMUP if history != "none" else 0
    out: list[Wait] = []
    with fake_server(clock=clock, completion="time", backup_seconds=duration) as served:
        app = served.app

        def now() -> float:
            return clock.now().timestamp()

        settings = ClientSettings(token=TOKEN, base_url=served.url, poll=policy or PollPolicy())
        memory = History(None, wall_clock=now) if history != "none" else None
        with VpsClient(
            settings,
            sleep=clock.advance,
            clock=now,
            wall_clock=now,
            rng=random.Random(seed),
            history=memory,
        ) as client:
            for i in range(learning + measured):
                took = duration
                if history == "noisy":
                    took = duration * (1 + rng.uniform(-NOISE, NOISE))
                app.set_behaviour(backup_seconds=took)
                clock.advance(math.ceil(now()) - now() + rng.random())
                offset = now() % 1
                backup = client.create_backup(SERVER, f"wait {i}")
                assert backup.created_at is not None
                done_at = backup.created_at.timestamp() + took
                seq = last_seq(app)
                jitter = random.Random()
                jitter.setstate(client.timing.rng.getstate())
                before = simulate(settings.poll, took, jitter, offset)
                client.wait_for_backup(
                    backup.id, server_id=SERVER, timeout=4 * duration + 3600, seen=backup
                )
                seen_at = now()
                polls = len(api_requests(app, since=seq))
                client.delete_backup(backup.id)
                if i >= learning:
                    out.append(Wait(seed, took, offset, polls, seen_at - done_at, before))
                clock.advance(3600)  # the next run, an hour later
    return out


def simulate(
    policy: PollPolicy, duration: float, rng: random.Random, offset: float = 0.0
) -> tuple[int, float]:
    """(polls, delay) of the no-history schedule when every poll is instant: its arithmetic.

    ``offset`` is how long after the backup's start the wait begins (its first
    poll comes one interval later, as `Backup` waits from the create's answer).
    """
    t, n, polls = policy.delay(0, rng), 1, 0
    done = duration - offset
    while True:
        polls += 1
        if t >= done:
            return polls, t - done
        t += policy.delay(n, rng)
        n += 1


OTHERS = 30
PAGE_SIZE = 10


def poll_cost(fleet: bool) -> tuple[float, int, int]:
    """Requests per poll of one running backup with OTHERS automatic backups beside it.

    The fake lists PAGE_SIZE per page. The wait is `VpsClient.wait_for_backup`
    from the create's answer (as `Backup` waits), or the fleet's shared loop for a fleet of one
    server. Returns (requests per poll, requests, polls).
    """
    clock = frozen_clock()
    with fake_server(
        world="demo", clock=clock, completion="time", backup_seconds=300, page_size=PAGE_SIZE
    ) as served:
        app = served.app
        for i in range(OTHERS):
            app.seed_backup(server_id=SERVER, backup_type="automatic", description=f"auto {i}")

        def now() -> float:
            return clock.now().timestamp()

        settings = ClientSettings(token=TOKEN, base_url=served.url)
        polls = [0]
        with VpsClient(settings, sleep=clock.advance, clock=now, rng=random.Random(1)) as client:
            backup = client.create_backup(SERVER, "poll cost")
            seq = last_seq(app)
            if fleet:
                counted = _CountingClient(client, polls)
                _, failed = wait_all(counted, {SERVER: backup}, 3600, "bench")  # type: ignore[arg-type]
                if failed:
                    raise RuntimeError(f"the fleet's wait failed: {failed}")
            else:

                def count(_backup: Any, _elapsed: float) -> None:
                    polls[0] += 1

                client.wait_for_backup(
                    backup.id, server_id=SERVER, timeout=3600, on_progress=count, seen=backup
                )
            requests = len(api_requests(app, since=seq))
    return requests / max(polls[0], 1), requests, polls[0]


class _CountingClient:
    """The client, counting the fleet loop's listings (one per server per poll)."""

    def __init__(self, client: VpsClient, polls: list[int]) -> None:
        self._client = client
        self._polls = polls

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def list_backups(self, **kwargs: Any) -> Any:
        self._polls[0] += 1
        return self._client.list_backups(**kwargs)


def run(options: Options) -> list[Figure]:
    figures = [_poll_cost_figure(fleet=False), _poll_cost_figure(fleet=True)]
    return figures + _waits(options)


def _poll_cost_figure(fleet: bool) -> Figure:
    per_poll, requests, polls = poll_cost(fleet)
    what = "BackupFleet's shared loop" if fleet else "Backup's wait (wait_for_backup)"
    return Figure(
        GROUP,
        f"one poll, {OTHERS} other backups: {'fleet' if fleet else 'Backup'}",
        per_poll,
        "req",
        1,
        "ideal",
        "<= 1",
        per_poll <= 1,
        f"{what}: {requests} requests for {polls} polls of a 5-min backup; "
        f"{PAGE_SIZE} per page, the server's {OTHERS} automatic backups beside it",
    )


def _label(duration: float) -> str:
    if duration >= 3600:
        return f"{duration / 3600:g} h"
    return f"{duration / 60:g} min" if duration >= 60 else f"{duration:g} s"


def _waits(options: Options) -> list[Figure]:
    seeds = range(options.pick(3, 8))
    figures: list[Figure] = []
    for duration in DURATIONS:
        label = _label(duration)
        runs = {h: [w for seed in seeds for w in measure(duration, h, seed)] for h in HISTORIES}
        fixed = measure(duration, "none", 0, FIXED, measured=1)  # deterministic: one wait
        fixed_note = (
            f"fixed 1 s poller: {median(w.requests for w in fixed):g} polls, "
            f"{median(w.delay for w in fixed):.2f} s late; floor: 1 poll, 0 s"
        )
        before = runs["none"]
        # Without history the schedule must be the one before prediction, poll for poll.
        agree = all(w.requests == w.before[0] and abs(w.delay - w.before[1]) < 1e-3 for w in before)
        before_polls = median(w.requests for w in before)
        before_delay = median(w.delay for w in before)
        for history in HISTORIES:
            waits = runs[history]
            polls = [w.requests for w in waits]
            delays = [w.delay for w in waits]
            if history == "steady":
                polls_target, polls_ok = f"<= {MAX_POLLS_WITH_HISTORY} worst", max(polls) <= 3
                delay_target = f"worst <= {tolerance(duration):g} s"
                delay_ok: bool | None = max(delays) <= tolerance(duration)
            elif history == "none":
                polls_target, polls_ok = "as before prediction", agree
                delay_target, delay_ok = "as before prediction", agree
            else:
                polls_target, polls_ok = "(info)", None
                delay_target, delay_ok = "(info)", None
            name = {"none": "no history", "steady": "steady history", "noisy": "noisy history"}
            base, base_label = (
                (median(w.requests for w in fixed), "fixed 1 s poller")
                if history == "none"
                else (before_polls, "no history")
            )
            figures.append(
                Figure(
                    GROUP,
                    f"{label} backup, {name[history]}: polls (median)",
                    median(polls),
                    "req",
                    base,
                    base_label,
                    polls_target,
                    polls_ok,
                    f"worst {max(polls)}; {len(waits)} waits; {fixed_note}",
                    {"polls": polls},
                )
            )
            figures.append(
                Figure(
                    GROUP,
                    f"{label} backup, {name[history]}: noticed late by (median)",
                    median(delays),
                    "s",
                    before_delay if history != "none" else median(w.delay for w in fixed),
                    "no history" if history != "none" else "fixed 1 s poller",
                    delay_target,
                    delay_ok,
                    f"worst {max(delays):.2f} s",
                    {"delays": [round(d, 3) for d in delays]},
                )
            )
    return figures
