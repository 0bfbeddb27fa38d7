"""Let Pulumi's dynamic-provider host run more than four calls at once.

Pulumi's Python dynamic-provider host (``python -m pulumi.dynamic``; checked
against SDK 3.272 on Python 3.11, grpcio 1.85) serves the engine from a gRPC
server built in its ``main()`` on ``futures.ThreadPoolExecutor(max_workers=4)``.
Each provider call holds one of those four threads until it returns, and a
``Backup`` that waits for its backup holds one for the backup's whole
duration: 64 of them are made in 16 waves, whatever ``pulumi up --parallel``
says. The engine already bounds how many steps it runs at once
(``--parallel``, by default four per CPU), so the host's pool only adds a
second, lower limit that nobody chose.

`widen_host_pool` raises that one pool's limit to `HOST_THREADS` (or
``VPSBACKUP_HOST_THREADS``), so that ``--parallel`` alone decides again. The
same cap as the native plugin's own pool: the engine never sends more calls
than ``--parallel`` at once, and a thread is started only for a call that
finds none idle, so the cap costs nothing until the engine uses it. The
widened pool serves every dynamic resource of the stack, not only ours: each
may then see as many concurrent calls as ``--parallel`` allows, which is what
that flag promises (the host already runs four at once, so providers must be
thread-safe anyway).

It changes nothing, and says why at debug level (logger
``pulumi_vpsbackup.provider``), unless every one of these holds:

1. this process runs ``pulumi.dynamic.__main__`` as its main module (so never
   in a Pulumi program, a test, or the native plugin, which has its own pool);
2. the main thread is inside that module's ``main()``, whose local ``server``
   is a gRPC server (``grpc._server``) whose ``_state.thread_pool`` is exactly
   a ``concurrent.futures.ThreadPoolExecutor``;
3. the calling thread is one of that pool's workers (``configure()`` runs
   inside a call the pool serves), so the pool found is the one serving us;
4. the executor has the internals this relies on: ``_adjust_thread_count``
   reads ``_max_workers`` and ``_threads`` (it starts a thread on ``submit``
   while fewer than ``_max_workers`` run and none is idle), ``_shutdown_lock``
   (held by ``submit``), and ``_work_queue``; and it is not shut down.

Then, under ``_shutdown_lock``, ``_max_workers`` is raised (never lowered),
and calls already queued at that moment get threads the way ``submit`` would
have given them. Later calls get threads from ``submit`` itself. It runs at
most once per process; later calls return what the first one found.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Mapping
from concurrent import futures
from types import FrameType, FunctionType
from typing import Any

__all__ = ["HOST_THREADS", "THREADS_ENV", "find_host_pool", "widen_host_pool", "widen_pool"]

logger = logging.getLogger("pulumi_vpsbackup.provider")

#: The pool's size once widened: the native plugin's cap (`plugin.server.MAX_THREADS`).
HOST_THREADS = 512
#: Overrides `HOST_THREADS`; a value at or below the host's own size (4) leaves it as is.
THREADS_ENV = "VPSBACKUP_HOST_THREADS"

_HOST_MODULE = "pulumi.dynamic.__main__"
_GRPC_SERVER_MODULE = "grpc._server"

_lock = threading.Lock()
_outcome: list[int | None] = []  # what the first call in this process found


def host_threads(environ: Mapping[str, str]) -> tuple[int, str | None]:
    """The pool size asked for, and a warning for a setting that is not a size."""
    raw = environ.get(THREADS_ENV, "").strip()
    if not raw:
        return HOST_THREADS, None
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        return HOST_THREADS, (
            f"{THREADS_ENV}={raw[:40]!r} is not a whole number of threads (1 or more); "
            f"the provider host runs up to {HOST_THREADS} calls at once"
        )
    return value, None


def _main_frame(main_code: Any) -> FrameType | None:
    """The main thread's frame running `main_code`, if it is running it now."""
    frame = sys._current_frames().get(threading.main_thread().ident or -1)
    while frame is not None and frame.f_code is not main_code:
        frame = frame.f_back
    return frame


