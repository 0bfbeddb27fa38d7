"""What a `Backup` is, declared once: its inputs (type, check's validator,
default, whether a change replaces it, what diff compares) and its outputs.
The user-facing class, the host-side provider and the plugin all read this."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar

from ..core import validation as v
from ..core.declaration import (
    ACCOUNT,
    DEFAULT_TIMEOUT,
    ID,
    TIMEOUT,
    WAIT,
    Inputs,
    owner_keys,
    resource_key_input,
    spec,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BackupInputs(Inputs):
    """The inputs of a `Backup`."""

    hidden: ClassVar[tuple[str, ...]] = ("resource_key", "previous_keys", "account")

    server_id: int = field(metadata=ID)
    description: str | None = field(
        default=None, metadata=spec(v.description, replaces=True, compare=v.same_text)
    )
    triggers: Any = field(default=None, metadata=spec(v.triggers, replaces=True))
    existing_backup_id: int | None = field(default=None, metadata=ID)
    wait_for_completion: bool = field(default=True, metadata=WAIT)
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)
    # Never compared by diff: renaming or moving a resource changes no backup.
    resource_key: str | None = field(default=None, metadata=spec(resource_key_input))
    previous_keys: list[str] | None = field(default=None, metadata=spec(owner_keys))
    account: dict[str, Any] | None = field(default=None, metadata=ACCOUNT, repr=False)


#: What a `Backup` reports beside copies of its inputs: the backup as VPS.org
#: has it (a `BackupInfo`, its `id` as `backup_id`), and `adopted` for one
#: brought in by `existing_backup_id` (kept by read and update; see diff).
BACKUP_OUTPUTS = (
    "backup_id",
    "server_name",
    "backup_type",
    "status",
    "size_mb",
    "created_at",
    "expires_at",
    "description",
    "adopted",
)
