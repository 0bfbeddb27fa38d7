"""A cancelled wait (the native plugin's Cancel sets the providers' event): it stops at
once, and what a create made is handed on (`WaitCancelledError.made`) rather than
left outside state."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from pulumi.dynamic import Config, ConfigureRequest

from pulumi_vpsbackup.client import WaitCancelledError
from pulumi_vpsbackup.client.marker import owner_key
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.provider import FleetProvider, RestoreProvider, RotationProvider
from pulumi_vpsbackup.provider.core.base import messages_to
from tests.programs.scenarios import TOKEN, backups

SERVERS = [12345, 12346]


@pytest.fixture
def slow() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=600)
    with serve(app) as server:
        yield server


def test_a_cancelled_fleet_hands_on_every_backup_it_started(slow: FakeServer) -> None:
    fleet = FleetProvider()
    cancel = threading.Event()
    fleet.use_cancellation(cancel)
    raw = {"vpsbackup:apiUrl": slow.url, "vpsbackup:apiToken": TOKEN}
    fleet.configure(ConfigureRequest(Config(raw_config=raw, project_name="vpsbackup")))
    key = owner_key("5eed" * 8, "urn:pulumi:test::proj::vpsbackup:index:BackupFleet::f")
    props = {"server_ids": SERVERS, "description": "nightly", "resource_key": key}
    before = set(backups(slow.app))

    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(fleet.create, props)
        deadline = time.monotonic() + 30
        while len(set(backups(slow.app)) - before) < len(SERVERS):
            assert time.monotonic() < deadline and not creating.done(), "never started"
            time.sleep(0.05)
        cancelled = time.monotonic()
        cancel.set()
        with pytest.raises(WaitCancelledError) as caught:
            creating.result(timeout=10)
    assert time.monotonic() - cancelled < 1.0

    made = set(backups(slow.app)) - before
    assert caught.value.made is not None, "the started backups would be outside state"
    fleet_id, outs = caught.value.made
    assert fleet_id.startswith(f"fleet-{key}-")
    assert set(outs["backup_ids"].values()) == made
    assert set(outs["statuses"].values()) == {"in_progress"}
    assert "kept in state with its 2 started backup(s)" in str(caught.value)
    for backup_id in made:
        slow.app.remove_backup(backup_id)


def test_a_cancelled_restore_wait_records_the_accepted_restore_as_unconfirmed() -> None:
    """A restore cannot be undone: one whose wait is cancelled is recorded (so the next
    `pulumi up` does not restore again), saying why its end was not seen."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), restore_seconds=600)
    with serve(app) as slow:
        restore = RestoreProvider()
        cancel = threading.Event()
        restore.use_cancellation(cancel)
        raw = {"vpsbackup:apiUrl": slow.url, "vpsbackup:apiToken": TOKEN}
        restore.configure(ConfigureRequest(Config(raw_config=raw, project_name="vpsbackup")))
        props = {"server_id": 12345, "backup_id": 499, "wait_for_completion": True}
        warned: list[str] = []
        with ThreadPoolExecutor(1) as pool:

            def create() -> Any:
                with messages_to(lambda text, warning: warned.append(text) if warning else None):
                    return restore.create(props)

            creating = pool.submit(create)
            deadline = time.monotonic() + 30
            while not any(r["method"] == "POST" for r in slow.app.requests()):
                assert time.monotonic() < deadline and not creating.done(), "never started"
                time.sleep(0.05)
            cancelled = time.monotonic()
            cancel.set()
            result = creating.result(timeout=10)
        assert time.monotonic() - cancelled < 1.0
    assert result.outs["restore_status"] == "unconfirmed"
    assert any("the operation was cancelled while it waited" in w for w in warned), warned


def test_a_cancelled_rotation_hands_on_its_new_backup(slow: FakeServer) -> None:
    rotation = RotationProvider()
    cancel = threading.Event()
    rotation.use_cancellation(cancel)
    raw = {"vpsbackup:apiUrl": slow.url, "vpsbackup:apiToken": TOKEN}
    rotation.configure(ConfigureRequest(Config(raw_config=raw, project_name="vpsbackup")))
    key = owner_key("5eed" * 8, "urn:pulumi:test::proj::vpsbackup:index:BackupRotation::r")
    props = {"server_id": 12345, "keep": 3, "description": "daily", "resource_key": key}
    before = set(backups(slow.app))

    with ThreadPoolExecutor(1) as pool:
        creating = pool.submit(rotation.create, props)
        deadline = time.monotonic() + 30
        while not set(backups(slow.app)) - before:
            assert time.monotonic() < deadline and not creating.done(), "never started"
            time.sleep(0.05)
        cancelled = time.monotonic()
        cancel.set()
        with pytest.raises(WaitCancelledError) as caught:
            creating.result(timeout=10)
    assert time.monotonic() - cancelled < 1.0

    (made,) = set(backups(slow.app)) - before
    assert caught.value.made is not None, "the new backup would be outside state"
    rotation_id, outs = caught.value.made
    assert rotation_id == f"rotation-12345-{key}"
    assert outs["backup_ids"] == [made]
    slow.app.remove_backup(made)
