"""Errors raised by :mod:`pulumi_vpsbackup.client`.

Every error derives from one root, so callers can catch the library as a whole::

    VpsBackupError                      root of everything this package raises
    ├── ConfigurationError              no token, unsafe URL, bad setting
    ├── ApiError                        the API answered with an error status
    │   ├── BadRequestError             400
    │   ├── AuthenticationError         401, token missing or invalid
    │   ├── PermissionDeniedError       403, token lacks a permission
    │   ├── NotFoundError               404
    │   ├── ConflictError               409
    │   ├── RateLimitedError            429 beyond the retry budget
    │   ├── ServerError                 5xx
    │   ├── RedirectError               redirect refused (other origin, too many)
    │   └── UnexpectedResponseError     2xx whose body is not what the API documents
    ├── TransportError                  no answer: connection failed or timed out
    ├── CreateReconciliationError       a create whose outcome could not be established
    └── WaitError                       waiting on long work did not end well
        ├── BackupFailedError           the backup ended in a status other than completed
        │   └── BackupVanishedError     the backup disappeared while we waited
        ├── RestoreFailedError          the server left ``restoring`` but is not active
        └── WaitTimeoutError            the deadline passed first

``str()`` of each error is one line saying what failed and what to do. No error
ever carries the API token: messages are built from method, path, status and
the API's own words only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus
from typing import Any

__all__ = [
    "ApiError",
    "AuthenticationError",
    "BackupFailedError",
    "BackupVanishedError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "CreateReconciliationError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitedError",
    "RedirectError",
    "RestoreFailedError",
    "ServerError",
    "TransportError",
    "UnexpectedResponseError",
    "VpsBackupError",
    "WaitCancelledError",
    "WaitError",
    "WaitTimeoutError",
]


def _rebuild(cls: type[VpsBackupError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    error.args = args
    error.__dict__.update(state)
    return error


class VpsBackupError(Exception):
    """Root of every error raised by this package.

    `handover` is set on a create's error when the create leaves on VPS.org
    something it could not undo (a backup still running when its wait failed,
    a fleet's completed members): its id and outputs, for a caller that
    cannot find it again by its marker to keep in state (the Terraform
    provider, whose resources have no stable key before their first create).
    """

    handover: tuple[str, dict[str, Any]] | None = None
    #: The backup record the steps could not undo, from which the provider makes `handover`.
    left_record: Any = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Subclasses take keyword-rich constructors; rebuild from state instead
        # so errors survive pickling (for example across a process pool).
        return (_rebuild, (type(self), self.args, dict(self.__dict__)))

    def _describe(self) -> str:
        return super().__str__()

    def __str__(self) -> str:
        # Described from the attributes, so the text is right after unpickling too.
        return self._describe()


class ConfigurationError(VpsBackupError):
    """The client cannot be configured safely (missing token, unsafe URL, ...)."""


class ApiError(VpsBackupError):
    """The API answered with an error status.

    Attributes: ``method``, ``path`` (relative to the base URL), ``status_code``,
    ``message`` (the API's words), ``field_errors`` (DRF-style per-field
    messages), ``request_id`` (from ``X-Request-Id``), ``attempts`` (how many
    requests were sent) and ``outcome_unknown`` (True when the request may have
    taken effect although it failed, for example a 502 on a POST).
    """

    default_status = 0
    hint = ""
    #: Set by the transport when this answer came to a retry sent after a failure
    #: whose outcome was unknown (a 404 then may mean "our earlier try worked").
    retried_after_unknown_outcome = False

    def __init__(
        self,
        method: str,
        path: str,
        status_code: int,
        message: str,
        field_errors: Mapping[str, Sequence[str]] | None = None,
        request_id: str | None = None,
        *,
        attempts: int = 1,
        outcome_unknown: bool = False,
    ) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.message = message
        self.field_errors: dict[str, list[str]] = {
            key: list(values) for key, values in (field_errors or {}).items()
        }
        self.request_id = request_id
        self.attempts = attempts
        self.outcome_unknown = outcome_unknown
        super().__init__(self._describe())

    @property
    def reason(self) -> str:
        try:
            return HTTPStatus(self.status_code).phrase
        except ValueError:
            return ""

    def _describe(self) -> str:
        status = f"{self.status_code} {self.reason}".strip()
        text = f"{self.method} {self.path} failed with {status}"
        if self.message:
            text += f": {self.message.rstrip()}"
        hint = self._hint()
        if hint:
            text += f" {hint}" if text.endswith((".", "!", "?")) else f". {hint}"
        if self.request_id:
            text += f" (request id {self.request_id})"
        return text

    def _hint(self) -> str:
        return self.hint


class BadRequestError(ApiError):
    """400: the API rejected the parameters; ``field_errors`` says which."""

    default_status = 400


class AuthenticationError(ApiError):
    """401: the token is missing, invalid or revoked."""

    default_status = 401
    hint = (
        "Check the API token: set it with `pulumi config set --secret vpsbackup:apiToken "
        "<token>` or the VPS_API_TOKEN environment variable."
    )


class PermissionDeniedError(ApiError):
    """403: the token is valid but lacks a permission for this call."""

    default_status = 403

    def __init__(self, *args: Any, permissions: Sequence[str] | None = None, **kwargs: Any):
        self.permissions: tuple[str, ...] | None = (
            tuple(permissions) if permissions is not None else None
        )
        super().__init__(*args, **kwargs)

    def _hint(self) -> str:
        if self.permissions is None:
            return "The token lacks a permission this call needs; create a token that has it."
        granted = ", ".join(self.permissions) or "none"
        return (
            f"The token's permissions are: {granted}; "
            "create a token with the permission this call needs."
        )


class NotFoundError(ApiError):
    """404: the server or backup does not exist (or is not visible to this token)."""

    default_status = 404


class ConflictError(ApiError):
    """409: the resource is busy or in a state that forbids the call."""

    default_status = 409


class RateLimitedError(ApiError):
    """429 after the retry budget.

    ``retry_after`` is what the last answer's ``Retry-After`` asked for (None
    without one); ``waited`` the seconds from the first request to the last
    answer; ``beyond_budget`` is True when retrying stopped because that wait
    would not fit in the budget, False when the attempts ran out.
    """

    default_status = 429

    def __init__(
        self,
        *args: Any,
        retry_after: float | None = None,
        waited: float | None = None,
        beyond_budget: bool = False,
        **kwargs: Any,
    ):
        self.retry_after = retry_after
        self.waited = waited
        self.beyond_budget = beyond_budget
        super().__init__(*args, **kwargs)

    def _hint(self) -> str:
        wait = self.retry_after
        if self.beyond_budget and wait is not None and wait > 0:
            return (
                f"The API asked to wait {_seconds(wait)} (Retry-After), longer than the retry "
                f"budget left; retry in {_seconds(wait)} or raise max_retry_seconds."
            )
        tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
        over = f" over {self.waited:.1f} s" if self.waited is not None else ""
        last = f" (its last Retry-After: {_seconds(wait)})" if wait is not None else ""
        return (
            f"The API kept refusing with 429 Too Many Requests after {tries}{over}{last}; "
            "retry later, or run fewer operations at once (e.g. pulumi up --parallel 2)."
        )


def _seconds(value: float) -> str:
    """`120 s`, `0.5 s`: whole seconds unless that would round a short wait to 0."""
    return f"{value:.0f} s" if value >= 1 or value == 0 else f"{value:.2g} s"


class ServerError(ApiError):
    """5xx: the API failed; often temporary."""

    default_status = 500
    hint = "The VPS.org API failed; retry later."


class RedirectError(ApiError):
    """A redirect was refused: to another origin (the token would leak) or too many."""

    hint = "Check the API URL (vpsbackup:apiUrl or VPS_API_URL)."


class UnexpectedResponseError(ApiError):
    """A success status whose body does not have the documented shape.

    ``outcome_unknown`` is True when it answered a request that may have
    taken effect all the same (a create or a restore behind a gateway that
    answered with its own page): the text says so.
    """

    def _hint(self) -> str:
        if self.outcome_unknown:
            return "The answer cannot be read, so whether the request took effect is unknown."
        return self.hint


class TransportError(VpsBackupError):
    """No usable answer: the connection failed or timed out, after all retries.

    ``origin`` is where the requests went, ``scheme://host:port`` (never a
    path, query or credential), so that a wrong URL, a DNS or TLS failure
    names the host it is about.
    """

    def __init__(
        self,
        method: str,
        path: str,
        attempts: int,
        cause: BaseException | None,
        *,
        outcome_unknown: bool = False,
        origin: str | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.attempts = attempts
        self.cause = cause
        self.cause_type = type(cause).__name__ if cause is not None else ""
        self.cause_text = str(cause).strip() if cause is not None else ""
        self.outcome_unknown = outcome_unknown
        self.origin = origin
        super().__init__(self._describe())

    def __reduce__(self) -> tuple[Any, ...]:
        # The httpx exception holds its request, headers (the token) included:
        # keep only its name and text when the error is pickled.
        state = dict(self.__dict__)
        state["cause"] = None
        return (_rebuild, (type(self), self.args, state))

    def _describe(self) -> str:
        tries = "1 attempt" if self.attempts == 1 else f"{self.attempts} attempts"
        cause = ""
        if self.cause_type:
            detail = self.cause_text
            cause = f": {self.cause_type}" + (f" ({detail})" if detail else "")
        where = f" from {self.origin}" if self.origin else ""
        return (
            f"{self.method} {self.path} got no answer{where} after {tries}{cause}. "
            "Check the network and the API URL (vpsbackup:apiUrl or VPS_API_URL)."
        )


class CreateReconciliationError(VpsBackupError):
    """A create request failed ambiguously and its result could not be established.

    ``candidates`` are backups that carry this create's markers (several: the
    API took more than one attempt); empty when the listing that should have
    told failed too, or when ``unresolved``: every listing worked and none
    showed a backup with one of this create's markers, but the retry budget
    ran out and a request answered ambiguously may still take effect later (a
    gateway can answer 504 before the API acts). ``marker`` is the marker the
    last request sent (see :mod:`.marker`), ``markers`` every marker sent,
    ``resource_key`` the stable part of them, if any.
    """

    #: The request may have taken effect (or still may): always true here.
    outcome_unknown = True

    def __init__(
        self,
        server_id: int,
        candidates: Sequence[int],
        reason: str = "",
        *,
        marker: str | None = None,
        resource_key: str | None = None,
        markers: Sequence[str] = (),
        unresolved: bool = False,
    ) -> None:
        self.server_id = server_id
        self.candidates = list(candidates)
        self.reason = reason
        self.marker = marker
        self.resource_key = resource_key
        self.markers = list(markers) or ([marker] if marker else [])
        self.unresolved = unresolved
        super().__init__(self._describe())

    def _describe(self) -> str:
        extra = f" ({self.reason})" if self.reason else ""
        if self.unresolved and not self.candidates:
            shown = ", ".join(self.markers) or "none"
            if self.resource_key:
                after = (
                    f"the next run finds such a backup by its marker [pvb:{self.resource_key}] "
                    "and settles it instead of making another"
                )
            else:
                after = "look for a backup whose description ends in one of them before retrying"
            return (
                f"Creating a backup of server {self.server_id} failed without a clear answer "
                f"and the outcome is unknown{extra}: no backup carries one of this create's "
                f"markers ({shown}) yet, but the API may still act on a request it has not "
                f"answered; {after}."
            )
        if self.candidates:
            ids = ", ".join(str(i) for i in self.candidates)
            what = (
                f"{len(self.candidates)} backups carry this create's markers ({ids}); "
                "keep one (existing_backup_id) and delete the others"
            )
        elif self.marker:
            what = (
                "the backup may have been created; look for a backup whose description "
                f"ends in {self.marker} before retrying"
            )
        else:
            what = "the result could not be checked; look in the VPS.org panel before retrying"
        return (
            f"Creating a backup of server {self.server_id} failed without a clear answer and "
            f"{what}{extra}."
        )


class WaitError(VpsBackupError):
    """Waiting for long-running work ended without success."""

    def __init__(
        self,
        kind: str,
        resource_id: int,
        last_status: str | None,
        waited: float,
        detail: str = "",
    ) -> None:
        self.kind = kind
        self.resource_id = resource_id
        self.last_status = last_status
        self.waited = waited
        self.detail = detail
        super().__init__(self._describe())

    def _describe(self) -> str:
        text = (
            f"{self.kind} {self.resource_id}: last status {self.last_status or 'unknown'} "
            f"after waiting {self.waited:.1f} s"
        )
        if self.detail:
            text += f": {self.detail}"
        return text

    def what_happened(self) -> str:
        """The outcome alone, without advice: for callers that give their own next step."""
        return self._describe().rstrip(".")


class BackupFailedError(WaitError):
    """The backup ended in a status other than ``completed``."""

    def _describe(self) -> str:
        return (
            f"Backup {self.resource_id} ended with status {self.last_status or 'unknown'} "
            f"after {self.waited:.1f} s" + (f": {self.detail}" if self.detail else "") + "."
        )


class BackupVanishedError(BackupFailedError):
    """The backup disappeared from the listing while we waited for it."""

    def _describe(self) -> str:
        return (
            f"Backup {self.resource_id} disappeared while waiting for it to finish "
            f"(last status {self.last_status or 'unknown'}, waited {self.waited:.1f} s); "
            "it was deleted or failed and was removed."
        )


class RestoreFailedError(WaitError):
    """The server left ``restoring`` in a status other than ``active``."""

    def what_happened(self) -> str:
        text = (
            f"Restore of server {self.resource_id} ended with server status "
            f"{self.last_status or 'unknown'} after {self.waited:.1f} s"
        )
        return text + (f" ({self.detail})" if self.detail else "")

    def _describe(self) -> str:
        return self.what_happened() + "; check the server in the VPS.org panel."


class WaitCancelledError(WaitError):
    """The wait was stopped before the work finished (the Pulumi engine cancelled the
    operation, e.g. at Ctrl-C); the work goes on without being watched.

    `made` is what the cancelled operation had made, for its caller to keep:
    the id and outputs of a created resource (set by the provider layer), or None;
    `next_step` what becomes of it, in the caller's words.
    """

    made: tuple[str, dict[str, Any]] | None = None
    next_step = "The work may still finish on VPS.org's side."

    def what_happened(self) -> str:
        return (
            f"Stopped waiting for {self.kind} {self.resource_id} (still "
            f"{self.last_status or 'unknown'} after {self.waited:.1f} s): the operation "
            "was cancelled"
        )

    def _describe(self) -> str:
        return f"{self.what_happened()}. {self.next_step}"


class WaitTimeoutError(WaitError):
    """The deadline passed before the work finished; the work may still finish later."""

    def what_happened(self) -> str:
        return (
            f"Timed out waiting for {self.kind} {self.resource_id}: still "
            f"{self.last_status or 'unknown'} after {self.waited:.1f} s"
        )

    def _describe(self) -> str:
        return (
            f"{self.what_happened()}. The work may still finish; raise the timeout or "
            "wait for it again to pick it up."
        )
