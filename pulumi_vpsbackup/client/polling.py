"""Time in the client: its injectable clocks, the polling schedule and the polling loop."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    from .history import Prediction

__all__ = ["PolicySchedule", "PollPolicy", "PredictedSchedule", "Schedule", "Timing", "poll_until"]

T = TypeVar("T")


@dataclass(frozen=True)
class Timing:
    """The client's sources of time and chance, handed on as one (tests replace them),
    and `cancel`: once set, every wait on this timing stops at its next poll or
    sleep (the native plugin sets it when the engine cancels; see `poll_until`)."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time
    rng: random.Random = field(default_factory=random.Random)
    cancel: threading.Event = field(default_factory=threading.Event)


@dataclass(frozen=True)
class PollPolicy:
    """An exponential polling schedule with jitter.

    The n-th delay (from 0) is ``min(initial * factor**n, max_interval)``,
    multiplied by a random factor in ``[1 - jitter, 1 + jitter]`` and capped
    again at ``max_interval``. The waiting loop shortens the last sleep so that
    the final poll happens at the deadline, never after it.

    ``PollPolicy(initial=0)`` polls without sleeping, which tests with an
    injected clock use.
    """

    initial: float = 1.0
    factor: float = 2.0
    max_interval: float = 120.0
    jitter: float = 0.1
    #: Whether a wait with history polls around the predicted completion
    #: (:class:`PredictedSchedule`); a schedule the user set is kept to exactly.
    predictive: bool = True

    def __post_init__(self) -> None:
        if self.initial < 0:
            raise ValueError("PollPolicy.initial must be >= 0")
        if self.factor < 1:
            raise ValueError("PollPolicy.factor must be >= 1")
        if self.max_interval < self.initial:
            raise ValueError("PollPolicy.max_interval must be >= initial")
        if not 0 <= self.jitter < 1:
            raise ValueError("PollPolicy.jitter must be in [0, 1)")

    def base_delay(self, n: int) -> float:
        """The n-th delay before jitter."""
        if self.initial == 0:
            return 0.0
        try:
            delay = self.initial * self.factor**n
        except OverflowError:  # once capped it stays capped
            return self.max_interval
        return min(delay, self.max_interval)

    def delay(self, n: int, rng: random.Random | None = None) -> float:
        """The n-th delay with jitter drawn from ``rng``."""
        base = self.base_delay(n)
        if self.jitter and base:
            source = rng if rng is not None else random
            base *= 1 + source.uniform(-self.jitter, self.jitter)
        return min(base, self.max_interval)

    def iter_delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The endless sequence of delays."""
        n = 0
        while True:
            yield self.delay(n, rng)
            n += 1

    def delays(self, timeout: float, rng: random.Random | None = None) -> list[float]:
        """The sleeps a wait of ``timeout`` seconds makes if every poll took no time.

        The last sleep is shortened to end at the deadline, so the sum equals
        ``timeout``. With ``initial == 0`` the schedule is empty.
        """
        out: list[float] = []
        total = 0.0
        if self.initial == 0 or timeout <= 0:
            return out
        for d in self.iter_delays(rng):
            remaining = timeout - total
            if remaining <= 0:
                break
            if d >= remaining:
                # The shortened last sleep ends the schedule; adding it to
                # `total` could leave a rounding crumb that looks like time left.
                out.append(remaining)
                break
            out.append(d)
            total += d
        return out


class Schedule(Protocol):
    """When a wait polls: ``next_at(now)`` is the time (seconds into the wait) of the
    poll after one made at ``now`` (``now == 0`` before the first, for a wait that
    starts with a pause)."""

    def next_at(self, now: float) -> float: ...


class PolicySchedule:
    """A :class:`PollPolicy`'s schedule: the n-th pause is ``policy.delay(n)``."""

    def __init__(self, policy: PollPolicy, rng: random.Random | None) -> None:
        self.policy = policy
        self.rng = rng
        self.n = 0

    def next_at(self, now: float) -> float:
        delay = self.policy.delay(self.n, self.rng)
        self.n += 1
        return now + delay


#: A prediction at least this long gets one early poll at half of it, so a
#: backup that fails (or ends) early is noticed within half its expected time.
PROBE_FROM = 60.0
_HAIR = 0.01


