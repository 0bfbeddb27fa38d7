"""Fixtures for running the examples through the engine harness against a fast fake."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from vpsbackup_dev.engine import Engine

from .scenarios import TOKEN, Scenario, namespaced


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    """The demo world on a free loopback port; backups and restores finish at once.

    The clock is frozen, so nothing happens by the passage of time (no expiry, no
    schedule) and every run sees the same world.
    """
    app = FakeVps(
        token=TOKEN,
        clock=FakeClock(scale=0),
        completion="immediate",
        restore_seconds=0,
    )
    with serve(app) as server:
        yield server


@pytest.fixture
def engine_for(tmp_path: Path, fake: FakeServer) -> Callable[[Scenario], Engine]:
    """An engine (one stack, state in tmp_path) for a scenario's example, first config set."""

    def make(scenario: Scenario) -> Engine:
        config = {"vpsbackup:apiUrl": fake.url, "vpsbackup:apiToken": TOKEN}
        config.update(namespaced(scenario.project, scenario.first))
        return Engine(
            tmp_path / f"{scenario.example}.state.json",
            project=scenario.project,
            stack="test",
            config=config,
            secret_keys={"vpsbackup:apiToken"},
            # Settings must come from the stack config, never from the developer's shell.
            env={"VPS_API_TOKEN": "", "VPS_API_URL": ""},
            program=scenario.path,
        )

    return make
