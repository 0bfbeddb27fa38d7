"""The Backup provider driven through the real SDK provider host, as the engine drives it."""

from __future__ import annotations

import base64
import json
import threading

import pytest
from pulumi.runtime import rpc

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.provider.core.validation import is_unknown
from tests.support.failures import by_field
from tests.support.keys import key_for
from vpsbackup_dev.host import ProviderError, ProviderHost

from .conftest import (
    BACKUP_PROVIDER,
    BACKUP_TYPE,
    TOKEN,
    Engine,
    Resource,
    api_requests,
    fake_backups,
    host_config,
)

# ---- check -----------------------------------------------------------------------------


def test_check_normalises_engine_floats_and_fills_defaults(backups: Engine, fake):
    inputs, failures = backups.check("b", {"server_id": 12345.0, "timeout": "45m"})
    assert failures == []
    assert inputs["server_id"] == 12345
    assert inputs["timeout"] == 2700.0
    assert inputs["wait_for_completion"] is True


def test_check_names_every_bad_field(backups: Engine, fake):
    _, failures = backups.check(
        "b",
        {"server_id": "web", "description": "x" * 300, "timeout": "soon", "triggers": "v1"},
    )
    named = dict(by_field(failures))
    assert set(named) == {"server_id", "description", "timeout", "triggers"}
    assert "positive whole number" in named["server_id"]
    assert "at most 255 characters" in named["description"]
    assert "duration" in named["timeout"]
    assert "list or a map" in named["triggers"]


def test_check_tolerates_unknowns_in_preview(backups: Engine, fake):
    inputs, failures = backups.check("b", {"server_id": rpc.UNKNOWN, "description": "d"})
    assert failures == []
    assert is_unknown(inputs["server_id"])
    assert api_requests(fake) == []  # nothing to ask the API about yet


def test_check_reports_an_unknown_server_with_the_ones_that_exist(backups: Engine, fake):
    _, failures = backups.check("b", {"server_id": 999})
    assert len(failures) == 1
    field, reason = failures[0]
    assert field == "server_id"
    assert "server 999 does not exist" in reason
    assert "12345 (web-server-01)" in reason


def fill_quota(fake, server_id: int) -> None:
    for n in range(10):
        fake.seed_backup(server_id=server_id, backup_type="manual", description=f"m{n}")


def test_check_warns_at_preview_when_the_quota_is_full(backups: Engine, fake, host):
    # A warning, not a failure: the engine checks a replacement again with no
    # old inputs, which looks exactly like this fresh create, and a replacement
    # with delete_before_replace frees its own slot.
    # A server no earlier test listed: the host's short-lived listing cache
    # (shared by concurrent checks) holds nothing stale for it.
    fake.add_server(id=23456, name="quota-server")
    fill_quota(fake, 23456)
    start = host.mark()
    _, failures = backups.check("b", {"server_id": 23456})
    assert failures == []
    shown = host.wait_for_output(
        "server 23456 (quota-server) already has 10 manual backups", since=start
    )
    assert "delete_before_replace" in shown


def test_a_full_server_is_refused_at_create_with_the_api_reason(backups: Engine, fake):
    fill_quota(fake, 12346)
    with pytest.raises(ProviderError) as info:
        backups.create("b", server_id=12346)
    assert "limit" in info.value.message.lower()
    # What to do, with the ids that hold the quota, on the first line.
    first = info.value.message.splitlines()[0]
    assert first.startswith("Server 12346 is at its limit of 10 manual backups (ids ")
    assert "Delete one you no longer need" in first and "delete_before_replace" in first


def test_replacing_on_a_full_server_works_with_delete_before_replace(backups: Engine, fake):
    res = backups.create("b", server_id=12346, triggers=["v1"])
    for n in range(9):
        fake.seed_backup(server_id=12346, backup_type="manual", description=f"m{n}")
    checked, outcome = backups.diff(res, server_id=12346, triggers=["v2"])
    assert outcome.replaces == ["triggers"]
    # The engine's order for delete_before_replace: check again as new, delete, create.
    _, failures = backups.check("b", {"server_id": 12346, "triggers": ["v2"]})
    assert failures == []
    backups.delete(res)
    new_id, _ = backups.host.create(res.urn, checked)
    assert int(new_id) in fake_backups(fake, 12346)
    assert int(res.id) not in fake_backups(fake)


