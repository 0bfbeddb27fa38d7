"""Functions that query existing backups from a Pulumi program.

Dynamic providers cannot serve Pulumi invokes, so these run in the program's
own process: they read `vpsbackup:apiToken` / `vpsbackup:apiUrl` from the
stack configuration (or `VPS_API_TOKEN` / `VPS_API_URL`) and call the API
directly. They run during `pulumi preview` too, as a read should.

Each comes in two forms, as in Pulumi's own packages: `get_backups(...)` takes
and returns plain values; `get_backups_output(...)` takes Inputs and returns an
Output.

Each takes `account=` (a `vps.Account`) to query another account than the
stack's. The plain forms need its URL and token as plain text; the `_output`
forms resolve a secret token here, in the program, and return an Output that is
not secret for the token's sake (the result never holds the token).
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi.runtime

from ..client import (
    Backup,
    BackupFailedError,
    BackupVanishedError,
    VpsBackupError,
    VpsClient,
    WaitTimeoutError,
    resolve_settings,
)
from ..client.marker import strip_marker
from ..client.polling import poll_until
from . import validation as v
from .account import Account

BACKUP_TYPES = ("manual", "automatic")


def _iso(value: Any) -> str | None:
    return None if value is None else str(value.isoformat()).replace("+00:00", "Z")


# Both result classes are Pulumi "input types": the SDK keeps such an object
# whole through `apply` (a dict would come back as a plain dict) and turns it
# into a map for `pulumi.export`.
@pulumi.input_type
class BackupInfo:
    """One backup as a query returns it: plain values, ISO-8601 timestamps."""

    def __init__(
        self,
        *,
        id: int,
        server_id: int,
        server_name: str | None = None,
        backup_type: str,
        status: str,
        size_mb: int | None = None,
        created_at: str | None = None,
        expires_at: str | None = None,
        description: str | None = None,
    ) -> None:
        pulumi.set(self, "id", id)
        pulumi.set(self, "server_id", server_id)
        pulumi.set(self, "server_name", server_name)
        pulumi.set(self, "backup_type", backup_type)
        pulumi.set(self, "status", status)
        pulumi.set(self, "size_mb", size_mb)
        pulumi.set(self, "created_at", created_at)
        pulumi.set(self, "expires_at", expires_at)
        pulumi.set(self, "description", description)

    @classmethod
    def from_backup(cls, backup: Backup) -> BackupInfo:
        return cls(
            id=backup.id,
            server_id=backup.server_id,
            server_name=backup.server_name,
            backup_type=backup.backup_type,
            status=backup.status,
            size_mb=backup.size_mb,
            created_at=_iso(backup.created_at),
            expires_at=_iso(backup.expires_at),
            description=strip_marker(backup.description),
        )

    @property
    @pulumi.getter
    def id(self) -> int:
        return int(pulumi.get(self, "id"))

    @property
    @pulumi.getter(name="server_id")
    def server_id(self) -> int:
        return int(pulumi.get(self, "server_id"))

    @property
    @pulumi.getter(name="server_name")
    def server_name(self) -> str | None:
        return pulumi.get(self, "server_name")

    @property
    @pulumi.getter(name="backup_type")
    def backup_type(self) -> str:
        return str(pulumi.get(self, "backup_type"))

    @property
    @pulumi.getter
    def status(self) -> str:
        return str(pulumi.get(self, "status"))

    @property
    @pulumi.getter(name="size_mb")
    def size_mb(self) -> int | None:
        return pulumi.get(self, "size_mb")

    @property
    @pulumi.getter(name="created_at")
    def created_at(self) -> str | None:
        return pulumi.get(self, "created_at")

    @property
    @pulumi.getter(name="expires_at")
    def expires_at(self) -> str | None:
        return pulumi.get(self, "expires_at")

    @property
    @pulumi.getter
    def description(self) -> str | None:
        return pulumi.get(self, "description")

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BackupInfo) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"BackupInfo({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


@pulumi.input_type
class GetBackupsResult:
    """What `get_backups` found, newest first: ``result.backups``, ``result.ids``."""

    def __init__(self, *, backups: list[BackupInfo]) -> None:
        pulumi.set(self, "backups", list(backups))

    @property
    @pulumi.getter
    def backups(self) -> list[BackupInfo]:
        return list(pulumi.get(self, "backups"))

    @property
    def ids(self) -> list[int]:
        return [b.id for b in self.backups]


def _stack_setting(key: str) -> str | None:
    value = pulumi.runtime.get_config(f"vpsbackup:{key}")
    return str(value) if value not in (None, "") else None


def _client(account: Account | None = None, caller: str = "get_backups") -> VpsClient:
    if account is not None:
        if not isinstance(account, Account):
            raise TypeError(
                f"{caller}: account must be a vps.Account, not {type(account).__name__}"
            )
        url, token = account.plain(caller)
        return VpsClient(resolve_settings(token=token, base_url=url, environ={}))
    config = {
        f"vpsbackup:{key}": value
        for key in ("apiToken", "apiUrl")
        if (value := _stack_setting(key)) is not None
    }
    return VpsClient(resolve_settings(config=config, environ=os.environ))


_T = Any


def _on_account(account: Any, run: Callable[[Account | None], _T]) -> pulumi.Output[_T]:
    """`run(account)` once the account's URL and token are known, in this process.

    The token's secretness is dropped from the result, which never holds it;
    the secretness of any other argument is kept by the caller's `apply`.
    """
    if account is None:
        return pulumi.Output.from_input(run(None))
    if not isinstance(account, Account):
        raise TypeError(f"account must be a vps.Account, not {type(account).__name__}")
    result = account.resolved().apply(
        lambda parts: run(Account(api_url=parts[0], api_token=parts[1]))
    )
    return pulumi.Output.unsecret(result)


def _validate_filters(
    server_id: Any, backup_type: Any, status: Any, description: Any, description_regex: Any
) -> tuple[int | None, str | None, re.Pattern[str] | None]:
    sid = v.positive_id("server_id", server_id) if server_id is not None else None
    if backup_type is not None and backup_type not in BACKUP_TYPES:
        raise v.FieldError(
            "backup_type", f"must be one of {', '.join(BACKUP_TYPES)}, got {backup_type!r}"
        )
    if status is not None and not isinstance(status, str):
        raise v.FieldError("status", f"must be a string such as 'completed', got {status!r}")
    if description is not None and not isinstance(description, str):
        raise v.FieldError("description", f"must be a string, got {description!r}")
    pattern = None
    if description_regex is not None:
        try:
            pattern = re.compile(str(description_regex))
        except re.error as exc:
            raise v.FieldError(
                "description_regex", f"is not a valid regular expression ({exc})"
            ) from exc
    return sid, backup_type, pattern


def get_backups(
    server_id: int | None = None,
    backup_type: str | None = None,
    status: str | None = None,
    description: str | None = None,
    description_regex: str | None = None,
    account: Account | None = None,
) -> GetBackupsResult:
    """Backups visible to the token, newest first, filtered.

    :param server_id: only this server's backups.
    :param backup_type: ``"manual"`` or ``"automatic"``.
    :param status: e.g. ``"completed"``.
    :param description: exact description.
    :param description_regex: a regular expression searched in the description.
    :param account: query this `Account` (plain URL and token) instead of the
        stack's settings; with a secret token use `get_backups_output`.
    """
    sid, btype, pattern = _validate_filters(
        server_id, backup_type, status, description, description_regex
    )
    with _client(account, "get_backups") as client:
        backups = client.list_backups(server_id=sid, backup_type=btype)
    selected = [
        b
        for b in backups
        if (status is None or b.status == status)
        and (description is None or strip_marker(b.description) == description)
        and (pattern is None or pattern.search(strip_marker(b.description) or "") is not None)
    ]
    selected.sort(key=_newest_first_key)
    return GetBackupsResult(backups=[BackupInfo.from_backup(b) for b in selected])


def _newest_first_key(backup: Backup) -> tuple[float, int]:
    stamp = backup.created_at.timestamp() if backup.created_at is not None else 0.0
    return (-stamp, -backup.id)


def get_latest_backup(
    server_id: int | None = None,
    backup_type: str | None = None,
    status: str | None = "completed",
    description: str | None = None,
    description_regex: str | None = None,
    account: Account | None = None,
) -> BackupInfo:
    """The newest backup matching the filters (completed ones by default).

    Raises a `VpsBackupError` naming the filters when nothing matches.
    """
    if account is not None and not isinstance(account, Account):
        raise TypeError(f"get_latest_backup: account must be a vps.Account, not {account!r}")
    if account is not None:
        account.plain("get_latest_backup")
    found = get_backups(
        server_id, backup_type, status, description, description_regex, account=account
    )
    if not found.backups:
        filters = {
            "server_id": server_id,
            "backup_type": backup_type,
            "status": status,
            "description": description,
            "description_regex": description_regex,
        }
        shown = ", ".join(f"{k}={val!r}" for k, val in filters.items() if val is not None)
        raise VpsBackupError(
            f"get_latest_backup: no backup matches {shown or 'the (empty) filters'}; "
            "list what exists with get_backups()"
        )
    return found.backups[0]


def get_backups_output(
    server_id: pulumi.Input[int | None] = None,
    backup_type: pulumi.Input[str | None] = None,
    status: pulumi.Input[str | None] = None,
    description: pulumi.Input[str | None] = None,
    description_regex: pulumi.Input[str | None] = None,
    account: Account | None = None,
) -> pulumi.Output[GetBackupsResult]:
    """`get_backups` for Inputs: runs once every argument is known."""
    return pulumi.Output.all(server_id, backup_type, status, description, description_regex).apply(
        lambda args: _on_account(
            account, lambda acct: get_backups(args[0], args[1], args[2], args[3], args[4], acct)
        )
    )


def get_latest_backup_output(
    server_id: pulumi.Input[int | None] = None,
    backup_type: pulumi.Input[str | None] = None,
    status: pulumi.Input[str | None] = "completed",
    description: pulumi.Input[str | None] = None,
    description_regex: pulumi.Input[str | None] = None,
    account: Account | None = None,
) -> pulumi.Output[BackupInfo]:
    """`get_latest_backup` for Inputs: runs once every argument is known."""
    return pulumi.Output.all(server_id, backup_type, status, description, description_regex).apply(
        lambda args: _on_account(
            account,
            lambda acct: get_latest_backup(args[0], args[1], args[2], args[3], args[4], acct),
        )
    )


def wait_for_backups(
    backup_ids: Sequence[int], timeout: float | str = "60m", account: Account | None = None
) -> list[BackupInfo]:
    """Wait, in the program, until every backup in `backup_ids` has completed.

    Pulumi's provider host runs at most four resource operations at a time, so
    sixteen `Backup` resources that each wait for completion take about four
    backup durations. Created with ``wait_for_completion=False`` they start at
    once; this function then waits for all of them together, with one account
    listing per poll however many there are. Make the risky change depend on
    its Output (`wait_for_backups_output`).

    Raises `BackupFailedError` naming a backup that failed or vanished, and
    `WaitTimeoutError` naming one still running at the deadline. With
    `account`, the backups are looked for in that account.
    """
    if not isinstance(backup_ids, (list, tuple)):
        raise v.FieldError(
            "backup_ids", f"must be a list of backup ids, got {type(backup_ids).__name__}"
        )
    ids = [v.positive_id("backup_ids", i) for i in backup_ids]
    seconds = v.duration_seconds("timeout", timeout)
    if account is not None:
        _client(account, "wait_for_backups").close()  # an unusable account fails first
    if not ids:
        return []
    with _client(account, "wait_for_backups") as client:
        latest: dict[int, Backup] = {}

        def check(elapsed: float) -> tuple[bool, list[Backup]]:
            listing = {b.id: b for b in client.list_backups()}
            for backup_id in ids:
                backup = listing.get(backup_id)
                if backup is None:
                    last = latest.get(backup_id)
                    raise BackupVanishedError(
                        "backup", backup_id, last.status if last else None, elapsed
                    )
                latest[backup_id] = backup
                if not backup.is_in_progress and backup.status != "completed":
                    raise BackupFailedError(
                        "backup", backup_id, backup.status, elapsed, backup.message or ""
                    )
            running = [latest[i] for i in ids if latest[i].is_in_progress]
            return not running, running or [latest[i] for i in ids]

        def timed_out(running: list[Backup], waited: float) -> BaseException:
            first = running[0]
            return WaitTimeoutError("backup", first.id, first.status, waited)

        poll_until(
            check,
            timeout=seconds,
            policy=client.settings.poll,
            sleep=time.sleep,
            clock=time.monotonic,
            rng=None,
            on_timeout=timed_out,
        )
    return [BackupInfo.from_backup(latest[i]) for i in ids]


def wait_for_backups_output(
    backup_ids: pulumi.Input[Sequence[pulumi.Input[int]]],
    timeout: pulumi.Input[float | str] = "60m",
    account: Account | None = None,
) -> pulumi.Output[list[BackupInfo]]:
    """`wait_for_backups` for Inputs, e.g. ``[b.backup_id for b in backups]``."""
    return pulumi.Output.all(pulumi.Output.from_input(backup_ids), timeout).apply(
        lambda args: _on_account(account, lambda acct: wait_for_backups(args[0], args[1], acct))
    )


__all__ = [
    "Account",
    "BackupInfo",
    "GetBackupsResult",
    "VpsBackupError",
    "get_backups",
    "get_backups_output",
    "get_latest_backup",
    "get_latest_backup_output",
    "wait_for_backups",
    "wait_for_backups_output",
]
