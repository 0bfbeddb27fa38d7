"""Load: many resources through the engine and host, many requests on the fake.

* 64 ``Backup`` resources in one program, four steps at a time (the engine's
  parallelism here): ``up`` creates exactly 64 backups,
  each held by exactly one resource, and ``destroy`` deletes all of them.
* 500 concurrent requests over real HTTP on the fake (250 creates, 125
  deletes of seeded backups, 125 listings, from 32 threads): every answer is a
  success and nothing is lost (exactly 250 new backups with distinct ids, the
  125 deleted ones gone).
"""

from __future__ import annotations

import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.fake import serve

from ._support import (
    BACKUP_TYPE,
    LOAD_PROGRAM,
    SERVERS,
    TOKEN,
    fake_backups,
    fast_fake,
    make_engine,
    manual_ids,
    state_backup_ids,
)

RESOURCES = 64
CREATES, DELETES, LISTS = 250, 125, 125


def test_64_backups_up_and_destroy(tmp_path: Path, leak_check: Any, reliability_report: Any):
    app = fast_fake()
    # 8 servers x 8 backups: the API allows 10 manual backups per server.
    servers = [*SERVERS, *(app.add_server()["id"] for _ in range(6))]
    with serve(app) as server:
        before = manual_ids(app)
        engine = make_engine(
            tmp_path / "state.json",
            server.url,
            LOAD_PROGRAM,
            parallel=4,
            count=str(RESOURCES),
            servers=",".join(map(str, servers)),
        )
        started = time.perf_counter()
        result = engine.up()
        up_seconds = time.perf_counter() - started
        assert result.counts == {"create": RESOURCES + 2}  # + the stack and its identity
        assert result.outputs["count"] == RESOURCES

        created = manual_ids(app) - before
        held = state_backup_ids(engine)
        assert len(created) == RESOURCES, "lost or extra backups"
        assert sorted(held) == sorted(created), "state and API disagree"
        on_fake = fake_backups(app)
        descriptions = Counter(strip_marker(on_fake[i]["description"]) for i in created)
        assert set(descriptions.values()) == {1} and len(descriptions) == RESOURCES
        states = [r for r in engine.resources() if r.type == BACKUP_TYPE]
        assert all(r.outputs["status"] == "completed" for r in states)
        assert Counter(r.outputs["server_id"] for r in states) == {
            s: RESOURCES // len(servers) for s in servers
        }

        started = time.perf_counter()
        gone = engine.destroy()
        destroy_seconds = time.perf_counter() - started
        assert gone.counts == {"delete": RESOURCES + 2}
        assert manual_ids(app) == before
        assert engine.resources() == []
        leak_check(engine.state_path, result.host_output, gone.host_output, where="load run")
    reliability_report.note(
        f"load: {RESOURCES} Backups up in {up_seconds:.1f} s, destroy in {destroy_seconds:.1f} s "
        "(engine parallel=4)"
    )


def test_500_concurrent_requests_lose_nothing(reliability_report: Any) -> None:
    app = fast_fake(manual_backup_limit=10_000)
    seeded = [
        app.seed_backup(server_id=SERVERS[i % 2], description=f"seeded {i}")["id"]
        for i in range(DELETES)
    ]
    with serve(app) as server:
        before = manual_ids(app)
        limits = httpx.Limits(max_connections=32, max_keepalive_connections=32)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        with httpx.Client(base_url=server.url, headers=headers, limits=limits, timeout=30) as http:

            def create(i: int) -> tuple[str, int, Any]:
                body = {"server_id": SERVERS[i % 2], "description": f"load {i}"}
                r = http.post("/backups/", json=body)
                return "create", r.status_code, r.json().get("id")

            def delete(backup_id: int) -> tuple[str, int, Any]:
                r = http.delete(f"/backups/{backup_id}/")
                return "delete", r.status_code, backup_id

            def listing(i: int) -> tuple[str, int, Any]:
                r = http.get("/backups/", params={"server_id": SERVERS[i % 2]})
                return "list", r.status_code, r.json()["count"]

            jobs: list[tuple[Any, Any]] = [(create, i) for i in range(CREATES)]
            jobs += [(delete, b) for b in seeded] + [(listing, i) for i in range(LISTS)]
            jobs = [jobs[i] for i in sorted(range(len(jobs)), key=lambda i: (i * 7919) % 500)]
            started = time.perf_counter()
            with ThreadPoolExecutor(max_workers=32) as pool:
                answers = list(pool.map(lambda job: job[0](job[1]), jobs))
            seconds = time.perf_counter() - started

    assert len(answers) == CREATES + DELETES + LISTS == 500
    statuses = Counter((kind, status) for kind, status, _ in answers)
    assert statuses == {("create", 201): CREATES, ("delete", 204): DELETES, ("list", 200): LISTS}
    new_ids = [value for kind, _, value in answers if kind == "create"]
    assert len(set(new_ids)) == CREATES, "two creates got the same id"
    after = manual_ids(app)
    assert after - before == set(new_ids)
    assert set(seeded) & after == set()
    assert len(after) == len(before) + CREATES - DELETES
    assert seconds < 60, f"500 requests took {seconds:.1f} s"
    reliability_report.note(
        f"load: 500 concurrent requests on the fake (32 threads) in {seconds:.2f} s, "
        f"{500 / seconds:.0f} req/s, all answered, nothing lost"
    )


SCALE_PROGRAM = """
import sys

import pulumi
from pulumi.runtime import Mocks, set_mocks


class EchoMocks(Mocks):
    def new_resource(self, args):
        return [args.name + "-id", args.inputs]

    def call(self, args):
        return {}


set_mocks(EchoMocks(), preview=False)

import pulumi_vpsbackup as vps
from pulumi_vpsbackup.provider.core.sdk_compat import _is_sdk_wrapper, _wrapped

count = int(sys.argv[1])
backups = [vps.Backup(f"b{i}", server_id=12345, description=f"d{i}") for i in range(count)]
restores = [vps.Restore(f"r{i}", server_id=12345, backup_id=499) for i in range(3)]


@pulumi.runtime.test
def registered():
    ids = [b.id for b in backups] + [r.id for r in restores]
    return pulumi.Output.all(*ids).apply(lambda done: print("registered", len(done)))


registered()
import pickle

depth, func = 0, pickle._Pickler.__dict__["_batch_setitems"]
while _is_sdk_wrapper(func):
    depth, func = depth + 1, _wrapped(func)
print("wrappers", depth)
"""


def test_2000_backups_in_one_program_do_not_exhaust_the_recursion_limit(tmp_path: Path) -> None:
    """The SDK's serialize_provider wraps the pickler once more per dynamic
    resource; the 1000th Backup and later must not fail with RecursionError.

    Runs in its own interpreter: `set_mocks` and the pickler are process-wide."""
    import subprocess
    import sys

    script = tmp_path / "scale.py"
    script.write_text(SCALE_PROGRAM, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script), "2000"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RecursionError" not in done.stderr
    assert "registered 2003" in done.stdout
    assert "wrappers 1" in done.stdout  # the SDK's own wrapper, once
