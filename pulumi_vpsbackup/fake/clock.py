"""A controllable clock for the fake.

Real VPS.org work (a backup, a restore) takes minutes. Tests and benchmarks
cannot wait that long, and they must be deterministic, so every timestamp and
every "has this finished yet?" decision in the fake reads this clock instead of
the system time.

Fake time = anchor + scale x (real seconds since the anchor) + manual advances.
``scale=0`` freezes the clock so only :meth:`FakeClock.advance` moves it.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Any

__all__ = ["FakeClock", "format_time", "parse_time"]


def format_time(value: datetime) -> str:
    """Render a UTC timestamp the way the VPS.org documents show them.

    The documents use whole seconds and a ``Z`` suffix; sub-second parts are
    kept only when present so that nothing is silently rounded.
    """
    value = value.astimezone(timezone.utc)
    if value.microsecond:
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(text: str) -> datetime:
    """Parse an ISO-8601 timestamp; a naive one is taken to be UTC."""
    if not isinstance(text, str):
        raise ValueError("timestamp must be an ISO-8601 string")
    value = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


class FakeClock:
    """Thread-safe fake UTC clock.

    ``start`` defaults to the real current time; ``scale`` is how many fake
    seconds pass per real second (1 = real time, 60 = a minute per second,
    0 = frozen).
    """

    def __init__(self, start: datetime | None = None, scale: float = 1.0) -> None:
        if scale < 0:
            raise ValueError("scale must be >= 0")
        self._lock = threading.Lock()
        base = start if start is not None else datetime.now(timezone.utc)
        if base.tzinfo is None:
            base = base.replace(tzinfo=timezone.utc)
        self._anchor_fake = base.astimezone(timezone.utc)
        self._anchor_real = time.monotonic()
        self._scale = float(scale)

    def _now_locked(self) -> datetime:
        elapsed = (time.monotonic() - self._anchor_real) * self._scale
        return self._anchor_fake + timedelta(seconds=elapsed)

    def _reanchor_locked(self, now: datetime) -> None:
        self._anchor_fake = now
        self._anchor_real = time.monotonic()

    def now(self) -> datetime:
        """The current fake time (timezone-aware, UTC)."""
        with self._lock:
            return self._now_locked()

    @property
    def scale(self) -> float:
        with self._lock:
            return self._scale

    def advance(self, seconds: float) -> datetime:
        """Move fake time forward by ``seconds`` (never backwards) and return it."""
        if seconds < 0:
            raise ValueError("the fake clock only moves forward")
        with self._lock:
            now = self._now_locked() + timedelta(seconds=seconds)
            self._reanchor_locked(now)
            return now

    def set(self, now: datetime) -> datetime:
        """Jump to an absolute fake time (backwards allowed: tests may need it)."""
        if now.tzinfo is None:
            now = now.replace(tzinfo=timezone.utc)
        with self._lock:
            self._reanchor_locked(now.astimezone(timezone.utc))
            return self._anchor_fake

    def set_scale(self, scale: float) -> None:
        """Change the speed from now on without making the clock jump."""
        if scale < 0:
            raise ValueError("scale must be >= 0")
        with self._lock:
            self._reanchor_locked(self._now_locked())
            self._scale = float(scale)

    def to_dict(self) -> dict[str, Any]:
        """State for the state file.

        ``wall_time`` records the real time of the snapshot so a restarted
        process can let the same amount of fake time pass as a real server
        would have seen while it was down (nothing, when frozen).
        """
        with self._lock:
            return {
                "now": format_time(self._now_locked()),
                "scale": self._scale,
                "wall_time": time.time(),
            }

    def load_dict(self, data: dict[str, Any]) -> None:
        """Continue from a snapshot written by :meth:`to_dict`."""
        scale = float(data.get("scale", 1.0))
        saved = parse_time(str(data["now"]))
        downtime = max(0.0, time.time() - float(data.get("wall_time", time.time())))
        with self._lock:
            self._scale = scale
            self._reanchor_locked(saved + timedelta(seconds=downtime * scale))
