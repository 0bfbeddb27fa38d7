"""Functions that query existing backups from a Pulumi program.

Dynamic providers cannot serve Pulumi invokes, so these run in the program's
own process and call the API directly, with the stack's settings or an
`account=`; each has a plain form and an `_output` form. Rules to keep: an
`_output` result is never secret for the token's sake (it never holds the
token), and what a query raises goes through `shown`, so Pulumi prints it as
one message. Parameters and results: docs/resources.md, Functions.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pulumi

from ...client import BackupRecord, VpsBackupError, VpsClient
from ...client.echo import echo
from ...client.history import History
from ...client.marker import strip_marker
from ...client.waiting import Waiter
from ..core import validation as v
from ..core.account import Account
from ..core.config import program_config, settings_for
from .results import BackupInfo, GetBackupsResult
from .shown import shown_errors

_FILTERS = """:param int server_id: only this server's backups.
    :param str backup_type: only ``"manual"`` or only ``"automatic"`` backups.
    :param str status: only backups with this status{status}.
    :param str description: only backups with exactly this description.
    :param str description_regex: only backups whose description this regular
        expression matches (`re.search`)."""
_PLAIN = """:param Account account: {account}
        (plain URL and token; with a secret token use the `_output` form).
    :param pulumi.InvokeOptions opts: accepted for compatibility with Pulumi's
        own functions; it has no effect, since the call is made from the
        program's process (there is no provider plugin to pick or version)."""
_OUTPUT = """:param Account account: {account}.
    :param pulumi.InvokeOutputOptions opts: its ``depends_on`` is honoured: the
        query runs only once those resources have been created or updated (and,
        in a preview, not at all while one of them is still to be made); the
        other options are accepted for compatibility and have no effect."""

_F = TypeVar("_F", bound=Callable[..., Any])


def _documented(status: str = ', e.g. ``"completed"``', account: str = "") -> Callable[[_F], _F]:
    """Fill the parameter text the query functions share into a docstring."""
    account = account or "query this `Account` instead of the stack's settings"

    def fill(function: _F) -> _F:
        function.__doc__ = (function.__doc__ or "").format(
            filters=_FILTERS.format(status=status),
            plain=_PLAIN.format(account=account),
            output=_OUTPUT.format(account=account),
        )
        return function

    return fill


def _client(account: Account | None = None, caller: str = "get_backups") -> VpsClient:
    """A client of `account`, else of the stack's settings (the provider host's path)."""
    if account is not None and not isinstance(account, Account):
        raise TypeError(f"{caller}: account must be a vps.Account, not {type(account).__name__}")
    credentials = account.credentials(caller) if account is not None else None
    return VpsClient(settings_for(program_config(), credentials), history=History.shared())


_T = Any


def _on_account(account: Any, run: Callable[[Account | None], _T], query: str) -> pulumi.Output[_T]:
    """`run(account)` once the account's URL and token are known, in this process.

    The token's secretness is dropped from the result, which never holds it;
    the secretness of any other argument is kept by the caller's `apply`.
    Our errors, raised inside that `apply` too, are shown as `query`'s.
    """
    if account is None:
        return pulumi.Output.from_input(run(None))
    if not isinstance(account, Account):
        raise TypeError(f"account must be a vps.Account, not {type(account).__name__}")

    @shown_errors(query)
    def with_parts(parts: tuple[str, str]) -> _T:
        return run(Account(api_url=parts[0], api_token=parts[1]))

    return pulumi.Output.unsecret(account.resolved().apply(with_parts))


