"""64 backups of duration T on 16 servers: wall time in units of T, several ways.

1. 64 `Backup` resources (``wait_for_completion``, the default), at 64 at
   once, as ``pulumi up --parallel 64`` runs them: the engine sends the 64
   Check+Create calls at once, and the SDK's provider host, its pool widened
   by `pulumi_vpsbackup.provider.core.host_pool`, runs them all at once: ~T.
   A failed backup is deleted.
2. The same at the CLI's default ``--parallel`` (4 per CPU): 64/(4 x CPUs)
   waves.
3. The same as 1 in a host whose pool stays the SDK's four threads
   (``VPSBACKUP_HOST_THREADS=4``), as before the widening: 16 waves, ~16 T.
4. The existing workaround: 64 `Backup`s with ``wait_for_completion=False``
   and one ``wait_for_backups(ids)`` in the program, which polls one account
   listing for all of them. A failed backup is NOT deleted (it is in state
   already when the wait raises).
5. 4 `BackupFleet`s of the 16 servers (one backup per server each), created
   at once: each starts its 16 backups and waits for them in one loop: ~T.
   A failed backup is deleted.

The engine's ``--parallel`` is modelled by how many Check+Create sequences
the benchmark runs at once (a thread each), over gRPC to the real host.

T is fake time on a clock running ``SCALE`` times real time. The host's
variants use the stack setting ``vpsbackup:maxPollInterval`` = T/10 (a user
setting, the same for 1, 2, 3 and 5), so the figure measures concurrency, not the
exponential poll schedule (with the default schedule a backup of T is seen
at up to ~2 T). ``wait_for_backups`` has no poll setting: it uses the default
schedule, which is part of its figure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from pulumi_vpsbackup import wait_for_backups
from pulumi_vpsbackup.client.marker import new_identity, owner_key
from pulumi_vpsbackup.fake import FakeClock
from pulumi_vpsbackup.provider import FleetProvider
from pulumi_vpsbackup.provider.core.host_pool import THREADS_ENV
from vpsbackup_dev.host import ProviderHost, serialize_provider, urn

from .core import (
    FAKE_EPOCH,
    TOKEN,
    Figure,
    Options,
    api_requests,
    backup_props,
    backup_urn,
    fake_server,
    host_config,
    last_seq,
    provider_host,
    stopwatch,
)

GROUP = "parallelism"
SCALE = 60.0
TARGET = 1.3  # x T, the fleets'
BACKUPS_TARGET = 1.5  # x T, 64 Backups at --parallel 64 (issue 22)
FLEET_TYPE = "pulumi-python:dynamic/vpsbackup:BackupFleet"
#: The stack identity the benchmark's fleets pretend their stack holds.
BENCH_IDENTITY = new_identity()


@contextmanager
def environment(**values: str) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def default_parallel() -> int:
    """The CLI's default ``--parallel`` here: 4 per CPU it may use (Go's GOMAXPROCS)."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return 4 * cpus


@contextmanager
def sdk_pool_host(url: str, extra_config: Mapping[str, str]) -> Iterator[ProviderHost]:
    """Like `provider_host`, with the host's pool left at the SDK's four threads."""
    env = {"VPS_API_TOKEN": "", "VPS_API_URL": "", THREADS_ENV: "4"}
    with ProviderHost(env=env) as host:
        host.configure(host_config(url, extra_config), secret_keys={"vpsbackup:apiToken"})
        yield host


