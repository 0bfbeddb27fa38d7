"""What a `BackupFleet` is, declared once: its inputs (type, check's validator,
default, whether a change replaces it, what diff compares) and its outputs.
The user-facing class, the host-side provider and the plugin all read this."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from ..core import validation as v
from ..core.declaration import (
    DEFAULT_TIMEOUT,
    TIMEOUT,
    NamedInputs,
    server_id_list,
    server_set,
    spec,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FleetInputs(NamedInputs):
    """The inputs of a `BackupFleet`."""

    # Adding or removing a server updates in place; the order means nothing.
    server_ids: list[int] = field(
        metadata=spec(server_id_list, parse=server_id_list, compare=server_set)
    )
    description: str | None = field(
        default=None, metadata=spec(v.description, replaces=True, compare=v.same_text)
    )
    triggers: Any = field(default=None, metadata=spec(v.triggers, replaces=True))
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)


#: Each member's backup id, status and server name, by server id as a string
#: (Pulumi's map keys are strings).
FLEET_OUTPUTS = ("backup_ids", "statuses", "server_names")
