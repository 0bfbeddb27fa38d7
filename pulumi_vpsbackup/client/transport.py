"""Sending one API call: retries, redirect rules, error mapping and logging.

Retry policy (each rule has a unit test in ``tests/client/test_transport.py``):

* **GET and DELETE** are retried on connection errors, timeouts and other
  transport failures, and on 429, 502, 503 and 504.
* **POST** is retried here only when the request provably never reached the
  API: ``httpx.ConnectError``, ``ConnectTimeout`` or ``PoolTimeout``, or a 429
  (throttling refuses a request before acting on it). Every other failure of a
  POST (read/write timeout, dropped connection, 500, 502, 503, 504) is raised at
  once with ``outcome_unknown=True``: the request may have taken effect, and
  only the caller can find out (``create_backup`` reconciles, ``restore_server``
  checks the server). 503 is deliberately in that group: a proxy can answer 503
  after the application acted, even with ``Retry-After``.
* Any other 4xx is never retried.
* Retries stop after ``max_attempts`` requests or when the next wait would end
  more than ``max_retry_seconds`` after the first request started.
* The wait before retry *n* (from 1) is full jitter, ``uniform(0, min(8, 0.5 *
  2**(n-1)))`` seconds, unless the response carries ``Retry-After`` (seconds
  or an HTTP date, read against the response's ``Date`` when present), which is
  honoured exactly. A ``Retry-After`` beyond the remaining budget stops at once:
  a 429 raises :class:`RateLimitedError` whose message says when to retry.
* ``attempts`` on the raised error counts the requests sent; a 404 that answers
  a retry made after an ambiguous failure sets ``retried_after_unknown_outcome``
  (``delete_backup`` counts that as deleted).

Safety: TLS verification is always on; every request has a timeout; redirects
are followed by hand, at most 3 and only to the same scheme, host and port (the
``Authorization`` header never goes anywhere else); 301/302/303 are followed for
GET only. The token appears only in the ``Authorization`` header and is masked
in any text the API echoes back.
"""

from __future__ import annotations

import email.utils
import json as jsonlib
import logging
import random
import re
import ssl
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitedError,
    RedirectError,
    ServerError,
    TransportError,
    UnexpectedResponseError,
)
from .secret import redact
from .settings import ClientSettings

__all__ = ["Transport", "error_from_response", "parse_error_body", "parse_retry_after"]

logger = logging.getLogger("pulumi_vpsbackup.client")

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
MAX_REDIRECTS = 3
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NOT_RETRYABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)
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


def parse_retry_after(response: httpx.Response, wall_clock: Callable[[], float]) -> float | None:
    """Seconds to wait from ``Retry-After`` (delta-seconds or HTTP date), or None."""
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        seconds = float(raw)
    except ValueError:
        pass
    else:
        return max(seconds, 0.0) if seconds == seconds else None  # NaN check
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    now = wall_clock()
    date_header = response.headers.get("Date")
    if date_header:
        # Measure against the server's own clock, which removes clock skew.
        try:
            now = email.utils.parsedate_to_datetime(date_header).timestamp()
        except (TypeError, ValueError, IndexError):
            pass
    return max(when.timestamp() - now, 0.0)


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


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    default = 443 if url.scheme == "https" else 80
    return (url.scheme, url.host, url.port or default)


