"""Tunable behaviour of the fake: the choices the VPS.org documents leave open.

Everything here can be set through the ``FakeVps`` constructor, the CLI and
``POST /__fake/behaviour``. Validation lives in ``__post_init__`` so a bad value
is refused where it is given instead of surfacing later as odd behaviour.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Behaviour", "CompletionMode", "DeleteInProgress"]

CompletionMode = Literal["time", "immediate", "reads"]
DeleteInProgress = Literal["reject", "allow"]


@dataclass(frozen=True)
class Behaviour:
    """How the fake answers where the real API is undocumented or slow."""

    completion: CompletionMode = "time"
    """When an ``in_progress`` backup finishes: after ``backup_seconds`` of fake
    time, on the first access after creation, or after ``completion_reads``
    list reads that returned it still running."""
    backup_seconds: float = 5.0
    completion_reads: int = 1
    failure_rate: float = 0.0
    """Share of new manual backups that end ``failed`` (decided at creation)."""
    restore_seconds: float = 10.0
    """Fake seconds a server stays ``restoring``."""
    restore_failure_rate: float = 0.0
    """Share of restores that fail, leaving the server ``stopped``."""
    manual_backup_limit: int = 10
    count_failed_in_limit: bool = True
    """Whether ``failed`` manual backups occupy one of the limited slots."""
    delete_in_progress: DeleteInProgress = "reject"
    """``reject`` answers 409 for a running backup; ``allow`` deletes it."""
    page_size: int | None = None
    """``None`` serves every list as one page (the documented shape)."""
    retention_days: float = 30.0
    """Lifetime of automatic backups."""
    automatic_schedule: bool = False
    """Create an automatic backup of every server each fake day at 03:00 UTC."""
    journal_size: int = 10_000
    trim_descriptions: bool = False
    """Store a new backup's description with surrounding whitespace removed, as
    Django REST framework's ``CharField`` does by default."""

    def __post_init__(self) -> None:
        if self.completion not in ("time", "immediate", "reads"):
            raise ValueError("completion must be one of: time, immediate, reads")
        if self.delete_in_progress not in ("reject", "allow"):
            raise ValueError("delete_in_progress must be 'reject' or 'allow'")
        for name in ("failure_rate", "restore_failure_rate"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        for name in ("backup_seconds", "restore_seconds", "retention_days"):
            if float(getattr(self, name)) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.completion_reads < 0:
            raise ValueError("completion_reads must be >= 0")
        if self.manual_backup_limit < 0:
            raise ValueError("manual_backup_limit must be >= 0")
        if self.page_size is not None and self.page_size < 1:
            raise ValueError("page_size must be >= 1 or null")
        if self.journal_size < 1:
            raise ValueError("journal_size must be >= 1")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def updated(self, changes: dict[str, Any]) -> Behaviour:
        """A copy with ``changes`` applied; unknown keys are an error, not ignored."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown behaviour setting(s): {', '.join(unknown)}")
        return dataclasses.replace(self, **changes)
