"""Each resource's inputs and outputs are declared once (its package's `declaration.py`).

Before: every provider filtered the engine's dict with its own comprehension
and re-applied the timeout default, and `Backup`'s outputs were declared in
three places that differed (the stored `adopted` output was in none).
"""

from __future__ import annotations

import inspect
from datetime import datetime, timezone

import pytest

import pulumi_vpsbackup as vps
from pulumi_vpsbackup.client import BackupRecord, ServerRef
from pulumi_vpsbackup.provider.backup import BackupProvider
from pulumi_vpsbackup.provider.backup.declaration import BACKUP_OUTPUTS, BackupInputs
from pulumi_vpsbackup.provider.backup.provider import backup_outputs
from pulumi_vpsbackup.provider.core.declaration import Inputs
from pulumi_vpsbackup.provider.core.validation import DEFAULT_TIMEOUT_SECONDS, FieldError
from pulumi_vpsbackup.provider.fleet import FleetProvider
from pulumi_vpsbackup.provider.fleet.declaration import FLEET_OUTPUTS, FleetInputs
from pulumi_vpsbackup.provider.restore import RestoreProvider
from pulumi_vpsbackup.provider.restore.declaration import RESTORE_OUTPUTS, RestoreInputs
from pulumi_vpsbackup.provider.rotation import RotationProvider
from pulumi_vpsbackup.provider.rotation.declaration import ROTATION_OUTPUTS, RotationInputs

RESOURCES = [
    (vps.Backup, BackupInputs, BACKUP_OUTPUTS, BackupProvider),
    (vps.Restore, RestoreInputs, RESTORE_OUTPUTS, RestoreProvider),
    (vps.BackupRotation, RotationInputs, ROTATION_OUTPUTS, RotationProvider),
    (vps.BackupFleet, FleetInputs, FLEET_OUTPUTS, FleetProvider),
]


def _output_attributes(cls: type) -> set[str]:
    """The `pulumi.Output` attributes a class has, its own and its generated base's."""
    hints = {k: v for c in reversed(cls.__mro__) for k, v in inspect.get_annotations(c).items()}
    return {name for name, hint in hints.items() if str(hint).startswith("pulumi.Output")}


@pytest.mark.parametrize(("resource", "inputs", "outputs", "provider"), RESOURCES)
def test_the_resource_class_declares_exactly_its_inputs_and_outputs(
    resource: type, inputs: type[Inputs], outputs: tuple[str, ...], provider: type
) -> None:
    shown = set(inputs.names()) - set(inputs.hidden)
    assert _output_attributes(resource) == shown | set(outputs)
    # check and diff work on the same declaration.
    assert [spec.name for spec in provider.fields] == inputs.names()


def test_backup_outputs_are_its_input_copies_and_the_declared_outputs() -> None:
    backup = BackupRecord(
        id=499,
        server=ServerRef(id=12345, name="web"),
        backup_type="manual",
        status="completed",
        size_mb=10,
        created_at=datetime(2026, 12, 1, tzinfo=timezone.utc),
        expires_at=None,
        description="nightly [pvb:0123abcd.deadbeef]",
    )
    inputs = BackupInputs.parse({"server_id": 12345.0, "existing_backup_id": 499.0})
    outs = backup_outputs(backup, inputs, adopted=True)
    assert set(outs) <= set(BackupInputs.names()) | set(BACKUP_OUTPUTS)
    assert outs["adopted"] is True and outs["backup_id"] == 499
    assert outs["description"] == "nightly"  # the marker is the provider's
    assert "adopted" not in backup_outputs(backup, inputs, adopted=False)


def test_parse_types_the_engine_values_once() -> None:
    """Numbers arrive as floats; a missing optional input takes its one default."""
    inputs = BackupInputs.parse(
        {"server_id": 12345.0, "existing_backup_id": 7.0, "__provider": "x", "status": "done"}
    )
    assert inputs.server_id == 12345 and type(inputs.server_id) is int
    assert inputs.existing_backup_id == 7 and type(inputs.existing_backup_id) is int
    assert (inputs.wait_for_completion, inputs.timeout) == (True, DEFAULT_TIMEOUT_SECONDS)
    assert inputs.to_props() == {
        "server_id": 12345,
        "existing_backup_id": 7,
        "wait_for_completion": True,
        "timeout": DEFAULT_TIMEOUT_SECONDS,
    }
    restore = RestoreInputs.parse({"server_id": 1.0, "backup_id": 2.0, "timeout": 90})
    assert (restore.backup_id, restore.timeout) == (2, 90.0) and type(restore.timeout) is float
    rotation = RotationInputs.parse({"server_id": 1.0, "keep": 3.0})
    assert rotation.keep == 3 and rotation.name == "(unnamed)"
    fleet = FleetInputs.parse({"server_ids": [12346.0, 12345.0], "resource_name": "nightly"})
    assert fleet.server_ids == [12345, 12346] and type(fleet.server_ids[0]) is int
    assert (fleet.timeout, fleet.name) == (DEFAULT_TIMEOUT_SECONDS, "nightly")
    with pytest.raises(FieldError, match=r"^backup_id: is required$"):
        RestoreInputs.parse({"server_id": 1})
    assert BackupInputs.stored({}, "server_id") is None  # a `Backup.get` without one
    assert BackupInputs.stored({}, "timeout") == DEFAULT_TIMEOUT_SECONDS


def test_typed_inputs_never_show_the_account_token() -> None:
    token = "vps_shapes_secret_token_31"
    account = {"api_url": "https://a.example/api/v1", "api_token": token}
    for inputs in (
        BackupInputs.parse({"server_id": 1, "account": account}),
        RestoreInputs.parse({"server_id": 1, "backup_id": 2, "account": account}),
    ):
        assert token not in repr(inputs) and token not in str(inputs)


def test_check_fills_the_same_defaults_parse_does(monkeypatch) -> None:
    monkeypatch.delenv("VPS_API_TOKEN", raising=False)  # check asks no API then
    checked = BackupProvider().check({}, {"server_id": 12345.0}).inputs
    assert checked["timeout"] == BackupInputs.parse(checked).timeout == DEFAULT_TIMEOUT_SECONDS


@pytest.mark.parametrize(
    ("resource", "args"),
    [
        (vps.Backup, vps.BackupArgs),
        (vps.Restore, vps.RestoreArgs),
        (vps.BackupRotation, vps.BackupRotationArgs),
        (vps.BackupFleet, vps.BackupFleetArgs),
    ],
)
def test_each_constructor_offers_exactly_its_args_as_keywords(resource: type, args: type) -> None:
    """The constructors pass their keywords on by name (`resource_props`), so a
    keyword missing from either side would be dropped or fail at run time."""
    params = inspect.signature(resource.__init__).parameters.values()
    keywords = [p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY]
    fields = list(inspect.signature(args).parameters)
    assert keywords == fields
    with pytest.raises(TypeError, match=r"missing required argument"):
        resource("r")
