"""Every example through its life cycle, as `pulumi` would run it, against the fake.

preview, up, preview (no changes), a config change (preview, then up), refresh,
preview (still no changes), destroy; the plan is checked at each step, resource
by resource, and so is what the fake VPS.org API holds. The harness
(`dev/vpsbackup_dev/engine.py`) runs the program with the real SDK and the real
dynamic provider host; tests/cli runs the same scenarios with the Pulumi CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.fake import FakeServer
from vpsbackup_dev.engine import Engine, EngineError, Result

from .scenarios import (
    BACKUP,
    IDENTITY_NAME,
    PRE_DEPLOY,
    QUICKSTART,
    RELEASE,
    RESTORE,
    RESTORE_SCENARIO,
    STACK,
    WEB_SERVER,
    Scenario,
    backups,
    last_restore,
    namespaced,
    restore_requests,
    with_identity,
    world,
)

EngineFor = Callable[[Scenario], Engine]


# ---- plan helpers ----------------------------------------------------------------------


def stack_name(scenario: Scenario) -> str:
    return f"{scenario.project}-test"


def ops(result: Result) -> dict[str, list[str]]:
    """{resource name: [ops in order]}, the stack included."""
    out: dict[str, list[str]] = {}
    for step in result.steps:
        out.setdefault(step.name, []).append(step.op)
    return out


def expected(scenario: Scenario, stack_op: str, op: str | dict[str, list[str]]) -> dict:
    """The same op for every resource of the example (or per name), the stack's op."""
    names = [n for n in scenario.resources if n != IDENTITY_NAME]
    per_name = with_identity(
        scenario, stack_op, op if isinstance(op, dict) else {n: [op] for n in names}
    )
    return {stack_name(scenario): [stack_op], **{n: v for n, v in per_name.items() if v}}


def check_urns(result: Result, engine: Engine, scenario: Scenario) -> None:
    """Every step names the URN the engine gives the example's resource."""
    for step in result.steps:
        if step.type == STACK:
            assert step.urn == engine.urn(STACK, stack_name(scenario))
        else:
            assert step.type == scenario.resources[step.name], step
            assert step.urn == engine.urn(step.type, step.name), step


def unchanged(scenario: Scenario, engine: Engine) -> None:
    """A preview that proposes nothing (what `pulumi preview --expect-no-changes` checks)."""
    result = engine.preview()
    assert ops(result) == expected(scenario, "same", "same"), result.steps
    assert result.summary == [f"{len(scenario.resources) + 1} unchanged"]


def change_config(engine: Engine, scenario: Scenario) -> None:
    engine.config.update(namespaced(scenario.project, scenario.change))


def as_int(value: Any) -> int:
    # Numbers cross the engine as floats (12345.0), as with the real CLI.
    assert isinstance(value, (int, float)) and float(value).is_integer(), value
    return int(value)


# ---- quickstart --------------------------------------------------------------------------


