"""`BackupRotation` and `BackupFleet` served by the native plugin, over gRPC as the engine calls it.

The plugin maps each call onto `RotationProvider` and `FleetProvider`, the
objects the dynamic provider host runs; what it adds is what the dynamic
classes set in the program (the owner key, the name, the keys of a renamed
resource), taken here from the URN and the provider's stack identity, the
engine's custom timeouts, previews that touch nothing, and the refusal to
import. The real-CLI tests (tests/cli/test_native_rotation_fleet_cli.py) run
the same resources from a program.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_vpsbackup.client.marker import owner_key, parse_marker
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.plugin import FLEET, ROTATION, wire
from pulumi_vpsbackup.provider.fleet.provider import member_key
from tests.plugin.conftest import IDENTITY, configure
from tests.programs.scenarios import TOKEN, backups

Stub = provider_pb2_grpc.ResourceProviderStub
ROTATION_URN = f"urn:pulumi:test::proj::{ROTATION}::releases"
FLEET_URN = f"urn:pulumi:test::proj::{FLEET}::nightly"
SOME = provider_pb2.DiffResponse.DIFF_SOME
NONE = provider_pb2.DiffResponse.DIFF_NONE


def writes(fake: FakeServer) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in fake.app.requests() if r["method"] != "GET"]


def check(stub: Stub, urn: str, news: dict[str, Any], olds: dict[str, Any] | None = None) -> Any:
    return stub.Check(
        provider_pb2.CheckRequest(
            urn=urn, olds=wire.to_struct(olds or {}), news=wire.to_struct(news)
        )
    )


def checked(
    stub: Stub, urn: str, news: dict[str, Any], olds: dict[str, Any] | None = None
) -> dict[str, Any]:
    resp = check(stub, urn, news, olds)
    assert not resp.failures, resp.failures
    return wire.from_struct(resp.inputs)[0]


def create(stub: Stub, urn: str, inputs: dict[str, Any], **extra: Any) -> tuple[str, Any]:
    resp = stub.Create(
        provider_pb2.CreateRequest(urn=urn, properties=wire.to_struct(inputs), **extra)
    )
    return resp.id, resp.properties


def diff(stub: Stub, urn: str, id_: str, olds: Any, news: dict[str, Any]) -> Any:
    return stub.Diff(
        provider_pb2.DiffRequest(urn=urn, id=id_, olds=olds, news=wire.to_struct(news))
    )


def update(stub: Stub, urn: str, id_: str, olds: Any, news: dict[str, Any], **extra: Any) -> Any:
    resp = stub.Update(
        provider_pb2.UpdateRequest(urn=urn, id=id_, olds=olds, news=wire.to_struct(news), **extra)
    )
    return resp.properties


def plain(struct: Any) -> dict[str, Any]:
    return wire.from_struct(struct)[0]


def own(fake: FakeServer, key: str) -> list[int]:
    """The fake's backups whose marker carries `key`, newest first."""
    found = [
        i
        for i, b in backups(fake.app).items()
        if (m := parse_marker(b["description"])) is not None and m.key == key
    ]
    return sorted(found, reverse=True)


# ---- check: the hidden inputs the dynamic classes set in the program --------------------


def test_check_derives_key_name_and_a_renamed_resources_old_key(
    plugin: Stub, fake: FakeServer
) -> None:
    configure(plugin, fake.url)
    for urn, news in (
        (ROTATION_URN, {"serverId": 12345, "keep": 2}),
        (FLEET_URN, {"serverIds": [12346, 12345]}),
    ):
        inputs = checked(plugin, urn, news)
        assert inputs["resourceKey"] == owner_key(IDENTITY, urn)
        assert inputs["resourceName"] == urn.rsplit("::", 1)[-1]
        assert "previousKeys" not in inputs
        assert "timeout" not in inputs, "the engine's custom timeouts stand for it"
        # Renamed with an alias: the engine hands Check the old name's inputs.
        renamed = urn.rsplit("::", 1)[0] + "::renamed"
        again = checked(plugin, renamed, news, olds=inputs)
        assert again["resourceKey"] == owner_key(IDENTITY, renamed)
        assert again["previousKeys"] == [inputs["resourceKey"]]
        assert again["resourceName"] == "renamed"
    assert checked(plugin, FLEET_URN, {"serverIds": [12346, 12345]})["serverIds"] == [12345, 12346]


