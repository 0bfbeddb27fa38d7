"""A wrapper that keeps the API token out of reprs, messages, logs and pickles."""

from __future__ import annotations

import hmac
from typing import NoReturn

_MASK = "Secret('********')"


class Secret:
    """Holds a sensitive string; only :meth:`reveal` gives it back.

    ``repr()``, ``str()`` and f-strings show ``Secret('********')``. Pickling is
    refused: the Pulumi dynamic-provider object is pickled into the stack state,
    and a token must never reach it in clear text. Copies share the value, since
    the object is immutable.
    """

    __slots__ = ("_value",)
    _value: str

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"Secret wraps a str, not {type(value).__name__}")
        object.__setattr__(self, "_value", value)

    def reveal(self) -> str:
        """Return the wrapped value. Call this only where the value is sent."""
        return self._value

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError("Secret is immutable")

    def __repr__(self) -> str:
        return _MASK

    __str__ = __repr__

    def __format__(self, format_spec: str) -> str:
        return _MASK

    def __bool__(self) -> bool:
        return bool(self._value)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self

    def __reduce__(self) -> NoReturn:
        raise TypeError(
            "refusing to pickle a Secret: the API token must not be stored in Pulumi state; "
            "build the client inside the provider process from configuration instead"
        )
