"""The retry policy, Retry-After, budgets and redirect rules, request by request."""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any

import httpx
import pytest

from pulumi_vpsbackup.client import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ClientSettings,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    RedirectError,
    Secret,
    ServerError,
    TransportError,
)
from pulumi_vpsbackup.client.polling import Timing
from pulumi_vpsbackup.client.transport import BACKOFF_CAP, HttpSession

from .conftest import BASE, TOKEN, ManualClock, Script, json_response

OK = httpx.Response(200, json={"count": 0, "results": []})


def make_transport(clock: ManualClock, *steps: Any, **overrides: Any) -> tuple[HttpSession, Script]:
    script = Script(list(steps))
    settings = ClientSettings(token=Secret(TOKEN), base_url=BASE, **overrides)
    transport = HttpSession(
        settings,
        transport=httpx.MockTransport(script),
        timing=Timing(clock.sleep, clock, lambda: 1_700_000_000.0, random.Random(3)),
    )
    return transport, script


TRANSIENT_FAILURES = [
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.RemoteProtocolError,
    httpx.ReadError,
    json_response(429, {"detail": "slow down"}),
    json_response(502),
    json_response(503),
    json_response(504),
]


@pytest.mark.parametrize("method", ["GET", "DELETE"])
@pytest.mark.parametrize("failure", TRANSIENT_FAILURES, ids=repr)
def test_idempotent_requests_retry_transient_failures(
    clock: ManualClock, method: str, failure: Any
) -> None:
    transport, script = make_transport(clock, failure, OK)
    response = transport.request(method, "/backups/")
    assert response.status_code == 200
    assert script.calls == [f"{method} /backups/", f"{method} /backups/"]
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= 0.5  # first retry: full jitter within 0.5 s


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (404, NotFoundError),
        (409, ConflictError),
        (422, ApiError),
        (500, ServerError),
    ],
)
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST"])
def test_client_errors_and_500_are_not_retried(
    clock: ManualClock, method: str, status: int, error: type[Exception]
) -> None:
    transport, script = make_transport(clock, json_response(status, {"detail": "no"}))
    with pytest.raises(error) as info:
        transport.request(method, "/backups/", json={} if method == "POST" else None)
    assert len(script.requests) == 1
    assert clock.sleeps == []
    assert info.value.attempts == 1  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "failure", [httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout], ids=repr
)
def test_post_is_retried_when_it_never_left(clock: ManualClock, failure: Any) -> None:
    created = httpx.Response(201, json={"id": 1})
    transport, script = make_transport(clock, failure, failure, created)
    assert transport.request("POST", "/backups/", json={"server_id": 1}).status_code == 201
    assert script.calls == ["POST /backups/"] * 3
    assert script.bodies() == [{"server_id": 1}] * 3


def test_post_is_retried_after_429(clock: ManualClock) -> None:
    transport, script = make_transport(
        clock, json_response(429, {"detail": "throttled"}, **{"Retry-After": "2"}), OK
    )
    transport.request("POST", "/backups/", json={"server_id": 1})
    assert len(script.requests) == 2
    assert clock.sleeps == [2.0]


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout,
        httpx.WriteTimeout,
        httpx.RemoteProtocolError,
        httpx.ReadError,
    ],
    ids=repr,
)
def test_post_is_not_retried_once_it_may_have_arrived(clock: ManualClock, failure: Any) -> None:
    transport, script = make_transport(clock, failure)
    with pytest.raises(TransportError) as info:
        transport.request("POST", "/backups/", json={"server_id": 1})
    assert len(script.requests) == 1
    assert info.value.outcome_unknown is True
    assert info.value.attempts == 1
    assert "POST /backups/ got no answer from https://api.example.test:443 after 1 attempt" in str(
        info.value
    )


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_post_server_errors_are_raised_as_unknown_outcome(clock: ManualClock, status: int) -> None:
    transport, script = make_transport(
        clock, json_response(status, {"detail": "oops"}, **{"Retry-After": "1"})
    )
    with pytest.raises(ServerError) as info:
        transport.request("POST", "/backups/", json={"server_id": 1})
    assert len(script.requests) == 1
    assert info.value.outcome_unknown is True


def test_post_connect_error_exhausted_is_known_not_applied(clock: ManualClock) -> None:
    transport, script = make_transport(clock, *([httpx.ConnectError] * 5), max_attempts=5)
    with pytest.raises(TransportError) as info:
        transport.request("POST", "/backups/", json={})
    assert len(script.requests) == 5
    assert info.value.outcome_unknown is False
    assert info.value.attempts == 5


def test_attempt_bound(clock: ManualClock) -> None:
    transport, script = make_transport(clock, *([json_response(503)] * 10), max_attempts=3)
    with pytest.raises(ServerError) as info:
        transport.request("GET", "/backups/")
    assert len(script.requests) == 3
    assert info.value.attempts == 3
    assert len(clock.sleeps) == 2


