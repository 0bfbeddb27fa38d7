"""How a `BackupFleet` works on many backups at once.

- `each`: one piece of work per server (start, poll, delete), a few requests
  at a time, with results and errors by server.
- `wait_all`: waits for all the fleet's running backups together on the
  client's one polling loop (`poll_until`, on the client's schedule and its
  injectable sleep, clock and jitter source): one listing per waiting server
  per poll, however many backups there are.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from ...client import (
    ApiError,
    BackupRecord,
    TransportError,
    VpsBackupError,
    VpsClient,
    WaitCancelledError,
    WaitTimeoutError,
)
from ...client.polling import poll_until
from ..core.base import progress

__all__ = ["CONCURRENCY", "each", "wait_all"]

#: Requests a fleet sends at once (starts, polls, deletes): enough to overlap
#: latency, few enough not to look like a burst to the API's rate limit.
CONCURRENCY = 8
#: How often a long wait says how far it got, in seconds.
REPORT_EVERY = 30.0

T = TypeVar("T")
R = TypeVar("R")

#: Backups that did not complete, by server: the last answer and why, in words.
Failed = dict[int, tuple[BackupRecord, str]]


def each(
    work: Callable[[T], R], items: Iterable[T]
) -> tuple[dict[Any, R], dict[Any, VpsBackupError]]:
    """`work(item)` for every item, a few at a time: results and errors, by item.

    An item that is a (key, value) pair is reported under its key.
    """
    todo = list(items)
    results: dict[Any, R] = {}
    errors: dict[Any, VpsBackupError] = {}
    if not todo:
        return results, errors

    def run(item: T) -> None:
        key = item[0] if isinstance(item, tuple) else item
        try:
            results[key] = work(item)
        except VpsBackupError as exc:  # anything else is a bug: it propagates
            errors[key] = exc

    if len(todo) == 1:
        run(todo[0])
    else:
        with ThreadPoolExecutor(min(CONCURRENCY, len(todo))) as pool:
            list(pool.map(run, todo))
    return results, errors


def wait_all(
    client: VpsClient, running: dict[int, BackupRecord], timeout: float, name: str
) -> tuple[dict[int, BackupRecord], Failed]:
    """Poll every running backup in one loop: one listing per server per poll.

    Returns the completed backups and the others (with why) by server. The
    first poll comes after the first interval: a backup just started is not
    finished. A backup missing from a listing is called vanished only when
    the next listing of its server agrees. A cancelled wait (the client's
    `timing.cancel`) raises `WaitCancelledError` at its next poll or sleep.
    """
    done: dict[int, BackupRecord] = {}
    failed: Failed = {}
    waiting = {s: b for s, b in running.items() if b.is_in_progress}
    for server_id, backup in running.items():
        if server_id not in waiting:
            _settle(server_id, backup, done, failed)
    if not waiting:
        return done, failed
    timing = client.timing
    start = last_report = timing.clock()
    missing: set[int] = set()

    def poll(server_id: int) -> BackupRecord | None:
        # Manual backups only: the API filters, so the server's automatic
        # backups never add pages (a server holds at most 10 manual ones).
        backup_id = waiting[server_id].id
        listing = client.list_backups(server_id=server_id, backup_type="manual")
        return next((b for b in listing if b.id == backup_id), None)

    def check(_elapsed: float) -> tuple[bool, None]:
        nonlocal last_report
        seen, errors = each(poll, list(waiting))
        for exc in errors.values():
            if not isinstance(exc, (TransportError, ApiError)):
                raise exc
            # A poll that failed is tried again at the next interval.
        for server_id, current in seen.items():
            if current is None:
                if server_id in missing:
                    failed[server_id] = (waiting.pop(server_id), "vanished while it was being made")
                else:
                    missing.add(server_id)
                continue
            missing.discard(server_id)
            if current.is_in_progress:
                waiting[server_id] = current
            else:
                del waiting[server_id]
                _settle(server_id, current, done, failed)
        now = timing.clock()
        if waiting and now - last_report >= REPORT_EVERY:
            last_report = now
            progress(
                f"fleet {name}: {len(done)} completed, {len(failed)} failed, "
                f"{len(waiting)} running after {now - start:.0f}s (timeout {timeout:g}s)"
            )
        return not waiting, None

    def cancelled(_value: None, waited: float) -> BaseException:
        first = next(iter(waiting.values()))
        return WaitCancelledError("backup", first.id, first.status, waited)

    def out_of_time(_value: None, waited: float) -> BaseException:
        for server_id, backup in waiting.items():
            failed[server_id] = (backup, f"was still {backup.status} after {timeout:g}s")
        first = next(iter(waiting.values()))  # the last check found some still waiting
        return WaitTimeoutError("backup", first.id, first.status, waited)

    try:
        poll_until(
            check,
            timeout=timeout,
            policy=client.settings.poll,
            sleep=timing.sleep,
            clock=timing.clock,
            rng=timing.rng,
            on_timeout=out_of_time,
            first_check_after_delay=True,
            cancel=timing.cancel,
            on_cancel=cancelled,
        )
    except WaitTimeoutError:
        pass  # the backups still waiting are among the failed ones, with why
    return done, failed


def _settle(
    server_id: int, backup: BackupRecord, done: dict[int, BackupRecord], failed: Failed
) -> None:
    """A backup that is no longer running: completed, or failed with its status."""
    if backup.is_completed:
        done[server_id] = backup
    else:
        failed[server_id] = (backup, f"ended {backup.status}")
