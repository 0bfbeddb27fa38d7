"""The resource classes as a program constructs them (no provider involved)."""

from __future__ import annotations

import pulumi
import pytest

import pulumi_vpsbackup as vps
from pulumi_vpsbackup.client.marker import owner_key


@pytest.mark.parametrize("kind", [vps.Backup, vps.Restore])
def test_a_positional_server_id_says_to_pass_it_as_a_keyword(kind):
    args = f"{kind.__name__}Args"
    with pytest.raises(TypeError) as info:
        kind("x", 12345)
    assert str(info.value) == (
        f"{kind.__name__}: pass server_id=12345 as a keyword "
        f"(the second positional argument is {args})"
    )


def test_anything_else_in_the_args_position_is_named():
    with pytest.raises(TypeError, match=r"must be a BackupArgs, got dict"):
        vps.Backup("x", {"server_id": 12345})  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"must be a RestoreArgs, got BackupArgs"):
        vps.Restore("x", vps.BackupArgs(server_id=1))  # type: ignore[arg-type]


IDENTITY = "ab" * 16


class _Reads(pulumi.runtime.Mocks):
    def __init__(self) -> None:
        self.seen: list[tuple[str, str | None, dict]] = []

    def new_resource(self, args):
        self.seen.append((args.name, args.resource_id, dict(args.inputs)))
        if args.typ.endswith(":StackIdentity"):
            return IDENTITY, {"identity": IDENTITY}
        return args.resource_id or f"{args.name}-id", {**args.inputs, "server_status": "active"}

    def call(self, args):
        return {}


@pytest.fixture
def reads():
    mocks = _Reads()
    pulumi.runtime.set_mocks(mocks, preview=False)
    return mocks


@pulumi.runtime.test
def test_restore_get_reads_the_restore_by_its_id(reads):
    got = vps.Restore.get("old", "12345:499:20261201T120000.000000Z")
    assert isinstance(got, vps.Restore)

    def check(args):
        id_, status = args
        assert id_ == "12345:499:20261201T120000.000000Z"
        assert status == "active"
        assert [(name, rid) for name, rid, _ in reads.seen] == [
            ("old", "12345:499:20261201T120000.000000Z")
        ]

    return pulumi.Output.all(got.id, got.server_status).apply(check)


def test_a_rotations_server_id_given_positionally_gets_a_clear_type_error() -> None:
    import pulumi_vpsbackup as vps

    with pytest.raises(TypeError, match=r"BackupRotation: pass server_id=12345 as a keyword"):
        vps.BackupRotation("r", 12345)  # type: ignore[arg-type]


def test_a_fleet_without_its_servers_or_with_them_positionally_gets_a_clear_type_error() -> None:
    with pytest.raises(TypeError, match=r"BackupFleet: pass server_ids=\[1, 2\] as a keyword"):
        vps.BackupFleet("f", [1, 2])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"BackupFleet: missing required argument 'server_ids'"):
        vps.BackupFleet("f")


@pulumi.runtime.test
def test_a_fleet_sends_its_inputs_and_hidden_key(reads):
    fleet = vps.BackupFleet("nightly", server_ids=[12346, 12345], description="d")

    def check(_):
        registered = {name: inputs for name, _rid, inputs in reads.seen}
        assert set(registered) == {"nightly", "vpsbackup-stack-identity"}
        inputs = registered["nightly"]
        assert inputs["server_ids"] == [12346, 12345]
        assert inputs["description"] == "d"
        assert inputs["resource_name"] == "nightly"
        # The stack's identity, the type and the name: no other resource's key.
        assert inputs["resource_key"] == owner_key(IDENTITY, "BackupFleet", "", "", "nightly")
        assert inputs.get("previous_keys") is None

    return fleet.urn.apply(check)