def test_check_refuses_what_the_dynamic_classes_refuse_by_schema_name(
    plugin: Stub, fake: FakeServer
) -> None:
    configure(plugin, fake.url)
    cases = [
        (ROTATION_URN, {"serverId": 12345, "keep": 11}, "keep"),
        (ROTATION_URN, {"serverId": 12345, "keep": 2, "timeout": 60}, "timeout"),
        (ROTATION_URN, {"serverId": 12345, "keep": 2, "resourceKey": "ab"}, None),
        (ROTATION_URN, {"serverId": 99999, "keep": 2}, "serverId"),
        (FLEET_URN, {"serverIds": [12345, 12345]}, "serverIds"),
        (FLEET_URN, {"serverIds": [12345, 99999]}, "serverIds"),
    ]
    for urn, news, field in cases:
        failures = check(plugin, urn, news).failures
        if field is None:
            # A user's resourceKey is ignored: the plugin derives its own.
            assert not failures, failures
            continue
        assert [f.property for f in failures] == [field], (news, failures)
    (twice,) = check(plugin, FLEET_URN, {"serverIds": [12345, 12345]}).failures
    assert "server 12345 more than once" in twice.reason
    (unknown,) = check(plugin, FLEET_URN, {"serverIds": [99999]}).failures
    assert "server 99999 does not exist" in unknown.reason


# ---- a rotation: create, a new trigger adds and prunes, refresh, delete ---------------------


