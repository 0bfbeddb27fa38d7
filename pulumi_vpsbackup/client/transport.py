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

A request that gets no answer raises :class:`TransportError` naming the
origin it tried (``scheme://host:port``, never the query or a credential).

Safety: TLS verification is always on; every request has a timeout; redirects
are followed by hand, at most 3 and only to the same scheme, host and port (the
``Authorization`` header never goes anywhere else); 301/302/303 are followed for
GET only. The token appears only in the ``Authorization`` header and is masked
in any text the API echoes back.
"""

from __future__ import annotations

import email.utils
import logging
import ssl
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .errors import ApiError, RedirectError, TransportError, UnexpectedResponseError
from .polling import Timing
from .responses import error_from_response
from .secret import redact
from .settings import ClientSettings

__all__ = ["HttpSession", "origin_text", "parse_retry_after"]

logger = logging.getLogger("pulumi_vpsbackup.client")

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0
MAX_REDIRECTS = 3
RETRYABLE_STATUSES = frozenset({429, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "DELETE", "PUT"})
_NEVER_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
_NOT_RETRYABLE = (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL)


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


def _origin(url: httpx.URL) -> tuple[str, str, int]:
    default = 443 if url.scheme == "https" else 80
    return (url.scheme, url.host, url.port or default)


def origin_text(url: httpx.URL) -> str:
    """``scheme://host:port`` of ``url``, the port always shown; no path, query or userinfo."""
    scheme, host, port = _origin(url)
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    return f"{scheme}://{host}:{port}"


class HttpSession:
    """One ``httpx.Client`` plus the retry policy in the module docstring.

    Thread-safe: ``httpx.Client`` pools connections safely and nothing here
    keeps per-call state on the instance.
    """

    def __init__(
        self,
        settings: ClientSettings,
        *,
        transport: httpx.BaseTransport | None = None,
        timing: Timing | None = None,
    ) -> None:
        self.settings = settings
        self.timing = timing if timing is not None else Timing()
        self._sleep = self.timing.sleep
        self._clock = self.timing.clock
        self._wall_clock = self.timing.wall_clock
        self._rng = self.timing.rng
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
        if not self.same_origin(url):
            raise UnexpectedResponseError(
                method,
                self.display_path(url),
                200,
                f"refusing to send the token to another origin ({url.scheme}://{url.host})",
            )
        idempotent = method in IDEMPOTENT_METHODS
        started = self._clock()
        unknown_before = False
        attempt = 0
        while True:
            attempt += 1
            failure: httpx.TransportError | None = None
            response: httpx.Response | None = None
            retry_after: float | None = None
            try:
                response = self._send_following_redirects(method, url, json, attempt)
            except httpx.TransportError as exc:
                failure = exc
            # Decided outside the `except` block, so that an error raised below
            # carries only a cleaned copy of the failure, not the original as context.
            if failure is not None:
                never_sent = isinstance(failure, _NEVER_SENT)
                retryable = (idempotent or never_sent) and not isinstance(failure, _NOT_RETRYABLE)
                outcome_unknown = not never_sent
                what = type(failure).__name__
            else:
                assert response is not None
                if response.status_code < 300:
                    return response
                retry_after = parse_retry_after(response, self._wall_clock)
                status = response.status_code
                retryable = status == 429 or (idempotent and status in RETRYABLE_STATUSES)
                outcome_unknown = status != 429
                what = str(status)
            # Only a failure needs the path in words (redacting it costs more than
            # the rest of a loopback request's own work).
            path = self.display_path(url)
            if retryable:
                delay = retry_after if retry_after is not None else self.backoff(attempt)
                if self._budget_allows(attempt, started, delay):
                    logger.info(
                        "%s %s: %s; retrying in %.2f s (attempt %d of %d)",
                        method,
                        path,
                        what,
                        delay,
                        attempt + 1,
                        self.settings.max_attempts,
                    )
                    unknown_before = unknown_before or outcome_unknown
                    self._sleep(delay)
                    continue
            if failure is not None:
                clean = self._clean(failure)
                del failure
                raise TransportError(
                    method,
                    path,
                    attempt,
                    clean,
                    outcome_unknown=outcome_unknown,
                    origin=self.redact(origin_text(url)),
                ) from clean
            assert response is not None
            error = self._error(method, path, response, attempt, started, retryable, retry_after)
            error.retried_after_unknown_outcome = unknown_before
            raise error

    def _error(
        self,
        method: str,
        path: str,
        response: httpx.Response,
        attempt: int,
        started: float,
        retryable: bool,
        retry_after: float | None,
    ) -> ApiError:
        """The error for a final error response, after logging a rate limit."""
        waited = self._clock() - started
        beyond_budget = retryable and attempt < self.settings.max_attempts
        if response.status_code == 429:
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
                    waited,
                )
        return error_from_response(
            method,
            path,
            response,
            attempts=attempt,
            retry_after=retry_after,
            waited=waited,
            beyond_budget=beyond_budget,
            redact=self.redact,
        )

    def _budget_allows(self, attempt: int, started: float, delay: float) -> bool:
        if attempt >= self.settings.max_attempts:
            return False
        return (self._clock() - started) + delay <= self.settings.max_retry_seconds

    def _send_following_redirects(
        self, method: str, url: httpx.URL, body: Any, attempt: int
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.settings.token.reveal()}"}
        asked = url  # what messages name, wherever a redirect leads
        debug = logger.isEnabledFor(logging.DEBUG)
        hops = 0
        while True:
            request = self._client.build_request(method, url, json=body, headers=headers)
            t0 = self._clock()
            try:
                response = self._client.send(request)
            except httpx.TransportError as exc:
                if debug:
                    logger.debug(
                        "%s %s -> %s after %.1f ms (attempt %d)",
                        method,
                        self.display_path(url),
                        type(exc).__name__,
                        (self._clock() - t0) * 1000,
                        attempt,
                    )
                raise
            if debug:
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
            path = self.display_path(asked)
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
