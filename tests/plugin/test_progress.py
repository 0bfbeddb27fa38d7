"""The plugin's progress while it waits: the engine's `Log`, ephemeral, with the resource's URN.

A stand-in for the engine's own gRPC service (`pulumirpc.Engine`, the
address the engine starts every plugin with) records what the plugin sends;
the real CLI's display of it is in tests/cli/test_plugin_cli.py.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, provider_pb2

from pulumi_vpsbackup.fake import FakeClock, FakeVps, serve
from pulumi_vpsbackup.plugin import wire
from pulumi_vpsbackup.plugin.provider import IDENTITY_KEY
from pulumi_vpsbackup.plugin.server import EngineLog
from tests.plugin.conftest import IDENTITY, configure, running_plugin
from tests.programs.scenarios import TOKEN

URN = "urn:pulumi:test::proj::vpsbackup:index:Backup::b"
WAITING = re.compile(r"^backup (\d+) of server 12345 is in_progress after \d+s \(timeout 30s\)$")


class Engine(engine_pb2_grpc.EngineServicer):
    def __init__(self) -> None:
        self.logged: list[engine_pb2.LogRequest] = []
        self.lock = threading.Lock()

    def Log(self, request, context):
        with self.lock:
            self.logged.append(request)
        return empty_pb2.Empty()


@pytest.fixture
def engine() -> Iterator[tuple[Engine, str]]:
    recorder = Engine()
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    engine_pb2_grpc.add_EngineServicer_to_server(recorder, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield recorder, f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None)


def test_a_waiting_create_sends_ephemeral_status_with_the_resources_urn(
    engine: tuple[Engine, str],
) -> None:
    recorder, address = engine
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=2)
    with serve(app) as slow, running_plugin(engine=address) as stub:
        config = {"apiUrl": slow.url, "apiToken": TOKEN, IDENTITY_KEY: IDENTITY}
        config["pollInterval"] = "0.3"
        stub.Configure(
            provider_pb2.ConfigureRequest(
                args=wire.to_struct(config, {"apiToken"}), acceptSecrets=True
            )
        )
        checked = stub.Check(
            provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({"serverId": 12345}))
        )
        made = stub.Create(
            provider_pb2.CreateRequest(urn=URN, properties=checked.inputs, timeout=30)
        )
        assert wire.from_struct(made.properties)[0]["status"] == "completed"
    logged = list(recorder.logged)
    waiting = [r for r in logged if WAITING.match(r.message)]
    assert waiting, [r.message for r in logged]
    assert {WAITING.match(r.message).group(1) for r in waiting} == {made.id}  # type: ignore[union-attr]
    for request in logged:
        assert request.urn == URN, request
        assert request.ephemeral, "a status message, not a diagnostic kept for the summary"
        assert request.severity == engine_pb2.INFO
        assert TOKEN not in request.message


def test_without_an_engine_the_progress_goes_to_stderr(capsys: pytest.CaptureFixture[str]) -> None:
    log = EngineLog("127.0.0.1:1")  # nothing answers there
    log.status(URN, "backup 7 of server 1 is in_progress after 3s (timeout 30s)")
    log.status(URN, "backup 7 of server 1 is in_progress after 6s (timeout 30s)")
    assert log.failed == "UNAVAILABLE"
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "vpsbackup: backup 7 of server 1 is in_progress after 3s (timeout 30s)",
        "vpsbackup: backup 7 of server 1 is in_progress after 6s (timeout 30s)",
    ]
    log.close()
    assert EngineLog(None).failed == "no engine address"


def test_a_checks_warning_is_a_diagnostic_of_the_resource_in_the_schemas_words(
    engine: tuple[Engine, str],
) -> None:
    """The engine hides a plugin's stderr: a warning written there never showed."""
    recorder, address = engine
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate")
    for i in range(10):
        app.seed_backup(server_id=12346, backup_type="manual", description=f"kept {i}")
    with serve(app) as fake, running_plugin(engine=address) as stub:
        configure(stub, fake.url)
        stub.Check(provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({"serverId": 12346})))
    warnings = [r for r in recorder.logged if r.severity == engine_pb2.WARNING]
    assert len(warnings) == 1, recorder.logged
    warning = warnings[0]
    assert warning.urn == URN and not warning.ephemeral
    assert "server 12346 (db-server-01) already has 10 manual backups" in warning.message
    assert "the deleteBeforeReplace resource option frees its slot" in warning.message