def test_rotation_life_cycle_through_the_rotation_provider(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    before = backups(fake.app)
    news = {"serverId": 12345, "keep": 2, "triggers": ["1.0"], "description": "Before 1.0"}
    inputs = checked(plugin, ROTATION_URN, news)
    key = inputs["resourceKey"]
    id_, state = create(plugin, ROTATION_URN, inputs, timeout=30)
    outs = plain(state)
    assert id_ == f"rotation-12345-{key}"
    assert outs["backupIds"] == own(fake, key) and len(outs["backupIds"]) == 1
    assert outs["latestBackupId"] == outs["backupIds"][0]
    assert outs["serverName"] == "web-server-01"
    assert outs["resourceKey"] == key and "timeout" not in outs
    assert backups(fake.app)[outs["latestBackupId"]]["description"].startswith("Before 1.0")

    assert diff(plugin, ROTATION_URN, id_, state, inputs).changes == NONE
    history = [outs["backupIds"]]
    for version in ("1.1", "1.2"):
        news = {**news, "triggers": [version], "description": f"Before {version}"}
        inputs = checked(plugin, ROTATION_URN, news, olds=inputs)
        diffed = diff(plugin, ROTATION_URN, id_, state, inputs)
        assert diffed.changes == SOME and list(diffed.replaces) == []
        state = update(plugin, ROTATION_URN, id_, state, inputs, timeout=30)
        outs = plain(state)
        assert outs["backupIds"] == own(fake, key)
        assert len(outs["backupIds"]) == min(len(history) + 1, 2)
        assert outs["backupIds"][1] == history[-1][0]
        history.append(outs["backupIds"])
    assert history[0][0] not in backups(fake.app), "the oldest beyond keep was deleted"

    # Lowering keep prunes without a new backup; a new server replaces.
    inputs = checked(plugin, ROTATION_URN, {**news, "keep": 1}, olds=inputs)
    assert diff(plugin, ROTATION_URN, id_, state, inputs).changes == SOME
    state = update(plugin, ROTATION_URN, id_, state, inputs, timeout=30)
    assert plain(state)["backupIds"] == own(fake, key) == [history[-1][0]]
    moved = checked(plugin, ROTATION_URN, {**news, "keep": 1, "serverId": 12346}, olds=inputs)
    assert list(diff(plugin, ROTATION_URN, id_, state, moved).replaces) == ["serverId"]

    # Refresh: a member deleted outside Pulumi is dropped once two listings agree.
    (member,) = plain(state)["backupIds"]
    assert plain(plugin.Read(_read(ROTATION_URN, id_, state, inputs)).properties) == plain(state)
    fake.app.remove_backup(member)
    read = plugin.Read(_read(ROTATION_URN, id_, state, inputs))
    assert read.id == id_ and plain(read.properties)["backupIds"] == []
    assert plain(read.inputs)["resourceKey"] == key

    # Delete removes every member the state names.
    news = {**news, "keep": 2, "triggers": ["2.0"]}
    inputs = checked(plugin, ROTATION_URN, news, olds=inputs)
    state = update(plugin, ROTATION_URN, id_, read.properties, inputs, timeout=30)
    assert len(own(fake, key)) == 1
    plugin.Delete(provider_pb2.DeleteRequest(urn=ROTATION_URN, id=id_, properties=state))
    assert own(fake, key) == []
    assert backups(fake.app).keys() == before.keys(), "nothing it did not make is touched"


def _read(urn: str, id_: str, state: Any, inputs: dict[str, Any]) -> Any:
    return provider_pb2.ReadRequest(
        urn=urn, id=id_, properties=state, inputs=wire.to_struct(inputs)
    )


# ---- a fleet: create, a server added in place, a new description replaces, delete ---------


def test_fleet_life_cycle_through_the_fleet_provider(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    before = backups(fake.app)
    inputs = checked(plugin, FLEET_URN, {"serverIds": [12345], "description": "nightly"})
    key = inputs["resourceKey"]
    id_, state = create(plugin, FLEET_URN, inputs, timeout=30)
    outs = plain(state)
    assert id_.startswith(f"fleet-{key}-")
    (web,) = own(fake, member_key(key, 12345))
    assert outs["backupIds"] == {"12345": web}
    assert outs["statuses"] == {"12345": "completed"}
    assert outs["serverNames"] == {"12345": "web-server-01"}
    assert diff(plugin, FLEET_URN, id_, state, inputs).changes == NONE

    grown = checked(plugin, FLEET_URN, {**inputs, "serverIds": [12346, 12345]}, olds=inputs)
    diffed = diff(plugin, FLEET_URN, id_, state, grown)
    assert diffed.changes == SOME and list(diffed.replaces) == []
    fake.app.clear_requests()
    state = update(plugin, FLEET_URN, id_, state, grown, timeout=30)
    outs = plain(state)
    (db,) = own(fake, member_key(key, 12346))
    assert outs["backupIds"] == {"12345": web, "12346": db}, "the first server's backup is kept"
    assert outs["serverNames"] == {"12345": "web-server-01", "12346": "db-server-01"}
    assert writes(fake) == ["POST /api/v1/backups/"], "only the added server is backed up"
    assert diff(plugin, FLEET_URN, id_, state, grown).changes == NONE

    renamed = checked(plugin, FLEET_URN, {**grown, "description": "weekly"}, olds=grown)
    assert list(diff(plugin, FLEET_URN, id_, state, renamed).replaces) == ["description"]

    read = plugin.Read(_read(FLEET_URN, id_, state, grown))
    assert plain(read.properties) == outs
    plugin.Delete(provider_pb2.DeleteRequest(urn=FLEET_URN, id=id_, properties=state))
    assert backups(fake.app).keys() == before.keys()


# ---- preview, timeouts, import ------------------------------------------------------------


def test_previews_of_both_send_nothing_to_the_api(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    rotation = checked(plugin, ROTATION_URN, {"serverId": 12345, "keep": 1, "triggers": [1]})
    fleet = checked(plugin, FLEET_URN, {"serverIds": [12345, 12346]})
    fake.app.clear_requests()
    for urn, inputs in ((ROTATION_URN, rotation), (FLEET_URN, fleet)):
        id_, outs = create(plugin, urn, inputs, preview=True)
        assert id_ == "" and plain(outs)["resourceKey"] == inputs["resourceKey"]
    assert writes(fake) == []

    rot_id, rot_state = create(plugin, ROTATION_URN, rotation)
    fleet_id, fleet_state = create(plugin, FLEET_URN, fleet)
    made = backups(fake.app)
    fake.app.clear_requests()
    update(plugin, ROTATION_URN, rot_id, rot_state, {**rotation, "triggers": [2]}, preview=True)
    update(plugin, FLEET_URN, fleet_id, fleet_state, {**fleet, "serverIds": [12345]}, preview=True)
    assert writes(fake) == [] and backups(fake.app) == made
    for urn, id_, state in ((ROTATION_URN, rot_id, rot_state), (FLEET_URN, fleet_id, fleet_state)):
        plugin.Delete(provider_pb2.DeleteRequest(urn=urn, id=id_, properties=state))


def test_a_rotation_waits_within_the_engines_create_timeout_and_the_next_run_adopts(
    plugin: Stub,
) -> None:
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=4)
    with serve(app) as slow:
        configure(plugin, slow.url)
        before = set(backups(app))
        inputs = checked(plugin, ROTATION_URN, {"serverId": 12345, "keep": 2})
        with pytest.raises(grpc.RpcError) as caught:
            create(plugin, ROTATION_URN, inputs, timeout=1)
        details = caught.value.details()
        assert "after 1" in details and "Traceback" not in details, details
        assert "raise customTimeouts.create first" in details, "said in the schema's words"
        # VPS.org refuses to delete a running backup: it is left, with the rotation's marker.
        (left,) = set(backups(app)) - before
        assert own(slow, inputs["resourceKey"]) == [left]
        app.clear_requests()
        id_, state = create(plugin, ROTATION_URN, inputs, timeout=30)
        assert plain(state)["backupIds"] == [left], "the next run waits for it, makes none"
        assert writes(slow) == []
        plugin.Delete(provider_pb2.DeleteRequest(urn=ROTATION_URN, id=id_, properties=state))
        assert set(backups(app)) == before


def test_a_rotation_or_fleet_is_never_imported(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    inputs = checked(plugin, ROTATION_URN, {"serverId": 12345, "keep": 2})
    id_, state = create(plugin, ROTATION_URN, inputs)
    fake.app.clear_requests()
    for urn, kind, some_id in (
        (ROTATION_URN, "BackupRotation", id_),
        (FLEET_URN, "BackupFleet", "fleet-0123456789abcdef-00000000"),
    ):
        with pytest.raises(grpc.RpcError) as caught:
            plugin.Read(provider_pb2.ReadRequest(urn=urn, id=some_id))
        details = caught.value.details()
        assert details.startswith(f"{kind} {some_id} cannot be imported"), details
        assert "pulumi import vpsbackup:index:Backup NAME BACKUP_ID" in details
    assert fake.app.requests() == [], "refused before any request"
    plugin.Delete(provider_pb2.DeleteRequest(urn=ROTATION_URN, id=id_, properties=state))


def test_a_renamed_rotation_takes_up_what_its_old_names_interrupted_run_left(
    plugin: Stub,
) -> None:
    """The engine hands a renamed resource's Check its old inputs: the old key
    becomes `previousKeys`, so a backup an update under the old name left is
    waited for and kept, not made again."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=3)
    with serve(app) as slow:
        configure(plugin, slow.url)
        news = {"serverId": 12345, "keep": 2, "triggers": [1]}
        old = checked(plugin, ROTATION_URN, news)
        id_, state = create(plugin, ROTATION_URN, old, timeout=30)
        (first,) = plain(state)["backupIds"]
        interrupted = checked(plugin, ROTATION_URN, {**news, "triggers": [2]}, olds=old)
        with pytest.raises(grpc.RpcError):
            update(plugin, ROTATION_URN, id_, state, interrupted, timeout=1)
        (left,) = [i for i in own(slow, old["resourceKey"]) if i != first]

        renamed_urn = ROTATION_URN.replace("::releases", "::deploys")
        renamed = checked(plugin, renamed_urn, {**news, "triggers": [2]}, olds=old)
        assert renamed["previousKeys"] == [old["resourceKey"]]
        app.clear_requests()
        state = update(plugin, renamed_urn, id_, state, renamed, timeout=30)
        assert plain(state)["backupIds"] == [left, first]
        assert writes(slow) == [], "nothing was made again"
        plugin.Delete(provider_pb2.DeleteRequest(urn=renamed_urn, id=id_, properties=state))
        assert own(slow, old["resourceKey"]) == []