def test_check_does_not_fail_preview_when_the_api_is_down(fake, served):
    # A host of its own, as a CLI command starts: the module's host may still
    # hold a listing of this server that an earlier test made moments ago.
    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as host:
        host.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})
        fake.add_fault(method="*", path="/api/v1/*", action="status", status=503)
        inputs, failures = Engine(host, BACKUP_TYPE, BACKUP_PROVIDER).check(
            "b", {"server_id": 12345}
        )
        assert failures == []
        assert inputs["server_id"] == 12345
        host.wait_for_output("could not verify server 12345")


def test_check_skips_the_api_when_nothing_would_be_created(backups: Engine, fake):
    olds = {"server_id": 12345, "wait_for_completion": True, "timeout": 3600.0}
    _, failures = backups.check("b", {"server_id": 12345, "timeout": 60}, olds=olds)
    assert failures == []
    assert api_requests(fake) == []


# ---- create ----------------------------------------------------------------------------


def test_create_waits_for_completion_and_copies_inputs_to_outputs(backups: Engine, fake):
    before = set(fake_backups(fake))
    res = backups.create("b", server_id=12345.0, description="before deploy", triggers=["v1"])
    created = set(fake_backups(fake)) - before
    assert created == {int(res.id)}
    out = res.outputs
    assert out["backup_id"] == int(res.id)
    assert out["status"] == "completed"
    assert out["server_name"] == "web-server-01"
    assert out["backup_type"] == "manual"
    assert out["size_mb"] > 0
    assert out["created_at"].endswith("Z")
    assert out.get("expires_at") is None  # None outputs vanish on the wire
    assert out["description"] == "before deploy"
    assert out["triggers"] == ["v1"]
    assert out["timeout"] == 3600.0


def test_create_without_waiting_returns_the_running_backup(backups: Engine, fake):
    res = backups.create("b", server_id=12345, wait_for_completion=False)
    assert res.outputs["status"] == "in_progress"
    assert res.outputs.get("size_mb") is None


def test_failed_backup_is_deleted_and_the_error_says_so(backups: Engine, fake):
    fake.set_behaviour(failure_rate=1.0)
    before = set(fake_backups(fake))
    with pytest.raises(ProviderError) as info:
        backups.create("b", server_id=12345)
    assert set(fake_backups(fake)) == before  # nothing orphaned on the quota
    assert "failed" in info.value.message
    assert "was deleted" in info.value.message
    assert TOKEN not in info.value.details()


def test_timed_out_backup_is_deleted_when_the_api_allows(backups: Engine, fake):
    fake.set_behaviour(completion="time", backup_seconds=3600, delete_in_progress="allow")
    before = set(fake_backups(fake))
    with pytest.raises(ProviderError) as info:
        backups.create("b", server_id=12345, timeout=1)
    assert set(fake_backups(fake)) == before
    assert "was deleted" in info.value.message


def test_timed_out_backup_that_cannot_be_deleted_is_named(backups: Engine, fake):
    # The clock is frozen, so the backup never finishes and the API refuses to
    # delete a running backup: the error must name what was left behind.
    fake.set_behaviour(completion="time", backup_seconds=3600, delete_in_progress="reject")
    before = set(fake_backups(fake))
    with pytest.raises(ProviderError) as info:
        backups.create("b", server_id=12345, timeout=1)
    (left,) = set(fake_backups(fake)) - before
    assert f"Backup {left} on server 12345 could not be deleted" in info.value.message
    assert f"existing_backup_id={left}" in info.value.message


def test_lost_create_response_adopts_the_backup_instead_of_duplicating(backups: Engine, fake):
    fake.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="after", count=1)
    before = set(fake_backups(fake))
    res = backups.create("b", server_id=12345, description="lost answer")
    created = set(fake_backups(fake)) - before
    assert created == {int(res.id)}


def test_concurrent_creates_make_exactly_one_backup_each(backups: Engine, fake):
    before = set(fake_backups(fake))
    results: list[Resource] = []
    errors: list[BaseException] = []

    def make(i: int) -> None:
        try:
            results.append(backups.create(f"b{i}", server_id=12345 + i % 2, description=f"c{i}"))
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=make, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    created = set(fake_backups(fake)) - before
    assert created == {int(r.id) for r in results}
    assert len(created) == 8


# ---- diff and update -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "replaces"),
    [
        ({"server_id": 12346}, ["server_id"]),
        ({"description": "other"}, ["description"]),
        ({"triggers": ["v2"]}, ["triggers"]),
    ],
)
def test_identity_changes_replace(backups: Engine, fake, change, replaces):
    res = backups.create("b", server_id=12345, description="d", triggers=["v1"])
    inputs = {"server_id": 12345, "description": "d", "triggers": ["v1"], **change}
    _, outcome = backups.diff(res, **inputs)
    assert outcome.changes is True
    assert outcome.replaces == replaces
    assert outcome.delete_before_replace is False