def test_time_bound_stops_before_the_budget_is_exceeded(clock: ManualClock) -> None:
    slow = [json_response(503, None, **{"Retry-After": "4"})] * 10
    transport, script = make_transport(clock, *slow, max_attempts=10, max_retry_seconds=10)
    with pytest.raises(ServerError):
        transport.request("GET", "/backups/")
    # 4 + 4 = 8 s fits; a third wait would end at 12 s > 10 s.
    assert clock.sleeps == [4.0, 4.0]
    assert len(script.requests) == 3


def test_time_spent_in_requests_counts_against_the_budget(clock: ManualClock) -> None:
    def slow_failure(request: httpx.Request) -> httpx.Response:
        clock.advance(9)
        return httpx.Response(502)

    transport, script = make_transport(
        clock, slow_failure, slow_failure, OK, max_attempts=5, max_retry_seconds=10
    )
    with pytest.raises(ServerError):
        transport.request("GET", "/backups/")
    assert len(script.requests) == 2


def test_backoff_is_full_jitter_and_capped(clock: ManualClock) -> None:
    transport, _script = make_transport(
        clock, *([json_response(502)] * 8), OK, max_attempts=9, max_retry_seconds=1000
    )
    transport.request("GET", "/backups/")
    assert len(clock.sleeps) == 8
    for n, slept in enumerate(clock.sleeps, start=1):
        assert 0 <= slept <= min(BACKOFF_CAP, 0.5 * 2 ** (n - 1))
    # Jitter really varies the waits.
    assert len(set(clock.sleeps)) == len(clock.sleeps)


def test_retry_after_seconds_is_honoured(clock: ManualClock) -> None:
    transport, _script = make_transport(
        clock, json_response(429, {"detail": "x"}, **{"Retry-After": "7"}), OK
    )
    transport.request("GET", "/backups/")
    assert clock.sleeps == [7.0]


def test_retry_after_http_date_is_read_against_the_date_header(clock: ManualClock) -> None:
    server_now = datetime(2025, 1, 16, 12, 0, 0, tzinfo=timezone.utc)
    headers = {
        "Date": format_datetime(server_now, usegmt=True),
        "Retry-After": format_datetime(server_now + timedelta(seconds=12), usegmt=True),
    }
    transport, _script = make_transport(clock, json_response(503, None, **headers), OK)
    transport.request("GET", "/backups/")
    assert clock.sleeps == [12.0]


def test_retry_after_http_date_without_date_header_uses_the_wall_clock(
    clock: ManualClock,
) -> None:
    when = datetime.fromtimestamp(1_700_000_000 + 5, tz=timezone.utc)
    transport, _ = make_transport(
        clock, json_response(429, None, **{"Retry-After": format_datetime(when, usegmt=True)}), OK
    )
    transport.request("GET", "/backups/")
    assert clock.sleeps == [5.0]


def test_retry_after_beyond_the_budget_raises_at_once(clock: ManualClock) -> None:
    transport, script = make_transport(
        clock,
        json_response(429, {"detail": "Request was throttled."}, **{"Retry-After": "120"}),
        max_retry_seconds=60,
    )
    with pytest.raises(RateLimitedError) as info:
        transport.request("GET", "/backups/")
    assert len(script.requests) == 1
    assert clock.sleeps == []
    assert info.value.retry_after == 120.0
    assert "retry in 120 s" in str(info.value)


def test_unparseable_retry_after_falls_back_to_backoff(clock: ManualClock) -> None:
    transport, _ = make_transport(
        clock, json_response(429, None, **{"Retry-After": "soon-ish"}), OK
    )
    transport.request("GET", "/backups/")
    assert 0 <= clock.sleeps[0] <= 0.5


def test_rate_limit_exhausting_attempts_raises_rate_limited(clock: ManualClock) -> None:
    transport, _script = make_transport(
        clock, *([json_response(429, None, **{"Retry-After": "1"})] * 3), max_attempts=3
    )
    with pytest.raises(RateLimitedError) as info:
        transport.request("GET", "/backups/")
    assert info.value.attempts == 3
    assert clock.sleeps == [1.0, 1.0]


def test_every_request_carries_auth_user_agent_and_a_timeout(clock: ManualClock) -> None:
    transport, script = make_transport(clock, OK, timeout=12.5)
    transport.request("GET", "/backups/", params={"server_id": 5, "backup_type": None})
    request = script.requests[0]
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["User-Agent"].startswith("pulumi-vpsbackup/")
    assert " httpx/" in request.headers["User-Agent"]
    assert request.extensions["timeout"] == {
        "connect": 12.5,
        "read": 12.5,
        "write": 12.5,
        "pool": 12.5,
    }
    assert str(request.url) == f"{BASE}/backups/?server_id=5"


