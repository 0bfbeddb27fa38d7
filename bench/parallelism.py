"""64 backups of duration T on 16 servers: wall time in units of T, three ways.

1. 64 `Backup` resources (``wait_for_completion``, the default): the engine
   sends the 64 Check+Create calls at once, the SDK's provider host serves
   4 at a time (a 4-thread gRPC pool), so they run in 16 waves: ~16 T.
   A failed backup is deleted.
2. The existing workaround: 64 `Backup`s with ``wait_for_completion=False``
   and one ``wait_for_backups(ids)`` in the program, which polls one account
   listing for all of them. A failed backup is NOT deleted (it is in state
   already when the wait raises).
3. 4 `BackupFleet`s of the 16 servers (one backup per server each), created
   at once: each starts its 16 backups and waits for them in one loop, so
   the 4 fleets fit the host's 4 threads: ~T. A failed backup is deleted.

T is fake time on a clock running ``SCALE`` times real time. The host's
variants use the stack setting ``vpsbackup:maxPollInterval`` = T/10 (a user
setting, the same for 1 and 3), so the figure measures concurrency, not the
exponential poll schedule (with the default schedule a backup of T is seen
at up to ~2 T). ``wait_for_backups`` has no poll setting: it uses the default
schedule, which is part of its figure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from pulumi_vpsbackup import wait_for_backups
from pulumi_vpsbackup.client.marker import new_identity, owner_key
from pulumi_vpsbackup.fake import FakeClock
from pulumi_vpsbackup.provider import FleetProvider
from vpsbackup_dev.host import serialize_provider, urn

from .core import (
    FAKE_EPOCH,
    TOKEN,
    Figure,
    Options,
    api_requests,
    backup_props,
    backup_urn,
    fake_server,
    last_seq,
    provider_host,
    stopwatch,
)

GROUP = "parallelism"
SCALE = 60.0
TARGET = 1.3  # x T
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


def run(options: Options) -> list[Figure]:
    count, n_servers = options.pick((16, 4), (64, 16))
    t_real: float = options.pick(1.5, 3.0)
    per_server = count // n_servers
    clock = FakeClock(start=FAKE_EPOCH, scale=SCALE)
    poll = {"vpsbackup:pollInterval": "0.1", "vpsbackup:maxPollInterval": f"{t_real / 10:g}"}
    results: dict[str, tuple[float, int]] = {}
    fleet_blob = serialize_provider(FleetProvider())
    with (
        fake_server(
            clock=clock, completion="time", backup_seconds=t_real * SCALE, page_size=100
        ) as served,
        provider_host(served.url, poll) as host,
    ):
        app = served.app

        def new_servers(tag: str) -> list[int]:
            app.reset("empty")
            return [int(app.add_server(name=f"{tag}-{i}")["id"]) for i in range(n_servers)]

        def backup(i: int, servers: list[int], wait: bool) -> dict[str, Any]:
            name = backup_urn(f"par-{wait}-{i}")
            props = backup_props(
                server_id=servers[i % n_servers],
                description=f"parallel {i}",
                wait_for_completion=wait,
            )
            inputs, failures = host.check(name, {}, props)
            if failures:
                raise RuntimeError(f"Check failed: {failures}")
            return host.create(name, inputs)[1]

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

        # Warm the host (imports, connection) outside the timing.
        servers = new_servers("warm")
        host.check(backup_urn("warm"), {}, backup_props(server_id=servers[0]))

        servers = new_servers("stock")
        seq = last_seq(app)
        with ThreadPoolExecutor(count) as pool, stopwatch() as elapsed:
            outs = list(pool.map(lambda i: backup(i, servers, True), range(count)))
        if {o["status"] for o in outs} != {"completed"}:
            raise RuntimeError("a waited-for backup is not completed")
        results["stock"] = (elapsed(), len(api_requests(app, since=seq)))

        servers = new_servers("alt")
        seq = last_seq(app)
        with (
            environment(VPS_API_TOKEN=TOKEN, VPS_API_URL=served.url),
            ThreadPoolExecutor(count) as pool,
            stopwatch() as elapsed,
        ):
            outs = list(pool.map(lambda i: backup(i, servers, False), range(count)))
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
    variants = [
        (
            "stock",
            f"{count} Backup resources",
            f"4-thread host: {count // 4} waves; failed ones deleted",
        ),
        (
            "workaround",
            "no wait + wait_for_backups",
            "failed ones NOT deleted; default poll schedule (no setting for it)",
        ),
        (
            "fleet",
            f"{per_server} BackupFleets of {n_servers}",
            "one shared poll loop per fleet; failed ones deleted",
        ),
    ]
    figures = []
    for key, label, how in variants:
        seconds, requests = results[key]
        in_t = seconds / t_real
        figures.append(
            Figure(
                GROUP,
                f"{shape}: {label}",
                in_t,
                "T",
                1.0,
                "ideal",
                f"<= {TARGET:g} T" + ("" if key != "workaround" else " (info: no clean-up)"),
                in_t <= TARGET if key != "workaround" else None,
                f"{seconds:.1f} s, {requests} API requests; {how}",
                {"seconds": seconds, "t": t_real, "requests": requests},
            )
        )
    return figures
