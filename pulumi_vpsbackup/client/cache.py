"""A short-lived, single-flight cache of backup listings, shared by threads.

The Pulumi provider host runs many calls at once; a refresh of many
backups would otherwise list the same server's backups once per backup. Here a
caller states how old an answer it accepts (``not_before``, a clock reading): it
gets a stored listing fetched no earlier than that, or joins a fetch in flight
that started no earlier than that, or becomes the one that fetches.

Writes (create, delete) invalidate: stored listings are dropped or pruned, and
fetches in flight at that moment are neither stored nor joined by later callers.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

__all__ = ["ListingCache"]

T = TypeVar("T")


@dataclass
class _Flight(Generic[T]):
    started: float
    generation: int
    done: threading.Event = field(default_factory=threading.Event)
    result: T | None = None
    error: BaseException | None = None


@dataclass
class _Entry(Generic[T]):
    fetched_at: float
    value: T


class ListingCache(Generic[T]):
    """Maps a key (a server id, or None for the whole account) to a recent listing."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, _Entry[T]] = {}
        self._flights: dict[Hashable, _Flight[T]] = {}
        self._generation = 0
        self.fetches = 0  # how many times fetch() ran; tests and benchmarks read it

    def get(self, key: Hashable, not_before: float, fetch: Callable[[], T]) -> tuple[T, float]:
        """Return ``(listing, fetched_at)`` no older than ``not_before``."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.fetched_at >= not_before:
                return entry.value, entry.fetched_at
            flight = self._flights.get(key)
            leader = flight is None or flight.started < not_before
            if leader:
                flight = _Flight(started=self._clock(), generation=self._generation)
                self._flights[key] = flight
        assert flight is not None
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            assert flight.result is not None
            return flight.result, flight.started
        try:
            self.fetches += 1
            value = fetch()
        except BaseException as exc:
            flight.error = exc
            raise
        else:
            flight.result = value
            return value, flight.started
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
                if flight.error is None and flight.generation == self._generation:
                    current = self._entries.get(key)
                    if current is None or current.fetched_at <= flight.started:
                        self._entries[key] = _Entry(flight.started, flight.result)  # type: ignore[arg-type]
            flight.done.set()

    def peek(self, key: Hashable, not_before: float) -> T | None:
        """The stored listing of ``key`` fetched no earlier than ``not_before``; never fetches."""
        with self._lock:
            entry = self._entries.get(key)
            return entry.value if entry is not None and entry.fetched_at >= not_before else None

    def invalidate(self, *keys: Hashable) -> None:
        """Forget the listings of ``keys`` (all keys when none are given)."""
        with self._lock:
            self._generation += 1
            if not keys:
                self._entries.clear()
                self._flights.clear()
                return
            for key in keys:
                self._entries.pop(key, None)
                self._flights.pop(key, None)

    def update_entries(self, change: Callable[[T], T]) -> None:
        """Apply ``change`` to every stored listing; fetches in flight are not stored."""
        with self._lock:
            self._generation += 1
            self._flights.clear()
            for entry in self._entries.values():
                entry.value = change(entry.value)
