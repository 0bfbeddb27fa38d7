"""The BackupFleet provider driven through the real SDK provider host, as the engine drives it.

Against the fake over real HTTP: create (one backup per server, waited for
together), servers added and removed (only theirs change), refresh, destroy,
a failed backup deleted, and a lost POST answer that makes no duplicate.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from pulumi_vpsbackup.client.marker import parse_marker, strip_marker
from pulumi_vpsbackup.provider import FleetProvider
from pulumi_vpsbackup.provider.fleet.provider import member_key
from tests.support.keys import key_for
from vpsbackup_dev.host import ProviderError, ProviderHost, serialize_provider, urn

from .conftest import NamedEngine, api_requests, fake_backups, host_config

FLEET_TYPE = "pulumi-python:dynamic/vpsbackup:BackupFleet"
FLEET_PROVIDER = serialize_provider(FleetProvider())
WEB, DB = 12345, 12346


@pytest.fixture
def fleets(host: ProviderHost) -> NamedEngine:
    return NamedEngine(host, FLEET_TYPE, FLEET_PROVIDER)


@pytest.fixture
def fresh_fleets(served) -> Iterator[NamedEngine]:
    """Fleets on a host of their own: the module's host has seen the fake's ids
    (which restart at every reset) in earlier tests' state, and never settles those."""
    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as fresh:
        fresh.configure(host_config(served.url), secret_keys={"vpsbackup:apiToken"})
        yield NamedEngine(fresh, FLEET_TYPE, FLEET_PROVIDER)


def own(fake, name: str) -> dict[int, list[int]]:
    """The fake's backups carrying one of this fleet's member keys, by server."""
    key = key_for(name, "BackupFleet")
    found: dict[int, list[int]] = {}
    for backup_id, backup in fake_backups(fake).items():
        server = backup["server"]["id"]
        marker = parse_marker(backup["description"])
        if marker is not None and marker.key == member_key(key, server):
            found.setdefault(server, []).append(backup_id)
    return found


def ids(outputs: dict[str, Any]) -> dict[int, int]:
    return {int(s): int(b) for s, b in outputs["backup_ids"].items()}


def posts(fake) -> int:
    return sum(1 for m, p in api_requests(fake) if m == "POST")


def test_create_makes_one_completed_backup_per_server(fleets: NamedEngine, fake):
    res = fleets.make("f", server_ids=[DB, WEB], description="nightly")
    mine = own(fake, "f")
    assert ids(res.outputs) == {WEB: mine[WEB][0], DB: mine[DB][0]}
    assert res.outputs["server_ids"] == [WEB, DB]  # sorted
    assert res.outputs["statuses"] == {str(WEB): "completed", str(DB): "completed"}
    assert res.outputs["server_names"] == {str(WEB): "web-server-01", str(DB): "db-server-01"}
    for (backup_id,) in mine.values():
        stored = fake_backups(fake)[backup_id]
        assert stored["status"] == "completed"
        assert strip_marker(stored["description"]) == "nightly"


def test_waiting_polls_one_listing_per_server_not_per_backup(fleets: NamedEngine, fake):
    fake.clear_requests()
    fleets.make("f", server_ids=[WEB, DB])
    listings = [
        r.get("query") or {}
        for r in fake.requests()
        if r["method"] == "GET" and r["path"] == "/api/v1/backups/"
    ]
    print(listings)
    # Every listing is of manual backups (the API filters): one of the account's
    # to find leftovers of an earlier run, then one per server per poll.
    assert all(q.get("backup_type") == ["manual"] for q in listings)
    assert [q for q in listings if "server_id" not in q] == [{"backup_type": ["manual"]}]
    per_server = {s: sum(q.get("server_id") == [str(s)] for q in listings) for s in (WEB, DB)}
    assert per_server[WEB] == per_server[DB] == (len(listings) - 1) / 2 > 0


def test_a_fleet_of_four_servers_in_a_small_account_lists_the_account_once_per_poll(
    fleets: NamedEngine, fake
):
    """One listing of the account's manual backups (one page here) serves four
    servers for the price of one: asked its size once, the wait reads it per poll."""
    servers = [WEB, DB, *(fake.add_server()["id"] for _ in range(2))]
    fake.clear_requests()
    res = fleets.make("f4", server_ids=servers)
    assert set(res.outputs["statuses"].values()) == {"completed"}
    listings = [
        r.get("query") or {}
        for r in fake.requests()
        if r["method"] == "GET" and r["path"] == "/api/v1/backups/"
    ]
    # Leftovers, the listing's size, then one per poll (never one per server).
    assert listings and all(q == {"backup_type": ["manual"]} for q in listings), listings
    assert 3 <= len(listings) <= 5


