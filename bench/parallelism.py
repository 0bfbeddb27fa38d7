"""Figure 4: 16 backups on 4 servers, each taking T, through the 4-thread host.

The engine sends the 16 Check+Create calls at once; the SDK's provider host
serves 4 at a time (a 4-thread gRPC pool) and queues the rest, so with
``wait_for_completion`` (the default) the backups run in 4 waves: about 4T.
The alternative the package offers: ``wait_for_completion=False`` (Create
returns as soon as the backup is started) plus one ``wait_for_backups(ids)``
in the program process, which polls one account listing for all of them.

T is 150 s of fake time on a clock running 60x (2.5 s real). Both variants use
the default poll policy, in real seconds, as users get it; its first polls (at
about 0, 1 and 3 s) are part of what is measured.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

from pulumi_vpsbackup import wait_for_backups
from pulumi_vpsbackup.fake import FakeClock

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
BACKUP_SECONDS = 150.0  # fake seconds: 2.5 s real at SCALE
COUNT = 16
SERVERS = 4


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
    t_real = BACKUP_SECONDS / SCALE
    clock = FakeClock(start=FAKE_EPOCH, scale=SCALE)
    with (
        fake_server(clock=clock, completion="time", backup_seconds=BACKUP_SECONDS) as served,
        provider_host(served.url) as host,
    ):
        app = served.app
        servers = [12345, 12346]
        servers += [int(app.add_server(name=f"par-{i}")["id"]) for i in range(SERVERS - 2)]
        # Warm the host (imports, connection) with a cheap Check outside the timing.
        host.check(backup_urn("warm"), {}, backup_props(server_id=servers[0]))

        def create(i: int, wait: bool) -> dict[str, Any]:
            name = backup_urn(f"par-{wait}-{i}")
            inputs, failures = host.check(
                name,
                {},
                backup_props(
                    server_id=servers[i % SERVERS],
                    description=f"parallel {i}",
                    wait_for_completion=wait,
                ),
            )
            if failures:
                raise RuntimeError(f"Check failed: {failures}")
            return host.create(name, inputs)[1]

        def all_at_once(wait: bool) -> list[dict[str, Any]]:
            with ThreadPoolExecutor(COUNT) as pool:
                return list(pool.map(create, range(COUNT), [wait] * COUNT))

        seq = last_seq(app)
        with stopwatch() as stock_time:
            outs = all_at_once(True)
        if {o["status"] for o in outs} != {"completed"}:
            raise RuntimeError("a waited-for backup is not completed")
        stock_requests = len(api_requests(app, since=seq))
        app.reset("empty")
        servers = [12345, 12346]
        servers += [int(app.add_server(name=f"par2-{i}")["id"]) for i in range(SERVERS - 2)]

        seq = last_seq(app)
        with (
            environment(VPS_API_TOKEN=TOKEN, VPS_API_URL=served.url),
            stopwatch() as alt_time,
        ):
            outs = all_at_once(False)
            started = alt_time()
            done = wait_for_backups([int(o["backup_id"]) for o in outs])
        if {b.status for b in done} != {"completed"}:
            raise RuntimeError("wait_for_backups returned unfinished backups")
        alt_requests = len(api_requests(app, since=seq))
        app.reset("empty")

    stock, alt = stock_time(), alt_time()
    return [
        Figure(
            GROUP,
            "16 Creates, wait_for_completion (stock)",
            stock,
            "s",
            t_real,
            "T",
            "(info: ~4T expected)",
            None,
            f"4-thread host => {COUNT // 4} waves, {stock / (4 * t_real):.2f}x of 4T (the "
            f"rest is each wave's polling lag: default polls at ~1 s and ~3 s for a "
            f"{t_real:g} s backup); {stock_requests} API requests",
            {"seconds": stock, "t": t_real, "requests": stock_requests},
        ),
        Figure(
            GROUP,
            "16 Creates no wait + wait_for_backups",
            alt,
            "s",
            t_real,
            "T",
            "<= 1.5x T",
            alt / t_real <= 1.5,
            f"all 16 started after {started:.2f} s; {alt_requests} API requests; "
            "trade-off: a backup that fails is left for the user (no transactional clean-up "
            "in Create) and is already in state when wait_for_backups raises",
            {"seconds": alt, "started_after": started, "t": t_real, "requests": alt_requests},
        ),
    ]