def test_quickstart_life_cycle(engine_for: EngineFor, fake: FakeServer) -> None:
    scn = QUICKSTART
    eng = engine_for(scn)
    start = world(fake.app)

    plan = eng.preview()
    assert ops(plan) == expected(scn, "create", "create")
    assert plan.summary == ["+ 3 to create"]
    check_urns(plan, eng, scn)
    assert world(fake.app) == start, "a preview must not touch the API"

    up = eng.up()
    assert ops(up) == expected(scn, "create", "create")
    check_urns(up, eng, scn)
    first_id = as_int(up.outputs["backupId"])
    assert first_id not in start["backups"]
    made = backups(fake.app)[first_id]
    assert made["server_id"] == WEB_SERVER
    assert (made["backup_type"], made["status"]) == ("manual", "completed")
    # VPS.org keeps the description with the provider's marker; the outputs do not.
    assert strip_marker(made["description"]) == scn.first["description"]
    assert up.outputs["backupStatus"] == "completed"
    assert up.outputs["serverName"] == "web-server-01"
    listed = [as_int(i) for i in up.outputs["serverBackupIds"]]
    on_server = {i for i, b in backups(fake.app).items() if b["server_id"] == WEB_SERVER}
    assert listed[0] == first_id, "the listing is newest first and includes the new backup"
    assert set(listed) == on_server
    stored = eng.resource("quickstart")
    assert stored is not None and stored.id == str(first_id)

    unchanged(scn, eng)

    change_config(eng, scn)
    plan = eng.preview()
    assert ops(plan) == expected(scn, "same", "replace")
    assert [s.detail for s in plan.steps if s.name == "quickstart"] == ["create-before-delete"]
    assert plan.summary == ["+- 1 to replace", "2 unchanged"]
    assert set(backups(fake.app)) == set(start["backups"]) | {first_id}

    up = eng.up()
    assert ops(up) == expected(scn, "same", {"quickstart": ["replace", "delete-replaced"]})
    check_urns(up, eng, scn)
    second_id = as_int(up.outputs["backupId"])
    now = backups(fake.app)
    assert second_id != first_id
    assert first_id not in now, "the replaced backup is deleted"
    assert strip_marker(now[second_id]["description"]) == scn.change["description"]
    assert set(now) == set(start["backups"]) | {second_id}

    unchanged(scn, eng)

    refresh = eng.refresh()
    assert ops(refresh) == expected(scn, "same", "same"), "nothing changed on the API"
    unchanged(scn, eng)

    destroy = eng.destroy()
    assert ops(destroy) == expected(scn, "delete", "delete")
    assert [s.name for s in destroy.steps][-1] == stack_name(scn), "the stack goes last"
    assert eng.resources() == []
    assert world(fake.app) == start, "the fake ends as it started"


def test_quickstart_backup_deleted_outside_pulumi_is_taken_again(
    engine_for: EngineFor, fake: FakeServer
) -> None:
    scn = QUICKSTART
    eng = engine_for(scn)
    start = world(fake.app)
    first_id = as_int(eng.up().outputs["backupId"])
    fake.app.remove_backup(first_id)  # someone deletes it in the VPS.org console

    refresh = eng.refresh()
    assert ops(refresh) == expected(scn, "same", "refresh-delete")
    assert eng.resource("quickstart") is None

    plan = eng.preview()
    assert ops(plan) == expected(scn, "same", "create")
    second_id = as_int(eng.up().outputs["backupId"])
    assert second_id != first_id and second_id in backups(fake.app)

    eng.destroy()
    assert world(fake.app) == start


# ---- pre-deploy --------------------------------------------------------------------------


def test_pre_deploy_life_cycle(engine_for: EngineFor, fake: FakeServer) -> None:
    scn = PRE_DEPLOY
    eng = engine_for(scn)
    start = world(fake.app)
    backup_urn = eng.urn(BACKUP, "pre-deploy")

    plan = eng.preview()
    assert ops(plan) == expected(scn, "create", "create")
    check_urns(plan, eng, scn)
    assert world(fake.app) == start

    up = eng.up()
    assert ops(up) == expected(scn, "create", "create")
    names = [s.name for s in up.steps]
    assert names.index("pre-deploy") < names.index("app"), "the release waits for the backup"
    release = eng.resource("app")
    assert release is not None and release.type == RELEASE
    assert backup_urn in release.dependencies
    first_id = as_int(up.outputs["backupId"])
    assert up.outputs["appVersion"] == "1.0.0"
    assert as_int(release.outputs["backupId"]) == first_id
    assert release.outputs["version"] == "1.0.0"
    assert backups(fake.app)[first_id]["status"] == "completed"

    unchanged(scn, eng)

    change_config(eng, scn)
    plan = eng.preview()
    assert ops(plan) == expected(scn, "same", {"pre-deploy": ["replace"], "app": ["update"]})
    assert plan.summary == ["~ 1 to update", "+- 1 to replace", "2 unchanged"]
    assert set(backups(fake.app)) == set(start["backups"]) | {first_id}

    up = eng.up()
    assert ops(up) == expected(
        scn, "same", {"pre-deploy": ["replace", "delete-replaced"], "app": ["update"]}
    )
    order = [(s.op, s.name) for s in up.steps]
    assert (
        order.index(("replace", "pre-deploy"))
        < [n for _, n in order].index("app")
        < order.index(("delete-replaced", "pre-deploy"))
    ), "new backup, then the release, then the old backup is deleted"
    second_id = as_int(up.outputs["backupId"])
    assert second_id != first_id
    now = backups(fake.app)
    assert first_id not in now and now[second_id]["status"] == "completed"
    release = eng.resource("app")
    assert release is not None
    assert release.outputs["version"] == "1.1.0"
    assert as_int(release.outputs["backupId"]) == second_id
    assert backup_urn in release.dependencies

    unchanged(scn, eng)
    assert ops(eng.refresh()) == expected(scn, "same", "same")
    unchanged(scn, eng)

    destroy = eng.destroy()
    assert ops(destroy) == expected(scn, "delete", "delete")
    names = [s.name for s in destroy.steps]
    assert names.index("app") < names.index("pre-deploy"), "dependents are deleted first"
    assert world(fake.app) == start