class Transport:
    """One ``httpx.Client`` plus the retry policy in the module docstring.

    Thread-safe: ``httpx.Client`` pools connections safely and nothing here
    keeps per-call state on the instance.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._rng = rng if rng is not None else random.Random()
        self._base = httpx.URL(settings.base_url + "/")
        self._origin = _origin(self._base)
        verify: ssl.SSLContext | bool = True
        if isinstance(settings.verify, str):
            verify = ssl.create_default_context(cafile=settings.verify)
        self._client = httpx.Client(
            timeout=httpx.Timeout(settings.timeout),
            follow_redirects=False,
            verify=verify,
            transport=transport,
            headers={"User-Agent": settings.user_agent, "Accept": "application/json"},
        )

    def close(self) -> None:
        self._client.close()

    # -- helpers ---------------------------------------------------------------

    def redact(self, text: str) -> str:
        """`text` with the token masked, in any escaped form too (see `secret_forms`)."""
        return redact(text, self.settings.token)

    def _clean(self, exc: httpx.TransportError) -> httpx.TransportError:
        """A copy of an httpx failure whose text has the token masked, with no chain.

        h11 reports a header it refuses by quoting it (``Illegal header value
        b'Bearer ...'``), and the original also holds the request and its
        headers: neither may reach an error a user or a log sees.
        """
        text = self.redact(str(exc))
        try:
            return type(exc)(text)  # httpx's errors take (message, *, request=None)
        except TypeError:  # pragma: no cover - a subclass with another signature
            return httpx.TransportError(text)

    def url_for(self, target: str) -> httpx.URL:
        """An absolute URL for a path relative to the base URL, or an absolute URL."""
        if target.startswith(("http://", "https://")):
            return httpx.URL(target)
        return self._base.join(target.lstrip("/"))

    def same_origin(self, url: httpx.URL) -> bool:
        return _origin(url) == self._origin

    def display_path(self, url: httpx.URL) -> str:
        """The path relative to the base URL (``/backups/?server_id=1``), for messages."""
        base_path = self._base.path.rstrip("/")
        path = url.path
        if self.same_origin(url) and base_path and path.startswith(base_path + "/"):
            path = path[len(base_path) :]
        query = url.query.decode("ascii", "replace")
        return self.redact(path + (f"?{query}" if query else ""))

    def backoff(self, retry: int) -> float:
        """The full-jitter wait before retry ``retry`` (from 1)."""
        return self._rng.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2 ** (retry - 1)))

    # -- sending ---------------------------------------------------------------

    def request(
        self,
        method: str,
        target: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
    ) -> httpx.Response:
        """Send a request with the retry policy; return a 2xx response or raise."""
        method = method.upper()
        url = self.url_for(target)
        if params:
            url = url.copy_merge_params({k: v for k, v in params.items() if v is not None})
        path = self.display_path(url)
        if not self.same_origin(url):
            raise UnexpectedResponseError(
                method,
                path,
                200,
                f"refusing to send the token to another origin ({url.scheme}://{url.host})",
            )
        idempotent = method in IDEMPOTENT_METHODS
        settings = self.settings
        started = self._clock()
        unknown_before = False
        attempt = 0
        while True:
            attempt += 1
            failure: httpx.TransportError | None = None
            try:
                response = self._send_following_redirects(method, url, json, path, attempt)
            except httpx.TransportError as exc:
                failure = exc
            if failure is not None:
                # Handled outside the `except` block, so that the error raised
                # below carries only the cleaned copy, not the original as context.
                never_sent = isinstance(failure, _NEVER_SENT)
                retryable = (idempotent or never_sent) and not isinstance(failure, _NOT_RETRYABLE)
                if retryable:
                    delay = self.backoff(attempt)
                    if self._budget_allows(attempt, started, delay):
                        logger.info(
                            "%s %s: %s; retrying in %.2f s (attempt %d of %d)",
                            method,
                            path,
                            type(failure).__name__,
                            delay,
                            attempt + 1,
                            settings.max_attempts,
                        )
                        unknown_before = unknown_before or not never_sent
                        self._sleep(delay)
                        continue
                clean = self._clean(failure)
                del failure
                raise TransportError(
                    method, path, attempt, clean, outcome_unknown=not never_sent
                ) from clean

            status = response.status_code
            if status < 300:
                return response
            retry_after = parse_retry_after(response, self._wall_clock)
            retryable = status == 429 or (idempotent and status in RETRYABLE_STATUSES)
            if retryable:
                delay = retry_after if retry_after is not None else self.backoff(attempt)
                if self._budget_allows(attempt, started, delay):
                    logger.info(
                        "%s %s: %d; retrying in %.2f s (attempt %d of %d)",
                        method,
                        path,
                        status,
                        delay,
                        attempt + 1,
                        settings.max_attempts,
                    )
                    unknown_before = unknown_before or status != 429
                    self._sleep(delay)
                    continue
            beyond_budget = retryable and attempt < settings.max_attempts
            if status == 429:
                if beyond_budget and retry_after:
                    logger.warning(
                        "%s %s: rate limited; the API asks to wait %.1f s, beyond the retry budget",
                        method,
                        path,
                        retry_after,
                    )
                else:
                    logger.warning(
                        "%s %s: still rate limited after %d attempt(s) over %.1f s",
                        method,
                        path,
                        attempt,
                        self._clock() - started,
                    )
            error = error_from_response(
                method,
                path,
                response,
                attempts=attempt,
                retry_after=retry_after,
                waited=self._clock() - started,
                beyond_budget=beyond_budget,
                redact=self.redact,
            )
            error.retried_after_unknown_outcome = unknown_before
            raise error

    def _budget_allows(self, attempt: int, started: float, delay: float) -> bool:
        if attempt >= self.settings.max_attempts:
            return False
        return (self._clock() - started) + delay <= self.settings.max_retry_seconds

    def _send_following_redirects(
        self, method: str, url: httpx.URL, body: Any, path: str, attempt: int
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.settings.token.reveal()}"}
        hops = 0
        while True:
            request = self._client.build_request(method, url, json=body, headers=headers)
            t0 = self._clock()
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                logger.debug(
                    "%s %s -> %s after %.1f ms (attempt %d)",
                    method,
                    self.display_path(url),
                    type(exc).__name__,
                    (self._clock() - t0) * 1000,
                    attempt,
                )
                raise
            logger.debug(
                "%s %s -> %d in %.1f ms (attempt %d)",
                method,
                self.display_path(url),
                response.status_code,
                (self._clock() - t0) * 1000,
                attempt,
            )
            if not response.is_redirect:
                return response
            target = url.join(response.headers["Location"])
            status = response.status_code
            response.close()
            if not self.same_origin(target):
                logger.warning("%s %s: refused a redirect to another origin", method, path)
                raise RedirectError(
                    method,
                    path,
                    status,
                    self.redact(
                        f"refused to follow a redirect to another origin "
                        f"({target.scheme}://{target.host}); the API token is never sent there"
                    ),
                    attempts=attempt,
                )
            if hops >= MAX_REDIRECTS:
                raise RedirectError(
                    method, path, status, f"more than {MAX_REDIRECTS} redirects", attempts=attempt
                )
            if status not in (307, 308) and method != "GET":
                raise RedirectError(
                    method,
                    path,
                    status,
                    f"a {status} redirect would turn {method} into GET; refusing",
                    attempts=attempt,
                )
            hops += 1
            url = target