def test_same_origin_redirects_are_followed(clock: ManualClock) -> None:
    transport, script = make_transport(
        clock,
        httpx.Response(301, headers={"Location": "/api/v1/backups/?page=1"}),
        httpx.Response(302, headers={"Location": f"{BASE}/backups/?page=2"}),
        OK,
    )
    assert transport.request("GET", "/backups").status_code == 200
    assert script.calls == ["GET /backups", "GET /backups/?page=1", "GET /backups/?page=2"]
    assert all(r.headers["Authorization"] == f"Bearer {TOKEN}" for r in script.requests)


def test_more_than_three_redirects_are_refused(clock: ManualClock) -> None:
    loop = httpx.Response(302, headers={"Location": "/api/v1/backups/"})
    transport, script = make_transport(clock, loop, loop, loop, loop, OK)
    with pytest.raises(RedirectError, match="more than 3 redirects"):
        transport.request("GET", "/backups/")
    assert len(script.requests) == 4


@pytest.mark.parametrize(
    "location",
    [
        "https://evil.example/api/v1/backups/",
        "http://api.example.test/api/v1/backups/",
        "https://api.example.test:8443/api/v1/backups/",
    ],
)
def test_redirect_to_another_origin_is_refused(clock: ManualClock, location: str) -> None:
    transport, script = make_transport(
        clock, httpx.Response(302, headers={"Location": location}), OK
    )
    with pytest.raises(RedirectError, match="another origin") as info:
        transport.request("GET", "/backups/")
    # Nothing was sent to the other origin: only the first request went out.
    assert [str(r.url) for r in script.requests] == [f"{BASE}/backups/"]
    assert info.value.status_code == 302
    assert not info.value.outcome_unknown


def test_post_follows_307_with_its_body_but_refuses_302(clock: ManualClock) -> None:
    transport, script = make_transport(
        clock,
        httpx.Response(307, headers={"Location": "/api/v1/backups/new/"}),
        httpx.Response(201, json={"id": 1}),
    )
    transport.request("POST", "/backups/", json={"server_id": 9})
    assert script.calls == ["POST /backups/", "POST /backups/new/"]
    assert script.bodies() == [{"server_id": 9}, {"server_id": 9}]

    transport, script = make_transport(
        clock, httpx.Response(302, headers={"Location": "/api/v1/elsewhere/"})
    )
    with pytest.raises(RedirectError, match="turn POST into GET"):
        transport.request("POST", "/backups/", json={"server_id": 9})
    assert len(script.requests) == 1


def test_absolute_target_on_another_origin_is_refused(clock: ManualClock) -> None:
    transport, script = make_transport(clock)
    with pytest.raises(Exception, match="another origin"):
        transport.request("GET", "https://evil.example/api/v1/backups/?page=2")
    assert script.requests == []


def test_logging_records_each_attempt_and_retries(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pulumi_vpsbackup.client")
    transport, _ = make_transport(clock, json_response(503), OK)
    transport.request("GET", "/backups/", params={"server_id": 3})
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert debug[0].startswith("GET /backups/?server_id=3 -> 503 in ")
    assert debug[0].endswith("(attempt 1)")
    assert debug[1].endswith("(attempt 2)")
    info = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert len(info) == 1 and "503; retrying in" in info[0]
    assert all(r.name == "pulumi_vpsbackup.client" for r in caplog.records)


@pytest.mark.parametrize("retry_after", ["0", "0.2", None])
def test_rate_limit_exhausting_attempts_says_what_happened(
    clock: ManualClock, caplog: pytest.LogCaptureFixture, retry_after: str | None
) -> None:
    """The attempts ran out: the error says so, not that the API asked for a wait
    longer than the retry budget."""
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    answers = [json_response(429, {"detail": "Request was throttled."}, **headers)] * 4
    transport, script = make_transport(clock, *answers, max_attempts=4)
    caplog.set_level(logging.WARNING, logger="pulumi_vpsbackup.client")
    with pytest.raises(RateLimitedError) as info:
        transport.request("GET", "/backups/")
    text = str(info.value)
    waited = sum(clock.sleeps)
    assert len(script.requests) == 4 and info.value.attempts == 4
    assert f"kept refusing with 429 Too Many Requests after 4 attempts over {waited:.1f} s" in text
    assert "retry later, or run fewer operations at once" in text
    assert "wait 0 s" not in text and "more than the retry budget" not in text
    if retry_after == "0.2":
        assert "(its last Retry-After: 0.2 s)" in text
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "still rate limited after 4 attempt(s)" in logged and "asks to wait" not in logged


def test_rate_limit_beyond_the_time_budget_with_zero_retry_after(clock: ManualClock) -> None:
    clock_step = [json_response(429, None, **{"Retry-After": "0"})] * 3

    def slow(request: httpx.Request) -> httpx.Response:
        clock.advance(40)  # each answer takes 40 s: the 60 s budget ends first
        return clock_step.pop()

    transport, _ = make_transport(clock, slow, slow, max_attempts=5, max_retry_seconds=60)
    with pytest.raises(RateLimitedError) as info:
        transport.request("GET", "/backups/")
    assert "after 2 attempts over 80.0 s" in str(info.value)
    assert "wait 0 s" not in str(info.value)
