"""Fixtures for the client tests: a scripted HTTP transport and a fake clock."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from pulumi_vpsbackup.client import ClientSettings, PollPolicy, Secret, VpsClient

TOKEN = "vps_test_5ecret_T0ken_abcdef123456"
BASE = "https://api.example.test/api/v1"

Step = Callable[[httpx.Request], httpx.Response] | httpx.Response | type[Exception] | Exception


class ManualClock:
    """A monotonic clock that only moves when something sleeps or advances it."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds >= 0, seconds
        self.sleeps.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


def json_response(status: int, body: Any = None, **headers: str) -> httpx.Response:
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers=headers)


@dataclass
class Script:
    """Answers requests from a list of steps, in order, and records every request.

    A step is a response, an exception (class or instance; raised with the
    request attached) or a function of the request. Running out of steps fails
    the test, so an extra request never goes unnoticed.
    """

    steps: list[Step] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)

    def add(self, *steps: Step) -> Script:
        self.steps.extend(steps)
        return self

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if not self.steps:
            raise AssertionError(f"unexpected request {request.method} {request.url}")
        step = self.steps.pop(0)
        if isinstance(step, type) and issubclass(step, Exception):
            step = step("scripted failure", request=request)  # type: ignore[call-arg]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    @property
    def calls(self) -> list[str]:
        """``"METHOD /path?query"`` with the base path removed."""
        out = []
        for r in self.requests:
            path = r.url.raw_path.decode()
            path = path.removeprefix("/api/v1")
            out.append(f"{r.method} {path}")
        return out

    def bodies(self) -> list[Any]:
        return [json.loads(r.content) if r.content else None for r in self.requests]


@dataclass
class Harness:
    script: Script
    clock: ManualClock
    client: VpsClient


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
def make_client(
    clock: ManualClock,
) -> Iterator[Callable[..., Harness]]:
    made: list[VpsClient] = []

    def factory(*steps: Step, **overrides: Any) -> Harness:
        script = Script(list(steps))
        overrides.setdefault("poll", PollPolicy(initial=1.0, factor=2.0, max_interval=8.0))
        settings = ClientSettings(token=Secret(TOKEN), base_url=BASE, **overrides)
        client = VpsClient(
            settings,
            transport=httpx.MockTransport(script),
            sleep=clock.sleep,
            clock=clock,
            wall_clock=lambda: 1_700_000_000.0 + clock.now,
            rng=random.Random(7),
        )
        made.append(client)
        return Harness(script, clock, client)

    yield factory
    for client in made:
        client.close()


def backup_json(
    backup_id: int,
    server_id: int = 12345,
    *,
    status: str = "completed",
    backup_type: str = "manual",
    description: str | None = "nightly",
    **extra: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": backup_id,
        "server": {"id": server_id, "name": f"srv-{server_id}"},
        "backup_type": backup_type,
        "status": status,
        "size_mb": 100 if status == "completed" else None,
        "created_at": "2025-01-16T03:00:00Z",
        "expires_at": None,
        "description": description,
    }
    body.update(extra)
    return body


def page(
    *items: dict[str, Any], next_url: str | None = None, count: int | None = None
) -> httpx.Response:
    """One page of a listing; ``count`` is the total over all pages (DRF's meaning)."""
    body: dict[str, Any] = {"count": len(items) if count is None else count, "results": list(items)}
    if next_url is not None:
        body["next"] = next_url
    return httpx.Response(200, json=body)


def server_json(server_id: int = 12345, status: str = "active", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": server_id,
        "name": f"srv-{server_id}",
        "hostname": f"srv-{server_id}.example",
        "status": status,
        "ip_address": "192.0.2.10",
        "location": "fra1",
        "plan": {"id": 1, "name": "small"},
        "os": {"id": 2, "name": "debian-12"},
        "created_at": "2024-05-01T10:00:00Z",
        "updated_at": "2025-01-16T03:00:00Z",
    }
    body.update(extra)
    return body
