"""Figure 1: one create, read, delete cycle, two ways, each vs the same bare httpx client.

Three cycles run alternately on one fake, so that machine noise hits all alike;
medians are compared, at loopback and with 30 ms added to every API request:

* **VpsClient** (the client's own cost, issue 22 scope 4): what the provider
  calls to make, wait for and delete one Backup, in this process:
  ``create_backup``, ``wait_for_backup`` from the POST's answer (``seen``; its
  polls are the read, as the bare client's are) and ``delete_backup``. Its
  polling schedule starts at 0 s, like the bare client's loop: the schedule is
  ``bench/polling``'s subject, not this one's.
* **provider host** (what ``pulumi up`` then ``refresh`` then ``destroy`` send
  for one Backup): Check + Create (``wait_for_completion`` true), Read,
  Delete, each a gRPC call into the SDK host, which unpickles ``__provider``
  and calls the provider; its first poll comes one ``pollInterval`` after the
  POST (1 s by default: real backups take minutes), set to 10 ms here.
* **bare httpx** (the careful hand-written client, the baseline of both):
  POST, GET the server's listing until the backup is completed (that listing
  is the read), DELETE, on one keep-alive ``httpx.Client``.

The fake runs in its own process (``fake_process``), so the clients in this
one do not share its GIL, and completes a backup on the first access after its
POST (``completion="immediate"``), so no path waits for more than the
machinery itself. Where each request goes is taken from the fake's journal in
one extra, untimed cycle of each path, call by call.
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter
from typing import Any

import httpx

from pulumi_vpsbackup.client import ClientSettings, PollPolicy, Secret, VpsClient

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
TARGETS = {0.0: 2.5, LATENCY: 1.3}  # provider host time / direct time
#: VpsClient time / direct time: the issue's target at +30 ms; loopback is shown (info).
CLIENT_TARGETS: dict[float, float | None] = {0.0: None, LATENCY: 1.3}


def run(options: Options) -> list[Figure]:
    loopback = _run_at(options, 0.0, options.pick(10, 40))
    slow = _run_at(options, LATENCY, options.pick(4, 12))
    # The gRPC round trip (the last figure) is shown once, at loopback.
    return [*loopback, *slow[:-1]]


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
    with (
        fake_process(
            "--world", "empty", "--time-scale", "0", "--completion", "immediate"
        ) as served,
        provider_host(served.url, {"vpsbackup:pollInterval": "0.01"}) as host,
        httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}) as http,
        VpsClient(
            ClientSettings(token=Secret(TOKEN), base_url=served.url, poll=PollPolicy(initial=0))
        ) as client,
    ):
        app = served
        if latency:
            _add_latency(served, latency)

        def step(trace: Trace | None, call: str) -> None:
            """Between two calls of a traced cycle: the requests since the last step."""
            if trace is not None:
                trace.step(call)

        def provider_cycle(i: int, trace: Trace | None = None) -> None:
            name = backup_urn(f"overhead-{i}")
            inputs, failures = host.check(
                name, {}, backup_props(server_id=SERVER, description=f"bench {i}")
            )
            if failures:
                raise RuntimeError(f"Check failed: {failures}")
            step(trace, "Check")
            id_, outs = host.create(name, inputs)
            if outs.get("status") != "completed":
                raise RuntimeError(f"Create returned {outs.get('status')!r}, expected completed")
            step(trace, "Create")
            _, outs, _ = host.read(id_, name, outs, inputs)
            step(trace, "Read")
            host.delete(id_, name, outs)
            step(trace, "Delete")

        def client_cycle(i: int, trace: Trace | None = None) -> None:
            made = client.create_backup(SERVER, f"c {i}")
            step(trace, "create_backup")
            done = client.wait_for_backup(made.id, server_id=SERVER, timeout=60, seen=made)
            if done.status != "completed":
                raise RuntimeError(f"wait_for_backup returned {done.status!r}")
            step(trace, "wait_for_backup")
            client.delete_backup(made.id)
            step(trace, "delete_backup")

        def direct_cycle(i: int, trace: Trace | None = None) -> None:
            created = http.post("/backups/", json={"server_id": SERVER, "description": f"d {i}"})
            created.raise_for_status()
            backup_id = created.json()["id"]
            step(trace, "POST")
            while True:
                listing = http.get("/backups/", params={"server_id": SERVER})
                listing.raise_for_status()
                found = next(b for b in listing.json()["results"] if b["id"] == backup_id)
                if found["status"] == "completed":
                    break
            step(trace, "poll (the read)")
            http.delete(f"/backups/{backup_id}/").raise_for_status()
            step(trace, "DELETE")

        def diff_call(i: int, trace: Trace | None = None) -> None:
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

        def traced(cycle: Any, i: int) -> Trace:
            trace = Trace(app)
            cycle(i, trace)
            return trace

        first_provider = measure(provider_cycle, 0)[1]  # also warms the host's imports
        for i in range(3):
            measure(direct_cycle, i)
            measure(provider_cycle, 100 + i)
            measure(client_cycle, 100 + i)
        traces = {
            "provider": traced(provider_cycle, 200),
            "client": traced(client_cycle, 200),
            "direct": traced(direct_cycle, 200),
        }
        times: dict[str, list[float]] = {"provider": [], "client": [], "direct": [], "diff": []}
        kinds: dict[str, list[Counter[str]]] = {"provider": [], "client": [], "direct": []}
        cycles = {"provider": provider_cycle, "client": client_cycle, "direct": direct_cycle}
        for i in range(repeats):
            for path, cycle in cycles.items():
                t, seen = measure(cycle, 1000 + i)
                times[path].append(t)
                kinds[path].append(seen)
            times["diff"].append(measure(diff_call, i)[0])

    p_time, d_time, g_time = (median(times[k]) for k in ("provider", "direct", "diff"))
    c_time = median(times["client"])
    p_req, c_req, d_req = (
        median(sum(k.values()) for k in kinds[path]) for path in ("provider", "client", "direct")
    )
    steady = _most_common(kinds["provider"])
    per_request = d_time / d_req
    grpc_calls = 4  # Check, Create, Read, Delete
    poll_sleep = 0.01  # the provider's pollInterval: its first poll comes that long after the POST
    explained = d_time + (p_req - d_req) * per_request + grpc_calls * g_time + poll_sleep
    breakdown = (
        f"{p_req - d_req:.0f} extra requests x {per_request * 1e3:.2f} ms "
        f"+ {grpc_calls} gRPC calls x {g_time * 1e3:.2f} ms + one {poll_sleep * 1e3:.0f} ms "
        f"pollInterval => {explained * 1e3:.1f} ms predicted vs {p_time * 1e3:.1f} ms measured"
    )
    c_extra = c_req - d_req
    c_explained = d_time + c_extra * per_request
    c_breakdown = (
        f"{c_extra:+.0f} requests vs bare httpx => {c_explained * 1e3:.1f} ms predicted "
        f"vs {c_time * 1e3:.1f} ms measured; the rest is the client's own work "
        f"({(c_time - c_explained) / max(c_req, 1) * 1e3:+.2f} ms a request)"
    )
    details: dict[str, Any] = {
        "repeats": repeats,
        "provider_ms": [round(t * 1e3, 3) for t in times["provider"]],
        "client_ms": [round(t * 1e3, 3) for t in times["client"]],
        "direct_ms": [round(t * 1e3, 3) for t in times["direct"]],
        "grpc_call_ms": round(g_time * 1e3, 3),
        "http_request_ms": round(per_request * 1e3, 3),
        "provider_requests_steady": dict(steady),
        "provider_requests_first_cycle": dict(first_provider),
        "client_requests": dict(_most_common(kinds["client"])),
        "direct_requests": dict(_most_common(kinds["direct"])),
        "requests_by_call": {path: trace.calls for path, trace in traces.items()},
        "explained": breakdown,
        "client_explained": c_breakdown,
    }
    limit = TARGETS[latency]
    client_limit = CLIENT_TARGETS[latency]
    return [
        Figure(
            GROUP,
            "VpsClient: create+read+delete time" + label,
            c_time * 1e3,
            "ms",
            d_time * 1e3,
            "bare httpx",
            f"<= {client_limit:g}x" if client_limit else "(info)",
            c_time / d_time <= client_limit if client_limit else None,
            c_breakdown,
            details,
        ),
        Figure(
            GROUP,
            "VpsClient: create+read+delete requests" + label,
            c_req,
            "req",
            d_req,
            "bare httpx",
            "(count)",
            None,
            f"VpsClient: {traces['client'].said()}; bare httpx: {traces['direct'].said()}",
        ),
        Figure(
            GROUP,
            "provider host: create+read+delete time" + label,
            p_time * 1e3,
            "ms",
            d_time * 1e3,
            "bare httpx",
            f"<= {limit:g}x",
            p_time / d_time <= limit,
            breakdown,
        ),
        Figure(
            GROUP,
            "provider host: create+read+delete requests" + label,
            p_req,
            "req",
            d_req,
            "bare httpx",
            "(count)",
            None,
            f"provider host: {traces['provider'].said()}"
            f"; first cycle {sum(first_provider.values())} (Check's cached listing is cold)",
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


class Trace:
    """The fake's journal read between the calls of one cycle: which call sent what."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self._seq = last_seq(app)
        self.calls: dict[str, list[str]] = {}

    def step(self, call: str) -> None:
        sent = api_requests(self._app, since=self._seq)
        if sent:
            self._seq = int(sent[-1]["seq"])
        self.calls[call] = [f"{r['method']} {_route(r)}" for r in sent]

    def said(self) -> str:
        """``call: requests`` for each call, ``call: none`` for one that sent nothing."""
        return ", ".join(
            f"{call}: {' + '.join(sent) if sent else 'none'}" for call, sent in self.calls.items()
        )


def _route(entry: dict[str, Any]) -> str:
    path = str(entry["path"]).removeprefix("/api/v1")
    parts = [p if not p.isdigit() else "{id}" for p in path.split("/")]
    query = entry.get("query") or {}
    suffix = "?" + "&".join(sorted(query)) if query else ""
    return "/".join(parts) + suffix


def _most_common(counters: list[Counter[str]]) -> Counter[str]:
    keyed = Counter(tuple(sorted(c.items())) for c in counters)
    return Counter(dict(keyed.most_common(1)[0][0]))
