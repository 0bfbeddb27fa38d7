"""The plugin as the engine runs it: the console script in a process of its own, over gRPC."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.plugin import wire
from pulumi_vpsbackup.plugin.provider import IDENTITY_KEY
from tests.programs.scenarios import TOKEN

PLUGIN = Path(sys.executable).parent / "pulumi-resource-vpsbackup"


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0)
    with serve(app) as server:
        yield server


@contextlib.contextmanager
def running_plugin(
    environ: dict[str, str] | None = None, engine: str = "127.0.0.1:1"
) -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """The console script in a process of its own (not configured yet) and a stub to call it.

    `environ` is what VPS_API_TOKEN and VPS_API_URL hold for it (both empty by
    default); `engine` the engine address it is started with (default: one
    that nothing answers, so its progress goes to stderr).
    """
    if not PLUGIN.exists():
        pytest.fail(f"{PLUGIN} is missing: run `make install`")
    env = {**os.environ, "VPS_API_TOKEN": "", "VPS_API_URL": "", **(environ or {})}
    proc = subprocess.Popen(
        [str(PLUGIN), engine],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        port = int(proc.stdout.readline().strip())
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def plugin() -> Iterator[provider_pb2_grpc.ResourceProviderStub]:
    """A running plugin (not configured yet) and a stub to call it."""
    with running_plugin() as stub:
        yield stub


#: The stack identity CheckConfig would have given the tests' provider.
IDENTITY = "5eed" * 8


def configure(
    stub: provider_pb2_grpc.ResourceProviderStub,
    url: str,
    token: str = TOKEN,
    identity: str = IDENTITY,
) -> None:
    """Configure as the engine does: with the checked config, identity included."""
    args = {"apiUrl": url, "apiToken": token, IDENTITY_KEY: identity}
    stub.Configure(
        provider_pb2.ConfigureRequest(
            args=wire.to_struct(args, {"apiToken"}),
            acceptSecrets=True,
        )
    )