def run(options: Options) -> list[Figure]:
    count, n_servers = options.pick((16, 4), (64, 16))
    t_real: float = options.pick(1.5, 3.0)
    per_server = count // n_servers
    parallel = min(default_parallel(), count)
    clock = FakeClock(start=FAKE_EPOCH, scale=SCALE)
    poll = {"vpsbackup:pollInterval": "0.1", "vpsbackup:maxPollInterval": f"{t_real / 10:g}"}
    results: dict[str, tuple[float, int]] = {}
    fleet_blob = serialize_provider(FleetProvider())
    with (
        fake_server(
            clock=clock, completion="time", backup_seconds=t_real * SCALE, page_size=100
        ) as served,
        provider_host(served.url, poll) as host,
        sdk_pool_host(served.url, poll) as four,
    ):
        app = served.app

        def new_servers(tag: str) -> list[int]:
            app.reset("empty")
            return [int(app.add_server(name=f"{tag}-{i}")["id"]) for i in range(n_servers)]

        def backup(
            via: ProviderHost, i: int, servers: list[int], wait: bool, tag: str
        ) -> dict[str, Any]:
            name = backup_urn(f"par-{tag}-{i}")
            props = backup_props(
                server_id=servers[i % n_servers],
                description=f"parallel {i}",
                wait_for_completion=wait,
            )
            inputs, failures = via.check(name, {}, props)
            if failures:
                raise RuntimeError(f"Check failed: {failures}")
            return via.create(name, inputs)[1]

        def backups(key: str, via: ProviderHost, at_once: int) -> None:
            """`count` waiting Backups, `at_once` at a time (the engine's --parallel)."""
            servers = new_servers(key)
            seq = last_seq(app)
            with ThreadPoolExecutor(at_once) as pool, stopwatch() as elapsed:
                outs = list(pool.map(lambda i: backup(via, i, servers, True, key), range(count)))
            if {o["status"] for o in outs} != {"completed"}:
                raise RuntimeError("a waited-for backup is not completed")
            results[key] = (elapsed(), len(api_requests(app, since=seq)))

        def fleet(i: int, servers: list[int]) -> dict[str, Any]:
            name = f"fleet-{i}"
            props = {
                "server_ids": servers,
                "description": f"fleet {i}",
                # As BackupFleet derives it from the stack's identity, type and name.
                "resource_key": owner_key(BENCH_IDENTITY, "BackupFleet", "", "", name),
                "resource_name": name,
                "__provider": fleet_blob,
            }
            full = urn(FLEET_TYPE, name, project="bench", stack="bench")
            inputs, failures = host.check(full, {}, props)
            if failures:
                raise RuntimeError(f"Check failed: {failures}")
            return host.create(full, inputs)[1]

        # Warm the hosts (imports, connection, the pool widened) outside the timing.
        servers = new_servers("warm")
        for via in (host, four):
            via.check(backup_urn("warm"), {}, backup_props(server_id=servers[0]))

        backups("all", host, count)
        backups("default", host, parallel)
        backups("four", four, count)

        servers = new_servers("alt")
        seq = last_seq(app)
        with (
            environment(VPS_API_TOKEN=TOKEN, VPS_API_URL=served.url),
            ThreadPoolExecutor(count) as pool,
            stopwatch() as elapsed,
        ):
            outs = list(pool.map(lambda i: backup(host, i, servers, False, "alt"), range(count)))
            done = wait_for_backups([int(o["backup_id"]) for o in outs])
        if {b.status for b in done} != {"completed"}:
            raise RuntimeError("wait_for_backups returned unfinished backups")
        results["workaround"] = (elapsed(), len(api_requests(app, since=seq)))

        servers = new_servers("fleet")
        seq = last_seq(app)
        with ThreadPoolExecutor(per_server) as pool, stopwatch() as elapsed:
            fleets = list(pool.map(lambda i: fleet(i, servers), range(per_server)))
        made = [s for f in fleets for s in f["statuses"].values()]
        if made != ["completed"] * count:
            raise RuntimeError(f"the fleets did not complete {count} backups: {made}")
        results["fleet"] = (elapsed(), len(api_requests(app, since=seq)))
        app.reset("empty")

    shape = f"{count} backups of T={t_real:g} s on {n_servers} servers"
    waves = -(-count // parallel)
    # key, label, ideal in T, target in T (None: information), how
    variants: list[tuple[str, str, float, float | None, str]] = [
        (
            "all",
            f"{count} Backup resources, --parallel {count}",
            1.0,
            BACKUPS_TARGET,
            "all at once in the widened host; failed ones deleted",
        ),
        (
            "default",
            f"{count} Backup resources, default --parallel ({parallel})",
            float(waves),
            None,
            f"the CLI's default (4 per CPU): {waves} waves of {parallel}",
        ),
        (
            "four",
            f"{count} Backup resources, --parallel {count}, SDK host pool of 4 (before)",
            float(-(-count // 4)),
            None,
            f"the SDK's 4-thread pool (VPSBACKUP_HOST_THREADS=4): {-(-count // 4)} waves",
        ),
        (
            "workaround",
            "no wait + wait_for_backups",
            1.0,
            None,
            "failed ones NOT deleted; default poll schedule (no setting for it)",
        ),
        (
            "fleet",
            f"{per_server} BackupFleets of {n_servers}",
            1.0,
            TARGET,
            "one shared poll loop per fleet; failed ones deleted",
        ),
    ]
    figures = []
    for key, label, ideal, target, how in variants:
        seconds, requests = results[key]
        in_t = seconds / t_real
        if target is not None:
            shown = f"<= {target:g} T"
        elif key == "workaround":
            shown = f"<= {TARGET:g} T (info: no clean-up)"
        else:
            shown = "(info)"
        figures.append(
            Figure(
                GROUP,
                f"{shape}: {label}",
                in_t,
                "T",
                ideal,
                "ideal",
                shown,
                in_t <= target if target is not None else None,
                f"{seconds:.1f} s, {requests} API requests; {how}",
                {"seconds": seconds, "t": t_real, "requests": requests, "parallel": parallel},
            )
        )
    return figures