def find_host_pool() -> tuple[futures.ThreadPoolExecutor | None, str]:
    """The executor of the dynamic host's gRPC server, or None and why not (points 1-3)."""
    host = sys.modules.get("__main__")
    if getattr(getattr(host, "__spec__", None), "name", None) != _HOST_MODULE:
        return None, "not in Pulumi's dynamic-provider host"
    main = getattr(host, "main", None)
    if not isinstance(main, FunctionType) or main.__module__ != "__main__":
        return None, "the host module has no main() function"
    frame = _main_frame(main.__code__)
    if frame is None:
        return None, "the main thread is not in the host's main()"
    try:
        server = frame.f_locals.get("server")
    finally:
        del frame  # a frame of another thread: hold no reference to it
    if type(server).__module__ != _GRPC_SERVER_MODULE:
        return None, f"main()'s server is a {type(server).__qualname__}, not a gRPC server"
    pool = getattr(getattr(server, "_state", None), "thread_pool", None)
    if type(pool) is not futures.ThreadPoolExecutor:
        return None, f"the gRPC server's thread pool is a {type(pool).__qualname__}"
    if not _serves_this_thread(pool):
        return None, "this call is not served by the gRPC server's thread pool"
    return pool, ""


def _serves_this_thread(pool: Any) -> bool:
    """Whether the calling thread is one of `pool`'s workers."""
    lock: Any = getattr(pool, "_shutdown_lock", None)
    threads = getattr(pool, "_threads", None)
    if not hasattr(lock, "__enter__") or not isinstance(threads, set):
        return False
    # `submit` starts a worker, which may already be running its task, before it
    # adds the worker to `_threads`, all under this lock.
    with lock:
        return threading.current_thread() in threads


def _missing_internals(pool: Any) -> str:
    """What `pool` lacks of the ThreadPoolExecutor internals `widen_pool` relies on."""
    adjust = getattr(type(pool), "_adjust_thread_count", None)
    reads = set(getattr(getattr(adjust, "__code__", None), "co_names", ()))
    if not {"_max_workers", "_threads"} <= reads:
        return "its _adjust_thread_count does not read _max_workers and _threads"
    if not isinstance(getattr(pool, "_max_workers", None), int):
        return "it has no integer _max_workers"
    if not isinstance(getattr(pool, "_threads", None), set):
        return "it has no set of _threads"
    if not hasattr(getattr(pool, "_shutdown_lock", None), "__enter__"):
        return "it has no _shutdown_lock"
    if not callable(getattr(getattr(pool, "_work_queue", None), "qsize", None)):
        return "it has no _work_queue"
    return ""


def widen_pool(pool: Any, threads: int) -> tuple[int | None, str]:
    """Let `pool` (a ThreadPoolExecutor) run up to `threads` tasks at once (point 4).

    Returns its limit now, or None and why it was left untouched. Never lowers
    the limit; thread-safe against `submit` (both hold `_shutdown_lock`).
    """
    missing = _missing_internals(pool)
    if missing:
        return None, f"the thread pool is not as expected: {missing}"
    with pool._shutdown_lock:
        if getattr(pool, "_shutdown", False) or getattr(pool, "_broken", False):
            return None, "the thread pool is shut down"
        if pool._max_workers >= threads:
            return pool._max_workers, ""
        pool._max_workers = threads
        # Calls queued before now were refused a thread by the old limit: give
        # each what submit gives a new one (an idle thread, or a new thread).
        queued = pool._work_queue.qsize()
        for _ in range(min(queued, threads - len(pool._threads))):
            pool._adjust_thread_count()
        return threads, ""


def widen_host_pool(environ: Mapping[str, str] | None = None) -> int | None:
    """In the dynamic-provider host only: its pool's limit once widened, else None.

    Called from the provider's ``configure()``; once per process. Logs at
    debug level what it did or why it did nothing; never raises for a host
    that is not as expected.
    """
    with _lock:
        if _outcome:
            return _outcome[0]
        limit = _widen(os.environ if environ is None else environ)
        _outcome.append(limit)
        return limit


def _widen(environ: Mapping[str, str]) -> int | None:
    try:
        pool, why = find_host_pool()
        if pool is None:
            logger.debug("provider host pool left as is: %s", why)
            return None
        threads, warning = host_threads(environ)
        if warning:
            sys.stderr.write(f"vpsbackup: warning: {warning}\n")
            sys.stderr.flush()
        before = getattr(pool, "_max_workers", None)
        limit, why = widen_pool(pool, threads)
        if limit is None:
            logger.debug("provider host pool left as is: %s", why)
        else:
            logger.debug("provider host pool: up to %d calls at once (was %d)", limit, before)
        return limit
    except Exception:  # an SDK or Python this was not written for: change nothing
        logger.debug("provider host pool left as is", exc_info=True)
        return None
