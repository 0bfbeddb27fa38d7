"""A wrapper that keeps the API token out of reprs, messages, logs and pickles."""

from __future__ import annotations

import hmac
import json
import re
import string
from typing import NoReturn
from urllib.parse import quote, quote_plus

_MASK = "Secret('********')"
REDACTED = "********"
#: A run of the secret's printable characters at least this long is masked on
#: its own too, so a form of the secret nobody thought of (an escape we do not
#: produce below) still loses everything but its short pieces.
MIN_FRAGMENT = 8
# Characters that no escaping above changes.
_UNESCAPED = frozenset(string.ascii_letters + string.digits + "-._~")


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


def secret_forms(value: str) -> tuple[str, ...]:
    """Every text form in which `value` may show up in an error or log line.

    The value itself; its Python ``repr``/``ascii`` escapes (``\\n``, ``\\x00``,
    ``\\u2028``), as exception texts and tracebacks show it; the ``repr`` of its
    UTF-8 bytes (h11 reports a bad header as ``b'Bearer ...'``); its JSON
    escapes; its percent-encoded forms; and every run of printable characters
    of at least :data:`MIN_FRAGMENT` characters that no escaping changes
    (letters, digits and ``-._~``). Longest first, so that a longer form is
    masked before a part of it. Not cached: a cache would keep tokens in a
    module-level table for the life of the process.
    """
    if not value:
        return ()
    forms = {value, repr(value)[1:-1], ascii(value)[1:-1]}
    for errors in ("backslashreplace", "surrogatepass"):
        try:
            forms.add(repr(value.encode("utf-8", errors))[2:-1])
        except UnicodeEncodeError:  # pragma: no cover - backslashreplace always works
            pass
    forms.add(json.dumps(value)[1:-1])
    forms.add(json.dumps(value, ensure_ascii=False)[1:-1])
    for encoded in (
        quote(value, safe="", errors="backslashreplace"),
        quote(value, errors="backslashreplace"),
        quote_plus(value, safe="", errors="backslashreplace"),
    ):
        forms.add(encoded)
        forms.add(re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), encoded))  # %0a too
    fragment: list[str] = []
    for char in value + "\0":
        if char in _UNESCAPED:
            fragment.append(char)
            continue
        if len(fragment) >= MIN_FRAGMENT:
            forms.add("".join(fragment))
        fragment = []
    return tuple(sorted((f for f in forms if f), key=lambda f: (-len(f), f)))


def redact(text: str, secret: Secret | str | None) -> str:
    """`text` with every form of `secret` (see :func:`secret_forms`) masked."""
    value = secret.reveal() if isinstance(secret, Secret) else secret
    if not value or not text:
        return text
    for form in secret_forms(value):
        if form in text:
            text = text.replace(form, REDACTED)
    return text
