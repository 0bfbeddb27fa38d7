"""The BackupRotation provider driven through the real SDK provider host, as the engine drives it.

Against the fake over real HTTP: create, trigger changes that add and prune,
`keep` changes, a description change, refresh in one listing, destroy, the
10-backup limit, and a failed backup that leaves the rotation as it was.
"""

from __future__ import annotations

import pytest

from pulumi_vpsbackup.client.marker import parse_marker, strip_marker
from pulumi_vpsbackup.provider import RotationProvider
from tests.support.keys import key_for
from vpsbackup_dev.host import ProviderError, ProviderHost, serialize_provider, urn

from .conftest import NamedEngine, Resource, api_requests, fake_backups

ROTATION_TYPE = "pulumi-python:dynamic/vpsbackup:BackupRotation"
ROTATION_PROVIDER = serialize_provider(RotationProvider())
SERVER = 12345


@pytest.fixture
def rotations(host: ProviderHost) -> NamedEngine:
    return NamedEngine(host, ROTATION_TYPE, ROTATION_PROVIDER)


def own(fake, name: str, server_id: int = SERVER) -> list[int]:
    """The fake's backups carrying this rotation's key, newest first."""
    key = key_for(name, "BackupRotation")
    found = []
    for backup_id, backup in fake_backups(fake, server_id).items():
        marker = parse_marker(backup["description"])
        if marker is not None and marker.key == key:
            found.append(backup_id)
    return sorted(found, reverse=True)


def listing(fake, server_id: int = SERVER) -> str:
    rows = [
        f"  {i} {b['backup_type']:9} {b['status']:11} {b['description']}"
        for i, b in sorted(fake_backups(fake, server_id).items())
    ]
    return "\n".join(rows)


def list_requests(fake) -> list[tuple[str, str]]:
    return [(m, p) for m, p in api_requests(fake) if m == "GET" and p == "/api/v1/backups/"]


# ---- create ----------------------------------------------------------------------------


def test_create_takes_the_first_backup_with_the_rotations_marker(rotations: NamedEngine, fake):
    res = rotations.make("r", server_id=SERVER, keep=2, triggers=["v1"], description="release")
    (first,) = own(fake, "r")
    out = res.outputs
    assert out["backup_ids"] == [first]
    assert out["latest_backup_id"] == first
    assert out["server_name"] == "web-server-01"
    assert out["keep"] == 2 and out["triggers"] == ["v1"] and out["description"] == "release"
    made = fake_backups(fake)[first]
    assert made["status"] == "completed"
    assert strip_marker(made["description"]) == "release"


def test_a_new_rotation_shows_its_plan_at_preview(rotations: NamedEngine, fake, host):
    start = host.mark()
    _, failures = rotations.check("p", rotations.inputs("p", server_id=SERVER, keep=3))
    assert failures == []
    host.wait_for_output("rotation p: will add 1 backup of server 12345 (keeps 3)", since=start)


def test_check_names_bad_inputs(rotations: NamedEngine, fake):
    _, failures = rotations.check("r", rotations.inputs("r", server_id=SERVER, keep=0))
    assert dict(failures).keys() == {"keep"}
    _, failures = rotations.check("r", rotations.inputs("r", server_id=SERVER, keep=11))
    assert "from 1 to 10" in dict(failures)["keep"]
    _, failures = rotations.check("r", rotations.inputs("r", server_id=999, keep=1))
    assert "server 999 does not exist" in dict(failures)["server_id"]


# ---- trigger changes -------------------------------------------------------------------


def test_three_releases_keep_the_last_two_of_its_own_and_nothing_else(
    rotations: NamedEngine, fake, host
):
    # A person's backup with the same description as the rotation's: never touched.
    person = fake.seed_backup(server_id=SERVER, backup_type="manual", description="release")
    start = host.mark()
    res = rotations.make("r", server_id=SERVER, keep=2, triggers=["v1"], description="release")
    history = [own(fake, "r")]
    for version in ("v2", "v3", "v4"):
        outcome = rotations.change(
            res, server_id=SERVER, keep=2, triggers=[version], description="release"
        )
        assert outcome.changes and outcome.replaces == []  # an update, not a replace
        mine = own(fake, "r")
        print(f"after {version}:\n{listing(fake)}")
        assert len(mine) == 2
        assert res.outputs["backup_ids"] == mine  # newest first
        assert res.outputs["latest_backup_id"] == mine[0]
        assert mine[1] == history[-1][0]  # the previous newest stays, the older goes
        assert person["id"] in fake_backups(fake)
        history.append(mine)
    assert 499 in fake_backups(fake)  # the world's own manual backup too
    # The plan was shown at the diff, before the update: add one, delete the oldest.
    _third, second = history[2]
    host.wait_for_output(
        f"rotation r: will add 1 backup of server 12345 and delete {second} (keeps 2)",
        since=start,
    )


