"""The examples' life cycles with the real Pulumi CLI (automation API), against the fake.

The same scenarios as tests/programs (tests/programs/scenarios.py), checked on
what the CLI reports: the per-resource step events of each preview and update,
the change summaries, the stack outputs, and what the fake holds. Skipped,
with the reason, when `pulumi` is not on PATH.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from pulumi import automation as auto

from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import (
    IDENTITY_NAME,
    PRE_DEPLOY,
    QUICKSTART,
    REPO,
    RESTORE_SCENARIO,
    SCENARIOS,
    STACK,
    TOKEN,
    WEB_SERVER,
    Scenario,
    backups,
    last_restore,
    restore_requests,
    with_identity,
    world,
)
from vpsbackup_dev.cli_project import CliProject, offline_env

pytestmark = pytest.mark.cli

StackFor = Callable[[Scenario], auto.Stack]


class Steps:
    """Collects the engine's step events: {resource name: [ops]} for one operation."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str, str]] = []  # (op, type, urn)

    def __call__(self, event: auto.EngineEvent) -> None:
        pre = event.resource_pre_event
        if pre is not None:
            meta = pre.metadata
            # The engine registers the default `pulumi-python` provider as a
            # step of its own; the plan's summary does not count it.
            if not meta.type.startswith("pulumi:providers:"):
                self.events.append((_op(meta.op), meta.type, meta.urn))

    def ops(self) -> dict[str, str]:
        """One op per resource, as the CLI's plan shows it (replace folds its sub-steps)."""
        seen: dict[str, set[str]] = {}
        for op, type_, urn in self.events:
            name = STACK if type_ == STACK else urn.split("::")[-1]
            seen.setdefault(name, set()).add(op)
        out = {}
        for name, found in seen.items():
            if found & {"replace", "create-replacement"}:
                out[name] = "replace"
            else:
                (out[name],) = found - {"same"} or {"same"}
        return out

    def order(self) -> list[tuple[str, str]]:
        return [(op, urn.split("::")[-1]) for op, _, urn in self.events]


def _op(value: Any) -> str:
    return str(getattr(value, "value", value))


def counts(summary: Mapping[Any, int] | None) -> dict[str, int]:
    return {_op(k): v for k, v in (summary or {}).items() if v}


def expect(scenario: Scenario, stack_op: str, ops: Mapping[str, str] | str) -> dict[str, str]:
    names = [n for n in scenario.resources if n != IDENTITY_NAME]
    per_name = with_identity(
        scenario, stack_op, {n: ops for n in names} if isinstance(ops, str) else dict(ops)
    )
    out = {STACK: stack_op, **per_name}
    return {k: v for k, v in out.items() if v != "same"}


def changed(steps: Steps) -> dict[str, str]:
    return {k: v for k, v in steps.ops().items() if v != "same"}


def value(outputs: Mapping[str, auto.OutputValue], key: str) -> Any:
    return outputs[key].value


def preview(stack: auto.Stack, **kwargs: Any) -> tuple[Steps, dict[str, int]]:
    steps = Steps()
    result = stack.preview(on_event=steps, **kwargs)
    return steps, counts(result.change_summary)


def up(stack: auto.Stack) -> tuple[Steps, auto.UpResult]:
    steps = Steps()
    result = stack.up(on_event=steps)
    assert result.summary.result == "succeeded"
    return steps, result


def apply_change(stack: auto.Stack, scenario: Scenario) -> None:
    stack.set_all_config({k: auto.ConfigValue(v) for k, v in scenario.change.items()})


def no_changes(stack: auto.Stack) -> None:
    # --expect-no-changes makes the CLI itself fail on any proposed change.
    steps, summary = preview(stack, expect_no_changes=True)
    assert changed(steps) == {}
    assert set(summary) == {"same"}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_life_cycle_with_the_cli(scenario: Scenario, stack_for: StackFor, fake: FakeServer) -> None:
    life_cycle(scenario, stack_for(scenario), fake)


def life_cycle(scenario: Scenario, stack: auto.Stack, fake: FakeServer) -> None:
    """The scenario on a new stack of its example: preview, up, a change, refresh, destroy."""
    start = world(fake.app)
    n = len(scenario.resources)

    steps, summary = preview(stack)
    assert changed(steps) == expect(scenario, "create", "create")
    assert summary == {"create": n + 1}
    assert world(fake.app) == start, "a preview must not touch the API"
    assert restore_requests(fake.app, WEB_SERVER) == 0

    steps, result = up(stack)
    assert changed(steps) == expect(scenario, "create", "create")
    assert counts(result.summary.resource_changes) == {"create": n + 1}
    first = result.outputs
    check_after_first_up(scenario, fake, first, start)

    no_changes(stack)

    apply_change(stack, scenario)
    steps, summary = preview(stack)
    assert changed(steps) == expect(scenario, "same", scenario.change_ops)
    planned = {op: list(scenario.change_ops.values()).count(op) for op in ("replace", "update")}
    # The stack is the same, and so is its identity when the example has one.
    same = 1 + (IDENTITY_NAME in scenario.resources)
    assert summary == {"same": same, **{op: c for op, c in planned.items() if c}}

    steps, result = up(stack)
    assert changed(steps) == expect(scenario, "same", scenario.change_ops)
    check_after_change(scenario, fake, first, result.outputs, start, steps)

    no_changes(stack)
    refreshed = stack.refresh()
    assert not set(counts(refreshed.summary.resource_changes)) - {"same", "refresh"}
    no_changes(stack)

    destroyed = stack.destroy()
    assert counts(destroyed.summary.resource_changes) == {"delete": n + 1}
    assert world(fake.app) == start, "the fake ends as it started"


