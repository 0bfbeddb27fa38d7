"""The dynamic-provider host runs more than four of our calls at once (`core.host_pool`).

The first test drives the SDK's real host process (the installed, pinned SDK)
with the real Backup provider against the fake over HTTP. The others run a
stand-in for the host's ``main()`` in this process, to show what is and is not
touched, and that a host of another shape is left alone without an error.
"""

from __future__ import annotations

import importlib.machinery
import logging
import sys
import threading
import time
import types
from collections.abc import Callable, Iterator
from concurrent import futures
from typing import Any

import pytest

from pulumi_vpsbackup.fake import Behaviour, FakeVps
from pulumi_vpsbackup.provider.core import host_pool
from vpsbackup_dev.host import ProviderHost

from .conftest import Engine, Resource

#: More calls than the SDK's pool of four runs at once.
CALLS = 8
#: How long a test waits for something that must happen (bounded, never timed).
BOUND = 30.0


def _posts(app: FakeVps) -> int:
    return sum(
        1 for r in app.requests() if r["method"] == "POST" and r["path"] == "/api/v1/backups/"
    )


def test_the_sdk_host_runs_more_than_four_waiting_creates_at_once(
    backups: Engine, fake: FakeVps, host: ProviderHost
) -> None:
    # Backups finish only when the test moves the (frozen) clock: until then
    # every Create that has started holds its thread, waiting. With the SDK's
    # pool of four, only four could have posted their backup.
    fake.set_behaviour(Behaviour(completion="time", backup_seconds=60))
    servers = [int(fake.add_server(name=f"pool-{i}")["id"]) for i in range(CALLS)]
    results: list[Resource] = []
    errors: list[BaseException] = []

    def make(i: int) -> None:
        try:
            results.append(backups.create(f"pool{i}", server_id=servers[i]))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(CALLS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + BOUND
    while _posts(fake) < CALLS and not errors and time.monotonic() < deadline:
        time.sleep(0.05)
    posted = _posts(fake)
    # Let every backup finish, those posted so far and any still to come.
    fake.set_behaviour(Behaviour(completion="immediate"))
    fake.clock.advance(60)
    for t in threads:
        t.join(BOUND)
    assert posted == CALLS, f"{posted} creates waited at once (the SDK's pool runs 4)"
    assert errors == []
    assert sorted(r.outputs["status"] for r in results) == ["completed"] * CALLS


# ---- the host's main() in this process --------------------------------------------------

#: The shape of the SDK's host (pulumi/dynamic/__main__.py): main() builds a
#: gRPC server on a pool of four and stays in main() while the pool serves calls.
HOST = """
import grpc
from concurrent import futures

def main(make_pool, serve):
    server = grpc.server(make_pool())
    other = futures.ThreadPoolExecutor(max_workers=2)
    try:
        return serve(server, other)
    finally:
        other.shutdown()
"""


def host_module(source: str = HOST, name: str = "pulumi.dynamic.__main__") -> types.ModuleType:
    """A ``__main__`` module as ``python -m <name>`` makes it, running `source`."""
    module = types.ModuleType("__main__")
    module.__spec__ = importlib.machinery.ModuleSpec(name, None)
    exec(compile(source, f"<{name}>", "exec"), module.__dict__)  # noqa: S102 - our own text
    return module


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch) -> None:
    """`widen_host_pool` as in a new process: it has not run yet."""
    monkeypatch.setattr(host_pool, "_outcome", [])


def run_host(
    monkeypatch: pytest.MonkeyPatch,
    serve: Callable[[Any, futures.ThreadPoolExecutor, futures.ThreadPoolExecutor], Any],
    *,
    module: types.ModuleType | None = None,
    make_pool: Callable[[], futures.ThreadPoolExecutor] | None = None,
) -> Any:
    """Run the stand-in host's main() in this (the main) thread; `serve(server, pool,
    other)` runs inside it with the server's pool and another pool of main()."""
    assert threading.current_thread() is threading.main_thread()
    pools: list[futures.ThreadPoolExecutor] = []

    def new_pool() -> futures.ThreadPoolExecutor:
        pools.append((make_pool or (lambda: futures.ThreadPoolExecutor(max_workers=4)))())
        return pools[-1]

    monkeypatch.setitem(sys.modules, "__main__", module or host_module())
    try:
        return sys.modules["__main__"].main(new_pool, lambda s, o: serve(s, pools[0], o))
    finally:
        for pool in pools:
            pool.shutdown(wait=True)


def all_at_once(pool: futures.ThreadPoolExecutor, calls: int) -> None:
    """`calls` tasks on `pool` that all run at once (a barrier; bounded, never timed)."""
    barrier = threading.Barrier(calls, timeout=BOUND)
    for task in [pool.submit(barrier.wait) for _ in range(calls)]:
        task.result()


def served_call(pool: futures.ThreadPoolExecutor, environ: dict[str, str]) -> int | None:
    """`widen_host_pool` called from a task of `pool`, as configure() is in the host."""
    return pool.submit(host_pool.widen_host_pool, environ).result(BOUND)


