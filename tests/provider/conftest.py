"""Fixtures: one fake API served on 127.0.0.1 and one real SDK provider host per module.

The host is a separate process (`python -u -m pulumi.dynamic`), so it reaches the
fake over real HTTP, exactly as a `pulumi up` would reach VPS.org. Each test gets
the fake reset to the demo world with a frozen clock; completion is driven by
list reads so waiting is fast and deterministic.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from pulumi_vpsbackup.fake import Behaviour, FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.provider import BackupProvider, RestoreProvider
from tests.support.keys import key_for
from vpsbackup_dev.host import ProviderHost, serialize_provider, urn

TOKEN = "vps_provider_tests_5f1c2d9e8a7b"
BACKUP_TYPE = "pulumi-python:dynamic/vpsbackup:Backup"
RESTORE_TYPE = "pulumi-python:dynamic/vpsbackup:Restore"
BACKUP_PROVIDER = serialize_provider(BackupProvider())
RESTORE_PROVIDER = serialize_provider(RestoreProvider())


def host_config(url: str) -> dict[str, str]:
    return {
        "vpsbackup:apiToken": TOKEN,
        "vpsbackup:apiUrl": url,
        "vpsbackup:pollInterval": "0.02",
        "vpsbackup:maxPollInterval": "0.1",
    }


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN, world="demo", clock=FakeClock(scale=0))
    with serve(app) as server:
        yield server


@pytest.fixture
def fake(served: FakeServer) -> FakeVps:
    app = served.app
    app.set_behaviour(Behaviour(completion="reads", completion_reads=2))
    app.reset(world="demo")
    return app


@pytest.fixture(scope="module")
def host(served: FakeServer) -> Iterator[ProviderHost]:
    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as h:
        h.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})
        yield h


@dataclass
class Resource:
    """What the engine keeps for one resource between calls."""

    urn: str
    id: str = ""
    inputs: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)


class Engine:
    """The engine's call sequences for one resource type, step by step."""

    def __init__(self, host: ProviderHost, type_: str, provider: str) -> None:
        self.host = host
        self.type = type_
        self.provider = provider

    def props(self, **inputs: Any) -> dict[str, Any]:
        return {**inputs, "__provider": self.provider}

    def check(self, name: str, news: dict[str, Any], olds: dict[str, Any] | None = None):
        return self.host.check(urn(self.type, name), olds or {}, self.props(**news))

    def create(self, name: str, **inputs: Any) -> Resource:
        checked, failures = self.check(name, inputs)
        assert failures == [], failures
        res = Resource(urn(self.type, name), inputs=checked)
        res.id, res.outputs = self.host.create(res.urn, checked)
        return res

    def diff(self, res: Resource, **inputs: Any):
        checked, failures = self.host.check(res.urn, res.inputs, self.props(**inputs))
        assert failures == [], failures
        return checked, self.host.diff(res.id, res.urn, res.outputs, checked)

    def delete(self, res: Resource) -> None:
        self.host.delete(res.id, res.urn, res.outputs)


class NamedEngine(Engine):
    """Engine steps for a resource whose class adds hidden inputs (key and name):
    `BackupRotation` and `BackupFleet`."""

    def inputs(self, name: str, **inputs: Any) -> dict[str, Any]:
        return {
            "resource_key": key_for(name, self.type.rsplit(":", 1)[-1]),
            "resource_name": name,
            **inputs,
        }

    def make(self, name: str, **inputs: Any) -> Resource:
        return self.create(name, **self.inputs(name, **inputs))

    def change(self, res: Resource, **inputs: Any) -> Any:
        """check, diff and (when the diff says so) update; returns the diff."""
        name = res.urn.split("::")[-1]
        checked, outcome = self.diff(res, **self.inputs(name, **inputs))
        assert not outcome.replaces, outcome
        if outcome.changes:
            res.outputs = self.host.update(res.id, res.urn, res.outputs, checked)
            res.inputs = checked
        return outcome

    def read(self, res: Resource) -> tuple[str, dict[str, Any]]:
        id_, outs, _ = self.host.read(res.id, res.urn, res.outputs, res.inputs)
        return id_, outs


@pytest.fixture
def backups(host: ProviderHost) -> Engine:
    return Engine(host, BACKUP_TYPE, BACKUP_PROVIDER)


@pytest.fixture
def restores(host: ProviderHost) -> Engine:
    return Engine(host, RESTORE_TYPE, RESTORE_PROVIDER)


def fake_backups(app: FakeVps, server_id: int | None = None) -> dict[int, dict[str, Any]]:
    return {
        b["id"]: b
        for b in app.state()["backups"]
        if server_id is None or b["server"]["id"] == server_id
    }


def api_requests(app: FakeVps) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in app.requests()]
