"""Validation and normalisation of resource inputs, shared by the providers.

The engine hands `check` raw property values: numbers arrive as floats
(`12345.0`), `None` inputs are simply missing, and during `pulumi preview` any
value computed from another resource may be the SDK's unknown sentinel. Each
validator here takes one field, returns its normalised value, and reports a
problem as a `FieldError` whose text names the field and what is allowed, so the
user sees `server_id: must be a positive whole number, got 'abc'` rather than a
traceback.
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from pulumi.output import Unknown
from pulumi.runtime import rpc

from ...client.echo import echo
from ...client.errors import VpsBackupError

# JavaScript-safe integer ceiling: IDs beyond it cannot round-trip through the
# engine's float representation.
MAX_ID = 2**53 - 1
MAX_DESCRIPTION_LENGTH = 255
MIN_TIMEOUT_SECONDS = 1.0
MAX_TIMEOUT_SECONDS = 24 * 3600.0
DEFAULT_TIMEOUT_SECONDS = 60 * 60.0
MAX_TRIGGERS_BYTES = 16 * 1024

_NUMBER = r"\d+(?:\.\d+)?"
# Each unit at most once, largest first: "1h30m", "45m", "90s", "1h0m30s".
_DURATION = re.compile(rf"(?:(?P<h>{_NUMBER})h)?(?:(?P<m>{_NUMBER})m)?(?:(?P<s>{_NUMBER})s)?")
_DURATION_HELP = (
    "a duration: a number of seconds or text such as '90s', '45m' or '1h30m' "
    "(units h, m, s, each at most once, largest first)"
)


class FieldError(VpsBackupError, ValueError):
    """A property value that cannot be accepted; `str()` names the field.

    A `VpsBackupError` like everything the package raises, and a `ValueError`
    for callers that catch bad values generically."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def is_unknown(value: Any) -> bool:
    """True for a value that is not known yet (preview of a computed input)."""
    return isinstance(value, Unknown) or value == rpc.UNKNOWN


def contains_unknown(value: Any) -> bool:
    """True when `value`, or anything nested in it, is unknown."""
    if is_unknown(value):
        return True
    if isinstance(value, Mapping):
        return any(contains_unknown(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return any(contains_unknown(v) for v in value)
    return False


def shown_value(value: Any) -> str:
    """A refused value in a message: escaped and cut short (`client.echo`)."""
    return echo(value)


def positive_id(field: str, value: Any) -> int:
    """An API id: a positive whole number; integral floats from the engine are accepted."""
    if isinstance(value, bool):
        raise FieldError(field, f"must be a positive whole number, got the boolean {value}")
    if isinstance(value, float):
        if not math.isfinite(value) or not value.is_integer():
            raise FieldError(field, f"must be a positive whole number, got {shown_value(value)}")
        value = int(value)
    # isascii(): str.isdigit() also accepts digits such as "²" that int() refuses.
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise FieldError(field, f"must be a positive whole number, got {shown_value(value)}")
    if value <= 0 or value > MAX_ID:
        raise FieldError(field, f"must be between 1 and {MAX_ID}, got {shown_value(value)}")
    return value


# A str holding a lone surrogate cannot be encoded as UTF-8, so the SDK fails
# to send it to the engine with an error that names no field. The resource
# classes send this marker instead (see `wire_safe_text`), and Check reports it.
INVALID_TEXT_KEY = "__vpsbackup_invalid_text__"
# Bidirectional embeddings, overrides and isolates: invisible, and they make
# the text display in another order than it is stored (Trojan Source).
BIDI_CONTROLS = frozenset(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)]))
# Control characters, line and paragraph separators.
REFUSED_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
ONE_LINE = (
    "a single line of printable text: no line breaks (including U+2028 and U+2029), "
    "control characters or bidirectional controls (U+202A-U+202E, U+2066-U+2069)"
)


def _is_surrogate(char: str) -> bool:
    return "\ud800" <= char <= "\udfff"


def _code_point(char: str) -> str:
    """`U+2028 LINE SEPARATOR`: never the character itself, which may be invisible
    or reorder the rest of the message."""
    name = unicodedata.name(char, "")
    return f"U+{ord(char):04X}" + (f" {name}" if name else "")


