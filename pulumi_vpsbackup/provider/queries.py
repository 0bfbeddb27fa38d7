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
    """One backup as a query returns it: plain values, ISO-8601 timestamps.

    Pass it (or a list of them) to `pulumi.export` as it is.

    :param int id: the backup's id.
    :param int server_id: the server it belongs to.
    :param str server_name: that server's name.
    :param str backup_type: ``"manual"`` or ``"automatic"``.
    :param str status: ``"in_progress"``, ``"completed"``, ``"failed"`` or
        whatever new status the API reports.
    :param int size_mb: its size, once known.
    :param str created_at: when it was started (ISO-8601).
    :param str expires_at: when VPS.org deletes it (ISO-8601; ``None`` for
        manual backups, which never expire).
    :param str description: the text stored with it.
    """

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
        """The query result for a backup the API client returned.

        :param Backup backup: a `pulumi_vpsbackup.client.Backup`.
        """
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
        """The backup's id."""
        return int(pulumi.get(self, "id"))

    @property
    @pulumi.getter(name="server_id")
    def server_id(self) -> int:
        """The id of the server the backup belongs to."""
        return int(pulumi.get(self, "server_id"))

    @property
    @pulumi.getter(name="server_name")
    def server_name(self) -> str | None:
        """The name of that server."""
        return pulumi.get(self, "server_name")

    @property
    @pulumi.getter(name="backup_type")
    def backup_type(self) -> str:
        """``"manual"`` or ``"automatic"``."""
        return str(pulumi.get(self, "backup_type"))

    @property
    @pulumi.getter
    def status(self) -> str:
        """``"in_progress"``, ``"completed"``, ``"failed"``, or a new status the API reports."""
        return str(pulumi.get(self, "status"))

    @property
    @pulumi.getter(name="size_mb")
    def size_mb(self) -> int | None:
        """The backup's size in MB, once known."""
        return pulumi.get(self, "size_mb")

    @property
    @pulumi.getter(name="created_at")
    def created_at(self) -> str | None:
        """When the backup was started, ISO-8601 (``...Z``)."""
        return pulumi.get(self, "created_at")

    @property
    @pulumi.getter(name="expires_at")
    def expires_at(self) -> str | None:
        """When VPS.org deletes the backup, ISO-8601; ``None`` for manual backups."""
        return pulumi.get(self, "expires_at")

    @property
    @pulumi.getter
    def description(self) -> str | None:
        """The text stored with the backup, or ``None``."""
        return pulumi.get(self, "description")

    def to_dict(self) -> dict[str, Any]:
        """The backup as a plain dict (field name to value)."""
        return dict(vars(self))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BackupInfo) and vars(self) == vars(other)

    def __hash__(self) -> int:
        return hash(self.id)

    def __repr__(self) -> str:
        return f"BackupInfo({', '.join(f'{k}={v!r}' for k, v in vars(self).items())})"


