"""The Restore provider driven through the real SDK provider host."""

from __future__ import annotations

import pytest

from vpsbackup_dev.host import ProviderError, urn

from .conftest import Engine, api_requests


def restores_requested(fake) -> list[str]:
    return [p for m, p in api_requests(fake) if m == "POST" and p.endswith("/restore/")]


@pytest.fixture
def fast_restores(fake):
    fake.set_behaviour(restore_seconds=0)
    return fake


def test_restore_runs_and_waits_until_the_server_is_active(restores: Engine, fast_restores):
    res = restores.create("r", server_id=12345.0, backup_id=499.0)
    assert restores_requested(fast_restores) == ["/api/v1/servers/12345/restore/"]
    out = res.outputs
    assert out["server_id"] == 12345
    assert out["backup_id"] == 499
    assert out["server_status"] == "active"
    assert out["server_name"] == "web-server-01"
    assert out["restore_status"] == "completed"
    assert out["restored_at"].endswith("Z")
    assert res.id.startswith("12345:499:")


def test_restore_waits_for_a_backup_still_being_made(restores: Engine, fast_restores):
    running = fast_restores.seed_backup(server_id=12345, status="in_progress")["id"]
    res = restores.create("r", server_id=12345, backup_id=running)
    assert res.outputs["server_status"] == "active"


def test_changing_the_backup_replaces_and_so_restores_again(restores: Engine, fast_restores):
    res = restores.create("r", server_id=12345, backup_id=499)
    _, outcome = restores.diff(res, server_id=12345, backup_id=501)
    assert outcome.changes is True
    assert outcome.replaces == ["backup_id"]
    _, same = restores.diff(res, server_id=12345.0, backup_id=499.0)
    assert same.changes is False
    _, wait_only = restores.diff(res, server_id=12345, backup_id=499, timeout="2h")
    assert wait_only.changes is True and wait_only.replaces == []


def test_delete_only_forgets_and_never_calls_the_api(restores: Engine, fast_restores, host):
    res = restores.create("r", server_id=12345, backup_id=499)
    fast_restores.clear_requests()
    start = host.mark()
    restores.delete(res)
    assert api_requests(fast_restores) == []
    host.wait_for_output("does not undo a restore", since=start)


@pytest.mark.parametrize(
    ("inputs", "field", "fragment"),
    [
        ({"server_id": 12345, "backup_id": 500}, "backup_id", "belongs to server 12346"),
        ({"server_id": 12345, "backup_id": 4242}, "backup_id", "does not exist"),
        ({"server_id": 999, "backup_id": 499}, "server_id", "server 999 does not exist"),
        ({"server_id": 12345}, "backup_id", "is required"),
        ({"server_id": 12345, "backup_id": 1.5}, "backup_id", "whole number"),
    ],
)
def test_check_reports_restores_that_would_fail(restores: Engine, fake, inputs, field, fragment):
    _, failures = restores.check("r", inputs)
    assert [f for f, _ in failures] == [field]
    assert fragment in failures[0][1]
    assert restores_requested(fake) == []


def test_check_rejects_a_failed_backup(restores: Engine, fake):
    failed = fake.seed_backup(server_id=12345, status="failed")["id"]
    _, failures = restores.check("r", {"server_id": 12345, "backup_id": failed})
    assert failures == [
        ("backup_id", f"backup {failed} is failed; only a completed backup can be restored")
    ]


def test_check_passes_a_queued_backup_that_up_would_wait_for(restores: Engine, fast_restores):
    # Preview and `up` classify status words in one place: a queued backup is
    # still being made, so `up` waits for it; preview must not reject it.
    queued = fast_restores.seed_backup(id=777, server_id=12345, status="queued")["id"]
    _, failures = restores.check("r", {"server_id": 12345, "backup_id": queued})
    assert failures == []


def test_a_failed_restore_says_it_cannot_be_undone(restores: Engine, fake):
    fake.set_behaviour(restore_seconds=0, restore_failure_rate=1.0)
    with pytest.raises(ProviderError) as info:
        restores.create("r", server_id=12345, backup_id=499)
    assert "cannot be undone" in info.value.message
    assert "stopped" in info.value.message


