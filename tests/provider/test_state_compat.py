"""State written by an earlier release still loads, refreshes and destroys.

Every dynamic resource's state holds its provider as a pickled reference
(`__provider`: module path and class name). `data/providers-0.1.0.json` holds
the strings release 0.1.0 wrote, before the providers moved into one package
per resource; the real SDK provider host must still load them and run read and
delete with them, and today's classes must pickle to the same strings (so an
existing stack sees no change in `__provider` at all).
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from pulumi_vpsbackup.provider import (
    BackupProvider,
    FleetProvider,
    RestoreProvider,
    RotationProvider,
)
from tests.provider.conftest import BACKUP_TYPE, Engine, NamedEngine, fake_backups

WRITTEN = json.loads((Path(__file__).parent / "data" / "providers-0.1.0.json").read_text())
OLD = WRITTEN["providers"]
CLASSES = {
    "BackupProvider": BackupProvider,
    "RestoreProvider": RestoreProvider,
    "RotationProvider": RotationProvider,
    "FleetProvider": FleetProvider,
}


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_an_earlier_release_s_provider_string_loads_as_today_s_class(name: str) -> None:
    loaded = dill.loads(base64.b64decode(OLD[name]))  # noqa: S301 - our own fixture
    assert type(loaded) is CLASSES[name]


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_today_s_classes_write_the_same_provider_string(name: str) -> None:
    assert str(serialize_provider(CLASSES[name]())) == OLD[name]


def test_a_backup_in_old_state_refreshes_and_destroys(host, fake) -> None:
    backups = Engine(host, BACKUP_TYPE, OLD["BackupProvider"])
    res = backups.create("old-state", server_id=12345, description="from 0.1.0")
    backup_id = int(res.id)
    assert backup_id in fake_backups(fake, 12345)

    id_, outs, _ = host.read(res.id, res.urn, res.outputs, res.inputs)
    assert id_ == res.id and outs["backup_id"] == backup_id

    backups.delete(res)
    assert backup_id not in fake_backups(fake, 12345)


def test_a_rotation_in_old_state_refreshes_and_destroys(host, fake) -> None:
    rotations = NamedEngine(
        host, "pulumi-python:dynamic/vpsbackup:BackupRotation", OLD["RotationProvider"]
    )
    res = rotations.make("old-rotation", server_id=12345, keep=2)
    made = set(res.outputs["backup_ids"])
    assert made and made <= set(fake_backups(fake, 12345))

    id_, outs = rotations.read(res)
    assert id_ == res.id and set(outs["backup_ids"]) == made

    rotations.delete(res)
    assert not made & set(fake_backups(fake, 12345))
