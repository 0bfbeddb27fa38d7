"""What a `Restore` is, declared once: its inputs (type, check's validator,
default, whether a change replaces it, what diff compares) and its outputs.
The user-facing class, the host-side provider and the plugin all read this."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar

from ..core import validation as v
from ..core.declaration import ACCOUNT, DEFAULT_TIMEOUT, ID, TIMEOUT, WAIT, Inputs, spec


@dataclasses.dataclass(frozen=True, kw_only=True)
class RestoreInputs(Inputs):
    """The inputs of a `Restore`."""

    hidden: ClassVar[tuple[str, ...]] = ("account",)

    server_id: int = field(metadata=ID)
    backup_id: int = field(metadata=ID)
    triggers: Any = field(default=None, metadata=spec(v.triggers, replaces=True))
    wait_for_completion: bool = field(default=True, metadata=WAIT)
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)
    account: dict[str, Any] | None = field(default=None, metadata=ACCOUNT, repr=False)


RESTORE_OUTPUTS = (
    "server_name",
    "server_status",
    "restore_status",
    "restored_at",
    "restore_started_at",
)