def test_a_failed_backup_is_deleted_and_the_rotation_keeps_its_members(
    rotations: NamedEngine, fake
):
    res = rotations.make("r", server_id=SERVER, keep=1, triggers=["v1"])
    before = set(fake_backups(fake))
    fake.set_behaviour(failure_rate=1.0)
    name = res.urn.split("::")[-1]
    checked, _ = rotations.diff(
        res, **rotations.inputs(name, server_id=SERVER, keep=1, triggers=["v2"])
    )
    with pytest.raises(ProviderError) as info:
        rotations.host.update(res.id, res.urn, res.outputs, checked)
    assert "was deleted" in info.value.message
    assert set(fake_backups(fake)) == before  # nothing pruned, nothing orphaned


def test_a_lost_answer_adopts_only_its_own_backup(rotations: NamedEngine, fake):
    res = rotations.make("r", server_id=SERVER, keep=2, triggers=["v1"], description="same")
    fake.seed_backup(server_id=SERVER, backup_type="manual", description="same")
    fake.add_fault(method="POST", path="/api/v1/backups/", action="drop", phase="after", count=1)
    rotations.change(res, server_id=SERVER, keep=2, triggers=["v2"], description="same")
    assert res.outputs["backup_ids"] == own(fake, "r")
    assert len(own(fake, "r")) == 2


def test_a_prune_vpsorg_refused_is_done_by_the_next_up_without_a_change(
    rotations: NamedEngine, fake, host
):
    """A member it could not delete while pruning stays in `backup_ids`; the next
    `pulumi up`, inputs unchanged, is an update that prunes it (before: `same`, and
    the rotation held keep + 1 until its triggers changed)."""
    res = rotations.make("r", server_id=SERVER, keep=1, triggers=["v1"])
    (first,) = own(fake, "r")
    fake.add_fault(method="DELETE", path=f"/api/v1/backups/{first}/", status=500, count=10)
    rotations.change(res, server_id=SERVER, keep=1, triggers=["v2"])
    newest = own(fake, "r")[0]
    assert res.outputs["backup_ids"] == [newest, first]  # kept, with a warning
    fake.clear_faults()

    start = host.mark()
    outcome = rotations.change(res, server_id=SERVER, keep=1, triggers=["v2"])
    assert outcome.changes and outcome.replaces == []
    host.wait_for_output(f"rotation r: will delete {first} (keeps 1)", since=start)
    assert own(fake, "r") == [newest] == res.outputs["backup_ids"]
    fake.clear_requests()
    assert not rotations.change(res, server_id=SERVER, keep=1, triggers=["v2"]).changes
    assert api_requests(fake) == []


# ---- keep and description --------------------------------------------------------------


def test_lowering_keep_deletes_the_oldest_and_raising_it_deletes_nothing(
    rotations: NamedEngine, fake, host
):
    res = rotations.make("r", server_id=SERVER, keep=3, triggers=["v1"])
    for version in ("v2", "v3"):
        rotations.change(res, server_id=SERVER, keep=3, triggers=[version])
    newest, middle, oldest = own(fake, "r")
    start = host.mark()
    rotations.change(res, server_id=SERVER, keep=1, triggers=["v3"])
    assert own(fake, "r") == [newest] == res.outputs["backup_ids"]
    host.wait_for_output(f"rotation r: will delete {middle}, {oldest} (keeps 1)", since=start)
    fake.clear_requests()
    outcome = rotations.change(res, server_id=SERVER, keep=3, triggers=["v3"])
    assert outcome.changes and outcome.replaces == []
    assert api_requests(fake) == []
    assert res.outputs["backup_ids"] == [newest] and res.outputs["keep"] == 3


def test_a_description_change_is_an_update_for_future_backups_only(rotations: NamedEngine, fake):
    res = rotations.make("r", server_id=SERVER, keep=2, triggers=["v1"], description="old")
    fake.clear_requests()
    outcome = rotations.change(res, server_id=SERVER, keep=2, triggers=["v1"], description="new")
    assert outcome.changes and outcome.replaces == []
    assert api_requests(fake) == []
    rotations.change(res, server_id=SERVER, keep=2, triggers=["v2"], description="new")
    newest, older = own(fake, "r")
    assert strip_marker(fake_backups(fake)[newest]["description"]) == "new"
    assert strip_marker(fake_backups(fake)[older]["description"]) == "old"


def test_a_server_change_replaces(rotations: NamedEngine, fake):
    res = rotations.make("r", server_id=SERVER, keep=2, triggers=["v1"])
    name = res.urn.split("::")[-1]
    _, outcome = rotations.diff(res, **rotations.inputs(name, server_id=12346, keep=2))
    assert outcome.changes and outcome.replaces == ["server_id"]


# ---- refresh and destroy ---------------------------------------------------------------