# ---- restore -----------------------------------------------------------------------------


def test_restore_life_cycle(engine_for: EngineFor, fake: FakeServer) -> None:
    scn = RESTORE_SCENARIO
    eng = engine_for(scn)
    start = world(fake.app)
    first = int(scn.first["restoreFromBackupId"])
    second = int(scn.change["restoreFromBackupId"])

    plan = eng.preview()
    assert ops(plan) == expected(scn, "create", "create")
    check_urns(plan, eng, scn)
    assert restore_requests(fake.app, WEB_SERVER) == 0, "a preview never restores"

    up = eng.up()
    assert ops(up) == expected(scn, "create", "create")
    assert restore_requests(fake.app, WEB_SERVER) == 1
    record = last_restore(fake.app, WEB_SERVER)
    assert record is not None
    assert (record["backup_id"], record["status"]) == (first, "completed")
    assert as_int(up.outputs["restoredFromBackupId"]) == first
    assert up.outputs["serverName"] == "web-server-01"
    assert up.outputs["serverStatus"] == "active"
    assert up.outputs["restoreStatus"] == "completed"

    unchanged(scn, eng)
    assert restore_requests(fake.app, WEB_SERVER) == 1

    change_config(eng, scn)
    plan = eng.preview()
    assert ops(plan) == expected(scn, "same", "replace")
    assert restore_requests(fake.app, WEB_SERVER) == 1

    up = eng.up()
    assert ops(up) == expected(scn, "same", {"restore": ["replace", "delete-replaced"]})
    assert restore_requests(fake.app, WEB_SERVER) == 2, "a new backup id restores again"
    record = last_restore(fake.app, WEB_SERVER)
    assert record is not None
    assert (record["backup_id"], record["status"]) == (second, "completed")
    assert as_int(up.outputs["restoredFromBackupId"]) == second

    unchanged(scn, eng)
    assert ops(eng.refresh()) == expected(scn, "same", "same")
    unchanged(scn, eng)

    destroy = eng.destroy()
    assert ops(destroy) == expected(scn, "delete", "delete")
    assert restore_requests(fake.app, WEB_SERVER) == 2, "destroy does not restore or undo"
    assert world(fake.app) == start, "backups and servers as they were"


def test_restore_preview_rejects_a_backup_of_another_server(
    engine_for: EngineFor, fake: FakeServer
) -> None:
    scn = RESTORE_SCENARIO
    eng = engine_for(scn)
    eng.config.update(namespaced(scn.project, {"restoreFromBackupId": "500"}))  # db-server-01's
    with pytest.raises(EngineError) as failed:
        eng.preview()
    assert failed.value.urn == eng.urn(RESTORE, "restore")
    assert "belongs to server 12346" in failed.value.message
    assert restore_requests(fake.app, WEB_SERVER) == 0