def test_no_change_and_provider_bytes_are_ignored(backups: Engine, fake):
    res = backups.create("b", server_id=12345, description="d")
    # The stored __provider differs from the program's (e.g. another SDK version).
    res.outputs["__provider"] = base64.b64encode(b"older pickle").decode()
    _, outcome = backups.diff(res, server_id=12345.0, description="d")
    assert outcome.changes is False
    assert outcome.replaces == []


def test_wait_and_timeout_update_in_place_without_api_calls(backups: Engine, fake, host):
    res = backups.create("b", server_id=12345)
    checked, outcome = backups.diff(res, server_id=12345, timeout="2h", wait_for_completion=False)
    assert outcome.changes is True
    assert outcome.replaces == []
    fake.clear_requests()
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert api_requests(fake) == []
    assert outs["timeout"] == 7200.0
    assert outs["wait_for_completion"] is False
    assert outs["backup_id"] == res.outputs["backup_id"]
    assert outs["status"] == "completed"


def test_preview_diff_with_unknown_replaces(backups: Engine, fake):
    res = backups.create("b", server_id=12345, triggers=["v1"])
    _, outcome = backups.diff(res, server_id=12345, triggers=[rpc.UNKNOWN])
    assert outcome.replaces == ["triggers"]


# ---- read ------------------------------------------------------------------------------


def test_read_refreshes_outputs_and_returns_inputs(backups: Engine, fake, host):
    fake.set_behaviour(completion="time", backup_seconds=60)
    res = backups.create("b", server_id=12345, description="d", wait_for_completion=False)
    assert res.outputs["status"] == "in_progress"
    fake.advance(61)
    id_, outs, inputs = host.read(res.id, res.urn, res.outputs, res.inputs)
    assert id_ == res.id
    assert outs["status"] == "completed"
    assert outs["size_mb"] > 0
    assert inputs is not None
    assert inputs["server_id"] == 12345
    assert inputs["description"] == "d"
    assert "backup_id" not in inputs


def test_read_of_a_vanished_backup_removes_it_from_state(backups: Engine, fake, host):
    res = backups.create("b", server_id=12345)
    fake.remove_backup(int(res.id))
    id_, _, _ = host.read(res.id, res.urn, res.outputs, res.inputs)
    assert id_ == ""


@pytest.mark.parametrize("status", [401, 503])
def test_read_never_drops_state_on_errors(backups: Engine, fake, host, status):
    res = backups.create("b", server_id=12345)
    fake.add_fault(method="GET", path="/api/v1/backups/", action="status", status=status)
    with pytest.raises(ProviderError):
        host.read(res.id, res.urn, res.outputs, res.inputs)


def test_get_reads_an_existing_automatic_backup_from_its_id_alone(host, fake):
    props = {"__provider": BACKUP_PROVIDER}
    id_, outs, _ = host.read(
        "501", "urn:pulumi:dev::test::pulumi-python:dynamic/vpsbackup:Backup::auto", {}, props
    )
    assert id_ == "501"
    assert outs["backup_type"] == "automatic"
    assert outs["server_id"] == 12345
    assert outs["expires_at"] is not None


def test_refresh_of_many_backups_shares_listings(backups: Engine, fake, host):
    made = [backups.create(f"b{i}", server_id=12345) for i in range(6)]
    fake.clear_requests()
    for res in made:
        host.read(res.id, res.urn, res.outputs, res.inputs)
    listings = [p for m, p in api_requests(fake) if m == "GET" and p == "/api/v1/backups/"]
    assert 1 <= len(listings) < len(made)


# ---- delete ----------------------------------------------------------------------------


def test_delete_removes_the_backup(backups: Engine, fake):
    res = backups.create("b", server_id=12345)
    backups.delete(res)
    assert int(res.id) not in fake_backups(fake)


def test_delete_of_an_already_deleted_backup_succeeds(backups: Engine, fake, host):
    res = backups.create("b", server_id=12345)
    fake.remove_backup(int(res.id))
    start = host.mark()
    backups.delete(res)
    host.wait_for_output(f"backup {res.id} was already gone", since=start)


def test_delete_waits_for_a_running_backup_then_deletes_it(backups: Engine, fake):
    fake.set_behaviour(delete_in_progress="reject")
    res = backups.create("b", server_id=12345, wait_for_completion=False)
    assert fake_backups(fake)[int(res.id)]["status"] == "in_progress"
    backups.delete(res)
    assert int(res.id) not in fake_backups(fake)


# ---- adoption --------------------------------------------------------------------------