def test_refresh_keeps_the_record_and_updates_the_server_status(
    restores: Engine, fast_restores, host
):
    res = restores.create("r", server_id=12345, backup_id=499)
    id_, outs, inputs = host.read(res.id, res.urn, res.outputs, res.inputs)
    assert id_ == res.id
    assert outs["server_status"] == "active"
    assert outs["restored_at"] == res.outputs["restored_at"]
    assert inputs is not None and inputs["backup_id"] == 499


def test_a_restore_accepted_but_not_seen_to_finish_is_recorded_not_rerun(
    restores: Engine, fake, host
):
    # The clock is frozen: the server stays `restoring` past the timeout.
    fake.set_behaviour(restore_seconds=3600)
    start = host.mark()
    res = restores.create("r", server_id=12345, backup_id=499, timeout=1)
    assert res.outputs["restore_status"] == "timed_out"
    assert res.outputs["server_status"] == "restoring"
    assert restores_requested(fake) == ["/api/v1/servers/12345/restore/"]
    host.wait_for_output("recorded as timed_out", since=start)
    # The next up sees no change, so the server is not restored a second time.
    _, outcome = restores.diff(res, server_id=12345, backup_id=499, timeout=1)
    assert outcome.changes is False


def test_refresh_settles_a_restore_recorded_as_timed_out(restores: Engine, fake, host):
    fake.set_behaviour(restore_seconds=3600)
    res = restores.create("r", server_id=12345, backup_id=499, timeout=1)
    assert res.outputs["restore_status"] == "timed_out"
    fake.advance(3601)
    _, outs, _ = host.read(res.id, res.urn, res.outputs, res.inputs)
    assert outs["restore_status"] == "completed"
    assert outs["server_status"] == "active"


def test_switching_waiting_on_waits_for_an_unsettled_restore(restores: Engine, fake, host):
    fake.set_behaviour(restore_seconds=0)
    res = restores.create("r", server_id=12345, backup_id=499, wait_for_completion=False)
    assert res.outputs["restore_status"] == "started"
    checked, outcome = restores.diff(res, server_id=12345, backup_id=499)
    assert outcome.replaces == []
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert outs["restore_status"] == "completed"
    assert restores_requested(fake) == ["/api/v1/servers/12345/restore/"]


def test_empty_triggers_never_restore_again(restores: Engine, fast_restores):
    res = restores.create("r", server_id=12345, backup_id=499)
    _, outcome = restores.diff(res, server_id=12345, backup_id=499, triggers=[])
    assert outcome.changes is False


def test_another_backups_restore_record_never_settles_ours(restores: Engine, fake, host, served):
    import httpx

    from .conftest import TOKEN

    fake.set_behaviour(restore_seconds=0)
    res = restores.create("r", server_id=12345, backup_id=499, wait_for_completion=False)
    # Someone restores the server from another backup afterwards.
    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        assert api.post("/servers/12345/restore/", json={"backup_id": 501}).status_code == 200
    checked, _ = restores.diff(res, server_id=12345, backup_id=499)
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert outs["restore_status"] == "started"
    _, refreshed, _ = host.read(res.id, res.urn, res.outputs, res.inputs)
    assert refreshed["restore_status"] == "started"


