"""``FakeVps``: the WSGI application tying clock, model, faults and journal together.

One object owns one fake world; there is no module-level state, so a test can
run several independent fakes side by side. Every admin route is also a plain
method here, so in-process tests need no HTTP at all.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.wrappers import Request, Response

from .admin import ADMIN_PREFIX, AdminApi
from .api import API_PREFIX, PublicApi
from .behaviour import Behaviour
from .clock import FakeClock, format_time
from .faults import FaultPlan, FaultRule, FaultSet
from .http import json_response
from .journal import Journal, redact_headers
from .model import VpsModel

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["DEFAULT_TOKEN", "ConnectionDropped", "FakeVps"]

DEFAULT_TOKEN = "vps_demo_token"  # noqa: S105 - the documented demo token of a local fake


class ConnectionDropped(ConnectionError):
    """Raised inside a real server after a ``drop`` fault closed the socket.

    Werkzeug's server treats a ``ConnectionError`` from the app as a vanished
    client and stays quiet, which is what a dropped connection should look like.
    """


class FakeVps:
    """A local, stateful fake of the VPS.org API, usable as a WSGI app.

    Example::

        app = FakeVps(token="t", behaviour=Behaviour(completion="immediate"),
                      clock=FakeClock(scale=0))
        client = httpx.Client(transport=httpx.WSGITransport(app=app),
                              base_url="http://fake/api/v1",
                              headers={"Authorization": "Bearer t"})

    ``settings`` are :class:`Behaviour` fields, a shortcut for
    ``behaviour=Behaviour(**settings)``.
    """

    def __init__(
        self,
        *,
        token: str = DEFAULT_TOKEN,
        behaviour: Behaviour | None = None,
        clock: FakeClock | None = None,
        world: str = "demo",
        seed: int = 0,
        state_file: str | Path | None = None,
        **settings: Any,
    ) -> None:
        if not token:
            raise ValueError("token must not be empty")
        base = behaviour or Behaviour()
        if settings:
            base = base.updated(settings)
        self._token = token
        self.clock = clock or FakeClock()
        self.model = VpsModel(self.clock, base, seed=seed, world=world, state_file=state_file)
        self.faults = FaultSet(seed)
        self.journal = Journal(base.journal_size)
        self._api = PublicApi(self.model, lambda: self._token)
        self._admin = AdminApi(self)
        # Requests a `defer` fault answered at once and runs later: (due, request).
        self._deferred: list[tuple[datetime, Request]] = []
        self._deferred_lock = threading.Lock()

    def __repr__(self) -> str:  # never include the token
        return f"<FakeVps state_file={self.model.state_file}>"

    # -- WSGI ---------------------------------------------------------------------

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        if request.path == ADMIN_PREFIX or request.path.startswith(ADMIN_PREFIX + "/"):
            response = self._admin.dispatch(request)
        else:
            response = self._serve_api(request)
        return response(environ, start_response)

    def _serve_api(self, request: Request) -> Response:
        started = time.perf_counter()
        path, method = request.path, request.method
        faultable = path.startswith(API_PREFIX + "/")
        entry: dict[str, Any] = {
            "time": format_time(self.clock.now()),
            "method": method,
            "path": path,
            "query": {k: v for k, v in request.args.lists()},
            "headers": redact_headers(dict(request.headers.items())),
        }
        response: Response | None = None
        fault: FaultRule | None = None
        if faultable:
            self._land_deferred()
        recorded = False

        def record() -> None:
            entry["status"] = response.status_code if response is not None else None
            entry["duration_ms"] = round((time.perf_counter() - started) * 1000, 3)
            self.journal.record(entry)

        try:
            before = self.faults.plan(method, path, "before") if faultable else FaultPlan()
            if before.latency:
                time.sleep(before.latency)
            fault = before.terminal
            if fault is None:
                response = self._api.dispatch(request)
                after = self.faults.plan(method, path, "after") if faultable else FaultPlan()
                if after.latency:
                    time.sleep(after.latency)
                fault = after.terminal
            if fault is not None:
                entry["fault"] = {"id": fault.id, "action": fault.action, "phase": fault.phase}
                if fault.action == "drop":
                    # Journaled before the client can see the connection close:
                    # whoever reads the journal once the client gave up finds it.
                    record()
                    recorded = True
                    self._drop(request)
                if fault.action == "defer":
                    entry["fault"]["delay"] = fault.delay
                    self._defer(request, fault.delay)
                response = self._fault_response(fault)
            assert response is not None
            return response
        finally:
            if not recorded:
                record()

    @staticmethod
    def _fault_response(fault: FaultRule) -> Response:
        if fault.raw_body is None:
            return json_response(fault.response_body(), fault.status, fault.response_headers())
        response = Response(fault.raw_body.encode("utf-8"), status=fault.status)
        response.headers.pop("Content-Type", None)
        for name, value in fault.response_headers().items():
            response.headers[name] = value
        return response

    def _defer(self, request: Request, delay: float) -> None:
        """Run ``request`` once ``delay`` fake seconds have passed (see :mod:`.faults`)."""
        request.get_data(cache=True)  # read now: the connection is gone by then
        due = self.clock.now() + timedelta(seconds=delay)
        with self._deferred_lock:
            self._deferred.append((due, request))

    def _land_deferred(self) -> None:
        """Run the deferred requests whose time has come, oldest first."""
        now = self.clock.now()
        with self._deferred_lock:
            due = sorted((d for d in self._deferred if d[0] <= now), key=lambda d: d[0])
            self._deferred = [d for d in self._deferred if d[0] > now]
        for _, request in due:
            self._api.dispatch(request)

    def deferred(self) -> list[dict[str, Any]]:
        """The requests a ``defer`` fault holds: method, path and when they land."""
        with self._deferred_lock:
            return [
                {"method": r.method, "path": r.path, "due": format_time(due)}
                for due, r in self._deferred
            ]

    @staticmethod
    def _drop(request: Request) -> None:
        """Close the connection without an answer.

        Over a real werkzeug server the socket is shut down and the server sees
        a vanished client. In-process (``httpx.WSGITransport``) there is no
        socket, so the error httpx gives for a peer that hung up is raised
        instead; the caller sees the same ``httpx.RemoteProtocolError``.
        """
        sock = request.environ.get("werkzeug.socket")
        if isinstance(sock, socket.socket):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            raise ConnectionDropped("connection dropped by an injected fault")
        import httpx

        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    # -- token and settings ------------------------------------------------------------

    def set_token(self, token: str) -> None:
        """Accept only `token` from now on (a rotation: the old one is refused)."""
        if not token:
            raise ValueError("token must not be empty")
        self._token = token

    @property
    def behaviour(self) -> Behaviour:
        return self.model.behaviour

    def set_behaviour(self, behaviour: Behaviour | None = None, **changes: Any) -> Behaviour:
        """Replace the behaviour, or change some fields of the current one."""
        new = (behaviour or self.model.behaviour).updated(changes)
        self.model.set_behaviour(new)
        self.journal.resize(new.journal_size)
        return new

    # -- admin operations (also served under /__fake/) -----------------------------------

    def reset(self, world: str | None = None) -> None:
        """Fresh world; faults, deferred requests and journal cleared; behaviour,
        token and clock kept."""
        with self._deferred_lock:
            self._deferred.clear()
        self.model.reset(world)
        self.faults.clear()
        self.journal.clear()

    def add_server(self, **fields: Any) -> dict[str, Any]:
        return self.model.add_server(fields)

    def seed_backup(self, **fields: Any) -> dict[str, Any]:
        return self.model.seed_backup(fields)

    def remove_backup(self, backup_id: int) -> None:
        self.model.remove_backup(backup_id)

    def state(self) -> dict[str, Any]:
        """The world (state-file format) plus the behaviour, the active fault rules
        and the deferred requests still to land (those due have landed)."""
        self._land_deferred()
        data = self.model.dump()
        data["behaviour"] = self.model.behaviour.to_dict()
        data["faults"] = self.faults.list()
        data["deferred"] = self.deferred()
        return data

    def requests(self) -> list[dict[str, Any]]:
        return self.journal.entries()

    def clear_requests(self) -> None:
        self.journal.clear()

    def add_fault(self, rule: FaultRule | None = None, **fields: Any) -> FaultRule:
        return self.faults.add(rule if rule is not None else FaultRule.from_dict(fields))

    def remove_fault(self, rule_id: int) -> bool:
        return self.faults.remove(rule_id)

    def clear_faults(self) -> None:
        self.faults.clear()

    def now(self) -> datetime:
        return self.clock.now()

    def advance(self, seconds: float) -> datetime:
        """Move fake time forward and settle what that implies (saved if persistent)."""
        now = self.clock.advance(seconds)
        self.model.touch()
        self._land_deferred()
        return now

    def set_time(self, now: datetime) -> datetime:
        result = self.clock.set(now)
        self.model.touch()
        self._land_deferred()
        return result

    def set_time_scale(self, scale: float) -> None:
        self.clock.set_scale(scale)
        self.model.touch()
