"""Small HTTP helpers shared by the public and admin routes."""

from __future__ import annotations

import json
from typing import Any

from werkzeug.wrappers import Request, Response

from .errors import ApiError

__all__ = ["json_response", "read_json_object"]


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
