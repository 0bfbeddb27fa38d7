"""What the API's status words mean: the one classification used by every layer.

A backup's ``status`` and a restore record's ``status`` are sorted into four
phases: ``running`` (wait), ``succeeded``, ``failed`` and ``unknown`` (a word
this code has never seen; each caller says what that means for it). Only
``in_progress``, ``completed`` and ``failed`` are documented; the other words
are common spellings of the same phases and are classified, not refused.
Words are compared without regard to case or surrounding spaces.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

__all__ = [
    "FAILED_STATUSES",
    "RESTORE_CLOCK_TOLERANCE",
    "RUNNING_STATUSES",
    "SUCCEEDED_STATUSES",
    "TRANSITIONAL_SERVER_STATUSES",
    "StatusPhase",
    "status_phase",
]

StatusPhase = Literal["running", "succeeded", "failed", "unknown"]

#: Still working: wait. ``queued`` is as much "running" as ``in_progress``.
RUNNING_STATUSES = frozenset(
    {"in_progress", "pending", "queued", "running", "creating", "restoring"}
)
#: Finished well.
SUCCEEDED_STATUSES = frozenset({"completed", "success", "succeeded"})
#: Finished badly.
FAILED_STATUSES = frozenset({"failed", "error", "errored", "cancelled", "canceled"})

#: Server statuses a restore passes through (VPS.org stops a server to restore
#: it): not a failure on their own while the restore record has not ended.
TRANSITIONAL_SERVER_STATUSES = frozenset({"stopped", "stopping", "starting", "rebooting"})

#: A restore record that started this long before a request still counts as
#: that request's (the API's clock may run behind ours).
RESTORE_CLOCK_TOLERANCE = timedelta(seconds=30)


def status_phase(word: object) -> StatusPhase:
    """The phase a status word names; ``unknown`` for anything else (``None`` too)."""
    if not isinstance(word, str):
        return "unknown"
    text = word.strip().lower()
    if text in RUNNING_STATUSES:
        return "running"
    if text in SUCCEEDED_STATUSES:
        return "succeeded"
    if text in FAILED_STATUSES:
        return "failed"
    return "unknown"