def test_existing_manual_backup_is_adopted_not_duplicated(backups: Engine, fake):
    before = set(fake_backups(fake))
    res = backups.create("adopted", server_id=12345, existing_backup_id=499)
    assert res.id == "499"
    assert set(fake_backups(fake)) == before
    assert res.outputs["description"] == "Pre-update backup"
    backups.delete(res)
    assert 499 not in fake_backups(fake)


def test_adopting_an_automatic_or_missing_backup_is_refused_at_check(backups: Engine, fake):
    _, failures = backups.check("a", {"server_id": 12345, "existing_backup_id": 501})
    assert failures and failures[0][0] == "existing_backup_id"
    assert "automatic" in failures[0][1]
    _, failures = backups.check("a", {"server_id": 12345, "existing_backup_id": 7})
    assert failures and failures[0][0] == "existing_backup_id"
    assert "does not exist" in failures[0][1]


def test_adopting_a_backup_another_resource_made_is_named_at_check(backups: Engine, fake, host):
    # What a `Backup` in a program sends: its owner key, from the stack and its name.
    made = backups.create("maker", server_id=12345, resource_key=key_for("maker"))
    start = host.mark()
    taker = {"server_id": 12345, "existing_backup_id": int(made.id), "resource_key": key_for("t")}
    _, failures = backups.check("taker", taker)
    assert failures == []  # the user's explicit choice: named, not refused
    shown = host.wait_for_output(
        f"backup {made.id} of server 12345 was made by another resource", since=start
    )
    assert "whichever of the two is destroyed first deletes it" in shown
    backups.delete(made)


def test_an_adopted_backup_is_never_replaced_for_description_or_triggers(
    backups: Engine, fake, host
):
    res = backups.create("adopted", server_id=12345, existing_backup_id=499)
    _, same = backups.diff(res, server_id=12345, existing_backup_id=499)
    assert same.changes is False  # the API's description is not a change request
    _, described = backups.diff(res, server_id=12345, existing_backup_id=499, description="x")
    assert described.changes is False
    checked, retriggered = backups.diff(res, server_id=12345, existing_backup_id=499, triggers=[2])
    assert retriggered.changes is True and retriggered.replaces == []
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert outs["triggers"] == [2]
    assert outs["description"] == "Pre-update backup"
    assert 499 in fake_backups(fake)


def test_leaving_out_the_description_is_not_a_change(backups: Engine, fake):
    res = backups.create("b", server_id=12345, description="kept")
    _, outcome = backups.diff(res, server_id=12345)
    assert outcome.changes is False
    _, emptied = backups.diff(res, server_id=12345, description="")
    assert emptied.changes is False


def test_empty_triggers_are_the_same_as_none(backups: Engine, fake):
    res = backups.create("b", server_id=12345)
    for empty in ([], {}):
        _, outcome = backups.diff(res, server_id=12345, triggers=empty)
        assert outcome.changes is False, empty


def test_naming_its_own_backup_in_existing_backup_id_updates_in_place(backups: Engine, fake, host):
    res = backups.create("b", server_id=12345, description="mine")
    own = int(res.id)
    checked, outcome = backups.diff(res, server_id=12345, existing_backup_id=own)
    assert outcome.changes is True and outcome.replaces == []
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert outs["existing_backup_id"] == own
    assert own in fake_backups(fake)


def test_dropping_existing_backup_id_after_adoption_keeps_the_backup(backups: Engine, fake, host):
    res = backups.create("adopted", server_id=12345, existing_backup_id=499)
    checked, outcome = backups.diff(res, server_id=12345)
    assert outcome.changes is True and outcome.replaces == []
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert "existing_backup_id" not in outs
    assert 499 in fake_backups(fake)
    # From then on it is an ordinary managed backup: new triggers take a new one.
    res.outputs = outs
    _, retake = backups.diff(res, server_id=12345, triggers=["v2"])
    assert retake.replaces == ["triggers"]


def test_dropping_adoption_never_replaces_for_the_description_vps_org_has(
    backups: Engine, fake, host
):
    # The program's description was never applied to the adopted backup 499.
    res = backups.create("adopted", server_id=12345, existing_backup_id=499, description="nightly")
    assert res.outputs["description"] == "Pre-update backup"
    checked, dropped = backups.diff(res, server_id=12345, description="nightly")
    assert dropped.replaces == []
    res.outputs = host.update(res.id, res.urn, res.outputs, checked)
    _, again = backups.diff(res, server_id=12345, description="nightly")
    assert again.changes is False
    assert 499 in fake_backups(fake)