class PredictedSchedule:
    """Polls around a predicted completion (see :mod:`.history`).

    In the work's own time (``running_for`` seconds had passed when the wait
    began): the first poll comes once the range's earliest completion is one
    ``spacing`` old (or just after ``hi``, when the range is narrower), then
    every ``spacing`` (at most ``max_interval``) to the end of the range, then
    at pauses that double with the distance beyond it (never longer than
    ``max_interval``). A prediction
    of a minute or more gets one probe at half its ``lo`` first. With a steady
    history that is one poll, a fraction of a second after completion.
    """

    def __init__(self, prediction: Prediction, running_for: float, policy: PollPolicy) -> None:
        self.prediction = prediction
        self.running_for = max(0.0, running_for)
        self.policy = policy

    @property
    def margin(self) -> float:
        return min(0.25, self.prediction.tolerance / 8)

    def next_at(self, now: float) -> float:
        p, at = self.prediction, now + self.running_for
        # Never a longer pause than the fixed schedule's longest: a noisy
        # history costs polls, not lateness.
        spacing = min(p.spacing, self.policy.max_interval)
        first = p.lo + min(spacing, p.hi - p.lo + self.margin)
        # A poll a hair before its time (clocks are not exact) counts as on time:
        # else a wait could pause for a hair, again and again.
        if at < first - _HAIR:
            target = first
            if p.lo >= PROBE_FROM and at < p.lo / 2 - _HAIR:
                target = p.lo / 2
        elif at < p.hi:
            target = at + spacing
        else:
            target = at + min(max(spacing, at - p.hi), self.policy.max_interval)
        return now + max(target - at, 0.0)


def poll_until(
    check: Callable[[float], tuple[bool, T]],
    *,
    timeout: float,
    policy: PollPolicy | None = None,
    sleep: Callable[[float], None],
    clock: Callable[[], float],
    rng: random.Random | None = None,
    on_timeout: Callable[[T, float], BaseException],
    first_check_after_delay: bool = False,
    cancel: threading.Event | None = None,
    on_cancel: Callable[[T | None, float], BaseException] | None = None,
    schedule: Schedule | None = None,
) -> T:
    """Call ``check(elapsed)`` until it reports done; pause by ``schedule`` between calls.

    ``schedule`` says when each next check comes (by default ``policy``'s
    :class:`PolicySchedule`, drawing jitter from ``rng``).
    ``check`` returns ``(done, value)`` or raises to stop the wait (a failure).
    When ``timeout`` seconds have passed after a not-done check, the exception
    from ``on_timeout(last_value, elapsed)`` is raised. The last pause is
    shortened so the final check happens at the deadline.

    With ``first_check_after_delay`` the first check comes after the
    schedule's first pause rather than at once: work that was just started
    (a backup whose POST has only now been answered) is not finished yet, so
    a check at once would cost a request and tell nothing.

    Once ``cancel`` is set the wait raises ``on_cancel(last_value, elapsed)``
    (the last value is None before the first check) instead of checking again;
    a real sleep (``time.sleep``) ends the moment it is set, so a
    cancelled wait stops within a request's time, not an interval's.
    """
    if schedule is None:
        if policy is None:
            raise ValueError("poll_until needs a policy or a schedule")
        schedule = PolicySchedule(policy, rng)
    start = clock()
    last: T | None = None

    if cancel is not None and on_cancel is None:
        raise ValueError("a cancellable wait needs on_cancel")

    def pause(seconds: float) -> None:
        if cancel is not None and sleep is time.sleep:
            cancel.wait(seconds)
        else:
            sleep(seconds)
        if cancel is not None and on_cancel is not None and cancel.is_set():
            raise on_cancel(last, clock() - start)

    if cancel is not None and on_cancel is not None and cancel.is_set():
        raise on_cancel(None, 0.0)
    if first_check_after_delay:
        pause(min(max(schedule.next_at(0.0), 0.0), max(timeout, 0.0)))
    while True:
        elapsed = clock() - start
        done, value = check(elapsed)
        if done:
            return value
        last = value
        elapsed = clock() - start
        remaining = timeout - elapsed
        if remaining <= 0:
            raise on_timeout(value, elapsed)
        pause(min(max(schedule.next_at(elapsed) - elapsed, 0.0), remaining))
