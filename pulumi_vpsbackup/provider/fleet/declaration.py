"""What a `BackupFleet` is, declared once: its inputs (type, check's validator,
default, whether a change replaces it, what diff compares) and its outputs.
`make generate` derives `BackupFleetArgs` and the class's typed outputs and
constructor (`generated.py`) from it."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any

from ..core.declaration import (
    DEFAULT_TIMEOUT,
    DESCRIPTION,
    TIMEOUT,
    TRIGGERS,
    Declaration,
    NamedInputs,
    Out,
    documented,
    server_id_list,
    server_set,
    spec,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FleetInputs(NamedInputs):
    """The inputs of a `BackupFleet`."""

    # Adding or removing a server updates in place; the order means nothing.
    server_ids: list[int] = field(
        metadata=spec(
            server_id_list,
            parse=server_id_list,
            compare=server_set,
            doc="The servers to back up, one backup each. Adding a server backs up that "
            "server only; removing one deletes its backup only.",
            out_doc="The servers, sorted.",
        )
    )
    description: str | None = field(
        default=None,
        metadata=documented(
            DESCRIPTION,
            "Text stored with each backup (at most 214 characters). Changing it "
            "replaces the fleet: new backups of every server first, then the old ones are "
            "deleted.",
            out_doc="The text stored with each backup.",
        ),
    )
    triggers: Any = field(
        default=None,
        metadata=documented(
            TRIGGERS,
            "Any values (a list or a map); when one changes, every server is backed up "
            "again (a replacement, as for `description`).",
            out_doc="The `triggers` input: values whose change backs up every server again.",
            native_doc="Any list or map of values; when one changes, every server is backed up "
            "again (a replacement, as for `description`).",
        ),
    )
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)


#: Each member's backup id, status and server name, by server id as a string
#: (Pulumi's map keys are strings).
FLEET_OUTPUTS = {
    "backup_ids": Out(
        "dict[str, int]",
        "Each server's backup, by server id (as a string: Pulumi map keys are strings).",
        required=True,
    ),
    "statuses": Out("dict[str, str]", "Each backup's status, by server id.", required=True),
    "server_names": Out("dict[str, str]", "Each server's name, by server id.", required=True),
}

FLEET = Declaration(
    name="BackupFleet",
    inputs=FleetInputs,
    outputs=FLEET_OUTPUTS,
    native_description="One backup of each of many servers, made and waited for in one step. "
    "All backups are started at once and waited for together (within "
    "`customTimeouts.create`, default 60 minutes), so the fleet takes about as long as its "
    "slowest backup. A backup that fails is deleted and the fleet's `up` fails; `pulumi "
    "destroy` deletes every backup. A fleet cannot be imported.",
    opts_doc="Options for the resource; ``custom_timeouts.create`` becomes `timeout`.",
    raises_doc="without `server_ids`, or when the second positional argument is not a "
    "`BackupFleetArgs`.",
)
