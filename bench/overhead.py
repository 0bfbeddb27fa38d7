"""Figure 1: one create, read, delete cycle through the provider host vs direct httpx.

Provider path (what ``pulumi up`` then ``refresh`` then ``destroy`` send for one
Backup): Check + Create (``wait_for_completion`` true), Read, Delete, each a gRPC
call into the SDK host, which unpickles ``__provider`` and calls the provider.
Direct path (the ideal client): POST, GET the server's listing until the backup
is completed, DELETE, on one keep-alive ``httpx.Client``. The fake completes a
backup on the first access after its POST (``completion="immediate"``), and
the provider's first poll, one ``pollInterval`` after the POST (1 s by
default: real backups take minutes), is set to 10 ms, so neither path waits
for more than the machinery itself. Cycles alternate between the two paths so that machine
noise hits both alike; medians are compared.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from typing import Any

import httpx

from .core import (
    TOKEN,
    Figure,
    Options,
    api_requests,
    backup_props,
    backup_urn,
    fake_process,
    last_seq,
    median,
    provider_host,
    stopwatch,
)

SERVER = 12345
GROUP = "overhead"
LATENCY = 0.030  # seconds added to every API request: a near API's round trip
TARGETS = {0.0: 2.5, LATENCY: 1.3}  # provider time / direct time


def run(options: Options) -> list[Figure]:
    loopback = _run_at(options, 0.0, options.pick(10, 40))
    slow = _run_at(options, LATENCY, options.pick(4, 12))
    return [*loopback, *slow[:2]]


def _add_latency(served: Any, seconds: float) -> None:
    body = json.dumps({"action": "latency", "latency": seconds}).encode()
    # Always http://127.0.0.1:<port>/__fake/faults.
    request = urllib.request.Request(  # noqa: S310
        served.admin_url + "/faults",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30):  # noqa: S310
        pass


def _run_at(options: Options, latency: float, repeats: int) -> list[Figure]:
    label = f" +{latency * 1e3:.0f} ms/request" if latency else " (loopback)"
    limit = TARGETS[latency]
    with (
        fake_process(
            "--world", "empty", "--time-scale", "0", "--completion", "immediate"
        ) as served,
        provider_host(served.url, {"vpsbackup:pollInterval": "0.01"}) as host,
        httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http,
    ):
        app = served
        if latency:
            _add_latency(served, latency)

        def provider_cycle(i: int) -> None:
            name = backup_urn(f"overhead-{i}")
            inputs, failures = host.check(
                name, {}, backup_props(server_id=SERVER, description=f"bench {i}")
            )
            if failures:
                raise RuntimeError(f"Check failed: {failures}")
            id_, outs = host.create(name, inputs)
            if outs.get("status") != "completed":
                raise RuntimeError(f"Create returned {outs.get('status')!r}, expected completed")
            _, outs, _ = host.read(id_, name, outs, inputs)
            host.delete(id_, name, outs)

        def direct_cycle(i: int) -> None:
            created = http.post("/backups/", json={"server_id": SERVER, "description": f"d {i}"})
            created.raise_for_status()
            backup_id = created.json()["id"]
            while True:
                listing = http.get("/backups/", params={"server_id": SERVER})
                listing.raise_for_status()
                found = next(b for b in listing.json()["results"] if b["id"] == backup_id)
                if found["status"] == "completed":
                    break
            http.delete(f"/backups/{backup_id}/").raise_for_status()

        def diff_call(i: int) -> None:
            # No API call at all: the pure cost of one gRPC round trip into the host
            # (serialising the properties, unpickling __provider, the call itself).
            props = backup_props(server_id=SERVER, description="same", backup_id=1)
            host.diff("1", backup_urn("diff"), props, props)

        def measure(cycle: Any, i: int) -> tuple[float, Counter[str]]:
            seq = last_seq(app)
            with stopwatch() as elapsed:
                cycle(i)
            kinds = Counter(f"{r['method']} {_route(r)}" for r in api_requests(app, since=seq))
            return elapsed(), kinds

        first_provider = measure(provider_cycle, 0)[1]  # also warms the host's imports
        for i in range(3):
            measure(direct_cycle, i)
            measure(provider_cycle, 100 + i)
        provider_times: list[float] = []
        direct_times: list[float] = []
        diff_times: list[float] = []
        provider_kinds: list[Counter[str]] = []
        direct_kinds: list[Counter[str]] = []
        for i in range(repeats):
            t, kinds = measure(provider_cycle, 1000 + i)
            provider_times.append(t)
            provider_kinds.append(kinds)
            t, kinds = measure(direct_cycle, 1000 + i)
            direct_times.append(t)
            direct_kinds.append(kinds)
            diff_times.append(measure(diff_call, i)[0])

    p_time, d_time, g_time = median(provider_times), median(direct_times), median(diff_times)
    p_req = median(sum(k.values()) for k in provider_kinds)
    d_req = median(sum(k.values()) for k in direct_kinds)
    steady = _most_common(provider_kinds)
    per_request = d_time / d_req
    grpc_calls = 4  # Check, Create, Read, Delete
    explained = d_time + (p_req - d_req) * per_request + grpc_calls * g_time
    breakdown = (
        f"{p_req - d_req:.0f} extra requests x {per_request * 1e3:.2f} ms "
        f"+ {grpc_calls} gRPC calls x {g_time * 1e3:.2f} ms "
        f"=> {explained * 1e3:.1f} ms predicted vs {p_time * 1e3:.1f} ms measured"
    )
    details: dict[str, Any] = {
        "repeats": repeats,
        "provider_ms": [round(t * 1e3, 3) for t in provider_times],
        "direct_ms": [round(t * 1e3, 3) for t in direct_times],
        "grpc_call_ms": round(g_time * 1e3, 3),
        "http_request_ms": round(per_request * 1e3, 3),
        "provider_requests_steady": dict(steady),
        "provider_requests_first_cycle": dict(first_provider),
        "direct_requests": dict(_most_common(direct_kinds)),
        "explained": breakdown,
    }
    return [
        Figure(
            GROUP,
            "create+read+delete time" + label,
            p_time * 1e3,
            "ms",
            d_time * 1e3,
            "bare httpx",
            f"<= {limit:g}x",
            p_time / d_time <= limit,
            breakdown,
            details,
        ),
        Figure(
            GROUP,
            "create+read+delete requests" + label,
            p_req,
            "req",
            d_req,
            "direct httpx",
            "(count)",
            None,
            "provider: "
            + ", ".join(f"{n} {k}" for k, n in sorted(steady.items()))
            + f"; first cycle {sum(first_provider.values())} (Check's cached listing is cold)",
            {},
        ),
        Figure(
            GROUP,
            "one gRPC call (Diff, no API)",
            g_time * 1e3,
            "ms",
            per_request * 1e3,
            "one HTTP request",
            "(info)",
            None,
            "host round trip incl. dill unpickle of __provider vs one loopback API request",
        ),
    ]


def _route(entry: dict[str, Any]) -> str:
    path = str(entry["path"]).removeprefix("/api/v1")
    parts = [p if not p.isdigit() else "{id}" for p in path.split("/")]
    query = entry.get("query") or {}
    suffix = "?" + "&".join(sorted(query)) if query else ""
    return "/".join(parts) + suffix


def _most_common(counters: list[Counter[str]]) -> Counter[str]:
    keyed = Counter(tuple(sorted(c.items())) for c in counters)
    return Counter(dict(keyed.most_common(1)[0][0]))
