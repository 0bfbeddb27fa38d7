"""Admin routes under ``/__fake/``: the fake's remote control.

Kept apart from ``/api/v1`` (no auth, never faulted, not journaled) so a test
or a separate process can reset, seed, inspect and break the fake without
disturbing what it observes. Each route calls the ``FakeVps`` method of the
same name, so over-HTTP and in-process control behave identically.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from .clock import format_time, parse_time
from .errors import ApiError
from .http import json_response, read_json_object

if TYPE_CHECKING:
    from .app import FakeVps

__all__ = ["ADMIN_PREFIX", "AdminApi"]

ADMIN_PREFIX = "/__fake"


class AdminApi:
    def __init__(self, fake: FakeVps) -> None:
        self._fake = fake
        p = ADMIN_PREFIX
        self._map = Map(
            [
                Rule(f"{p}/health", endpoint="health", methods=["GET"]),
                Rule(f"{p}/reset", endpoint="reset", methods=["POST"]),
                Rule(f"{p}/servers", endpoint="servers", methods=["POST"]),
                Rule(f"{p}/backups", endpoint="backups", methods=["POST"]),
                Rule(f"{p}/backups/<int:backup_id>/", endpoint="backup", methods=["DELETE"]),
                Rule(f"{p}/state", endpoint="state", methods=["GET"]),
                Rule(f"{p}/requests", endpoint="requests", methods=["GET", "DELETE"]),
                Rule(f"{p}/faults", endpoint="faults", methods=["GET", "POST", "DELETE"]),
                Rule(f"{p}/faults/<int:rule_id>/", endpoint="fault", methods=["DELETE"]),
                Rule(f"{p}/clock", endpoint="clock", methods=["GET", "POST"]),
                Rule(f"{p}/behaviour", endpoint="behaviour", methods=["GET", "POST"]),
            ],
            strict_slashes=False,
        )

    def dispatch(self, request: Request) -> Response:
        adapter = self._map.bind_to_environ(request.environ)
        try:
            endpoint, args = adapter.match()
        except (NotFound, RequestRedirect):
            return json_response({"detail": "Not found."}, 404)
        except MethodNotAllowed:
            return json_response({"detail": f'Method "{request.method}" not allowed.'}, 405)
        method = "GET" if request.method == "HEAD" else request.method
        handler = getattr(self, f"_{endpoint}_{method.lower()}")
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