def test_check_names_bad_inputs_and_unknown_servers(fleets: NamedEngine, fake, host):
    _, failures = fleets.check("f", fleets.inputs("f", server_ids=[]))
    assert "at least one server" in dict(failures)["server_ids"]
    _, failures = fleets.check("f", fleets.inputs("f", server_ids=[WEB, WEB]))
    assert "more than once" in dict(failures)["server_ids"]
    _, failures = fleets.check("f", fleets.inputs("f", server_ids=12345))
    assert "must be a list of server ids" in dict(failures)["server_ids"]
    _, failures = fleets.check("f", fleets.inputs("f", server_ids=[WEB, 999]))
    reason = dict(failures)["server_ids"]
    assert "server 999 does not exist" in reason and "12345 (web-server-01)" in reason
    start = host.mark()
    _, failures = fleets.check("p", fleets.inputs("p", server_ids=[WEB, DB]))
    assert failures == []
    host.wait_for_output("fleet p: will back up 2 server(s) at once", since=start)


def test_adding_and_removing_servers_changes_only_their_backups(fleets: NamedEngine, fake, host):
    res = fleets.make("f", server_ids=[WEB])
    web_backup = ids(res.outputs)[WEB]
    start = host.mark()
    outcome = fleets.change(res, server_ids=[WEB, DB])
    assert outcome.changes and outcome.replaces == []
    host.wait_for_output("fleet f: will back up server 12346", since=start)
    db_backup = ids(res.outputs)[DB]
    assert ids(res.outputs) == {WEB: web_backup, DB: db_backup}
    assert own(fake, "f") == {WEB: [web_backup], DB: [db_backup]}
    assert res.outputs["statuses"] == {str(WEB): "completed", str(DB): "completed"}

    fake.clear_requests()
    start = host.mark()
    outcome = fleets.change(res, server_ids=[DB])
    assert outcome.changes and outcome.replaces == []
    # The member's backup, then one listing for what its own earlier runs left.
    assert api_requests(fake) == [
        ("DELETE", f"/api/v1/backups/{web_backup}/"),
        ("GET", "/api/v1/backups/"),
    ]
    assert ids(res.outputs) == {DB: db_backup}
    assert own(fake, "f") == {DB: [db_backup]}
    host.wait_for_output(f"will delete backup {web_backup} (server 12345)", since=start)


def test_timeout_is_recorded_in_place_and_description_replaces(fleets: NamedEngine, fake):
    res = fleets.make("f", server_ids=[WEB], description="a")
    fake.clear_requests()
    assert fleets.change(res, server_ids=[WEB], description="a", timeout=120).changes
    assert api_requests(fake) == []
    assert res.outputs["timeout"] == 120
    _, outcome = fleets.diff(res, **fleets.inputs("f", server_ids=[WEB], description="b"))
    assert outcome.replaces == ["description"]
    _, outcome = fleets.diff(
        res, **fleets.inputs("f", server_ids=[WEB], description="a", triggers=["v2"])
    )
    assert outcome.replaces == ["triggers"]
    _, outcome = fleets.diff(
        res, **fleets.inputs("f", server_ids=[WEB], description="a", timeout=120)
    )
    assert not outcome.changes


def test_replacement_makes_new_backups_and_never_takes_the_old_ones(fleets: NamedEngine, fake):
    res = fleets.make("f", server_ids=[WEB, DB], triggers=["v1"])
    old = ids(res.outputs)
    # The order of the servers is no change.
    _, outcome = fleets.diff(res, **fleets.inputs("f", server_ids=[DB, WEB], triggers=["v1"]))
    assert not outcome.changes
    checked, outcome = fleets.diff(res, **fleets.inputs("f", server_ids=[WEB, DB], triggers=["v2"]))
    assert outcome.replaces == ["triggers"]
    # Create before delete, same resource key: the old members are held in state.
    _, new_outs = fleets.host.create(res.urn, checked)
    new = ids(new_outs)
    assert set(new.values()).isdisjoint(old.values())
    fleets.host.delete(res.id, res.urn, res.outputs)
    assert own(fake, "f") == {WEB: [new[WEB]], DB: [new[DB]]}


def test_refresh_reads_statuses_and_drops_only_a_backup_proven_gone(
    fleets: NamedEngine, fake, host
):
    res = fleets.make("f", server_ids=[WEB, DB])
    members = ids(res.outputs)
    fake.clear_requests()
    id_, outs = fleets.read(res)
    assert id_ == res.id and ids(outs) == members
    assert len(api_requests(fake)) == 1  # one account listing of manual backups
    fake.remove_backup(members[DB])
    start = host.mark()
    _, outs = fleets.read(res)
    assert ids(outs) == {WEB: members[WEB]}
    host.wait_for_output(f"backup {members[DB]} (server 12346) gone from VPS.org", since=start)
    # The next up backs the server up again, in place.
    res.outputs = outs
    outcome = fleets.change(res, server_ids=[WEB, DB])
    assert outcome.changes and outcome.replaces == []
    assert ids(res.outputs)[WEB] == members[WEB]
    assert ids(res.outputs)[DB] not in members.values()


