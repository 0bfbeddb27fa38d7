"""How long a server's backups (and restores) took, to poll when they will finish.

The documented API gives a backup's ``created_at`` (whole seconds) and its
status, never when it finished; so the client learns durations by watching.
Every wait that sees a backup complete notes a :class:`Span`: the backup was
still running ``lo`` seconds after it started (the last poll that saw it so;
None when no poll did) and done ``hi`` seconds after (the poll that saw it).
The next wait on that server predicts from the last spans (:meth:`predict`)
and polls around the prediction (:class:`~.polling.PredictedSchedule`).

History only decides *when* a wait polls, never what any request does, so a
wrong or stale history costs polls or seconds, nothing else. It is keyed by
the API's origin (hashed: no URL is written) and the server id, and holds no
token, description or name. :meth:`History.shared` keeps it for the process
and in one small JSON file per user (``VPSBACKUP_HISTORY_FILE`` names it;
``off`` turns history off: every wait then keeps to the fixed schedule), so
that the next ``pulumi up`` on the machine knows what this one learned; writes
replace the file atomically, and two processes writing at once lose at most
one run's spans.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

__all__ = ["BoundHistory", "History", "Prediction", "Span"]

logger = logging.getLogger("pulumi_vpsbackup.client")

Kind = Literal["backup", "restore"]

#: Spans kept per server and kind: enough to see a trend, few enough to follow a change.
KEPT = 10
#: The environment variable naming the history file (``off``: memory only).
HISTORY_ENV = "VPSBACKUP_HISTORY_FILE"
_VERSION = 1


@dataclass(frozen=True)
class Span:
    """One completion seen: running at ``lo`` (None: no poll saw it running),
    done at ``hi``, in seconds after it started."""

    lo: float | None
    hi: float

    def __post_init__(self) -> None:
        if not self.hi >= 0 or (self.lo is not None and not 0 <= self.lo <= self.hi):
            raise ValueError(f"not a span: lo={self.lo!r}, hi={self.hi!r}")


@dataclass(frozen=True)
class Prediction:
    """Completion expected between ``lo`` and ``hi`` seconds after the start."""

    lo: float
    hi: float

    @property
    def tolerance(self) -> float:
        """How late a completion may be noticed: max(2 s, 3 % of the duration)."""
        return _tolerance(self.lo)

    @property
    def spacing(self) -> float:
        """The pause between polls inside ``[lo, hi]``: the tolerance, or a third
        of the range when history is noisy (so that it costs at most ~3 polls)."""
        return max(self.tolerance, (self.hi - self.lo) / 3)


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = q * (len(ordered) - 1)
    below = int(index)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (index - below)


def _tolerance(seconds: float) -> float:
    return max(2.0, 0.03 * seconds)


def predict(spans: Iterable[Span]) -> Prediction | None:
    """The range the next completion is expected in, from earlier spans; None without any.

    Spans much wider than the tolerance (seen by the fixed schedule) are set
    aside once narrower ones exist. When what is left agrees (its upper
    bounds within two tolerances of each other: durations hold steady), the
    next completion is expected in the spans' intersection (the latest
    ``lo``, the earliest ``hi``; a ``lo`` no poll saw counts as one tolerance
    below), which every wait polled inside narrows further. Otherwise
    (durations vary) the range runs from the lower quartile of the ``lo`` to
    the upper quartile of the ``hi``.
    """
    spans = list(spans)
    if not spans:
        return None
    t = _tolerance(_quantile([s.hi for s in spans], 0.5))
    narrow = [s for s in spans if s.lo is None or s.hi - s.lo <= 3 * t]
    spans = narrow or spans
    his = [s.hi for s in spans]
    los = [s.lo for s in spans if s.lo is not None]
    if max(his) - min(his) <= 2 * t and (not los or max(los) <= min(his)):
        hi = min(his)
        return Prediction(max(los) if los else max(0.0, hi - _tolerance(hi)), hi)
    hi = _quantile(his, 0.75)
    if los:
        return Prediction(min(_quantile(los, 0.25), hi), hi)
    return Prediction(max(0.0, hi - _tolerance(hi)), hi)


def origin_key(base_url: str) -> str:
    """The API's origin, hashed: history files name no URL."""
    parts = urlsplit(base_url)
    origin = f"{parts.scheme}://{parts.netloc}".lower()
    return hashlib.sha256(origin.encode()).hexdigest()[:16]


