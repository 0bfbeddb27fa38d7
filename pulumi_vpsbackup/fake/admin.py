"""Admin routes under ``/__fake/``: the fake's remote control.

Kept apart from ``/api/v1`` (no auth, never faulted, not journaled) so a test
or a separate process can reset, seed, inspect and break the fake without
disturbing what it observes. Each handler calls the ``FakeVps`` method of the
same name, so over-HTTP and in-process control behave identically. Routed by
the same :class:`~.http.Router` as the public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.wrappers import Request, Response

from .clock import format_time, parse_time
from .errors import ApiError
from .http import Router, json_response, read_json_object

if TYPE_CHECKING:
    from .app import FakeVps

__all__ = ["ADMIN_PREFIX", "AdminApi"]

ADMIN_PREFIX = "/__fake"


class AdminApi:
    def __init__(self, fake: FakeVps) -> None:
        self._fake = fake
        p = ADMIN_PREFIX
        self._router = Router(
            {
                f"{p}/health": {"GET": self._health_get},
                f"{p}/reset": {"POST": self._reset_post},
                f"{p}/servers": {"POST": self._servers_post},
                f"{p}/backups": {"POST": self._backups_post},
                f"{p}/backups/<int:backup_id>/": {"DELETE": self._backup_delete},
                f"{p}/state": {"GET": self._state_get},
                f"{p}/requests": {"GET": self._requests_get, "DELETE": self._requests_delete},
                f"{p}/faults": {
                    "GET": self._faults_get,
                    "POST": self._faults_post,
                    "DELETE": self._faults_delete,
                },
                f"{p}/faults/<int:rule_id>/": {"DELETE": self._fault_delete},
                f"{p}/clock": {"GET": self._clock_get, "POST": self._clock_post},
                f"{p}/behaviour": {"GET": self._behaviour_get, "POST": self._behaviour_post},
            },
            strict_slashes=False,
        )

    def dispatch(self, request: Request) -> Response:
        try:
            handler, args = self._router.match(request)
        except NotFound:
            return json_response({"detail": "Not found."}, 404)
        except MethodNotAllowed:
            return json_response({"detail": f'Method "{request.method}" not allowed.'}, 405)
        try:
            status, body = handler(request, **args)
        except ApiError as exc:
            return json_response(exc.body, exc.status)
        except (KeyError, TypeError, ValueError) as exc:
            return json_response({"detail": f"Invalid admin request: {exc}"}, 400)
        return json_response(body, status)

    # Each handler returns (status, body).

    def _health_get(self, request: Request) -> tuple[int, Any]:
        return 200, {"status": "ok", "now": format_time(self._fake.now())}

    def _reset_post(self, request: Request) -> tuple[int, Any]:
        world = read_json_object(request).get("world")
        self._fake.reset(world)
        return 200, {"status": "reset", "world": world or "unchanged"}

    def _servers_post(self, request: Request) -> tuple[int, Any]:
        return 201, self._fake.add_server(**read_json_object(request))

    def _backups_post(self, request: Request) -> tuple[int, Any]:
        return 201, self._fake.seed_backup(**read_json_object(request))

    def _backup_delete(self, request: Request, backup_id: int) -> tuple[int, Any]:
        self._fake.remove_backup(backup_id)
        return 204, None

    def _state_get(self, request: Request) -> tuple[int, Any]:
        return 200, self._fake.state()

    def _requests_get(self, request: Request) -> tuple[int, Any]:
        entries = self._fake.requests()
        return 200, {"count": len(entries), "results": entries}

    def _requests_delete(self, request: Request) -> tuple[int, Any]:
        self._fake.clear_requests()
        return 204, None

    def _faults_get(self, request: Request) -> tuple[int, Any]:
        return 200, {"results": self._fake.faults.list()}

    def _faults_post(self, request: Request) -> tuple[int, Any]:
        return 201, self._fake.add_fault(**read_json_object(request)).to_dict()

    def _faults_delete(self, request: Request) -> tuple[int, Any]:
        self._fake.clear_faults()
        return 204, None

    def _fault_delete(self, request: Request, rule_id: int) -> tuple[int, Any]:
        if not self._fake.remove_fault(rule_id):
            return 404, {"detail": "Not found."}
        return 204, None

    def _clock_get(self, request: Request) -> tuple[int, Any]:
        return 200, self._clock_body()

    def _clock_post(self, request: Request) -> tuple[int, Any]:
        data = read_json_object(request)
        unknown = sorted(set(data) - {"now", "advance", "scale"})
        if unknown:
            raise ValueError(f"unknown clock field(s): {', '.join(unknown)}")
        if data.get("now") is not None:
            self._fake.set_time(parse_time(data["now"]))
        if data.get("advance") is not None:
            self._fake.advance(float(data["advance"]))
        if data.get("scale") is not None:
            self._fake.set_time_scale(float(data["scale"]))
        return 200, self._clock_body()

    def _clock_body(self) -> dict[str, Any]:
        return {"now": format_time(self._fake.now()), "scale": self._fake.clock.scale}

    def _behaviour_get(self, request: Request) -> tuple[int, Any]:
        return 200, self._fake.behaviour.to_dict()

    def _behaviour_post(self, request: Request) -> tuple[int, Any]:
        return 200, self._fake.set_behaviour(**read_json_object(request)).to_dict()