def wire_safe_text(value: Any) -> Any:
    """`value`, or for text holding lone surrogates the marker Check reports."""
    if isinstance(value, str) and any(_is_surrogate(c) for c in value):
        return {INVALID_TEXT_KEY: [f"U+{ord(c):04X}" for c in value if _is_surrogate(c)][:3]}
    return value


def _surrogate_error(field: str, code_points: list[str]) -> FieldError:
    return FieldError(
        field,
        f"is not valid Unicode text: it holds a lone surrogate ({', '.join(code_points)}), "
        "which cannot be sent or stored (often text decoded with the wrong encoding); "
        f"use {ONE_LINE}",
    )


def description(field: str, value: Any) -> str:
    """Free text as the API stores it: at most 255 characters, one line of printable text.

    Surrounding whitespace is dropped: APIs commonly trim it when storing (Django
    REST framework does by default), and what is sent must equal what is read
    back, or every diff would see a change and replace the backup.
    """
    if isinstance(value, Mapping) and INVALID_TEXT_KEY in value:
        raise _surrogate_error(field, [str(c) for c in value[INVALID_TEXT_KEY]])
    if not isinstance(value, str):
        raise FieldError(field, f"must be a string, got {shown_value(value)}")
    surrogates = [f"U+{ord(c):04X}" for c in value if _is_surrogate(c)]
    if surrogates:
        raise _surrogate_error(field, surrogates[:3])
    for position, char in enumerate(value, 1):
        if unicodedata.category(char) in REFUSED_CATEGORIES or char in BIDI_CONTROLS:
            raise FieldError(
                field, f"must be {ONE_LINE}; found {_code_point(char)} at character {position}"
            )
    if len(value) > MAX_DESCRIPTION_LENGTH:
        raise FieldError(
            field, f"must be at most {MAX_DESCRIPTION_LENGTH} characters, got {len(value)}"
        )
    return value.strip()


def same_text(value: Any) -> Any:
    """How a description compares in a diff: surrounding whitespace ignored, so a
    stack whose state holds " nightly " (from before Check stripped it) and an
    API that trimmed it do not replace the backup."""
    return value.strip() if isinstance(value, str) else value


def boolean(field: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise FieldError(field, f"must be true or false, got {shown_value(value)}")


def duration_seconds(field: str, value: Any) -> float:
    """A duration: seconds as a number, or text such as "90s", "45m", "1h30m"."""
    seconds: float
    if isinstance(value, bool):
        raise FieldError(field, f"must be a duration such as '45m' or 2700, got {value}")
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str):
        text = value.strip().lower().replace(" ", "")
        match = _DURATION.fullmatch(text)
        if re.fullmatch(_NUMBER, text):
            seconds = float(text)
        elif text and match:
            units = {"h": 3600.0, "m": 60.0, "s": 1.0}
            seconds = sum(float(n) * units[u] for u, n in match.groupdict().items() if n)
        else:
            raise FieldError(field, f"must be {_DURATION_HELP}, got {shown_value(value)}")
    else:
        raise FieldError(
            field, f"must be a duration such as '45m' or 2700, got {shown_value(value)}"
        )
    if not math.isfinite(seconds) or not (MIN_TIMEOUT_SECONDS <= seconds <= MAX_TIMEOUT_SECONDS):
        raise FieldError(
            field,
            f"must be between {MIN_TIMEOUT_SECONDS:g}s and {MAX_TIMEOUT_SECONDS / 3600:g}h, "
            f"got {shown_value(value)}",
        )
    return seconds


def triggers(field: str, value: Any) -> Any:
    """Opaque values whose change forces a replacement: a list or a map of JSON values."""
    if not isinstance(value, (list, tuple, Mapping)):
        raise FieldError(
            field,
            f"must be a list or a map of values (e.g. [app_version]), got {shown_value(value)}",
        )
    if contains_unknown(value):
        return value
    try:
        encoded = json.dumps(value, sort_keys=True, default=_reject)
    except (TypeError, ValueError) as exc:
        raise FieldError(
            field, f"must hold only strings, numbers, booleans, lists and maps ({exc})"
        ) from exc
    if len(encoded.encode()) > MAX_TRIGGERS_BYTES:
        raise FieldError(field, f"must encode to at most {MAX_TRIGGERS_BYTES} bytes of JSON")
    return json.loads(encoded) if isinstance(value, tuple) else value


