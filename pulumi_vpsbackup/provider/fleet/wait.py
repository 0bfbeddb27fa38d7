"""How a `BackupFleet` works on many backups at once.

- `each`: one piece of work per server (start, poll, delete), a few requests
  at a time, with results and errors by server (the client's `fanout.each`).
- `wait_all`: waits for all the fleet's running backups together on the
  client's one engine for many backups (`Waiter.many`, on the client's
  schedule and its injectable sleep, clock and jitter source): one listing per
  waiting server per poll, or one of the account when that is cheaper; a
  backup is vanished only when two listings in a row miss it.
"""

from __future__ import annotations

from ...client import BackupRecord, VpsClient
from ...client.fanout import each
from ...client.waiting import Waited, Waiter
from ..core.base import progress

__all__ = ["each", "wait_all"]

#: How often a long wait says how far it got, in seconds.
REPORT_EVERY = 30.0

#: Backups that did not complete, by server: the last answer and why, in words.
Failed = dict[int, tuple[BackupRecord, str]]


def wait_all(
    client: VpsClient, running: dict[int, BackupRecord], timeout: float, name: str
) -> tuple[dict[int, BackupRecord], Failed]:
    """Wait for every running backup in one loop; says how far it got every 30 s.

    Returns the completed backups and the others (with why) by server. The
    first poll comes after the first interval: a backup just started is not
    finished. A poll whose listing fails is tried again at the next one; the
    deadline marks the backups still running as failed instead of raising.
    """
    timing = client.timing
    start = last_report = timing.clock()

    def report(state: Waited, _elapsed: float) -> None:
        nonlocal last_report
        now = timing.clock()
        if state.running and now - last_report >= REPORT_EVERY:
            last_report = now
            progress(
                f"fleet {name}: {len(state.completed)} completed, {len(state.failed)} failed, "
                f"{len(state.running)} running after {now - start:.0f}s (timeout {timeout:g}s)"
            )

    waiter = Waiter(client, client.settings.poll, timing, str, getattr(client, "history", None))
    waited = waiter.many(running.values(), timeout=timeout, on_poll=report)
    server_of = {backup.id: server_id for server_id, backup in running.items()}
    done = {server_of[i]: backup for i, backup in waited.completed.items()}
    failed: Failed = {}
    for backup_id, failure in waited.failed.items():
        assert failure.last is not None  # every backup was given as a record
        failed[server_of[backup_id]] = (failure.last, failure.reason)
    return done, failed
