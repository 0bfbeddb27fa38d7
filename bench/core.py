"""What every figure shares: the result record, statistics, the fake and the host.

The provider host is the SDK's own (``python -u -m pulumi.dynamic``), driven over
gRPC by ``vpsbackup_dev.host.ProviderHost`` exactly as the provider tests drive
it; the fake is served on a free loopback port with ``pulumi_vpsbackup.fake.serve``.
Both are context managers, so every process and server is gone when a figure
returns, also on errors and Ctrl-C.
"""

from __future__ import annotations

import json
import statistics
import time
import urllib.request
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from pulumi_vpsbackup.fake import (
    FakeClock,
    FakeServer,
    FakeVps,
    LaunchedFake,
    launch,
    serve,
)
from pulumi_vpsbackup.provider import BackupProvider
from vpsbackup_dev.host import ProviderHost, serialize_provider, urn

__all__ = [
    "BACKUP_TYPE",
    "REPO_ROOT",
    "TOKEN",
    "Figure",
    "Options",
    "RemoteFake",
    "api_requests",
    "backup_props",
    "backup_urn",
    "fake_process",
    "fake_server",
    "frozen_clock",
    "median",
    "provider_host",
    "stopwatch",
]

REPO_ROOT = Path(__file__).resolve().parents[1]
TOKEN = "vps_bench_token_7c1e0b"
BACKUP_TYPE = "pulumi-python:dynamic/vpsbackup:Backup"
# Start fake time on a whole second: the fake stores whole-second timestamps, so
# "created at t0, completes at t0 + D" is then exact.
FAKE_EPOCH = datetime(2030, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
_PROVIDER: list[str] = []


@dataclass(frozen=True)
class Options:
    """How thoroughly to measure: ``quick`` trades repetitions for speed."""

    quick: bool = False

    def pick(self, quick: Any, full: Any) -> Any:
        return quick if self.quick else full


@dataclass
class Figure:
    """One row of the table: a measurement against its ideal or baseline."""

    group: str
    name: str
    measured: float | None
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    target: str = ""
    passed: bool | None = None  # None: informational, no target
    note: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def ratio(self) -> float | None:
        if self.measured is None or not self.baseline:
            return None
        return self.measured / self.baseline

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        return data


def median(values: Iterable[float]) -> float:
    return float(statistics.median(list(values)))


@contextmanager
def stopwatch() -> Iterator[Callable[[], float]]:
    """``with stopwatch() as elapsed: ...; elapsed()`` in seconds (frozen at exit)."""
    start = time.perf_counter()
    end: list[float] = []
    yield lambda: (end[0] if end else time.perf_counter()) - start
    end.append(time.perf_counter())


def frozen_clock() -> FakeClock:
    return FakeClock(start=FAKE_EPOCH, scale=0)


@contextmanager
def fake_server(**kwargs: Any) -> Iterator[FakeServer]:
    """A new ``FakeVps(token=TOKEN, **kwargs)`` on a free 127.0.0.1 port."""
    kwargs.setdefault("world", "empty")
    kwargs.setdefault("clock", frozen_clock())
    with serve(FakeVps(token=TOKEN, **kwargs)) as server:
        yield server


class RemoteFake:
    """A fake running in its own process (the fake's launcher, ``pulumi_vpsbackup.fake.launch``).

    Used where a client in this process is timed: a fake served from a thread of
    the same process would compete with that client for the GIL, which the
    provider host (another process) would not, and the comparison would be unfair.
    """

    def __init__(self, launched: LaunchedFake) -> None:
        self.url = launched.url
        self.admin_url = launched.admin_url

    def requests(self) -> list[dict[str, Any]]:
        url = self.admin_url + "/requests"  # always http://127.0.0.1:<port>/__fake/requests
        with urllib.request.urlopen(url, timeout=30) as response:  # noqa: S310
            return list(json.load(response)["results"])


@contextmanager
def fake_process(*args: str) -> Iterator[RemoteFake]:
    """Start the fake's CLI on a free loopback port; stop it at the end of the block."""
    with launch(*args, token=TOKEN, cwd=REPO_ROOT) as launched:
        yield RemoteFake(launched)


def host_config(url: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    return {"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": url, **(extra or {})}


@contextmanager
def provider_host(
    url: str, extra_config: Mapping[str, str] | None = None
) -> Iterator[ProviderHost]:
    """The SDK provider host, configured like a stack with the fake's URL and token.

    Settings come only from the stack config (the environment variables are
    blanked), and the host has served one call before it is handed out.
    """
    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as host:
        host.configure(host_config(url, extra_config), secret_keys={"vpsbackup:apiToken"})
        yield host


def provider_blob() -> str:
    """The ``__provider`` value a program sends for a Backup (dill, base64)."""
    if not _PROVIDER:
        _PROVIDER.append(serialize_provider(BackupProvider()))
    return _PROVIDER[0]


def backup_urn(name: str) -> str:
    return urn(BACKUP_TYPE, name, project="bench", stack="bench")


def backup_props(**inputs: Any) -> dict[str, Any]:
    return {**inputs, "__provider": provider_blob()}


def api_requests(
    app: FakeVps | RemoteFake, method: str | None = None, path: str | None = None, since: int = 0
) -> list[dict[str, Any]]:
    """Journal entries (``seq > since``) matching ``method`` and a path suffix."""
    return [
        r
        for r in app.requests()
        if r["seq"] > since
        and (method is None or r["method"] == method)
        and (path is None or r["path"].endswith(path))
    ]


def last_seq(app: FakeVps | RemoteFake) -> int:
    entries = app.requests()
    return int(entries[-1]["seq"]) if entries else 0