@pulumi.input_type
class GetBackupsResult:
    """What `get_backups` found, newest first: ``result.backups``, ``result.ids``.

    :param list[BackupInfo] backups: the matching backups, newest first.
    """

    def __init__(self, *, backups: list[BackupInfo]) -> None:
        pulumi.set(self, "backups", list(backups))

    @property
    @pulumi.getter
    def backups(self) -> list[BackupInfo]:
        """The matching backups, newest first."""
        return list(pulumi.get(self, "backups"))

    @property
    def ids(self) -> list[int]:
        """The ids of `backups`, in the same order."""
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
    opts: pulumi.InvokeOptions | None = None,
) -> GetBackupsResult:
    """Backups visible to the token, newest first, filtered.

    :param int server_id: only this server's backups.
    :param str backup_type: only ``"manual"`` or only ``"automatic"`` backups.
    :param str status: only backups with this status, e.g. ``"completed"``.
    :param str description: only backups with exactly this description.
    :param str description_regex: only backups whose description this regular
        expression matches (`re.search`).
    :param Account account: query this `Account` instead of the stack's
        settings (plain URL and token; with a secret token use the `_output` form).
    :param pulumi.InvokeOptions opts: accepted for compatibility with Pulumi's
        own functions; it has no effect, since the call is made from the
        program's process (there is no provider plugin to pick or version).
    :returns: a `GetBackupsResult` (``.backups``, ``.ids``).
    :raises VpsBackupError: e.g. `ConfigurationError` without a token, or the
        API's error.
    """
    _check_opts(opts, pulumi.InvokeOptions)
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
    opts: pulumi.InvokeOptions | None = None,
) -> BackupInfo:
    """The newest backup matching the filters (completed ones by default).

    :param int server_id: only this server's backups.
    :param str backup_type: only ``"manual"`` or only ``"automatic"`` backups.
    :param str status: only backups with this status, default ``"completed"``; ``None`` for any.
    :param str description: only backups with exactly this description.
    :param str description_regex: only backups whose description this regular
        expression matches (`re.search`).
    :param Account account: query this `Account` instead of the stack's
        settings (plain URL and token; with a secret token use the `_output` form).
    :param pulumi.InvokeOptions opts: accepted for compatibility with Pulumi's
        own functions; it has no effect, since the call is made from the
        program's process (there is no provider plugin to pick or version).
    :returns: the newest matching `BackupInfo`.
    :raises VpsBackupError: naming the filters when nothing matches.
    """
    _check_opts(opts, pulumi.InvokeOptions)
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
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[GetBackupsResult]:
    """`get_backups` for Inputs: runs once every argument is known.

    :param int server_id: only this server's backups.
    :param str backup_type: only ``"manual"`` or only ``"automatic"`` backups.
    :param str status: only backups with this status, e.g. ``"completed"``.
    :param str description: only backups with exactly this description.
    :param str description_regex: only backups whose description this regular
        expression matches (`re.search`).
    :param Account account: query this `Account` instead of the stack's settings.
    :param pulumi.InvokeOutputOptions opts: its ``depends_on`` is honoured: the
        query runs only once those resources have been created or updated (and,
        in a preview, not at all while one of them is still to be made); the
        other options are accepted for compatibility and have no effect.
    :returns: an Output of a `GetBackupsResult`.
    """
    _check_opts(opts, pulumi.InvokeOptions)  # InvokeOutputOptions is one
    return pulumi.Output.all(
        _dependencies_ready(opts), server_id, backup_type, status, description, description_regex
    ).apply(
        lambda args: _on_account(
            account,
            lambda acct: get_backups(args[1], args[2], args[3], args[4], args[5], account=acct),
        )
    )


