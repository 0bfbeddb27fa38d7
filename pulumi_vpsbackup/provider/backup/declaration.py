"""What a `Backup` is, declared once: each input (type, check's validator,
default, whether a change replaces it, what diff compares, its documentation)
and each output. `make generate` derives `BackupArgs`, the class's typed
outputs and constructor (`generated.py`) and the plugin schema's `Backup`
from it; the host-side provider and the plugin read it at run time."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar

from ..core.declaration import (
    ACCOUNT,
    DEFAULT_TIMEOUT,
    DESCRIPTION,
    ID,
    PREVIOUS_KEYS,
    RESOURCE_KEY,
    TIMEOUT,
    TRIGGERS,
    WAIT,
    Declaration,
    Inputs,
    Out,
    documented,
)

_SERVER = "The server to back up. Changing it replaces the backup"


@dataclasses.dataclass(frozen=True, kw_only=True)
class BackupInputs(Inputs):
    """The inputs of a `Backup`."""

    hidden: ClassVar[tuple[str, ...]] = ("resource_key", "previous_keys", "account")

    server_id: int = field(
        metadata=documented(
            ID,
            f"{_SERVER}.",
            out_doc="The server the backup belongs to.",
            native_doc=f"{_SERVER} (the new one is made before the old one is deleted).",
        )
    )
    description: str | None = field(
        default=None,
        metadata=documented(
            DESCRIPTION,
            "Free text stored with the backup (at most 214 characters: VPS.org keeps "
            "255, 41 of them for the marker). Changing it replaces the backup.",
            native_doc="A description stored with the backup: one line, at most 214 "
            "characters (VPS.org keeps 255; 41 are kept for the marker that lets the provider "
            "recognise its own backup). Changing it replaces the backup.",
        ),
    )
    triggers: Any = field(
        default=None,
        metadata=documented(
            TRIGGERS,
            "Any values (a list or a map); when one changes, the backup is taken again, "
            "e.g. ``[app_version]`` for a fresh backup per deploy.",
            out_doc="The `triggers` input: values whose change takes a new backup.",
            native_doc="Any list or map of values; when one changes, the backup is replaced "
            "(a new backup is made).",
        ),
    )
    existing_backup_id: int | None = field(
        default=None,
        metadata=documented(
            ID,
            "Bring an existing manual backup under management instead of creating one "
            "(``import_`` is carried out as this). It is deleted on destroy like any managed "
            "backup.",
            out_doc="The adopted backup's id, when the resource adopted one.",
            native_doc="Adopt this existing manual backup instead of making one. Deleting the "
            "resource deletes it.",
        ),
    )
    wait_for_completion: bool = field(
        default=True,
        metadata=documented(
            WAIT,
            "Wait until the backup has completed (default True); with False, `pulumi up` "
            "moves on while the backup is running.",
            out_doc="Whether `pulumi up` waits until the backup has completed.",
            native_doc="Wait until the backup has completed (default true). The wait is "
            "bounded by `customTimeouts.create` (default 60 minutes); if it fails or times out, "
            "the new backup is deleted and nothing is recorded.",
        ),
    )
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)
    # Never compared by diff: renaming or moving a resource changes no backup.
    resource_key: str | None = field(default=None, metadata=RESOURCE_KEY)
    previous_keys: list[str] | None = field(default=None, metadata=PREVIOUS_KEYS)
    account: dict[str, Any] | None = field(default=None, metadata=ACCOUNT, repr=False)


#: What a `Backup` reports beside copies of its inputs: the backup as VPS.org
#: has it (a `BackupInfo`, its `id` as `backup_id`), and `adopted` for one
#: brought in by `existing_backup_id` (kept by read and update; see diff).
BACKUP_OUTPUTS = {
    "backup_id": Out(
        "int",
        "The backup's id on VPS.org.",
        native_doc="The backup's id (also the resource's id).",
        required=True,
    ),
    "server_name": Out("str", "The name of that server.", "The name of the backed-up server."),
    "backup_type": Out(
        "str",
        '``"manual"`` (``"automatic"`` only for one referenced with `Backup.get`).',
        "`manual` for a backup this resource made or adopted.",
        required=True,
    ),
    "status": Out(
        "str",
        '``"in_progress"``, ``"completed"``, ``"failed"``, or a new status the API reports.',
        "`in_progress`, `completed` or `failed`, as last read.",
        required=True,
    ),
    "size_mb": Out("int | None", "The backup's size in MB, once known."),
    "created_at": Out(
        "str",
        "When the backup was started, ISO-8601.",
        "When the backup was started (ISO-8601, UTC).",
    ),
    "expires_at": Out(
        "str | None",
        "When VPS.org deletes the backup, ISO-8601; ``None`` for manual backups.",
        "When VPS.org deletes the backup (ISO-8601); absent for manual backups.",
    ),
    "description": Out(
        "str | None",
        "The description VPS.org has for the backup.",
        "The description stored with the backup (without the provider's marker).",
    ),
    "adopted": Out(
        "bool | None",
        "``True`` for a backup brought in by `existing_backup_id` (or ``import_``).",
        "True when the backup was adopted through `existingBackupId` rather than made.",
    ),
}

BACKUP = Declaration(
    name="Backup",
    inputs=BackupInputs,
    outputs=BACKUP_OUTPUTS,
    native_description="A manual backup of a VPS.org server. Create makes the backup "
    "(transactionally: a backup whose wait fails is deleted, and one left outside state by "
    "an interrupted run is found again by its marker); delete deletes it; refresh drops it "
    "from state only when a complete listing proves it gone. Import with "
    "`pulumi import vpsbackup:index:Backup NAME BACKUP_ID`.",
    opts_doc="Options for the resource, e.g. ``delete_before_replace``, "
    "``retain_on_delete``, ``custom_timeouts`` (``create`` becomes `timeout`) or "
    "``import_`` (carried out as `existing_backup_id`).",
    raises_doc="without `server_id`, or when the second positional argument is not a `BackupArgs`.",
    required_outputs=("wait_for_completion",),
)
