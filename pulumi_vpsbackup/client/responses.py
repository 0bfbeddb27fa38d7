"""Decoding every answer the API gives: a 2xx body into a model, an error into an exception.

A 2xx body that is not JSON, or whose JSON has an unexpected shape, raises
:class:`UnexpectedResponseError` naming the request. An error status becomes
the :class:`ApiError` subclass for it (:func:`error_from_response`), with the
API's message and DRF field errors read from the body (:func:`parse_error_body`).
Any text quoted from a body is redacted first.
"""

from __future__ import annotations

import json as jsonlib
import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import httpx

from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    ServerError,
    UnexpectedResponseError,
)

if TYPE_CHECKING:
    from .transport import HttpSession

__all__ = ["ResponseReader", "error_from_response", "parse_error_body"]

_MAX_TEXT = 200
_ERROR_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    429: RateLimitedError,
}


def _truncate(text: str, limit: int = _MAX_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _flatten(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for entry in value for item in _flatten(entry)]
    if isinstance(value, Mapping):
        return [f"{k}: {' '.join(_flatten(v))}" for k, v in value.items()]
    return [str(value)]


def parse_error_body(text: str, content_type: str = "") -> tuple[str, dict[str, list[str]]]:
    """Turn an error body into ``(message, field_errors)``.

    Understands DRF's ``{"detail": ...}``, field errors ``{"field": ["..."]}``
    with ``non_field_errors``, ``{"message"|"error": ...}``, any other JSON and
    plain text or HTML (tags dropped, cut to about 200 characters).
    """
    if not text.strip():
        return "", {}
    try:
        data = jsonlib.loads(text)
    except ValueError:
        if "html" in content_type.lower() or text.lstrip().startswith("<"):
            text = re.sub(r"(?is)<(script|style).*?</\1>", " ", text)
            text = re.sub(r"<[^>]+>", " ", text)
        return _truncate(text), {}
    if isinstance(data, Mapping):
        for key in ("detail", "message", "error"):
            if key in data and (len(data) == 1 or isinstance(data[key], str)):
                return _truncate("; ".join(_flatten(data[key]))), {}
        field_errors: dict[str, list[str]] = {}
        general: list[str] = []
        for key, value in data.items():
            messages = _flatten(value)
            if key in ("non_field_errors", "__all__"):
                general.extend(messages)
            else:
                field_errors[str(key)] = messages
        parts = general + [f"{k}: {' '.join(v)}" for k, v in field_errors.items()]
        return _truncate("; ".join(parts), 1000), field_errors
    return _truncate("; ".join(_flatten(data))), {}


def error_from_response(
    method: str,
    path: str,
    response: httpx.Response,
    *,
    attempts: int = 1,
    retry_after: float | None = None,
    waited: float | None = None,
    beyond_budget: bool = False,
    redact: Callable[[str], str] = lambda s: s,
) -> ApiError:
    """The :class:`ApiError` subclass for an error response."""
    status = response.status_code
    message, field_errors = parse_error_body(
        response.text, response.headers.get("Content-Type", "")
    )
    message = redact(message)
    field_errors = {redact(k): [redact(m) for m in v] for k, v in field_errors.items()}
    request_id = response.headers.get("X-Request-Id")
    common: dict[str, Any] = {
        "attempts": attempts,
        "outcome_unknown": status >= 500,
    }
    if status == 429:
        return RateLimitedError(
            method,
            path,
            status,
            message,
            field_errors,
            request_id,
            retry_after=retry_after,
            waited=waited,
            beyond_budget=beyond_budget,
            **common,
        )
    cls = _ERROR_CLASSES.get(status) or (ServerError if status >= 500 else ApiError)
    return cls(method, path, status, message, field_errors, request_id, **common)


class ResponseReader:
    """Decodes and parses the 2xx responses of one :class:`HttpSession`.

    ``outcome_unknown=True`` marks the error for an unreadable answer to a
    request that may have taken effect (a create, a restore): its caller then
    checks what happened, as for a lost answer.
    """

    def __init__(self, http: HttpSession) -> None:
        self._http = http

    # Both raise outside the ``except`` block: the parser's exception holds the
    # body, which could echo a secret, and must not ride along as __context__.

    def json(self, response: httpx.Response, *, outcome_unknown: bool = False) -> Any:
        try:
            return response.json()
        except ValueError:
            pass
        what = "the body is not JSON: " + response.text[:200]
        if not response.content.strip():
            what = "the body is empty"
        self.shape_error(response, what, outcome_unknown=outcome_unknown)

    def parse(
        self,
        parse: Callable[[Any], Any],
        data: Any,
        response: httpx.Response,
        *,
        outcome_unknown: bool = False,
    ) -> Any:
        problem = ""
        try:
            return parse(data)
        except (ValueError, TypeError, AttributeError) as exc:
            problem = str(exc)
        self.shape_error(
            response, f"unexpected response shape: {problem}", outcome_unknown=outcome_unknown
        )

    def shape_error(
        self, response: httpx.Response, what: str, *, outcome_unknown: bool = False
    ) -> NoReturn:
        request = response.request
        raise UnexpectedResponseError(
            request.method,
            self._http.display_path(request.url),
            response.status_code,
            self._http.redact(what),
            outcome_unknown=outcome_unknown,
        )