def test_switching_waiting_on_waits_for_a_running_backup(backups: Engine, fake, host):
    fake.set_behaviour(completion="reads", completion_reads=2)
    res = backups.create("b", server_id=12345, wait_for_completion=False)
    assert res.outputs["status"] == "in_progress"
    checked, outcome = backups.diff(res, server_id=12345, wait_for_completion=True)
    assert outcome.replaces == []
    outs = host.update(res.id, res.urn, res.outputs, checked)
    assert outs["status"] == "completed"
    assert outs["size_mb"] > 0
    assert outs["wait_for_completion"] is True


# ---- secrets and state size ------------------------------------------------------------


def test_serialized_provider_is_small_and_holds_no_secret(backups: Engine, fake, host):
    raw = base64.b64decode(BACKUP_PROVIDER)
    assert len(BACKUP_PROVIDER) < 400
    assert b"BackupProvider" in raw
    assert TOKEN.encode() not in raw
    res = backups.create("b", server_id=12345)
    assert TOKEN not in json.dumps(res.outputs)
    assert TOKEN not in host.settled_output()


@pytest.mark.parametrize("api_trims", [True, False], ids=["api-trims", "api-keeps"])
def test_a_padded_description_does_not_replace_the_backup_on_every_up(
    backups: Engine, fake, api_trims
):
    """An API that trims descriptions (as Django REST framework does) gives " nightly "
    back as "nightly"; the diff must not see a change and replace the backup."""
    fake.set_behaviour(trim_descriptions=api_trims)
    checked, failures = backups.check("b", {"server_id": 12345, "description": " nightly "})
    assert failures == [] and checked["description"] == "nightly"
    res = backups.create("b", server_id=12345, description=" nightly ")
    # Stored as sent after Check's strip, with this create's marker after it.
    assert strip_marker(fake_backups(fake)[int(res.id)]["description"]) == "nightly"
    for again in (" nightly ", "nightly", "nightly   "):
        _, outcome = backups.diff(res, server_id=12345, description=again)
        assert outcome.changes is False, again
    _, renamed = backups.diff(res, server_id=12345, description=" weekly ")
    assert renamed.replaces == ["description"]


def test_state_from_before_holding_a_padded_description_is_not_replaced(backups: Engine, fake):
    """A stack made before Check stripped descriptions holds " nightly " in its
    outputs (against an API that stores it as sent): no replacement either."""
    res = backups.create("b", server_id=12345, description="nightly")
    res.outputs["description"] = " nightly "
    _, outcome = backups.diff(res, server_id=12345, description=" nightly ")
    assert outcome.changes is False


# ---- requests per step (the fewest requests, no guarantee weakened) --------------------


def _calls(app) -> list[tuple[str, str, dict]]:
    return [(r["method"], r["path"], r.get("query") or {}) for r in app.requests()]


def test_create_costs_one_listing_the_post_and_its_polls(backups: Engine, fake):
    """Check lists the server's manual backups once (which also proves the server);
    create settles leftovers from that listing, posts, and polls only after an
    interval, each poll one filtered listing: no server lookup, no page of the
    server's automatic backups."""
    backups.create("first", server_id=12345)  # the server now holds a manual backup
    fake.clear_requests()
    res = backups.create("b", server_id=12345)
    assert res.outputs["status"] == "completed"
    calls = _calls(fake)
    assert [(m, p) for m, p, _ in calls[:2]] == [
        ("GET", "/api/v1/backups/"),
        ("POST", "/api/v1/backups/"),
    ], calls
    polls = calls[2:]
    assert polls and all(m == "GET" and p == "/api/v1/backups/" for m, p, _ in polls), calls
    for _, _, query in [calls[0], *polls]:
        assert query == {"server_id": ["12345"], "backup_type": ["manual"]}, calls
    # completion="reads" after 2 reads: two polls see it running, the third done
    assert len(polls) == 3, calls


def test_check_asks_for_the_server_only_when_no_backup_names_it(backups: Engine, fake):
    server = 12346
    assert not [b for b in fake_backups(fake, server).values() if b["backup_type"] == "manual"]
    fake.clear_requests()
    backups.check("b", {"server_id": server})
    assert [p for _, p, _ in _calls(fake)] == ["/api/v1/backups/", f"/api/v1/servers/{server}/"]


def test_refresh_of_a_manual_backup_reads_one_filtered_listing(backups: Engine, fake, host):
    res = backups.create("b", server_id=12345)
    fake.clear_requests()
    host.read(res.id, res.urn, res.outputs, res.inputs)
    calls = _calls(fake)
    assert calls == [
        ("GET", "/api/v1/backups/", {"server_id": ["12345"], "backup_type": ["manual"]})
    ]
