"""How a refused value is shown back in an error or warning: escaped and cut short.

A value a user (or a program, or a pasted secret) got wrong is quoted back so
they can find it, but it is text we did not write: a line break or a carriage
return in it forges another line of the CLI's output, an ANSI escape (ESC)
recolours or clears the terminal, a bidirectional override or isolate
(U+202A-U+202E, U+2066-U+2069) makes the rest of the message display in
another order than it is stored (Trojan Source), and a 100,000-character value
buries the message. `echo` is the one way every message of this package quotes
such a value:

- every character that is not printable, or is a bidirectional control, is
  shown as an escape (`\\n`, `\\x1b`, `\\u202e`), as are the backslash and the
  quote, so what is shown is unambiguous and one line;
- the escaped text is cut at `limit` characters (80 by default), never inside
  an escape, and ends with `...` and the value's full length.

`echo("abc")` is `'abc'`, like `repr`; non-strings are shown by their `repr`,
escaped and cut the same way. `quote=False` leaves out the quotes, for a name
shown where the message already says it is a name (a property, a key).
"""

from __future__ import annotations

from typing import Any

__all__ = ["BIDI_CONTROLS", "ECHO_LIMIT", "echo"]

#: How many characters of an escaped value are shown.
ECHO_LIMIT = 80
#: Bidirectional marks, embeddings, overrides and isolates: escaped even where
#: a Unicode database calls them printable.
BIDI_CONTROLS = frozenset(
    map(chr, [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)])
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\\": "\\\\"}


def _escaped(char: str, quote: str, raw: bool) -> str:
    """One character as shown; `raw` is text escaped once already (a repr): its
    backslashes and quotes stay as they are."""
    if raw and (char == "\\" or char in "'\""):
        return char
    if char in _NAMED:
        return _NAMED[char]
    if char == quote:
        return "\\" + char
    if char.isprintable() and char not in BIDI_CONTROLS:
        return char
    code = ord(char)
    if code <= 0xFF:
        return f"\\x{code:02x}"
    if code <= 0xFFFF:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def echo(value: Any, limit: int = ECHO_LIMIT, *, quote: bool = True) -> str:
    """`value` as an error message may show it: escaped, one line, at most `limit` characters
    of it (then `...` and its length)."""
    raw = not isinstance(value, str)
    if isinstance(value, str):
        text, mark, unit = value, "'" if quote else "", "characters"
    else:
        try:
            text = repr(value)
        except Exception:  # noqa: BLE001 - a failing repr must not hide the error reported
            if isinstance(value, int):  # beyond Python's limit on digits converted
                text = f"<an integer of {value.bit_length()} bits>"
            else:
                text = f"<{type(value).__name__}>"
        mark, unit = "", "characters of repr"
    pieces: list[str] = []
    size = 0
    for position, char in enumerate(text):
        piece = _escaped(char, mark, raw)
        if size + len(piece) > limit:
            shown = "".join(pieces)
            return f"{mark}{shown}...{mark} ({len(text)} {unit}, {position} shown)"
        pieces.append(piece)
        size += len(piece)
    return f"{mark}{''.join(pieces)}{mark}"
