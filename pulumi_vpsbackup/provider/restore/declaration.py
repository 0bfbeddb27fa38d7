"""What a `Restore` is, declared once: each input (type, check's validator,
default, whether a change replaces it, its documentation) and each output.
`make generate` derives `RestoreArgs`, the class's typed outputs and
constructor (`generated.py`) and the plugin schema's `Restore` from it."""

from __future__ import annotations

import dataclasses
from dataclasses import field
from typing import Any, ClassVar

from ..core.declaration import (
    ACCOUNT,
    DEFAULT_TIMEOUT,
    ID,
    TIMEOUT,
    TRIGGERS,
    WAIT,
    Declaration,
    Inputs,
    Out,
    documented,
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class RestoreInputs(Inputs):
    """The inputs of a `Restore`."""

    hidden: ClassVar[tuple[str, ...]] = ("account",)

    server_id: int = field(
        metadata=documented(
            ID,
            "The server to restore (its data is overwritten).",
            out_doc="The server that was restored.",
            native_doc="The server to restore: its data is overwritten. Changing it runs the "
            "restore again.",
        )
    )
    backup_id: int = field(
        metadata=documented(
            ID,
            "The backup to restore from; it must belong to the server. Changing it runs "
            "the restore again.",
            out_doc="The backup it was restored from.",
            native_doc="The completed backup to restore from; it must belong to the server. "
            "Changing it runs the restore again.",
        )
    )
    triggers: Any = field(
        default=None,
        metadata=documented(
            TRIGGERS,
            "Any values; when one changes, the restore runs again.",
            out_doc="The `triggers` input: values whose change runs the restore again.",
            native_doc="Any list or map of values; when one changes, the restore runs again.",
        ),
    )
    wait_for_completion: bool = field(
        default=True,
        metadata=documented(
            WAIT,
            "Wait until the server is active again (default True).",
            out_doc="Whether `pulumi up` waits until the server is active again.",
            native_doc="Wait until the restore has finished (default true), bounded by "
            "`customTimeouts.create` (default 60 minutes).",
        ),
    )
    timeout: float = field(default=DEFAULT_TIMEOUT, metadata=TIMEOUT)
    account: dict[str, Any] | None = field(default=None, metadata=ACCOUNT, repr=False)


RESTORE_OUTPUTS = {
    "server_name": Out(
        "str | None",
        "The server's name (``None`` until it has been read).",
        "The restored server's name, once the restore was seen to finish.",
    ),
    "server_status": Out(
        "str",
        'The server\'s status when last read, e.g. ``"active"``.',
        "The server's status as last read (`active`, `restoring`, `stopped`, ...).",
    ),
    "restore_status": Out(
        "str",
        '``"completed"``; ``"started"`` without waiting; ``"timed_out"`` or '
        '``"unconfirmed"`` when its end was not seen; ``"failed"`` once a refresh learns so.',
        "`completed`, `failed`, or `started` / `timed_out` / `unconfirmed` while the end was "
        "not seen (`pulumi refresh` settles it).",
        required=True,
    ),
    "restored_at": Out(
        "str",
        "When the restore was requested, ISO-8601 (for a restore an interrupted `pulumi up` "
        "had sent and this one adopted: when VPS.org started it).",
        "When the restore was requested (ISO-8601, UTC); for a restore an interrupted "
        "`pulumi up` had sent and this one adopted, when VPS.org started it.",
        required=True,
    ),
    "restore_started_at": Out(
        "str | None",
        "When VPS.org started the restore, by VPS.org's clock (its restore record), "
        "ISO-8601; ``None`` when that was not seen.",
        "When VPS.org started the restore, by VPS.org's clock (its restore record; ISO-8601, "
        "UTC), when that was seen. A later replacement never adopts this record as its own "
        "restore.",
    ),
}

RESTORE = Declaration(
    name="Restore",
    inputs=RestoreInputs,
    outputs=RESTORE_OUTPUTS,
    native_description="Restores a server from one of its backups, once per `backupId` (or "
    "`triggers` value). Deleting the resource only forgets the restore; it never touches the "
    "server. Its id is `SERVER:BACKUP:TIME`.",
    opts_doc="Options for the resource; ``custom_timeouts.create`` becomes `timeout`.",
    raises_doc="without `server_id` or `backup_id`, or when the second positional argument "
    "is not a `RestoreArgs`.",
    required_outputs=("wait_for_completion",),
)
