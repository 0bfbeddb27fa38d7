"""Work on many items a few requests at a time: results and errors by item.

A fleet starts, polls and deletes its backups this way, and a wait for many
backups lists their servers this way.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .errors import VpsBackupError

__all__ = ["CONCURRENCY", "each"]

#: Requests sent at once: enough to overlap latency, few enough not to look
#: like a burst to the API's rate limit.
CONCURRENCY = 8

T = TypeVar("T")
R = TypeVar("R")


def each(
    work: Callable[[T], R], items: Iterable[T]
) -> tuple[dict[Any, R], dict[Any, VpsBackupError]]:
    """`work(item)` for every item, a few at a time: results and errors, by item.

    An item that is a (key, value) pair is reported under its key. Only the
    package's errors are collected; anything else is a bug and propagates.
    """
    todo = list(items)
    results: dict[Any, R] = {}
    errors: dict[Any, VpsBackupError] = {}
    if not todo:
        return results, errors

    def run(item: T) -> None:
        key = item[0] if isinstance(item, tuple) else item
        try:
            results[key] = work(item)
        except VpsBackupError as exc:
            errors[key] = exc

    if len(todo) == 1:
        run(todo[0])
    else:
        with ThreadPoolExecutor(min(CONCURRENCY, len(todo))) as pool:
            list(pool.map(run, todo))
    return results, errors
