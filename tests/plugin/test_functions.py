"""The plugin's functions (Invoke) over gRPC: waitForBackups as the Python function
behaves, and every function on the configured provider's own client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_vpsbackup.client import VpsClient
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.plugin import provider as native
from pulumi_vpsbackup.plugin import wire
from pulumi_vpsbackup.plugin.provider import IDENTITY_KEY, NativeProvider
from tests.plugin.conftest import IDENTITY
from tests.programs.scenarios import TOKEN, WEB_SERVER

Stub = provider_pb2_grpc.ResourceProviderStub
URN = "urn:pulumi:test::proj::vpsbackup:index:Backup::b"
WAIT = "vpsbackup:index:waitForBackups"


@pytest.fixture
def slow() -> Iterator[FakeServer]:
    """A fake whose backups take 1 s of real time."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=1)
    with serve(app) as server:
        yield server


def configure_fast(stub: Stub, url: str) -> None:
    """Configured to poll every 0.1 s (the waits here take about a second)."""
    args = {
        "apiUrl": url,
        "apiToken": TOKEN,
        "pollInterval": 0.1,
        "maxPollInterval": 0.2,
        IDENTITY_KEY: IDENTITY,
    }
    stub.Configure(provider_pb2.ConfigureRequest(args=wire.to_struct(args, {"apiToken"})))


def started(stub: Stub) -> int:
    """A backup of the web server, created without waiting: its id."""
    news = wire.to_struct({"serverId": WEB_SERVER, "waitForCompletion": False})
    inputs = stub.Check(provider_pb2.CheckRequest(urn=URN, news=news)).inputs
    made = stub.Create(provider_pb2.CreateRequest(urn=URN, properties=inputs))
    assert wire.from_struct(made.properties)[0]["status"] == "in_progress"
    return int(made.id)


def invoke(stub: Stub, args: dict[str, Any], tok: str = WAIT) -> dict[str, Any]:
    resp = stub.Invoke(provider_pb2.InvokeRequest(tok=tok, args=wire.to_struct(args)))
    return wire.from_struct(getattr(resp, "return"))[0]


def test_wait_for_backups_returns_them_completed_in_the_order_given(
    plugin: Stub, slow: FakeServer
) -> None:
    configure_fast(plugin, slow.url)
    first, second = started(plugin), started(plugin)

    result = invoke(plugin, {"backupIds": [second, first], "timeout": "1m"})

    assert [b["id"] for b in result["backups"]] == [second, first]
    assert {b["status"] for b in result["backups"]} == {"completed"}
    assert result["backups"][0]["serverId"] == WEB_SERVER
    assert invoke(plugin, {"backupIds": []}) == {"backups": []}


def test_wait_for_backups_errors_name_the_function_and_the_backup(
    plugin: Stub, slow: FakeServer
) -> None:
    configure_fast(plugin, slow.url)
    backup_id = started(plugin)
    invoke(plugin, {"backupIds": [backup_id]})
    slow.app.set_behaviour(backup_seconds=60)
    running = started(plugin)

    with pytest.raises(grpc.RpcError) as caught:
        invoke(plugin, {"backupIds": [backup_id, running], "timeout": 1})
    details = caught.value.details()
    assert details.startswith("waitForBackups: "), details
    assert f"Timed out waiting for backup {running}: still in_progress" in details, details
    assert "Traceback" not in details

    with pytest.raises(grpc.RpcError) as caught:
        invoke(plugin, {"backupIds": [987654]})
    assert "987654" in caught.value.details() and "disappeared" in caught.value.details()

    with pytest.raises(grpc.RpcError) as caught:
        invoke(plugin, {"backupIds": [0]})
    assert caught.value.details().startswith("waitForBackups: backupIds: "), caught.value.details()

    with pytest.raises(grpc.RpcError) as caught:
        invoke(plugin, {"backupIds": [backup_id], "timeout": "soon"})
    assert "timeout" in caught.value.details() and "45m" in caught.value.details()

    with pytest.raises(grpc.RpcError) as caught:
        invoke(plugin, {"backupIds": [backup_id], "serverId": 1})
    assert "serverId is not an argument; allowed: backupIds, timeout" in caught.value.details()
    slow.app.remove_backup(running)


def test_every_function_uses_the_configured_providers_one_client(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No client (connections, token) per call: the one the provider was configured with."""
    made: list[VpsClient] = []
    original = VpsClient.__init__

    def counted(self: VpsClient, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(VpsClient, "__init__", counted)
    provider = NativeProvider()
    provider.configure({"apiUrl": fake.url, "apiToken": TOKEN, IDENTITY_KEY: IDENTITY}, {})
    listed = provider.invoke(native.GET_BACKUPS, {"serverId": WEB_SERVER})
    latest = provider.invoke(native.GET_LATEST_BACKUP, {"serverId": WEB_SERVER})
    ids = [b["id"] for b in listed["backups"] if b["status"] == "completed"][:2]
    waited = provider.invoke(WAIT, {"backupIds": ids})
    provider.invoke(native.GET_BACKUPS, {})

    assert latest["id"] == ids[0]
    assert [b["id"] for b in waited["backups"]] == ids
    assert len(made) == 1, "one client for the provider, none per call"