def test_widens_the_pool_serving_the_call_and_nothing_else(
    monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    def serve(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        assert served_call(pool, {}) == host_pool.HOST_THREADS
        all_at_once(pool, CALLS)  # the server's pool now runs more than four at once
        assert other._max_workers == 2  # another pool of the same main() is untouched
        assert served_call(pool, {}) == host_pool.HOST_THREADS  # once per process

    run_host(monkeypatch, serve)


def test_calls_queued_before_the_widening_run_at_once_too(
    monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    # The first call to load our provider widens the pool while the engine's
    # other calls already wait in its queue (a refresh sends its Reads at once).
    def serve(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        barrier = threading.Barrier(CALLS, timeout=BOUND)
        all_queued = threading.Event()

        def first() -> None:
            all_queued.wait(BOUND)
            host_pool.widen_host_pool({})
            barrier.wait()

        tasks = [pool.submit(first)] + [pool.submit(barrier.wait) for _ in range(CALLS - 1)]
        all_queued.set()
        for task in tasks:
            task.result()

    run_host(monkeypatch, serve)


def test_the_setting_sizes_the_pool_and_never_shrinks_it(
    monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    def serve(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        assert served_call(pool, {host_pool.THREADS_ENV: "6"}) == 6
        all_at_once(pool, 6)

    run_host(monkeypatch, serve)
    monkeypatch.setattr(host_pool, "_outcome", [])

    def serve_four(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        assert served_call(pool, {host_pool.THREADS_ENV: "2"}) == 4
        assert pool._max_workers == 4

    run_host(monkeypatch, serve_four)


def test_a_setting_that_is_not_a_size_is_named_and_the_default_used(
    monkeypatch: pytest.MonkeyPatch, fresh: None, capsys: pytest.CaptureFixture[str]
) -> None:
    def serve(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        assert served_call(pool, {host_pool.THREADS_ENV: "lots"}) == host_pool.HOST_THREADS

    run_host(monkeypatch, serve)
    err = capsys.readouterr().err
    assert f"vpsbackup: warning: {host_pool.THREADS_ENV}='lots' is not a whole number" in err


# ---- a host of another shape: left alone, no error --------------------------------------


class _Subclass(futures.ThreadPoolExecutor):
    pass


class _OtherInternals(futures.ThreadPoolExecutor):
    """A pool whose thread starting no longer reads `_max_workers`."""

    def _adjust_thread_count(self) -> None:
        futures.ThreadPoolExecutor._adjust_thread_count(self)


OTHER_SHAPES: dict[str, dict[str, Any]] = {
    "a program, test or plugin process": dict(module=host_module(name="myprogram")),
    "main() names its server otherwise": dict(
        module=host_module(
            HOST.replace("server =", "grpc_server =").replace("(server,", "(grpc_server,")
        )
    ),
    "main is no function": dict(
        module=host_module(
            HOST.replace("def main(", "def serve_main(")
            + "\nimport functools\nmain = functools.partial(serve_main)\n"
        )
    ),
    "the server's pool is a subclass": dict(make_pool=lambda: _Subclass(max_workers=4)),
}


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    with caplog.at_level(logging.DEBUG, logger="pulumi_vpsbackup.provider"):
        yield caplog


def left_alone(debug_log: pytest.LogCaptureFixture, why: str) -> None:
    """Nothing changed, only a debug line said why."""
    assert f"provider host pool left as is: {why}" in debug_log.text
    assert not [r for r in debug_log.records if r.levelno > logging.DEBUG]


@pytest.mark.parametrize(
    ("shape", "why"),
    [
        ("a program, test or plugin process", "not in Pulumi's dynamic-provider host"),
        ("main() names its server otherwise", "main()'s server is a NoneType"),
        ("main is no function", "the host module has no main() function"),
        ("the server's pool is a subclass", "the gRPC server's thread pool is a _Subclass"),
    ],
)
def test_a_host_of_another_shape_is_left_alone(
    shape: str,
    why: str,
    monkeypatch: pytest.MonkeyPatch,
    fresh: None,
    debug_log: pytest.LogCaptureFixture,
) -> None:
    def serve(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        assert served_call(pool, {}) is None
        assert pool._max_workers == 4 and other._max_workers == 2

    run_host(monkeypatch, serve, **OTHER_SHAPES[shape])
    left_alone(debug_log, why)


def test_a_call_outside_the_hosts_main_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, fresh: None, debug_log: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(sys.modules, "__main__", host_module())
    with futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert served_call(pool, {}) is None
        assert pool._max_workers == 4
    left_alone(debug_log, "the main thread is not in the host's main()")


def test_a_call_not_served_by_the_servers_pool_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, fresh: None, debug_log: pytest.LogCaptureFixture
) -> None:
    def serve(server: Any, pool: futures.ThreadPoolExecutor, other: Any) -> None:
        assert served_call(other, {}) is None  # from another pool's thread
        monkeypatch.setattr(host_pool, "_outcome", [])
        assert host_pool.widen_host_pool({}) is None  # from the main thread itself
        assert pool._max_workers == 4 and other._max_workers == 2

    run_host(monkeypatch, serve)
    left_alone(debug_log, "this call is not served by the gRPC server's thread pool")


def test_in_this_process_nothing_is_touched(fresh: None) -> None:
    # pytest's own __main__, as a Pulumi program's or the native plugin's.
    with futures.ThreadPoolExecutor(max_workers=4) as pool:
        assert served_call(pool, {}) is None
        assert pool._max_workers == 4


def test_a_pool_without_the_expected_internals_is_left_alone() -> None:
    with _OtherInternals(max_workers=4) as pool:
        limit, why = host_pool.widen_pool(pool, 64)
        assert limit is None and "does not read _max_workers" in why
        assert pool._max_workers == 4
    limit, why = host_pool.widen_pool(types.SimpleNamespace(), 64)
    assert limit is None and why
    closed = futures.ThreadPoolExecutor(max_workers=4)
    closed.shutdown()
    assert host_pool.widen_pool(closed, 64) == (None, "the thread pool is shut down")
    assert closed._max_workers == 4
