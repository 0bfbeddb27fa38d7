"""Waiting for long work: backups to finish, a server to come back from a restore.

One engine waits for backups, one or many (`Waiter.many`): each poll reads one
listing per server that still has a backup running, or one listing of the
whole account when that is cheaper (the judgement of :mod:`.spread`), and a
backup is called gone only when two listings in a row miss it (paging is no
snapshot: one listing's absence proves nothing). A single backup's wait
(`Waiter.backup`, behind :meth:`VpsClient.wait_for_backup`), the queries'
``wait_for_backups`` and a fleet's wait are all this engine. The restore wait
reads the server instead.

Both run one loop (:func:`.polling.poll_until`, with an injected sleep and
clock, so tests run them instantly), using the status words of :mod:`.status`.
When the server's history (:mod:`.history`) predicts how long the work takes,
it is polled around that prediction (:class:`.polling.PredictedSchedule`),
each backup on its own schedule and each poll reading only the servers whose
backups are due; otherwise on the :class:`PollPolicy`'s schedule. Every
completion seen is noted in the history for the next wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, TypeVar

from .errors import (
    ApiError,
    BackupFailedError,
    BackupVanishedError,
    NotFoundError,
    RestoreFailedError,
    TransportError,
    VpsBackupError,
    WaitCancelledError,
    WaitError,
    WaitTimeoutError,
)
from .fanout import each
from .history import BoundHistory, Span
from .listing import MAX_PAGES
from .models import BackupRecord, Server
from .polling import PolicySchedule, PollPolicy, PredictedSchedule, Schedule, Timing, poll_until
from .spread import account_listing_cheaper, worth_asking
from .status import TRANSITIONAL_SERVER_STATUSES

__all__ = ["Failure", "Scope", "WaitApi", "Waited", "Waiter"]

logger = logging.getLogger("pulumi_vpsbackup.client")

T = TypeVar("T")

#: Where a wait for many backups lists them: ``"server"``, one listing per server
#: still running one; ``"account"``, one listing of the account; ``"auto"``, the cheaper.
Scope = Literal["auto", "server", "account"]


class WaitApi(Protocol):
    """The reads a wait polls; :class:`VpsClient` is one."""

    def list_backups(
        self,
        *,
        server_id: int | None = None,
        backup_type: str | None = None,
        max_age: float = 0.0,
    ) -> list[BackupRecord]: ...

    def listing_pages(self, *, backup_type: str | None = None) -> int: ...

    def get_server(self, server_id: int) -> Server: ...


#: How close to its due time a schedule counts as due (sleeps are not exact).
_DUE_SLACK = 0.05


@dataclass
class _Group:
    """Backups polled together: one schedule, and when it is next due."""

    schedule: Schedule
    due: float = 0.0


def _notify(callback: Callable[[Any, float], None] | None, value: Any, elapsed: float) -> None:
    if callback is None:
        return
    try:
        callback(value, elapsed)
    except Exception:  # a progress reporter must not break the wait
        logger.warning("progress callback failed", exc_info=True)


@dataclass(frozen=True)
class Failure:
    """A backup that did not complete: its last record (None if no listing ever
    showed it), why in a few words, and the error that says it in full."""

    last: BackupRecord | None
    reason: str
    error: WaitError


@dataclass
class Waited:
    """Where a wait for many backups stands, by backup id: handed to ``on_poll``
    after every poll, and returned at the end (with nothing left ``running``)."""

    completed: dict[int, BackupRecord] = field(default_factory=dict)
    failed: dict[int, Failure] = field(default_factory=dict)
    #: The backups still running, as last seen (None: not seen yet).
    running: dict[int, BackupRecord | None] = field(default_factory=dict)

    def latest(self, backup_id: int) -> BackupRecord | None:
        """The backup as last seen, whatever became of it."""
        if backup_id in self.completed:
            return self.completed[backup_id]
        if backup_id in self.failed:
            return self.failed[backup_id].last
        return self.running.get(backup_id)


@dataclass
class _Awaited:
    """One backup waited for: where to look for it, and what listings said."""

    id: int
    server_id: int | None
    backup_type: str | None
    last: BackupRecord | None = None
    missed: bool = False
    group: _Group | None = None
    #: How long it had been running when the wait began (None: unknown).
    running_for: float | None = None
    #: The latest time (since it started) a poll saw it running.
    seen_running: float | None = None

    def note(self, found: BackupRecord | None) -> bool:
        """One listing's answer about this backup; True when it is gone.

        Gone means two listings in a row missed it: a page-by-page listing is
        no snapshot, so one listing's absence proves nothing on its own.
        """
        if found is None:
            gone, self.missed = self.missed, True
            return gone
        self.last, self.missed = found, False
        self.server_id, self.backup_type = found.server_id, found.backup_type
        return False


def _kind(awaited: Iterable[_Awaited]) -> str | None:
    """The one backup type all of them have, to filter a listing by; else None."""
    kinds = {a.backup_type for a in awaited}
    return kinds.pop() if len(kinds) == 1 else None


class _ManyWait:
    """One wait for many backups (see `Waiter.many`)."""

    def __init__(
        self,
        waiter: Waiter,
        awaited: list[_Awaited],
        scope: Scope,
        fail_fast: bool,
        timeout: float,
    ) -> None:
        self.waiter = waiter
        self.api = waiter.api
        self.awaited = {a.id: a for a in awaited}
        self.scope = scope
        self.fail_fast = fail_fast
        self.timeout = timeout
        self.state = Waited()
        self.pages: int | None = None
        self.listed_account = False
        self.deadline = timeout

    # -- when to poll what -----------------------------------------------------

    def groups(self) -> list[_Group]:
        seen: dict[int, _Group] = {}
        for a in self.running():
            assert a.group is not None
            seen.setdefault(id(a.group), a.group)
        return list(seen.values())

    def next_at(self, now: float) -> float:
        """The wait's schedule: advance the groups polled at ``now``; the earliest due."""
        groups = self.groups()
        for group in groups:
            if group.due <= now + _DUE_SLACK:
                group.due = group.schedule.next_at(now)
        return min((g.due for g in groups), default=now)

    def due(self, elapsed: float) -> list[_Awaited]:
        """The running backups a poll at ``elapsed`` reads: those due (all at the deadline)."""
        running = self.running()
        if elapsed >= self.deadline - _DUE_SLACK:
            return running
        return [a for a in running if a.group is None or a.group.due <= elapsed + _DUE_SLACK]

    # -- what one poll reads ---------------------------------------------------

    def running(self) -> list[_Awaited]:
        return [a for a in self.awaited.values() if a.id in self.state.running]

    def account_wide(self, running: list[_Awaited]) -> bool:
        """Whether this poll reads one listing of the account rather than one per server.

        A backup whose server is unknown can only be found in the account's.
        Otherwise one server's listing is never dearer than the account's; for
        several, the account's is read when its page count (asked once per
        wait, and only for as many servers as :mod:`.spread` finds worth it)
        is no more than the number of servers. A wait that has been reading
        the account's listing (it started without servers) keeps to it unless
        one server is left: asking its size would only add a request.
        """
        if self.scope == "account" or any(a.server_id is None for a in running):
            return True
        servers = len({a.server_id for a in running})
        if self.scope == "server" or servers == 1:
            return False
        if self.pages is None:
            if self.listed_account:
                return True
            if not worth_asking(servers):
                return False
            self.pages = self.account_pages(_kind(running))
        return account_listing_cheaper(servers, self.pages)

    def account_pages(self, backup_type: str | None) -> int:
        try:
            return self.api.listing_pages(backup_type=backup_type)
        except VpsBackupError:  # unknown size: keep to the servers, never fail the wait
            return MAX_PAGES

    def read(self, running: list[_Awaited]) -> list[tuple[list[_Awaited], list[BackupRecord]]]:
        """The listings of this poll, each with the backups it answers for.

        A listing that fails is left out when the wait reports rather than
        raises (tried again at the next poll); a server that is gone (404)
        is looked for in the account's listing at once.
        """
        if self.account_wide(running):
            return self.read_account(running)
        by_server: dict[int, list[_Awaited]] = {}
        for a in running:
            assert a.server_id is not None
            by_server.setdefault(a.server_id, []).append(a)

        def list_server(server_id: int) -> list[BackupRecord]:
            kind = _kind(by_server[server_id])
            return self.api.list_backups(server_id=server_id, backup_type=kind)

        listings, errors = each(list_server, sorted(by_server))
        answered = [(by_server[s], listing) for s, listing in listings.items()]
        homeless: list[_Awaited] = []
        for server_id, exc in sorted(errors.items()):
            if isinstance(exc, NotFoundError):
                # The server is gone; its backups may not be: ask the account listing.
                for a in by_server[server_id]:
                    a.server_id = None
                homeless += by_server[server_id]
            else:
                self.failed_read(exc)
        if homeless:
            answered += self.read_account(homeless)
        return answered

    def read_account(
        self, running: list[_Awaited]
    ) -> list[tuple[list[_Awaited], list[BackupRecord]]]:
        self.listed_account = True
        try:
            return [(running, self.api.list_backups(backup_type=_kind(running)))]
        except VpsBackupError as exc:
            self.failed_read(exc)
            return []

    def failed_read(self, exc: VpsBackupError) -> None:
        """A poll's listing failed: a wait that raises raises it; one that reports
        tries again at the next poll (only the API's and the network's errors)."""
        if self.fail_fast or not isinstance(exc, (TransportError, ApiError)):
            raise exc

    # -- what it means ---------------------------------------------------------

    def settle(self, a: _Awaited, backup: BackupRecord, elapsed: float) -> None:
        """A backup that is no longer running: completed, or failed with its status."""
        self.state.running.pop(a.id, None)
        if backup.is_completed:
            self.state.completed[a.id] = backup
            return
        detail = self.waiter.redact(backup.message or "")
        error = BackupFailedError("backup", a.id, backup.status, elapsed, detail)
        self.state.failed[a.id] = Failure(backup, f"ended {backup.status}", error)

    def poll(self, elapsed: float) -> Waited:
        """One poll: read the listings of what is due, and note what they say of each backup."""
        for answered, listing in self.read(self.due(elapsed)):
            found = {b.id: b for b in listing}
            for a in answered:
                current = found.get(a.id)
                self.learn(a, current, elapsed)
                if a.note(current):
                    del self.state.running[a.id]
                    status = a.last.status if a.last is not None else None
                    error = BackupVanishedError("backup", a.id, status, elapsed)
                    self.state.failed[a.id] = Failure(
                        a.last, "vanished while it was being made", error
                    )
                elif current is not None and not current.is_in_progress:
                    self.settle(a, current, elapsed)
                elif current is not None:
                    self.state.running[a.id] = current
        return self.state

    def learn(self, a: _Awaited, current: BackupRecord | None, elapsed: float) -> None:
        """Note in the history when this poll saw the backup running, or done."""
        if current is None or a.running_for is None:
            return
        since_start = a.running_for + elapsed
        if current.is_in_progress:
            a.seen_running = since_start
        elif current.is_completed and self.waiter.history is not None:
            lo = a.seen_running
            if lo is not None and lo > since_start:
                lo = None
            self.waiter.history.note(current.server_id, "backup", Span(lo, since_start))

    def judge(self, state: Waited, _elapsed: float) -> bool:
        """Done when nothing runs; a wait that raises raises its first failure."""
        self.raise_first_failure()
        return not state.running

    def raise_first_failure(self) -> None:
        if self.fail_fast and self.state.failed:
            first = next(i for i in self.awaited if i in self.state.failed)
            raise self.state.failed[first].error

    def cancelled(self, _state: Waited | None, waited: float) -> BaseException:
        """The engine cancelled the wait: raised whatever ``fail_fast`` says, naming
        the first backup still running (the caller hands its backups over)."""
        first = (self.running() or list(self.awaited.values()))[0]
        status = first.last.status if first.last is not None else None
        return WaitCancelledError("backup", first.id, status, waited)

    def out_of_time(self, _state: Waited, waited: float) -> BaseException:
        """The deadline: every backup still running fails as timed out; the
        first of them (in the order given) is the error to raise."""
        late = self.running()  # not empty: the last poll found some running
        for a in late:
            status = a.last.status if a.last is not None else None
            error = WaitTimeoutError("backup", a.id, status, waited)
            why = f"was still {status or 'unknown'} after {self.timeout:g}s"
            self.state.failed[a.id] = Failure(a.last, why, error)
        self.state.running.clear()
        return self.state.failed[late[0].id].error


