"""``VpsClient``: the VPS.org Backups API as Python methods."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timezone
from typing import Any, NoReturn

import httpx

from .cache import ListingCache
from .errors import ApiError, NotFoundError, PermissionDeniedError, TransportError, VpsBackupError
from .history import BoundHistory, History
from .listing import MAX_PAGES, Listing, fetch_backups, paginate
from .models import AccountRecord, BackupRecord, RestoreResult, Server
from .polling import Timing
from .reconcile import CreateChannel, accept_lost_restore, create_backup_reconciled
from .responses import ResponseReader
from .settings import ClientSettings, resolve_settings
from .spread import Spread
from .transport import HttpSession
from .waiting import Waiter

__all__ = ["VpsClient"]

logger = logging.getLogger("pulumi_vpsbackup.client")

#: How old a listing a refresh's reads may share (seconds): a refresh of many
#: backups is one burst; an absence is always confirmed with a fresh listing.
REFRESH_LISTING_AGE = 10.0


class VpsClient:
    """A thread-safe client for the VPS.org Backups API.

    Build it from :class:`ClientSettings` (see :func:`resolve_settings`) inside the
    process that uses it: it holds an ``httpx.Client`` and the token, so it
    refuses to be pickled. ``transport``, ``sleep``, ``clock``, ``wall_clock``
    and ``rng`` are seams for tests; ``cancel``, once set, stops the client's waits
    (:class:`WaitCancelledError`): the native plugin's Cancel sets it.

    Retries follow the policy in :mod:`pulumi_vpsbackup.client.transport`: GET
    and DELETE retry transient failures; POST is retried only when the request
    never reached the API. A POST whose outcome is unknown is resolved by the
    method that sent it: :meth:`create_backup` sends the description with a
    random marker (:mod:`~pulumi_vpsbackup.client.marker`), lists the server's
    manual backups after the failure (a 2xx it cannot read counts as one),
    adopts only the backup carrying its marker, lists once more after a short
    wait when none does (a POST can land late), re-posts only then, and raises
    :class:`CreateReconciliationError` when that cannot be established;
    :meth:`restore_server` reads the server and accepts the restore only if the
    server shows it started, never re-posting a restore.

    Page-by-page listing (and its re-read rule) is in
    :mod:`~pulumi_vpsbackup.client.listing`; the reconciliation of a create or a
    restore is in :mod:`~pulumi_vpsbackup.client.reconcile`.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        wall_clock: Callable[[], float] = time.time,
        cancel: threading.Event | None = None,
        history: History | None = None,
    ) -> None:
        self.settings = settings
        #: How long this API's work took before (see :mod:`.history`); None: waits never predict.
        self.history: BoundHistory | None = (
            history.bind(settings.base_url) if history is not None else None
        )
        self._starts: dict[tuple[str, int], float] = {}
        timing = Timing(
            sleep,
            clock,
            wall_clock,
            rng if rng is not None else random.Random(),
            cancel if cancel is not None else threading.Event(),
        )
        self._timing = timing
        self._clock = clock
        self._wall_clock = wall_clock
        self._http = HttpSession(settings, transport=transport, timing=timing)
        self._read = ResponseReader(self._http)
        self._listings: ListingCache[Listing] = ListingCache(clock)
        self._spread = Spread(clock, window=3 * REFRESH_LISTING_AGE)
        self._permissions: tuple[str, ...] | None = None
        self._server_get_supported: bool | None = None
        self._state_lock = threading.Lock()
        # One create at a time per server. Reconciliation adopts only the
        # backup carrying the request's own marker, so this is no longer what
        # keeps a sibling's backup from being adopted; it keeps a server's
        # creates (and their listings) in order within one process.
        self._create_locks: dict[int, threading.Lock] = {}
        self._waiter = Waiter(self, settings.poll, timing, self._http.redact, self.history)
        # What reconciling a create may do with this client, and nothing more.
        self._creates = CreateChannel(
            settings=settings,
            pacing=self._http,
            send=self._post_backup,
            list_manual=lambda server_id: self.list_backups(
                server_id=server_id, backup_type="manual"
            ),
        )

    @classmethod
    def from_env(
        cls,
        *,
        config: Mapping[str, Any] | None = None,
        environ: Mapping[str, str] | None = None,
        **client_options: Any,
    ) -> VpsClient:
        """A client configured by :func:`resolve_settings` from config and environment."""
        return cls(resolve_settings(config=config, environ=environ), **client_options)

    # -- lifecycle -------------------------------------------------------------

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> VpsClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"VpsClient(base_url={self.settings.base_url!r})"

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "VpsClient cannot be pickled (it holds a connection pool and the API token); "
            "create it inside the Pulumi provider process, for example in configure()"
        )

    @property
    def timing(self) -> Timing:
        """The sleep, clocks and jitter source this client waits with (tests inject them).

        For a caller that runs its own wait on the client's schedule
        (``settings.poll``), so that it sleeps and reads time as the client does.
        """
        return self._timing

    @property
    def listing_fetches(self) -> int:
        """How many cached-path backup listings were fetched (for tests and benchmarks)."""
        return self._listings.fetches

    # -- plumbing --------------------------------------------------------------

    def _call(self, method: str, target: str, **options: Any) -> httpx.Response:
        """:meth:`HttpSession.request`; a 403 also names the token's permissions."""
        try:
            return self._http.request(method, target, **options)
        except PermissionDeniedError as err:
            if err.permissions is not None or target.rstrip("/").endswith("account/me"):
                raise
            permissions = self._token_permissions()
            if permissions is None:
                raise
            raise PermissionDeniedError(
                err.method,
                err.path,
                err.status_code,
                err.message,
                err.field_errors,
                err.request_id,
                attempts=err.attempts,
                permissions=permissions,
            ) from err

    def _token_permissions(self) -> tuple[str, ...] | None:
        if self._permissions is None:
            try:
                self.get_account()
            except VpsBackupError:
                return None
        return self._permissions

    def _get(self, target: str, params: Mapping[str, Any] | None) -> httpx.Response:
        return self._call("GET", target, params=params)

    def _paginate(self, path: str, params: Mapping[str, Any]) -> list[tuple[Any, httpx.Response]]:
        """Every item of a paged listing; see :func:`.listing.paginate`."""
        return paginate(self._get, self._read, path, params)

    # -- account and servers ---------------------------------------------------

    def get_account(self) -> AccountRecord:
        """The account and the token's name and permissions; a cheap token check."""
        response = self._call("GET", "/account/me/")
        account: AccountRecord = self._read.parse(
            AccountRecord.from_dict, self._read.json(response), response
        )
        with self._state_lock:
            self._permissions = account.permissions
        return account

    def list_servers(self, *, status: str | None = None) -> list[Server]:
        return [
            self._read.parse(Server.from_dict, item, response)
            for item, response in self._paginate("/servers/", {"status": status})
        ]

    def get_server(self, server_id: int) -> Server:
        """One server: ``GET /servers/{id}/`` when the API has it, else the listing."""
        path = f"/servers/{int(server_id)}/"
        if self._server_get_supported is not False:
            try:
                response = self._call("GET", path)
            except ApiError as err:
                if err.status_code not in (404, 405) or self._server_get_supported:
                    raise
            else:
                self._server_get_supported = True
                server: Server = self._read.parse(
                    Server.from_dict, self._read.json(response), response
                )
                return server
        for server in self.list_servers():
            if server.id == server_id:
                # The server exists but GET-one did not answer: the API lacks it.
                self._server_get_supported = False
                return server
        raise NotFoundError("GET", path, 404, f"server {server_id} does not exist")

    # -- backups ---------------------------------------------------------------

    def _fetch_backups(self, server_id: int | None, backup_type: str | None) -> Listing:
        return fetch_backups(self._get, self._read, server_id, backup_type)

    def _cached_backups(
        self, server_id: int | None, backup_type: str | None, not_before: float
    ) -> tuple[Listing, float]:
        return self._listings.get(
            (server_id, backup_type),
            not_before,
            lambda: self._fetch_backups(server_id, backup_type),
        )

    def _forget_listings(self, server_id: int) -> None:
        """Drop the cached listings a new backup of ``server_id`` makes stale."""
        self._listings.invalidate(
            *((sid, kind) for sid in (server_id, None) for kind in (None, "manual", "automatic"))
        )

    def list_backups(
        self,
        *,
        server_id: int | None = None,
        backup_type: str | None = None,
        max_age: float = 0.0,
    ) -> list[BackupRecord]:
        """All backups (of one server, of one type), following ``next`` to the end.

        With ``max_age > 0`` the answer may come from the same listing (server
        and type) fetched at most ``max_age`` seconds ago, and concurrent
        callers share one request in flight.
        """
        if max_age > 0:
            not_before = self._clock() - max_age
            if backup_type is not None:
                # A fresh listing of every type holds this one's answer too.
                every = self._listings.peek((server_id, None), not_before)
                if every is not None:
                    return [b for b in every if b.backup_type == backup_type]
            listing, _ = self._cached_backups(server_id, backup_type, not_before)
            return list(listing)
        return list(self._fetch_backups(server_id, backup_type))

    def find_backup(
        self,
        backup_id: int,
        *,
        server_id: int | None = None,
        max_age: float = 0.0,
        backup_type: str | None = None,
    ) -> BackupRecord | None:
        """The backup with this id, or None when a listing proves it absent.

        The API has no GET for one backup, so this lists the server's backups
        (the account's when ``server_id`` is unknown), of ``backup_type`` only
        when the caller knows it (the API filters, so a server's automatic
        backups add no pages to a manual one's read), and picks. An absence
        seen in a cached listing is confirmed with a listing started after this
        call.
        """

        def pick(listing: Listing) -> BackupRecord | None:
            return next((b for b in listing if b.id == backup_id), None)

        try:
            if max_age <= 0:
                return pick(self._fetch_backups(server_id, backup_type))
            called = self._clock()
            listing, fetched_at = self._cached_backups(server_id, backup_type, called - max_age)
            found = pick(listing)
            if found is not None or fetched_at >= called:
                return found
            return pick(self._cached_backups(server_id, backup_type, called)[0])
        except NotFoundError:
            if server_id is None:
                raise
            # The server is gone; its backups may not be: ask the account listing.
            return self.find_backup(backup_id, max_age=max_age, backup_type=backup_type)

    def refresh_backup(
        self, backup_id: int, *, server_id: int | None, backup_type: str | None = None
    ) -> BackupRecord | None:
        """The backup as it is now, or None once two listings agree it is gone.

        Made for a refresh, which reads many backups in a burst: reads share
        listings for a few seconds, and once the burst has touched as many
        servers as a listing of the whole account has pages, one account
        listing serves them all (see :mod:`.spread`). An absence is only
        believed when a listing started after it was first seen agrees
        (paging is no snapshot).
        """

        def pages() -> int:
            try:
                return self.listing_pages(backup_type=backup_type)
            except VpsBackupError:  # unknown size: keep to the servers, never fail the read
                return MAX_PAGES

        where = server_id
        if server_id is not None and self._spread.account_wide(server_id, pages):
            where = None
        found = self.find_backup(
            backup_id, server_id=where, max_age=REFRESH_LISTING_AGE, backup_type=backup_type
        )
        if found is None:
            found = self.find_backup(backup_id, server_id=server_id, backup_type=backup_type)
        return found

    def listing_pages(self, *, backup_type: str | None = None) -> int:
        """How many requests a listing of the account's backups takes (asks one page)."""
        response = self._get("/backups/", {"backup_type": backup_type})
        data = self._read.json(response)
        if not isinstance(data, Mapping) or not data.get("next"):
            return 1
        count, results = data.get("count"), data.get("results")
        if isinstance(count, int) and isinstance(results, list) and results:
            return max(1, -(-count // len(results)))
        return MAX_PAGES  # no count: as costly as a listing can be

    def create_backup(
        self,
        server_id: int,
        description: str | None = None,
        *,
        resource_key: str | None = None,
        intent: str | None = None,
    ) -> BackupRecord:
        """Start a manual backup; returns it ``in_progress``. Never creates two.

        The description stored on VPS.org is ``description`` plus a marker
        (``[pvb:<resource_key>.<intent>.<random>]``, or ``[pvb:<random>]``
        without a key; see :mod:`.marker`); the returned
        backup's ``description`` is the API's, marker included. Reconciliation:
        see the class docstring.
        """
        with self._state_lock:
            lock = self._create_locks.setdefault(int(server_id), threading.Lock())
        with lock:  # held for the POST and its reconciliation only, not for waiting
            return create_backup_reconciled(
                self._creates, server_id, description, resource_key=resource_key, intent=intent
            )

    def started_at(self, kind: str, key: int) -> float | None:
        """When this client saw a backup (``kind`` "backup", by id) or a restore
        ("restore", by server id) start: its POST's answer, by the wall clock."""
        with self._state_lock:
            return self._starts.get((kind, int(key)))

    def _saw_start(self, kind: str, key: int) -> None:
        with self._state_lock:
            if len(self._starts) > 10_000:  # a long-lived client forgets the oldest
                self._starts.pop(next(iter(self._starts)))
            self._starts[(kind, int(key))] = self._wall_clock()

    def _post_backup(self, server_id: int, body: dict[str, Any]) -> BackupRecord:
        """One ``POST /backups/``, parsed; the server's cached listings are dropped
        whatever the outcome. Sent only through :attr:`_creates` (see :mod:`.reconcile`)."""
        try:
            response = self._call("POST", "/backups/", json=body)
        finally:
            self._forget_listings(server_id)
        # A 2xx the client cannot read (a gateway's page, an empty or cut body)
        # may still have created the backup: reconciled like a lost answer.
        backup: BackupRecord = self._read.parse(
            BackupRecord.from_dict,
            self._read.json(response, outcome_unknown=True),
            response,
            outcome_unknown=True,
        )
        self._saw_start("backup", backup.id)
        return backup

    def delete_backup(self, backup_id: int) -> bool:
        """Delete a backup: True if deleted now, False if it was already absent (404).

        A 404 that answers a retry sent after a lost response counts as
        deleted. A failure whose outcome is unknown (a 500 or a dropped answer
        after the retries) is checked with a listing: if the backup is gone the
        delete worked, otherwise the original error is raised.
        """
        try:
            self._call("DELETE", f"/backups/{int(backup_id)}/")
        except NotFoundError as err:
            deleted = err.retried_after_unknown_outcome
        except (ApiError, TransportError) as err:
            if not err.outcome_unknown:
                raise
            self._listings.invalidate()
            try:
                still_there = self.find_backup(backup_id) is not None
            except VpsBackupError:
                raise err from None
            if still_there:
                raise
            logger.warning(
                "DELETE /backups/%s/ failed without a clear answer but the backup is gone",
                backup_id,
            )
            deleted = True
        else:
            deleted = True
        self._listings.update_entries(
            lambda listing: tuple(b for b in listing if b.id != backup_id)
        )
        return deleted

    def restore_server(self, server_id: int, backup_id: int) -> RestoreResult:
        """Ask the API to restore a server from a backup (overwrites the server's data).

        When the answer is lost or cannot be read (not a JSON object: a
        gateway's page, an empty or cut body), the server is read: the restore counts as
        accepted if the server is ``restoring`` or its ``last_restore`` names
        this backup and started after the request; otherwise the original error
        is raised. A restore is never sent twice.
        """
        path = f"/servers/{int(server_id)}/restore/"
        requested_at = datetime.fromtimestamp(self._wall_clock(), tz=timezone.utc)
        try:
            response = self._call("POST", path, json={"backup_id": int(backup_id)})
            data = self._restore_answer(response)
        except (ApiError, TransportError) as err:
            if not err.outcome_unknown:
                raise
            try:
                server = self.get_server(server_id)
            except VpsBackupError:
                raise err from None
            accepted = accept_lost_restore(server_id, backup_id, requested_at, server)
            if accepted is None:
                raise
            return accepted
        result: RestoreResult = self._read.parse(
            lambda d: RestoreResult.from_dict(d, server_id=server_id, backup_id=backup_id),
            data,
            response,
        )
        self._saw_start("restore", server_id)
        return result

    def _restore_answer(self, response: httpx.Response) -> Mapping[str, Any]:
        """A restore's 2xx body as a JSON object; anything else (a gateway's page,
        an empty or cut body, JSON that is no object) leaves the outcome unknown."""
        data = self._read.json(response, outcome_unknown=True)
        if not isinstance(data, Mapping):
            self._read.shape_error(
                response,
                f"unexpected response shape: expected a JSON object, got {type(data).__name__}",
                outcome_unknown=True,
            )
        return data

    # -- waiting ---------------------------------------------------------------

    def wait_for_backup(
        self,
        backup_id: int,
        *,
        server_id: int | None = None,
        timeout: float,
        on_progress: Callable[[BackupRecord, float], None] | None = None,
        seen: BackupRecord | None = None,
    ) -> BackupRecord:
        """Poll until the backup is no longer running; return it when ``completed``.

        Raises :class:`BackupFailedError` for any other final status,
        :class:`BackupVanishedError` once two listings in a row miss it, and
        :class:`WaitTimeoutError` when ``timeout`` seconds pass first.
        ``on_progress(backup, seconds_waited)`` is called after every poll.
        ``seen`` is the backup as the caller last saw it running (the answer
        to its create, say): the first poll then waits one interval, and every
        poll lists only that server's backups of that type (one request).
        """
        if seen is not None and seen.id != backup_id:
            raise ValueError(f"seen is backup {seen.id}, not {backup_id}")
        return self._waiter.backup(
            backup_id,
            server_id=server_id,
            timeout=timeout,
            on_progress=on_progress,
            seen=seen,
        )

    def wait_for_restore(
        self,
        server_id: int,
        *,
        timeout: float,
        on_progress: Callable[[Server, float], None] | None = None,
        backup_id: int | None = None,
    ) -> Server:
        """Poll until the server is no longer ``restoring``; return it when ``active``.

        Any other status raises :class:`RestoreFailedError` (with the server's
        ``last_restore`` when it has one); so does an ``active`` server whose
        ``last_restore`` for ``backup_id`` (when given) says it failed.
        """
        return self._waiter.restore(
            server_id,
            timeout=timeout,
            on_progress=on_progress,
            backup_id=backup_id,
        )
