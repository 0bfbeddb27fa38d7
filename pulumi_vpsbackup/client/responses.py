"""Reading a 2xx response: its JSON body and its parse into a model.

A body that is not JSON, or whose JSON has an unexpected shape, raises
:class:`UnexpectedResponseError` naming the request; any text quoted from the
body is redacted first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn

import httpx

from .errors import UnexpectedResponseError
from .transport import Transport

__all__ = ["ResponseReader"]


class ResponseReader:
    """Decodes and parses responses sent through one :class:`Transport`."""

    def __init__(self, http: Transport) -> None:
        self._http = http

    # Both raise outside the ``except`` block: the parser's exception holds the
    # body, which could echo a secret, and must not ride along as __context__.

    def json(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            pass
        self.shape_error(response, "the body is not JSON: " + response.text[:200])

    def parse(self, parse: Callable[[Any], Any], data: Any, response: httpx.Response) -> Any:
        problem = ""
        try:
            return parse(data)
        except (ValueError, TypeError, AttributeError) as exc:
            problem = str(exc)
        self.shape_error(response, f"unexpected response shape: {problem}")

    def shape_error(self, response: httpx.Response, what: str) -> NoReturn:
        request = response.request
        raise UnexpectedResponseError(
            request.method,
            self._http.display_path(request.url),
            response.status_code,
            self._http.redact(what),
        )
