"""Small HTTP helpers shared by the public and admin routes, and their one router."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from werkzeug.exceptions import NotFound
from werkzeug.routing import Map, RequestRedirect, Rule
from werkzeug.wrappers import Request, Response

from .errors import ApiError

__all__ = ["Handler", "Router", "json_response", "read_json_object"]

#: Called as ``handler(request, **path_arguments)``.
Handler = Callable[..., Any]


class Router:
    """Paths to one handler per method: the one routing style of both route sets.

    ``routes`` maps a werkzeug path (``/backups/<int:backup_id>/``) to
    ``{"GET": handler, ...}``; HEAD is served by the GET handler.
    """

    def __init__(
        self, routes: Mapping[str, Mapping[str, Handler]], *, strict_slashes: bool = True
    ) -> None:
        self._handlers = {path: dict(methods) for path, methods in routes.items()}
        self._map = Map(
            [Rule(path, endpoint=path, methods=list(m)) for path, m in self._handlers.items()],
            strict_slashes=strict_slashes,
        )

    def match(self, request: Request) -> tuple[Handler, dict[str, Any]]:
        """The handler and path arguments for ``request``.

        Raises werkzeug's ``NotFound`` (also for a path that would only match
        after a redirect) or ``MethodNotAllowed``, for the caller to answer.
        """
        adapter = self._map.bind_to_environ(request.environ)
        try:
            path, args = adapter.match()
        except RequestRedirect:
            raise NotFound() from None
        method = "GET" if request.method == "HEAD" else request.method
        return self._handlers[str(path)][method], dict(args)


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON answer; ``body=None`` with 204 gives the empty body DRF sends."""
    if status == 204 or body is None:
        response = Response(b"", status=status)
        response.headers.pop("Content-Type", None)
    else:
        payload = json.dumps(body, separators=(",", ":")).encode()
        response = Response(payload, status=status, content_type="application/json")
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def read_json_object(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; an empty body counts as ``{}``.

    The content type is not enforced: the documents always send
    ``application/json`` and a tolerant fake keeps clients' focus on the body.
    """
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError({"detail": f"JSON parse error - {exc}"}) from None
    if not isinstance(data, dict):
        kind = type(data).__name__
        raise ApiError(
            {"non_field_errors": [f"Invalid data. Expected a dictionary, but got {kind}."]}
        )
    return data
