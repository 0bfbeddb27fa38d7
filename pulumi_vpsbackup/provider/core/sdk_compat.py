"""Work-arounds for defects of the Pulumi Python SDK that this package runs into.

`pulumi.dynamic.serialize_provider` (SDK 3.272 and earlier) makes pickling
deterministic by replacing `pickle._Pickler._batch_setitems` with a wrapper
that sorts the items and calls the method it found there. It restores
`pickle.Pickler` afterwards but never that method, so every dynamic resource
wraps the previous wrapper again: after about a thousand resources, pickling
the next provider recurses through a thousand wrappers and fails with
RecursionError (and each dict is sorted once per earlier resource before that).

`undo_sdk_pickler_wrapping` puts the original method back before each of our
resources is constructed, so the SDK's own wrapping stays one level deep. It
finds the original by walking the wrappers' closures, which works whoever
serialized a provider first, and changes nothing when the SDK is fixed.
"""

from __future__ import annotations

import pickle
import threading
from typing import Any

# The names of the SDK's wrappers (pulumi/dynamic/dynamic.py).
_SDK_WRAPPERS = frozenset({"batch_set_items_sorted", "batch_set_items_sorted_before_py14"})
_SDK_MODULE = "pulumi.dynamic.dynamic"
_MAX_UNWRAP = 100_000  # a cycle guard; the chain is one link per resource made
_lock = threading.Lock()


def _is_sdk_wrapper(func: Any) -> bool:
    return (
        getattr(func, "__name__", None) in _SDK_WRAPPERS
        and getattr(func, "__module__", None) == _SDK_MODULE
        and bool(getattr(func, "__closure__", None))
    )


def _wrapped(func: Any) -> Any:
    """The method a wrapper calls: its closure's only function from outside."""
    for cell in func.__closure__ or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(inner):
            return inner
    return None


def original_batch_setitems() -> Any:
    """`pickle._Pickler._batch_setitems` with every SDK wrapper peeled off."""
    func = pickle._Pickler.__dict__.get("_batch_setitems")
    for _ in range(_MAX_UNWRAP):
        if not _is_sdk_wrapper(func):
            return func
        inner = _wrapped(func)
        if inner is None:
            return func
        func = inner
    return func


def undo_sdk_pickler_wrapping() -> None:
    """Put `pickle._Pickler._batch_setitems` back as the SDK found it."""
    with _lock:
        current = pickle._Pickler.__dict__.get("_batch_setitems")
        if not _is_sdk_wrapper(current):
            return
        original = original_batch_setitems()
        if original is not None and not _is_sdk_wrapper(original):
            pickle._Pickler._batch_setitems = original  # type: ignore[attr-defined]
