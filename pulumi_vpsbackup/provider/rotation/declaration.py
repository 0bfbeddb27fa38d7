"""What a `BackupRotation` is, declared once: its inputs (type, check's validator,
default, whether a change replaces it, what diff compares) and its outputs.
The user-facing class, the host-side provider and the plugin all read this."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from ..core import validation as v
from ..core.declaration import DEFAULT_TIMEOUT, ID, TIMEOUT, NamedInputs, keep_count, spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class RotationInputs(NamedInputs):
    """The inputs of a `BackupRotation`."""

    server_id: int = field(metadata=ID)
    keep: int = field(metadata=spec(keep_count, parse=keep_count))
    triggers: Any = field(default=None, metadata=spec(v.triggers))
    description: str | None = field(default=None, metadata=spec(v.description, compare=v.same_text))
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)


ROTATION_OUTPUTS = ("backup_ids", "latest_backup_id", "server_name")
