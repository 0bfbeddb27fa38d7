"""Refused values echoed back: escaped, one line, cut short, by one helper.

Every message that quotes a value the user got wrong goes through
`client.echo.echo`; these tests hold each such message to it with a value
that would forge a line, reorder the text around it (a bidi override or
isolate) or bury the message (100,000 characters).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from pulumi_vpsbackup.client.echo import ECHO_LIMIT, echo
from pulumi_vpsbackup.client.errors import VpsBackupError
from pulumi_vpsbackup.client.settings import normalise_base_url, poll_policy
from pulumi_vpsbackup.provider.core import declaration
from pulumi_vpsbackup.provider.core import validation as v
from pulumi_vpsbackup.provider.core.config import unknown_config_warnings
from pulumi_vpsbackup.provider.restore import RestoreProvider

HUGE = "x" * 100_000
#: A line break, an ANSI escape, a right-to-left override, an isolate pair, a NUL.
TRICKY = "ok\nerror: forged\x1b[2J\u202eevil\u2066x\u2069\x00"
RAW = ["\n", "\x1b", "\u202e", "\u2066", "\u2069", "\x00", "\r", "\u2028"]


def test_echo_escapes_every_control_and_bidi_character_and_keeps_ordinary_text() -> None:
    assert echo("web-01") == "'web-01'"
    assert echo("Ünïcödé ✓ 日本") == "'Ünïcödé ✓ 日本'", "printable text in any script stays"
    shown = echo(TRICKY)
    assert not any(c in shown for c in RAW), shown
    assert shown == "'ok\\nerror: forged\\x1b[2J\\u202eevil\\u2066x\\u2069\\x00'"
    assert echo("a\u200fb\u061c") == "'a\\u200fb\\u061c'", "bidi marks too"
    assert echo("key\n", quote=False) == "key\\n"
    assert echo(12.5) == "12.5" and echo(None) == "None" and echo([1, "a"]) == "[1, 'a']"


def test_echo_cuts_a_long_value_and_says_how_long_it_was() -> None:
    shown = echo(HUGE)
    assert shown == f"'{'x' * ECHO_LIMIT}...' (100000 characters, {ECHO_LIMIT} shown)"
    # Never inside an escape: each \u202e counts as the 6 characters it shows.
    cut = echo("\u202e" * 50)
    assert cut.startswith("'" + "\\u202e" * 13 + "...'"), cut
    assert len(echo(list(range(100_000)))) < 2 * ECHO_LIMIT
    assert "bits" in echo(10**10_000), "an int too long for str() is still shown"


def _message(call: Callable[[], Any]) -> str:
    with pytest.raises((VpsBackupError, TypeError)) as info:
        call()
    return str(info.value)


REFUSALS: list[tuple[str, Callable[[Any], Any]]] = [
    ("positive_id", lambda bad: v.positive_id("server_id", bad)),
    ("boolean", lambda bad: v.boolean("wait_for_completion", bad)),
    ("duration", lambda bad: v.duration_seconds("timeout", bad)),
    ("triggers", lambda bad: v.triggers("triggers", bad)),
    ("backup_type", lambda bad: v.backup_filters(None, bad, None, None, None)),
    ("status", lambda bad: v.backup_filters(None, None, [bad], None, None)),
    ("description filter", lambda bad: v.backup_filters(None, None, None, [bad], None)),
    ("declaration.text", lambda bad: declaration.text("name", [bad])),
    ("keep", lambda bad: declaration.keep_count("keep", bad)),
    ("unknown key", lambda bad: _raise_first(v.check_fields([], {bad: 1})[1])),
    ("restore id", lambda bad: RestoreProvider().read(bad, {})),
    ("api url", lambda bad: normalise_base_url(f"https://{bad}.example/v2")),
    ("http url", lambda bad: normalise_base_url(f"http://{bad}.example/api/v1")),
    ("poll interval", lambda bad: poll_policy({"vpsbackup:pollInterval": bad})),
]


def _raise_first(errors: list[v.FieldError]) -> None:
    raise errors[0]


@pytest.mark.parametrize(("what", "refuse"), REFUSALS, ids=[w for w, _ in REFUSALS])
def test_every_refusal_echoes_the_value_escaped_and_short(
    what: str, refuse: Callable[[Any], Any]
) -> None:
    long_message = _message(lambda: refuse(HUGE))
    assert len(long_message) < 1500, (what, len(long_message))
    assert f"characters, {ECHO_LIMIT} shown)" in long_message or "repr" in long_message, (
        what,
        long_message[:300],
    )
    tricky = _message(lambda: refuse(TRICKY))
    assert not any(c in tricky for c in RAW), (what, tricky)
    assert "\\u202e" in tricky, (what, tricky)


def test_an_unknown_config_key_is_warned_about_escaped_and_short() -> None:
    (warning,) = unknown_config_warnings([f"vpsbackup:{TRICKY}"])
    assert not any(c in warning for c in RAW), warning
    (warning,) = unknown_config_warnings([f"vpsbackup:{HUGE}"])
    assert len(warning) < 600 and "100010 characters" in warning