def _reject(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not allowed")


def canonical(value: Any) -> Any:
    """A comparable form of a property value: engine floats become ints, and an
    empty string is the same as an absent value (the API stores a missing
    description as "")."""
    if value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: canonical(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [canonical(v) for v in value]
    return value


class FieldSpec:
    """One input property: how to validate it, whether it is required, its default,
    and whether a change to it replaces the resource or updates it in place."""

    __slots__ = ("compare", "default", "name", "replaces", "required", "validate")

    def __init__(
        self,
        name: str,
        validate: Any,
        *,
        required: bool = False,
        default: Any = None,
        replaces: bool = False,
        compare: Any = None,
    ) -> None:
        self.name = name
        self.validate = validate
        self.required = required
        self.default = default
        self.replaces = replaces
        self.compare = compare  # maps a value to what a diff compares, if not itself


def check_fields(
    specs: list[FieldSpec], news: Mapping[str, Any]
) -> tuple[dict[str, Any], list[FieldError]]:
    """Validate `news` against `specs`: the normalised inputs and every failure.

    Unknown values pass through untouched (preview); defaults fill missing
    optional fields so that later diffs compare like with like.
    """
    inputs: dict[str, Any] = {}
    failures: list[FieldError] = []
    known = {spec.name for spec in specs}
    for key in news:
        if key not in known and key != "__provider":
            failures.append(
                FieldError(
                    echo(key, quote=False),
                    f"is not a known property; allowed: {', '.join(sorted(known))}",
                )
            )
    for spec in specs:
        value = news.get(spec.name)
        if value is None:
            if spec.required:
                failures.append(FieldError(spec.name, "is required"))
            elif spec.default is not None:
                inputs[spec.name] = spec.default
            continue
        if is_unknown(value):
            inputs[spec.name] = value
            continue
        try:
            inputs[spec.name] = spec.validate(spec.name, value)
        except FieldError as exc:
            failures.append(exc)
    return inputs, failures


def changed_fields(
    specs: list[FieldSpec], olds: Mapping[str, Any], news: Mapping[str, Any]
) -> list[str]:
    """Names of the input fields whose value differs (unknown counts as changed)."""
    changed = []
    for spec in specs:
        old = olds.get(spec.name, spec.default)
        new = news.get(spec.name, spec.default)
        if spec.compare is not None and not contains_unknown(new):
            old, new = spec.compare(old), spec.compare(new)
        if contains_unknown(new):
            changed.append(spec.name)
        elif is_absent(old) and is_absent(new):
            continue  # e.g. triggers left out, then built as an empty list
        elif canonical(old) != canonical(new):
            changed.append(spec.name)
    return changed


def is_absent(value: Any) -> bool:
    """None, "" and empty lists or maps all mean "not given"."""
    return (
        value is None
        or value == ""
        or (isinstance(value, (list, tuple, Mapping)) and len(value) == 0)
    )


BACKUP_TYPES = ("manual", "automatic")


def backup_filters(
    server_id: Any, backup_type: Any, status: Any, description: Any, description_regex: Any
) -> tuple[int | None, str | None, re.Pattern[str] | None]:
    """The filters of the queries, checked: server id, backup type, compiled regex."""
    sid = positive_id("server_id", server_id) if server_id is not None else None
    if backup_type is not None and backup_type not in BACKUP_TYPES:
        raise FieldError(
            "backup_type",
            f"must be one of {', '.join(BACKUP_TYPES)}, got {shown_value(backup_type)}",
        )
    if status is not None and not isinstance(status, str):
        raise FieldError(
            "status", f"must be a string such as 'completed', got {shown_value(status)}"
        )
    if description is not None and not isinstance(description, str):
        raise FieldError("description", f"must be a string, got {shown_value(description)}")
    pattern = None
    if description_regex is not None:
        try:
            pattern = re.compile(str(description_regex))
        except re.error as exc:
            raise FieldError(
                "description_regex", f"is not a valid regular expression ({exc})"
            ) from exc
    return sid, backup_type, pattern