def test_refresh_reads_every_member_in_one_listing(rotations: NamedEngine, fake):
    res = rotations.make("r", server_id=SERVER, keep=3, triggers=["v1"])
    for version in ("v2", "v3"):
        rotations.change(res, server_id=SERVER, keep=3, triggers=[version])
    fake.clear_requests()
    id_, outs = rotations.read(res)
    assert id_ == res.id
    assert outs["backup_ids"] == res.outputs["backup_ids"]
    assert len(list_requests(fake)) == 1
    assert api_requests(fake) == list_requests(fake)


def test_refresh_drops_a_member_deleted_behind_its_back_when_two_listings_agree(
    rotations: NamedEngine, fake
):
    res = rotations.make("r", server_id=SERVER, keep=3, triggers=["v1"])
    rotations.change(res, server_id=SERVER, keep=3, triggers=["v2"])
    newest, gone = res.outputs["backup_ids"]
    fake.remove_backup(gone)
    fake.clear_requests()
    _, outs = rotations.read(res)
    assert outs["backup_ids"] == [newest]
    assert len(list_requests(fake)) == 2  # absence seen twice before it is believed


def test_destroy_deletes_every_member_and_a_missing_one_is_done(rotations: NamedEngine, fake):
    person = fake.seed_backup(server_id=SERVER, backup_type="manual", description="x")
    res = rotations.make("r", server_id=SERVER, keep=3, triggers=["v1"], description="x")
    for version in ("v2", "v3"):
        rotations.change(res, server_id=SERVER, keep=3, triggers=[version], description="x")
    fake.remove_backup(res.outputs["backup_ids"][1])
    rotations.delete(res)
    assert own(fake, "r") == []
    assert person["id"] in fake_backups(fake)


def test_destroy_waits_for_a_running_member_then_deletes_it(rotations: NamedEngine, fake, host):
    fake.set_behaviour(completion="time", backup_seconds=3600, delete_in_progress="reject")
    res = Resource(urn(ROTATION_TYPE, "r"))
    running = fake.seed_backup(
        server_id=SERVER, backup_type="manual", status="in_progress", description="run"
    )
    res.id = f"rotation-{SERVER}-x"
    res.outputs = {
        "server_id": SERVER,
        "keep": 1,
        "timeout": 30,
        "backup_ids": [running["id"]],
        "resource_name": "r",
        "__provider": ROTATION_PROVIDER,
    }
    fake.set_behaviour(completion="reads", completion_reads=2)
    start = host.mark()
    rotations.delete(res)
    assert running["id"] not in fake_backups(fake)
    host.wait_for_output(f"backup {running['id']} is still being created; waiting", since=start)


# ---- the 10-backup limit ---------------------------------------------------------------


def fill(fake, server_id: int, count: int) -> None:
    for n in range(count):
        fake.seed_backup(server_id=server_id, backup_type="manual", description=f"m{n}")


def test_a_full_server_with_keep_members_deletes_the_oldest_first(
    rotations: NamedEngine, fake, host
):
    fake.add_server(id=23461, name="full-rotation")
    res = rotations.make("r", server_id=23461, keep=2, triggers=["v1"])
    rotations.change(res, server_id=23461, keep=2, triggers=["v2"])
    newest, oldest = own(fake, "r", 23461)
    fill(fake, 23461, 8)
    start = host.mark()
    _, failures = rotations.check(
        "r", rotations.inputs("r", server_id=23461, keep=2, triggers=["v3"]), olds=res.inputs
    )
    assert failures == []
    host.wait_for_output(f"will delete its oldest backup {oldest} first", since=start)
    rotations.change(res, server_id=23461, keep=2, triggers=["v3"])
    assert own(fake, "r", 23461) == res.outputs["backup_ids"]
    assert res.outputs["backup_ids"][1] == newest
    assert len([b for b in fake_backups(fake, 23461).values()]) == 10


def test_a_full_server_with_fewer_than_keep_members_refuses_before_any_change(
    rotations: NamedEngine, fake, host
):
    fake.add_server(id=23462, name="full-short")
    res = rotations.make("r", server_id=23462, keep=3, triggers=["v1"])
    fill(fake, 23462, 9)
    start = host.mark()
    _, failures = rotations.check(
        "r", rotations.inputs("r", server_id=23462, keep=3, triggers=["v2"]), olds=res.inputs
    )
    assert failures == []
    host.wait_for_output("refuse to add one", since=start)
    before = set(fake_backups(fake, 23462))
    name = res.urn.split("::")[-1]
    checked, _ = rotations.diff(
        res, **rotations.inputs(name, server_id=23462, keep=3, triggers=["v2"])
    )
    with pytest.raises(ProviderError) as info:
        rotations.host.update(res.id, res.urn, res.outputs, checked)
    assert "nothing was changed" in info.value.message
    assert "fewer than keep=3" in info.value.message
    assert set(fake_backups(fake, 23462)) == before
