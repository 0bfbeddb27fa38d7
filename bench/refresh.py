"""Figure 3: refreshing N backups of one server through the host, 4 calls at a time.

``pulumi refresh`` sends one Read per resource, ``--parallel`` at a time (4
here: the CLI's default on one CPU). The API has no GET for one backup, so a
naive provider lists the server's backups once per Read: N listings of N
backups, O(N^2) bytes. The provider shares one short-lived listing
(``max_age=2`` s, single flight) between concurrent Reads. The figure counts
the listings actually made.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx

from .core import (
    TOKEN,
    Figure,
    Options,
    api_requests,
    backup_props,
    backup_urn,
    fake_server,
    last_seq,
    median,
    provider_host,
    stopwatch,
)

GROUP = "refresh"
WARM_SERVER = 12346
CALLERS = 4
MAX_LISTINGS = 5
MAX_SPREAD_LISTINGS = 10


def run(options: Options) -> list[Figure]:
    return [*_one_server(options), _spread(options)]


def _spread(options: Options) -> Figure:
    """N backups on N servers, one each: what `pulumi refresh` of N Backups lists.

    Driven through the SDK provider host directly (one Read per backup, four at a
    time, as the engine sends them); a real CLI refresh of 1000 resources would
    take minutes and count the same Reads.
    """
    n: int = options.pick(200, 1000)
    with (
        fake_server(manual_backup_limit=10_000, page_size=100) as served,
        provider_host(served.url) as host,
    ):
        app = served.app
        pairs = []
        for i in range(n):
            server = int(app.add_server(name=f"spread-{i}")["id"])
            pairs.append(
                (int(app.seed_backup(server_id=server, description=f"s {i}")["id"]), server)
            )

        def read(pair: tuple[int, int]) -> str:
            backup_id, server_id = pair
            outputs = backup_props(backup_id=backup_id, server_id=server_id, timeout=3600.0)
            inputs = {k: v for k, v in outputs.items() if k != "backup_id"}
            return host.read(str(backup_id), backup_urn(f"s{backup_id}"), outputs, inputs)[0]

        read(pairs[0])  # warm the host's imports outside the count
        seq = last_seq(app)
        with ThreadPoolExecutor(CALLERS) as pool, stopwatch() as elapsed:
            found = list(pool.map(read, pairs))
        if found != [str(b) for b, _ in pairs]:
            raise RuntimeError("a Read lost a backup that exists")
        entries = api_requests(app, since=seq)
        listings = sum(
            1 for e in entries if e["method"] == "GET" and e["path"].endswith("/backups/")
        )
    return Figure(
        GROUP,
        f"{n} backups on {n} servers: listings per refresh",
        listings,
        "req",
        -(-n // 100),
        "one account listing's pages",
        f"<= {MAX_SPREAD_LISTINGS}",
        listings <= MAX_SPREAD_LISTINGS,
        f"{len(entries)} requests in {elapsed():.1f} s through the SDK host ({CALLERS} Reads "
        f"at a time, as the engine sends them at --parallel {CALLERS}; not the CLI: too slow "
        f"for {n} resources); "
        f"100 per page, so one account listing is {-(-n // 100)} pages",
        {"requests": len(entries), "seconds": elapsed()},
    )


def _one_server(options: Options) -> list[Figure]:
    sizes: tuple[int, ...] = options.pick((10, 100), (10, 100, 500))
    figures: list[Figure] = []
    with fake_server(manual_backup_limit=10_000) as served, provider_host(served.url) as host:
        app = served.app

        def read(backup_id: int, server_id: int) -> str:
            outputs = backup_props(
                backup_id=backup_id,
                server_id=server_id,
                wait_for_completion=True,
                timeout=3600.0,
            )
            inputs = {k: v for k, v in outputs.items() if k != "backup_id"}
            id_, _, _ = host.read(str(backup_id), backup_urn(f"r{backup_id}"), outputs, inputs)
            return id_

        # Warm the host (imports, connection) on another server: the measured
        # server's listing is not in the provider's cache when the refresh starts.
        read(int(app.seed_backup(server_id=WARM_SERVER)["id"]), WARM_SERVER)
        for n in sizes:
            server = int(app.add_server(name=f"refresh-{n}")["id"])
            ids = [
                int(app.seed_backup(server_id=server, description=f"refresh {i}")["id"])
                for i in range(n)
            ]
            seq = last_seq(app)
            with ThreadPoolExecutor(CALLERS) as pool, stopwatch() as elapsed:
                found = list(pool.map(read, ids, [server] * n))
            seconds = elapsed()
            if found != [str(i) for i in ids]:
                raise RuntimeError("a Read lost a backup that exists")
            listings = len(api_requests(app, "GET", "/backups/", since=seq))
            others = len(api_requests(app, since=seq)) - listings
            with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}) as http:
                one = []
                for _ in range(3):
                    with stopwatch() as listing_time:
                        http.get(served.url + "/backups/", params={"server_id": server}).json()
                    one.append(listing_time())
            naive = n * median(one) / CALLERS
            figures.append(
                Figure(
                    GROUP,
                    f"N={n}: listings per refresh",
                    listings,
                    "req",
                    n,
                    "naive: 1 per backup",
                    f"<= {MAX_LISTINGS}",
                    listings <= MAX_LISTINGS and others == 0,
                    f"{seconds * 1e3 / n:.2f} ms per backup, {seconds:.2f} s in all, "
                    f"{CALLERS} concurrent Reads; other requests: {others}; naive would list "
                    f"{n} x {median(one) * 1e3:.1f} ms / {CALLERS} = ~{naive:.2f} s",
                    {
                        "seconds": seconds,
                        "ms_per_backup": seconds * 1e3 / n,
                        "naive_seconds_estimate": naive,
                    },
                )
            )
    return figures
