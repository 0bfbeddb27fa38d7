"""What a `BackupRotation` is, declared once: each input (type, check's
validator, default, whether a change replaces it, its documentation) and each
output. `make generate` derives `BackupRotationArgs` and the class's typed
outputs and constructor (`generated.py`) from it."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from ..core import validation as v
from ..core.declaration import (
    DEFAULT_TIMEOUT,
    ID,
    TIMEOUT,
    Declaration,
    NamedInputs,
    Out,
    documented,
    keep_count,
    spec,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RotationInputs(NamedInputs):
    """The inputs of a `BackupRotation`."""

    server_id: int = field(
        metadata=documented(
            ID,
            "The server to back up. Changing it replaces the rotation (its backups of the "
            "old server are deleted after the new one exists).",
            out_doc="The server the rotation backs up.",
        )
    )
    keep: int = field(
        metadata=spec(
            keep_count,
            parse=keep_count,
            doc="How many of its own backups to keep, 1 to 10. Lowering it deletes the "
            "oldest extras; raising it deletes nothing.",
            out_doc="How many of its own backups the rotation keeps.",
        )
    )
    triggers: Any = field(
        default=None,
        metadata=spec(
            v.triggers,
            doc="Any values (a list or a map); each change adds a backup and then deletes "
            "the oldest of the rotation's own beyond ``keep``.",
            out_doc="The `triggers` input: values whose change adds a backup.",
            native_doc="Any list or map of values; each change adds a backup and then deletes "
            "the oldest of the rotation's own beyond `keep`.",
        ),
    )
    description: str | None = field(
        default=None,
        metadata=spec(
            v.description,
            compare=v.same_text,
            doc="Text stored with each new backup (at most 214 characters); a change "
            "applies to future backups only.",
            out_doc="The text stored with each new backup.",
        ),
    )
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)


ROTATION_OUTPUTS = {
    "backup_ids": Out("list[int]", "The rotation's own backups, newest first.", required=True),
    "latest_backup_id": Out("int | None", "The newest of them."),
    "server_name": Out(
        "str | None", "The name of the server.", "The name of the backed-up server."
    ),
}

ROTATION = Declaration(
    name="BackupRotation",
    inputs=RotationInputs,
    outputs=ROTATION_OUTPUTS,
    native_description="The last `keep` backups of a server, a new one per `triggers` "
    "change. It deletes only backups it made itself (they carry its marker), and `pulumi "
    "destroy` deletes all of them. Each new backup is waited for within "
    "`customTimeouts.create` (default 60 minutes). A rotation cannot be imported.",
    opts_doc="Options for the resource; ``custom_timeouts.create`` becomes `timeout`.",
    raises_doc="without `server_id` or `keep`, or when the second positional argument is "
    "not a `BackupRotationArgs`.",
)
