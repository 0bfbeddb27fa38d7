"""Fixtures for the fake's tests: a frozen clock, an in-process client, a served fake.

The clock is frozen (``scale=0``) at a fixed instant so every timestamp is
predictable and time only moves when a test says ``fake.advance(...)``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, launch, serve

from ._support import REPO_ROOT, START, TOKEN, CliFake, make_client


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=START, scale=0)


@pytest.fixture
def fake(clock: FakeClock) -> FakeVps:
    return FakeVps(token=TOKEN, clock=clock)


@pytest.fixture
def client(fake: FakeVps) -> Iterator[httpx.Client]:
    with make_client(fake) as c:
        yield c


@pytest.fixture
def admin(fake: FakeVps) -> Iterator[httpx.Client]:
    """Talks to ``/__fake/`` in-process; needs no token."""
    with httpx.Client(
        transport=httpx.WSGITransport(app=fake), base_url="http://fake.test/__fake"
    ) as c:
        yield c


@pytest.fixture
def served(fake: FakeVps) -> Iterator[FakeServer]:
    with serve(fake) as server:
        yield server


@pytest.fixture
def http(served: FakeServer) -> Iterator[httpx.Client]:
    """A real-HTTP client for the served fake."""
    with httpx.Client(
        base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10
    ) as c:
        yield c


@pytest.fixture
def start_cli() -> Iterator[Callable[..., CliFake]]:
    """Factory for CLI fakes; every one started is terminated and waited for."""
    started: list[CliFake] = []

    def start(*args: str, env: dict[str, str] | None = None) -> CliFake:
        cli = launch(*args, env=env, cwd=REPO_ROOT)
        started.append(cli)
        return cli

    yield start
    for cli in started:
        cli.stop()