def test_delete_removes_every_backup_and_a_missing_one_counts_as_done(fleets: NamedEngine, fake):
    res = fleets.make("f", server_ids=[WEB, DB])
    members = ids(res.outputs)
    fake.remove_backup(members[WEB])
    fleets.delete(res)
    assert own(fake, "f") == {}
    assert not set(members.values()) & set(fake_backups(fake))


def test_a_failed_backup_is_deleted_and_nothing_is_orphaned(fleets: NamedEngine, fake):
    before = set(fake_backups(fake))
    fake.set_behaviour(failure_rate=1.0)
    checked, failures = fleets.check("f", fleets.inputs("f", server_ids=[WEB, DB]))
    assert failures == []
    with pytest.raises(ProviderError) as info:
        fleets.host.create(urn(FLEET_TYPE, "f"), checked)
    message = info.value.message
    print(message)
    assert "2 of 2 backup(s) did not complete" in message
    assert "server 12345: backup" in message and "ended failed; it was deleted" in message
    assert set(fake_backups(fake)) == before


def test_a_failed_added_server_leaves_the_fleet_as_it_was(fleets: NamedEngine, fake):
    res = fleets.make("f", server_ids=[WEB])
    before = set(fake_backups(fake))
    fake.set_behaviour(failure_rate=1.0)
    checked, _ = fleets.diff(res, **fleets.inputs("f", server_ids=[WEB, DB]))
    with pytest.raises(ProviderError) as info:
        fleets.host.update(res.id, res.urn, res.outputs, checked)
    assert "1 of 1 backup(s) did not complete" in info.value.message
    assert set(fake_backups(fake)) == before


def test_a_lost_post_answer_adopts_its_own_backup_and_makes_no_duplicate(fleets: NamedEngine, fake):
    # A person's backup with the same description: never adopted.
    person = fake.seed_backup(server_id=WEB, backup_type="manual", description="same")
    fake.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="after", count=1)
    fake.clear_requests()
    res = fleets.make("f", server_ids=[WEB, DB], description="same")
    mine = own(fake, "f")
    assert {s: len(b) for s, b in mine.items()} == {WEB: 1, DB: 1}
    assert ids(res.outputs) == {WEB: mine[WEB][0], DB: mine[DB][0]}
    assert person["id"] not in ids(res.outputs).values()
    assert posts(fake) == 2  # the lost one was not sent again


def test_a_partial_failure_keeps_the_completed_backup_for_the_next_up(fresh_fleets, fake):
    fleets = fresh_fleets
    # One of the two POSTs is refused: the other backup completes but the create fails.
    fake.add_fault(method="POST", path="/api/v1/backups/", status=400, skip=1, count=1)
    checked, _ = fleets.check("f", fleets.inputs("f", server_ids=[WEB, DB]))
    with pytest.raises(ProviderError) as info:
        fleets.host.create(urn(FLEET_TYPE, "f"), checked)
    ((server, [kept]),) = own(fake, "f").items()
    assert f"Completed: {kept} (server {server})" in info.value.message
    assert "not started" in info.value.message
    # The next up uses it (found by its marker) instead of making another.
    res = fleets.make("f", server_ids=[WEB, DB])
    assert ids(res.outputs)[server] == kept
    assert {s: len(b) for s, b in own(fake, "f").items()} == {WEB: 1, DB: 1}


def test_a_backup_that_outlasts_the_timeout_is_settled_by_the_next_up(fresh_fleets, fake):
    fleets = fresh_fleets
    # The fake's clock is frozen: a backup by time never finishes, nor can it be deleted.
    fake.set_behaviour(completion="time", backup_seconds=3600)
    checked, _ = fleets.check("f", fleets.inputs("f", server_ids=[WEB], timeout=1))
    with pytest.raises(ProviderError) as info:
        fleets.host.create(urn(FLEET_TYPE, "f"), checked)
    message = info.value.message
    print(message)
    (stuck,) = own(fake, "f")[WEB]
    assert f"server 12345: backup {stuck} was still in_progress after 1s" in message
    assert "the next `pulumi up` finds it by its marker" in message
    # Once VPS.org finishes it, the next up uses it rather than making another.
    fake.set_behaviour(completion="reads", completion_reads=1)
    res = fleets.make("f", server_ids=[WEB], timeout=1)
    assert ids(res.outputs) == {WEB: stuck}
    assert own(fake, "f") == {WEB: [stuck]}