@shown_errors("get_backups")
@_documented()
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

    {filters}
    {plain}
    :returns: a `GetBackupsResult` (``.backups``, ``.ids``).
    :raises VpsBackupError: e.g. `ConfigurationError` without a token, or the
        API's error.
    """
    _check_opts(opts, pulumi.InvokeOptions)
    v.backup_filters(server_id, backup_type, status, description, description_regex)
    with _client(account, "get_backups") as client:
        return backups_of(client, server_id, backup_type, status, description, description_regex)


@shown_errors("get_backups")
def backups_of(
    client: VpsClient,
    server_id: int | None = None,
    backup_type: str | None = None,
    status: str | None = None,
    description: str | None = None,
    description_regex: str | None = None,
) -> GetBackupsResult:
    """`get_backups` on a client the caller holds (the native plugin's configured one)."""
    sid, btype, pattern = v.backup_filters(
        server_id, backup_type, status, description, description_regex
    )
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


def _newest_first_key(backup: BackupRecord) -> tuple[float, int]:
    stamp = backup.created_at.timestamp() if backup.created_at is not None else 0.0
    return (-stamp, -backup.id)


@shown_errors("get_latest_backup")
@_documented(status=', default ``"completed"``; ``None`` for any')
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

    {filters}
    {plain}
    :returns: the newest matching `BackupInfo`.
    :raises VpsBackupError: naming the filters when nothing matches.
    """
    _check_opts(opts, pulumi.InvokeOptions)
    if account is not None and not isinstance(account, Account):
        raise TypeError(f"get_latest_backup: account must be a vps.Account, not {echo(account)}")
    if account is not None:
        account.credentials("get_latest_backup")
    v.backup_filters(server_id, backup_type, status, description, description_regex)
    with _client(account, "get_latest_backup") as client:
        return latest_backup_of(
            client, server_id, backup_type, status, description, description_regex
        )


@shown_errors("get_latest_backup")
def latest_backup_of(
    client: VpsClient,
    server_id: int | None = None,
    backup_type: str | None = None,
    status: str | None = "completed",
    description: str | None = None,
    description_regex: str | None = None,
) -> BackupInfo:
    """`get_latest_backup` on a client the caller holds."""
    found = backups_of(client, server_id, backup_type, status, description, description_regex)
    if not found.backups:
        filters = {
            "server_id": server_id,
            "backup_type": backup_type,
            "status": status,
            "description": description,
            "description_regex": description_regex,
        }
        shown = ", ".join(f"{k}={echo(val)}" for k, val in filters.items() if val is not None)
        raise VpsBackupError(  # the query's name comes first (shown_errors)
            f"no backup matches {shown or 'the (empty) filters'}; "
            "list what exists with get_backups()"
        )
    return found.backups[0]


@shown_errors("get_backups_output")
@_documented()
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

    {filters}
    {output}
    :returns: an Output of a `GetBackupsResult`.
    """
    filters = (server_id, backup_type, status, description, description_regex)
    return _when_known("get_backups_output", get_backups, account, opts, *filters)


@shown_errors("get_latest_backup_output")
@_documented(status=', default ``"completed"``; ``None`` for any')
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

    {filters}
    {output}
    :returns: an Output of the newest matching `BackupInfo`.
    """
    filters = (server_id, backup_type, status, description, description_regex)
    return _when_known("get_latest_backup_output", get_latest_backup, account, opts, *filters)


@shown_errors("wait_for_backups")
def wait_for_backups(
    backup_ids: Sequence[int],
    timeout: float | str = "60m",
    account: Account | None = None,
    opts: pulumi.InvokeOptions | None = None,
) -> list[BackupInfo]:
    """Wait, in the program, until every backup in `backup_ids` has completed.

    Pulumi runs as many resource operations at a time as ``--parallel`` allows
    (by default four per CPU), so sixteen `Backup` resources that each wait for
    completion take about 16 / parallel backup durations. Created with
    ``wait_for_completion=False`` they start at once; this function then waits
    for all of them together, with one listing per poll however many there are
    (of the account; of their server once they are known to share one). Make
    the risky change depend on its Output (`wait_for_backups_output`). A
    backup is called vanished only when two listings in a row miss it.

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
    ids, seconds = _wait_arguments(backup_ids, timeout)
    if account is not None:
        _client(account, "wait_for_backups").close()  # an unusable account fails first
    if not ids:
        return []
    with _client(account, "wait_for_backups") as client:
        return backups_completed(client, ids, seconds)


def _wait_arguments(backup_ids: Any, timeout: Any) -> tuple[list[int], float]:
    if not isinstance(backup_ids, (list, tuple)):
        raise v.FieldError(
            "backup_ids", f"must be a list of backup ids, got {type(backup_ids).__name__}"
        )
    ids = [v.positive_id("backup_ids", i) for i in backup_ids]
    return ids, v.duration_seconds("timeout", timeout)


@shown_errors("wait_for_backups")
def backups_completed(
    client: VpsClient, backup_ids: Sequence[int], timeout: float | str = "60m"
) -> list[BackupInfo]:
    """`wait_for_backups` on a client the caller holds: its sleep, clock and
    cancellation (`Timing`) are the wait's."""
    ids, seconds = _wait_arguments(backup_ids, timeout)
    if not ids:
        return []
    waiter = Waiter(client, client.settings.poll, client.timing, str, client.history)
    waited = waiter.many(ids, timeout=seconds, fail_fast=True)
    return [BackupInfo.from_backup(waited.completed[i]) for i in ids]


@shown_errors("wait_for_backups_output")
@_documented(account="look for the backups in this `Account`")
def wait_for_backups_output(
    backup_ids: pulumi.Input[Sequence[pulumi.Input[int]]],
    timeout: pulumi.Input[float | str] = "60m",
    account: Account | None = None,
    opts: pulumi.InvokeOptions | pulumi.InvokeOutputOptions | None = None,
) -> pulumi.Output[list[BackupInfo]]:
    """`wait_for_backups` for Inputs, e.g. ``[b.backup_id for b in backups]``.

    :param backup_ids: the backups to wait for (Inputs of ids).
    :param timeout: how long to wait in all (default ``"60m"``).
    {output}
    :returns: an Output of a `BackupInfo` per id, all completed; pass it (or a
        value derived from it) as an input of the change that needs them.
    """
    return _when_known(
        "wait_for_backups_output",
        lambda *a, **k: wait_for_backups(*a, **k),
        account,
        opts,
        backup_ids,
        timeout,
    )


def _when_known(
    query: str, run: Callable[..., _T], account: Any, opts: Any, *inputs: Any
) -> pulumi.Output[_T]:
    """The `_output` form `query` of a query: `run(*inputs, account=...)` once every
    input is known and the resources in ``opts.depends_on`` are done.

    It runs inside an `apply`, so its errors reach the program when the
    Output is awaited, shown as `query`'s (`shown_errors`) like the plain form's.
    """
    _check_opts(opts, pulumi.InvokeOptions)  # InvokeOutputOptions is one

    @shown_errors(query)
    def when_known(known: list[Any]) -> pulumi.Output[_T]:
        return _on_account(account, lambda acct: run(*known[1:], account=acct), query)

    return pulumi.Output.all(_dependencies_ready(opts), *inputs).apply(when_known)


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
    "get_backups",
    "get_backups_output",
    "get_latest_backup",
    "get_latest_backup_output",
    "wait_for_backups",
    "wait_for_backups_output",
]