def check_after_first_up(
    scenario: Scenario, fake: FakeServer, outputs: Mapping[str, Any], start: Mapping[str, Any]
) -> None:
    if scenario in (QUICKSTART, PRE_DEPLOY):
        backup_id = int(value(outputs, "backupId"))
        assert backup_id not in start["backups"]
        made = backups(fake.app)[backup_id]
        assert (made["server_id"], made["backup_type"], made["status"]) == (
            WEB_SERVER,
            "manual",
            "completed",
        )
        assert value(outputs, "backupStatus") == "completed"
    if scenario is QUICKSTART:
        listed = [int(i) for i in value(outputs, "serverBackupIds")]
        assert listed[0] == int(value(outputs, "backupId"))
    if scenario is PRE_DEPLOY:
        assert value(outputs, "appVersion") == scenario.first["appVersion"]
    if scenario is RESTORE_SCENARIO:
        wanted = int(scenario.first["restoreFromBackupId"])
        assert restore_requests(fake.app, WEB_SERVER) == 1
        record = last_restore(fake.app, WEB_SERVER)
        assert record is not None and (record["backup_id"], record["status"]) == (
            wanted,
            "completed",
        )
        assert value(outputs, "serverStatus") == "active"
        assert value(outputs, "restoreStatus") == "completed"


def check_after_change(
    scenario: Scenario,
    fake: FakeServer,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    start: Mapping[str, Any],
    steps: Steps,
) -> None:
    if scenario in (QUICKSTART, PRE_DEPLOY):
        old, new = int(value(before, "backupId")), int(value(after, "backupId"))
        now = backups(fake.app)
        assert new != old and old not in now, "the replaced backup is deleted"
        assert set(now) == set(start["backups"]) | {new}
    if scenario is PRE_DEPLOY:
        assert value(after, "appVersion") == scenario.change["appVersion"]
        order = steps.order()
        names = [name for _, name in order]
        assert names.index("pre-deploy") < names.index("app")
        assert names.index("app") < order.index(("delete-replaced", "pre-deploy"))
    if scenario is RESTORE_SCENARIO:
        wanted = int(scenario.change["restoreFromBackupId"])
        assert restore_requests(fake.app, WEB_SERVER) == 2
        record = last_restore(fake.app, WEB_SERVER)
        assert record is not None and record["backup_id"] == wanted


def test_the_root_project_deploys_the_quickstart_as_the_readme_says(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> None:
    """`pulumi up` at the repository root: its Pulumi.yaml names `virtualenv: .venv`
    and no `main:`, so the project is used as it is, beside the examples and a
    `.venv` (links to this checkout's, whose interpreter runs these tests)."""
    root = tmp_path / "root"
    root.mkdir()
    for name in ("Pulumi.yaml", "__main__.py"):
        shutil.copy2(REPO / name, root / name)
    (root / "examples").symlink_to(REPO / "examples")
    (root / ".venv").symlink_to(sys.prefix)
    env = {
        **os.environ,
        **offline_env(tmp_path / "state", cli_home),
        "VPS_API_TOKEN": "",
        "VPS_API_URL": "",
    }
    (tmp_path / "state").mkdir()
    project = CliProject(root, env)
    project.run("stack", "init", "test")
    project.config("vpsbackup:apiUrl", fake.url)
    project.config("vpsbackup:apiToken", TOKEN, secret=True)
    start = world(fake.app)
    preview = project.preview()
    assert "+ 3 to create" in preview.out, preview.out
    assert world(fake.app) == start
    project.up()
    outputs = project.outputs()
    backup_id = int(str(outputs["backupId"]))
    assert backups(fake.app)[backup_id]["status"] == "completed"
    listed = outputs["serverBackupIds"]
    assert isinstance(listed, list) and int(listed[0]) == backup_id
    project.run("preview", "--expect-no-changes")
    project.run("refresh", "--yes", "--skip-preview")
    project.run("destroy", "--yes", "--skip-preview")
    assert world(fake.app) == start
    project.run("stack", "rm", "--yes")