@dataclass(frozen=True)
class Waiter:
    """The API to poll, the polling schedule and the seams shared by both waits."""

    api: WaitApi
    policy: PollPolicy
    timing: Timing
    redact: Callable[[str], str]
    #: Where waits learn how long work takes, and note what they saw (None: never predict).
    history: BoundHistory | None = None

    def _started(self, kind: str, key: int) -> float | None:
        """When this process saw ``kind`` ``key`` start (its POST answered), by the wall clock."""
        started_at = getattr(self.api, "started_at", None)
        return started_at(kind, key) if started_at is not None else None

    def _running_for(self, a: _Awaited, wall_now: float) -> float | None:
        started = self._started("backup", a.id)
        if started is None and a.last is not None and a.last.created_at is not None:
            # created_at is whole seconds: the middle of that second.
            started = a.last.created_at.timestamp() + 0.5
        return None if started is None else max(0.0, wall_now - started)

    def _group_for(self, a: _Awaited, shared: _Group) -> _Group:
        if self.history is None or not self.policy.predictive or a.running_for is None:
            return shared
        prediction = self.history.predict(a.server_id, "backup")
        if prediction is None:
            return shared
        return _Group(PredictedSchedule(prediction, a.running_for, self.policy))

    def _wait(
        self,
        poll: Callable[[float], T],
        judge: Callable[[T, float], bool],
        *,
        timeout: float,
        on_progress: Callable[[T, float], None] | None,
        timed_out: Callable[[T, float], BaseException],
        cancelled: Callable[[T | None, float], BaseException],
        first_check_after_delay: bool = False,
        schedule: Schedule | None = None,
    ) -> T:
        """Poll until ``judge(value, elapsed)`` says done (either may raise a failure),
        or the timing's `cancel` is set (``cancelled(last value, elapsed)`` is raised)."""

        def check(elapsed: float) -> tuple[bool, T]:
            value = poll(elapsed)
            _notify(on_progress, value, elapsed)
            return judge(value, elapsed), value

        return poll_until(
            check,
            timeout=timeout,
            policy=self.policy,
            sleep=self.timing.sleep,
            clock=self.timing.clock,
            rng=self.timing.rng,
            on_timeout=timed_out,
            first_check_after_delay=first_check_after_delay,
            cancel=self.timing.cancel,
            on_cancel=cancelled,
            schedule=schedule,
        )

    def many(
        self,
        backups: Iterable[BackupRecord | int],
        *,
        timeout: float,
        scope: Scope = "auto",
        fail_fast: bool = False,
        on_poll: Callable[[Waited, float], None] | None = None,
        servers: Mapping[int, int] | None = None,
    ) -> Waited:
        """Wait for every backup in ``backups`` in one loop; see the module docstring.

        A backup is given as its id, or as the record last seen of it (its
        server and type are then known, and a record that is no longer running
        is judged at once); ``servers`` maps ids to servers known without a
        record. When every backup is given as a record (just seen running,
        say by its create), the first poll comes after one interval.
        ``on_poll(state, seconds_waited)`` is called after every poll.

        Returns what became of each: completed, or failed with why (ended in
        another status; vanished, when two listings in a row missed it; still
        running at the deadline). With ``fail_fast`` the first failure (in the
        order given) is raised instead, as soon as a poll finds it:
        :class:`BackupFailedError`, :class:`BackupVanishedError` or
        :class:`WaitTimeoutError`, and so is a listing that fails; without it,
        a listing that fails with the API's or the network's error is read
        again at the next poll.
        """
        hints = servers or {}
        awaited: list[_Awaited] = []
        for item in backups:
            if isinstance(item, BackupRecord):
                awaited.append(_Awaited(item.id, item.server_id, item.backup_type, item))
            else:
                awaited.append(_Awaited(int(item), hints.get(int(item)), None))
        wait = _ManyWait(self, awaited, scope, fail_fast, timeout)
        shared = _Group(PolicySchedule(self.policy, self.timing.rng))
        wall_now = self.timing.wall_clock()
        for a in awaited:
            a.running_for = self._running_for(a, wall_now)
            a.group = self._group_for(a, shared)
            if a.last is not None and not a.last.is_in_progress:
                wait.settle(a, a.last, 0.0)
            else:
                wait.state.running[a.id] = a.last
        wait.raise_first_failure()
        if not wait.state.running:
            return wait.state

        try:
            return self._wait(
                wait.poll,
                wait.judge,
                timeout=timeout,
                on_progress=on_poll,
                timed_out=wait.out_of_time,
                cancelled=wait.cancelled,
                first_check_after_delay=all(a.last is not None for a in awaited),
                schedule=wait,
            )
        except WaitTimeoutError:
            if fail_fast:
                raise
            return wait.state  # the backups still running are among the failed ones, with why

    def backup(
        self,
        backup_id: int,
        *,
        server_id: int | None,
        timeout: float,
        on_progress: Callable[[BackupRecord, float], None] | None,
        seen: BackupRecord | None = None,
    ) -> BackupRecord:
        """See :meth:`VpsClient.wait_for_backup`: `many` with one backup, raising.

        Once the backup has been seen, polls list only its server and kind
        (one page, however many automatic backups the server keeps).
        """

        def report(state: Waited, elapsed: float) -> None:
            current = state.latest(backup_id)
            if on_progress is not None and current is not None:
                on_progress(current, elapsed)

        state = self.many(
            [seen if seen is not None else backup_id],
            timeout=timeout,
            fail_fast=True,
            on_poll=report,
            servers={backup_id: server_id} if server_id is not None else None,
        )
        return state.completed[backup_id]

    def restore(
        self,
        server_id: int,
        *,
        timeout: float,
        on_progress: Callable[[Server, float], None] | None,
        backup_id: int | None,
    ) -> Server:
        """See :meth:`VpsClient.wait_for_restore`.

        A restore this process started (its POST answered) is predicted from
        the server's earlier restores, and its duration noted when it ends.
        """
        started = self._started("restore", server_id)
        running_for = None if started is None else max(0.0, self.timing.wall_clock() - started)
        prediction = None
        if self.history is not None and self.policy.predictive and running_for is not None:
            prediction = self.history.predict(server_id, "restore")
        seen_running: list[float] = []

        def judge(server: Server, elapsed: float) -> bool:
            record = server.restore_record
            phase = record.phase if record is not None else "unknown"
            if server.status == "restoring" or phase == "running":
                if running_for is not None:
                    seen_running.append(running_for + elapsed)
                return False
            failed_ours = (
                backup_id is not None
                and record is not None
                and phase == "failed"
                and record.backup_id == backup_id
            )
            if server.status == "active" and not failed_ours:
                if running_for is not None and self.history is not None:
                    done = running_for + elapsed
                    lo = seen_running[-1] if seen_running else None
                    self.history.note(server_id, "restore", Span(lo, done))
                return True
            # VPS.org stops a server before restoring it (documented for the
            # snapshot restore), so a stopped server is only a failure once
            # the restore record says so; otherwise the deadline decides.
            if server.status in TRANSITIONAL_SERVER_STATUSES and phase not in (
                "failed",
                "succeeded",
            ):
                return False
            detail = self.redact(record.describe()) if record is not None else ""
            raise RestoreFailedError("restore", server_id, server.status, elapsed, detail)

        def timed_out(server: Server, waited: float) -> BaseException:
            return WaitTimeoutError("restore of server", server_id, server.status, waited)

        def cancelled(server: Server | None, waited: float) -> BaseException:
            status = server.status if server is not None else None
            return WaitCancelledError("restore of server", server_id, status, waited)

        return self._wait(
            lambda elapsed: self.api.get_server(server_id),
            judge,
            timeout=timeout,
            on_progress=on_progress,
            timed_out=timed_out,
            cancelled=cancelled,
            first_check_after_delay=prediction is not None,
            schedule=(
                PredictedSchedule(prediction, running_for or 0.0, self.policy)
                if prediction is not None
                else None
            ),
        )