def test_after_a_failed_restore_preview_warns_and_up_says_why(restores: Engine, fake, host):
    """After a failed restore (server left stopped), preview warns with the server's
    state and what `up` will do, and `up` says why and what to do, rather than
    fail with the API's bare 400."""
    fake.set_behaviour(restore_seconds=0, restore_failure_rate=1.0)
    with pytest.raises(ProviderError):
        restores.create("r", server_id=12345, backup_id=499)
    before = host.mark()  # all the failed create printed, read
    fake.set_behaviour(restore_failure_rate=0.0)
    fake.clear_requests()
    # The next preview: nothing is in state, so Check runs as for a new restore.
    _, failures = restores.check("r", {"server_id": 12345, "backup_id": 499})
    assert failures == []
    warning = host.wait_for_output("pulumi up` will fail", since=before)
    assert "server 12345 (web-server-01) is stopped" in warning
    assert "its last restore, from backup 499, is failed" in warning
    assert "VPS.org restores only an active server: start it in the VPS.org panel" in warning
    assert "as it is now, `pulumi up` will fail" in warning
    assert restores_requested(fake) == []
    # The `up`:
    with pytest.raises(ProviderError) as info:
        restores.create("r", server_id=12345, backup_id=499)
    message = info.value.message
    assert "VPS.org refused to restore server 12345 from backup 499: server 12345" in message
    assert "is stopped" in message and "start it in the VPS.org panel" in message
    # Once the server runs again, the restore goes through.
    with fake.model.lock:
        fake.model.servers[12345].status = "active"
    res = restores.create("r", server_id=12345, backup_id=499)
    assert res.outputs["restore_status"] == "completed"


def test_a_restore_read_by_id_alone_rebuilds_its_record(restores: Engine, fast_restores, host):
    # What Restore.get sends: the id, and no inputs but the provider.
    res = restores.create("r", server_id=12345, backup_id=499)
    id_, outs, inputs = host.read(res.id, res.urn, {"__provider": restores.provider})
    assert id_ == res.id
    assert outs["server_id"] == 12345 and outs["backup_id"] == 499
    assert outs["restored_at"] == res.outputs["restored_at"]
    assert outs["server_name"] == "web-server-01" and outs["server_status"] == "active"
    assert outs["restore_status"] == "completed"  # settled from the server's record
    assert inputs is not None and inputs["backup_id"] == 499


@pytest.mark.parametrize("bad", ["499", "12345:499", "a:b:c", "12345:499:yesterday"])
def test_an_id_that_is_no_restore_id_is_refused_by_name(restores: Engine, host, bad):
    with pytest.raises(ProviderError, match="is not the id of a Restore"):
        host.read(bad, urn(restores.type, "r"), {"__provider": restores.provider})


# ---- a restore runs once per intent ------------------------------------------------------


def host_said(host, text: str, since: int = 0, within: float = 5.0) -> str:
    """The host's output from `since`, once `text` is in it: its stderr arrives
    asynchronously, after the call that wrote it has returned."""
    import time

    deadline = time.monotonic() + within
    while text not in host.output()[since:] and time.monotonic() < deadline:
        time.sleep(0.02)
    return host.output()[since:]


def last_restore(fake) -> dict:
    return next(s for s in fake.state()["servers"] if s["id"] == 12345)["last_restore"]


