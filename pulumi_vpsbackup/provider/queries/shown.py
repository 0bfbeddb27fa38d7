"""Errors of the query functions as a Pulumi program shows them: one message, no traceback.

Pulumi's Python program runner prints a `pulumi.RunError` that ends the
program as its message alone, any other exception with its traceback. A
query's error is therefore re-raised as an instance of a subclass of both its
own class and `pulumi.RunError`, its text starting with the function called.
Rules to keep: `VpsBackupError` itself is not a `pulumi.RunError` (the client
layer must not import Pulumi, about 0.6 s per process, and bugs elsewhere must
keep their tracebacks), and errors that are not ours (a `TypeError`, a bug)
keep their traceback. What users see: docs/errors.md.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import pulumi

from ...client.errors import VpsBackupError

_F = TypeVar("_F", bound=Callable[..., Any])


class Shown:
    """The mixin of the generated classes: the name of the query the program called
    at the start of the text, and pickling as the original class.

    Not an exception class itself: every exception class of the package is in
    the `VpsBackupError` tree; a generated class is `(Shown, pulumi.RunError, cls)`.
    """

    #: The query function the program called (``get_backups_output``).
    query: str = ""
    #: The class the error was raised as, before it reached the program.
    original: type[VpsBackupError] = VpsBackupError

    def __str__(self) -> str:
        text = super().__str__()
        return f"{self.query}: {text}" if self.query else text

    def __reduce__(self) -> Any:
        # Pickled as the error it was (its own __reduce__ keeps no token), by a
        # class that can be found by name: the generated ones cannot.
        reduced: Any = super().__reduce__()
        rebuild, (_, args, state) = reduced
        state.pop("query", None)
        return rebuild, (self.original, args, state)


_CLASSES: dict[type[VpsBackupError], type[Any]] = {}
_LOCK = threading.Lock()


def shown_class(cls: type[VpsBackupError]) -> type[Any]:
    """The subclass of `cls` and `pulumi.RunError`, one per class."""
    with _LOCK:
        made = _CLASSES.get(cls)
        if made is None:
            made = type(
                cls.__name__,
                (Shown, pulumi.RunError, cls),
                {
                    "__module__": cls.__module__,
                    "__qualname__": cls.__qualname__,
                    "__doc__": cls.__doc__,
                    "original": cls,
                },
            )
            _CLASSES[cls] = made
    return made


def as_shown(error: VpsBackupError, query: str) -> VpsBackupError:
    """`error` as its shown class, naming `query` (the outermost call names it)."""
    if isinstance(error, Shown):
        error.query = query
        return error
    cls: Any = shown_class(type(error))
    shown: Any = cls.__new__(cls)
    shown.args = error.args
    shown.__dict__.update(error.__dict__)
    shown.query = query
    shown.__traceback__ = error.__traceback__
    shown.__cause__ = error.__cause__
    shown.__suppress_context__ = error.__suppress_context__
    result: VpsBackupError = shown
    return result


def shown_errors(query: str) -> Callable[[_F], _F]:
    """Decorate a query function: its errors reach the program as `as_shown` makes them."""

    def decorate(function: _F) -> _F:
        @functools.wraps(function)
        def call(*args: Any, **kwargs: Any) -> Any:
            try:
                return function(*args, **kwargs)
            except VpsBackupError as exc:
                raise as_shown(exc, query) from exc.__cause__

        return call  # type: ignore[return-value]

    return decorate


__all__ = ["Shown", "as_shown", "shown_class", "shown_errors"]