def default_path() -> Path | None:
    """Where :meth:`History.shared` keeps its file; None when ``VPSBACKUP_HISTORY_FILE=off``."""
    named = os.environ.get(HISTORY_ENV, "").strip()
    if named.lower() == "off":
        return None
    if named:
        return Path(named).expanduser()
    cache = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(cache) / "pulumi-vpsbackup" / "wait-history.json"


class History:
    """Spans by (origin, server, kind), in memory and optionally in a file."""

    _shared: History | None = None
    _shared_lock = threading.Lock()

    def __init__(self, path: Path | None = None, *, wall_clock: Callable[[], float] = time.time):
        self.path = path
        self._wall_clock = wall_clock
        self._lock = threading.Lock()
        self._spans: dict[str, list[tuple[float | None, float, float]]] = {}
        self._loaded = path is None

    @classmethod
    def shared(cls) -> History | None:
        """The process's history, kept in :func:`default_path`; None when it is turned off."""
        with cls._shared_lock:
            path = default_path()
            if path is None:
                return None
            if cls._shared is None or cls._shared.path != path:
                cls._shared = cls(path)
            return cls._shared

    def bind(self, base_url: str) -> BoundHistory:
        return BoundHistory(self, origin_key(base_url))

    @staticmethod
    def _key(origin: str, server_id: int, kind: Kind) -> str:
        return f"{origin}/{int(server_id)}/{kind}"

    def spans(self, origin: str, server_id: int, kind: Kind) -> list[Span]:
        with self._lock:
            self._load()
            rows = self._spans.get(self._key(origin, server_id, kind), [])
            return [Span(lo, hi) for lo, hi, _ in rows]

    def note(self, origin: str, server_id: int, kind: Kind, span: Span) -> None:
        with self._lock:
            self._load()
            row = (span.lo, span.hi, self._wall_clock())
            key = self._key(origin, server_id, kind)
            self._spans[key] = [*self._spans.get(key, []), row][-KEPT:]
            self._save(key)

    def clear(self) -> None:
        """Forget everything (memory only; the file is left as it is)."""
        with self._lock:
            self._spans.clear()
            self._loaded = True

    # -- the file --------------------------------------------------------------

    def _read_file(self) -> dict[str, list[tuple[float | None, float, float]]]:
        assert self.path is not None
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            logger.debug("ignoring unreadable wait history %s: %s", self.path, exc)
            return {}
        out: dict[str, list[tuple[float | None, float, float]]] = {}
        if not isinstance(data, dict) or data.get("version") != _VERSION:
            return out
        for key, rows in (data.get("spans") or {}).items():
            kept = []
            for row in rows if isinstance(rows, list) else []:
                try:
                    lo, hi, when = row
                    span = Span(None if lo is None else float(lo), float(hi))
                    kept.append((span.lo, span.hi, float(when)))
                except (TypeError, ValueError):
                    continue
            if kept:
                out[str(key)] = kept[-KEPT:]
        return out

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True
        self._spans = self._read_file()

    def _save(self, key: str) -> None:
        """Write ``key``'s spans into the file, keeping what other processes wrote."""
        if self.path is None:
            return
        try:
            merged = self._read_file()
            ours = self._spans[key]
            theirs = [row for row in merged.get(key, []) if row not in ours]
            merged[key] = sorted(theirs + ours, key=lambda row: row[2])[-KEPT:]
            self._spans.update(merged)
            self.path.parent.mkdir(parents=True, exist_ok=True)
            body = json.dumps({"version": _VERSION, "spans": merged}, separators=(",", ":"))
            fd, temp = tempfile.mkstemp(prefix=".wait-history-", dir=self.path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as handle:
                    handle.write(body)
                os.replace(temp, self.path)
            except BaseException:
                Path(temp).unlink(missing_ok=True)
                raise
        except OSError as exc:  # history is advice: a read-only home must not fail a wait
            logger.debug("could not write wait history %s: %s", self.path, exc)


@dataclass(frozen=True)
class BoundHistory:
    """A :class:`History` for one API origin: what a client's waits read and note."""

    history: History
    origin: str

    def predict(self, server_id: int | None, kind: Kind) -> Prediction | None:
        if server_id is None:
            return None
        return predict(self.history.spans(self.origin, server_id, kind))

    def note(self, server_id: int | None, kind: Kind, span: Span) -> None:
        if server_id is not None:
            self.history.note(self.origin, server_id, kind, span)