def get_latest_backup_output(
    server_id: pulumi.Input[int | None] = None,
    backup_type: pulumi.Input[str | None] = None,
    status: pulumi.Input[str | None] = "completed",
    description: pulumi.Input[str | None] = None,
    description_regex: pulumi.Input[str | None] = None,
    account: Account | None = None,
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[BackupInfo]:
    """`get_latest_backup` for Inputs: runs once every argument is known.

    :param int server_id: only this server's backups.
    :param str backup_type: only ``"manual"`` or only ``"automatic"`` backups.
    :param str status: only backups with this status, default ``"completed"``; ``None`` for any.
    :param str description: only backups with exactly this description.
    :param str description_regex: only backups whose description this regular
        expression matches (`re.search`).
    :param Account account: query this `Account` instead of the stack's settings.
    :param pulumi.InvokeOutputOptions opts: its ``depends_on`` is honoured: the
        query runs only once those resources have been created or updated (and,
        in a preview, not at all while one of them is still to be made); the
        other options are accepted for compatibility and have no effect.
    :returns: an Output of the newest matching `BackupInfo`.
    """
    _check_opts(opts, pulumi.InvokeOptions)  # InvokeOutputOptions is one
    return pulumi.Output.all(
        _dependencies_ready(opts), server_id, backup_type, status, description, description_regex
    ).apply(
        lambda args: _on_account(
            account,
            lambda acct: get_latest_backup(
                args[1], args[2], args[3], args[4], args[5], account=acct
            ),
        )
    )


def wait_for_backups(
    backup_ids: Sequence[int],
    timeout: float | str = "60m",
    account: Account | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> list[BackupInfo]:
    """Wait, in the program, until every backup in `backup_ids` has completed.

    Pulumi's provider host runs at most four resource operations at a time, so
    sixteen `Backup` resources that each wait for completion take about four
    backup durations. Created with ``wait_for_completion=False`` they start at
    once; this function then waits for all of them together, with one account
    listing per poll however many there are. Make the risky change depend on
    its Output (`wait_for_backups_output`).

    :param list[int] backup_ids: the backups to wait for.
    :param timeout: how long to wait in all, as seconds or text such as
        ``"45m"`` or ``"1h30m"`` (default ``"60m"``).
    :param Account account: look for the backups in this `Account` (plain token).
    :param pulumi.InvokeOptions opts: accepted for compatibility with Pulumi's
        own functions; it has no effect, since the call is made from the
        program's process (there is no provider plugin to pick or version).
    :returns: a `BackupInfo` per id, in the order given, all completed.
    :raises BackupFailedError: naming a backup that failed or vanished.
    :raises WaitTimeoutError: naming one still running at the deadline.
    """
    _check_opts(opts, pulumi.InvokeOptions)
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
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[list[BackupInfo]]:
    """`wait_for_backups` for Inputs, e.g. ``[b.backup_id for b in backups]``.

    :param backup_ids: the backups to wait for (Inputs of ids).
    :param timeout: how long to wait in all (default ``"60m"``).
    :param Account account: query this `Account` instead of the stack's settings.
    :param pulumi.InvokeOutputOptions opts: its ``depends_on`` is honoured: the
        query runs only once those resources have been created or updated (and,
        in a preview, not at all while one of them is still to be made); the
        other options are accepted for compatibility and have no effect.
    :returns: an Output of a `BackupInfo` per id, all completed; pass it (or a
        value derived from it) as an input of the change that needs them.
    """
    _check_opts(opts, pulumi.InvokeOptions)  # InvokeOutputOptions is one
    return pulumi.Output.all(
        _dependencies_ready(opts), pulumi.Output.from_input(backup_ids), timeout
    ).apply(
        lambda args: _on_account(
            account, lambda acct: wait_for_backups(args[1], args[2], account=acct)
        )
    )


def _check_opts(opts: object, expected: type) -> None:
    """A wrong type for `opts` (e.g. `ResourceOptions`) fails at once, by name."""
    if opts is not None and not isinstance(opts, expected):
        raise TypeError(
            f"opts must be a pulumi.{expected.__name__} or None, got {type(opts).__name__}"
        )


def _dependencies_ready(opts: pulumi.InvokeOptions | None) -> pulumi.Output[None]:
    """An Output that resolves once every resource in ``opts.depends_on`` is done.

    A custom resource is done when its id is known (after its create or
    update); a component when its URN is. In a preview the id of a resource
    still to be created is unknown, so a query that depends on it waits, as
    Pulumi's own output invokes do.
    """
    depends_on = getattr(opts, "depends_on", None) if opts is not None else None
    if depends_on is None:
        return pulumi.Output.from_input(None)

    def all_done(resources: Any) -> pulumi.Output[None]:
        items = resources if isinstance(resources, (list, tuple)) else [resources]
        done = [r.id if isinstance(r, pulumi.CustomResource) else r.urn for r in items]
        return pulumi.Output.all(*done).apply(lambda _: None)

    return pulumi.Output.from_input(depends_on).apply(all_done)


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