def accepted_by_an_interrupted_run(served, backup_id: int = 499) -> None:
    """What a `pulumi up` killed after VPS.org accepted its restore leaves behind:
    the restore on VPS.org's side, nothing in state (create never returned)."""
    import httpx

    from .conftest import TOKEN

    with httpx.Client(base_url=served.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        sent = api.post("/servers/12345/restore/", json={"backup_id": backup_id})
        assert sent.status_code == 200, sent.text


def test_the_next_up_waits_for_a_restore_an_interrupted_run_left_and_sends_none(
    restores: Engine, fast_restores, host, served
):
    accepted_by_an_interrupted_run(served)
    before = len(host.output())
    res = restores.create("r", server_id=12345, backup_id=499)
    assert restores_requested(fast_restores) == ["/api/v1/servers/12345/restore/"]
    assert res.outputs["restore_status"] == "completed"
    assert res.outputs["server_status"] == "active"
    assert res.outputs["restore_started_at"] == last_restore(fast_restores)["started_at"]
    said = host_said(host, "instead of starting another", before)
    assert "restore of server 12345 from backup 499 was already accepted at" in said
    assert "earlier interrupted run of this resource; waiting for it instead of starting" in said


def test_a_restore_still_running_from_an_interrupted_run_is_adopted_not_refused(
    restores: Engine, fake, host, served
):
    fake.set_behaviour(restore_seconds=3600)  # the clock is frozen: it stays running
    accepted_by_an_interrupted_run(served)
    # The preview: it says what `up` will do, and writes nothing.
    fake.clear_requests()
    before = len(host.output())
    _, failures = restores.check("r", {"server_id": 12345, "backup_id": 499})
    assert failures == []
    assert [m for m, _ in api_requests(fake)] == ["GET"] * len(api_requests(fake))
    said = host_said(host, "will wait for it instead of restoring server 12345 again", before)
    assert "`pulumi up` will wait for it instead of restoring server 12345 again" in said
    assert "`pulumi up` will fail" not in said
    res = restores.create("r", server_id=12345, backup_id=499, wait_for_completion=False)
    assert restores_requested(fake) == []  # the interrupted run's, cleared above
    assert res.outputs["restore_status"] == "started"
    assert res.outputs["server_status"] == "restoring"
    assert "recording it instead of starting another" in host_said(host, "recording it instead")


@pytest.mark.parametrize("state", ["current", "written before restore_started_at"])
def test_a_new_trigger_restores_again_right_after_the_last_restore(
    restores: Engine, fast_restores, host, state
):
    if state != "current":
        # A state without the API's start time falls back to our request time
        # (and the clock tolerance): that is only sound while the clocks agree.
        from datetime import datetime, timezone

        fast_restores.set_time(datetime.now(timezone.utc))
    res = restores.create("r", server_id=12345, backup_id=499)
    if state != "current":
        del res.outputs["restore_started_at"]
    checked, outcome = restores.diff(res, server_id=12345, backup_id=499, triggers=["again"])
    assert outcome.replaces == ["triggers"]
    before = len(host.output())
    # As the engine does for a replacement: Check again with no olds, then Create.
    checked, _ = restores.check("r", {"server_id": 12345, "backup_id": 499, "triggers": ["again"]})
    host.create(res.urn, checked)
    assert restores_requested(fast_restores) == ["/api/v1/servers/12345/restore/"] * 2
    said = host_said(host, "starting a new restore", before)
    assert "is the one this resource recorded before" in said
    assert "will wait for it instead of restoring" not in said
    assert "starting a new restore" in said


def test_an_interrupted_replacement_is_adopted_by_the_next_up(
    restores: Engine, fast_restores, host, served
):
    res = restores.create("r", server_id=12345, backup_id=499)
    fast_restores.advance(60)
    restores.diff(res, server_id=12345, backup_id=499, triggers=["again"])
    accepted_by_an_interrupted_run(served)  # the replacement's restore; then the kill
    # The next `up`: the old resource is still in state, so the engine diffs again.
    checked, outcome = restores.diff(res, server_id=12345, backup_id=499, triggers=["again"])
    assert outcome.replaces == ["triggers"]
    _, outs = host.create(res.urn, checked)
    assert restores_requested(fast_restores) == ["/api/v1/servers/12345/restore/"] * 2
    assert outs["restore_status"] == "completed"
    assert outs["restore_started_at"] > res.outputs["restore_started_at"]


def test_another_backup_is_restored_after_an_interrupted_run_of_the_first(
    restores: Engine, fast_restores, served
):
    accepted_by_an_interrupted_run(served, backup_id=499)
    res = restores.create("r", server_id=12345, backup_id=501)
    assert restores_requested(fast_restores) == ["/api/v1/servers/12345/restore/"] * 2
    record = last_restore(fast_restores)
    assert record["backup_id"] == 501
    assert res.outputs["restore_started_at"] == record["started_at"]


def test_an_old_restore_of_the_same_backup_does_not_stand_in_for_a_new_one(
    restores: Engine, fast_restores, host, served
):
    from datetime import timedelta

    now = fast_restores.now()
    fast_restores.set_time(now - timedelta(days=2))
    try:
        accepted_by_an_interrupted_run(served)  # two days ago, by anyone
    finally:
        fast_restores.set_time(now)
    before = len(host.output())
    restores.create("r", server_id=12345, backup_id=499)
    assert restores_requested(fast_restores) == ["/api/v1/servers/12345/restore/"] * 2
    said = host_said(host, "starting a new restore", before)
    assert "too long ago to be an interrupted run; starting a new restore" in said
