"""The plugin exits when its engine goes away.

A Pulumi CLI killed with SIGKILL cannot stop the plugins it started, so
`pulumi-resource-vpsbackup` must notice on its own. Here the plugin is
started as the engine starts it, by a throwaway parent process that is then
killed, and must be gone within a few seconds; and, with its parent alive,
it must leave when the engine's own gRPC server (its address is the plugin's
argument) stops answering.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent import futures
from pathlib import Path

import grpc
import pytest

from tests.plugin.conftest import PLUGIN

#: How long the plugin may take to notice and exit, at most: the engine's
#: connection gets 3 s of grace (`server.ENGINE_GRACE`), polled every 0.5 s.
BOUND = 10.0

PARENT = """
import subprocess, sys, time
err = open(sys.argv[0] + ".err", "w")
plugin = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=err, text=True)
print(plugin.pid, plugin.stdout.readline().strip(), flush=True)
time.sleep(600)
"""


def running(pid: int) -> bool:
    """True while `pid` exists and has not exited (a zombie nobody reaped has exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_gone(pid: int, within: float) -> float:
    started = time.monotonic()
    while running(pid):
        if time.monotonic() - started > within:
            os.kill(pid, signal.SIGKILL)
            pytest.fail(f"the plugin {pid} was still running {within:.0f} s after its engine went")
        time.sleep(0.1)
    return time.monotonic() - started


def answers(port: int) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            grpc.channel_ready_future(channel).result(timeout=10)
        except grpc.FutureTimeoutError:
            return False
        return True


def test_the_engine_address_is_the_first_argument_after_the_engines_flags() -> None:
    from pulumi_vpsbackup.plugin.server import ENGINE_GRACE, engine_address

    assert ENGINE_GRACE + 2 < BOUND
    assert engine_address(["127.0.0.1:4321"]) == "127.0.0.1:4321"
    assert engine_address(["--logtostderr", "-v=9", "127.0.0.1:4321"]) == "127.0.0.1:4321"
    assert engine_address(["--tracing", "http://t:1/x", "127.0.0.1:9"]) == "127.0.0.1:9"
    assert engine_address([]) is None


def test_the_plugin_exits_when_its_parent_is_killed(tmp_path: Path) -> None:
    if not PLUGIN.exists():
        pytest.fail(f"{PLUGIN} is missing: run `make install`")
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    # An engine address nobody serves: only the parent's death can tell the plugin.
    parent = subprocess.Popen(
        [sys.executable, str(script), str(PLUGIN), "127.0.0.1:1"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert parent.stdout is not None
        pid_text, port_text = parent.stdout.readline().split()
        pid, port = int(pid_text), int(port_text)
        assert answers(port), "the plugin serves while its parent lives"
        time.sleep(1.0)
        assert running(pid), "and does not leave on its own"
    finally:
        parent.kill()  # SIGKILL, as when the CLI is killed: it stops nothing
        parent.wait(10)
        if parent.stdout is not None:
            parent.stdout.close()
    took = wait_gone(pid, BOUND)
    assert took < BOUND
    assert "the engine is gone" in Path(f"{script}.err").read_text()


def test_the_plugin_exits_when_the_engines_grpc_server_stops_answering() -> None:
    # A stand-in for the engine's gRPC server: the plugin only needs to reach it.
    engine = grpc.server(futures.ThreadPoolExecutor(1))
    engine_port = engine.add_insecure_port("127.0.0.1:0")
    engine.start()
    plugin = subprocess.Popen(
        [str(PLUGIN), "--logtostderr", "-v=3", f"127.0.0.1:{engine_port}"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert plugin.stdout is not None
        assert answers(int(plugin.stdout.readline()))
        time.sleep(2.0)  # long enough to have reached the engine
        assert plugin.poll() is None, "the plugin serves while the engine answers"
        engine.stop(None)
        started = time.monotonic()
        plugin.wait(BOUND)
        assert time.monotonic() - started < BOUND
        assert plugin.stderr is not None
        assert "stopped answering" in plugin.stderr.read()
    finally:
        if plugin.poll() is None:
            plugin.kill()
            plugin.wait(10)
        for stream in (plugin.stdout, plugin.stderr):
            if stream is not None:
                stream.close()
