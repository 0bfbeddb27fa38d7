"""Field validation: every failure names the field and says what is allowed."""

from __future__ import annotations

import pytest
from pulumi.runtime import rpc

from pulumi_vpsbackup.provider.core import validation as v


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12345, 12345), (12345.0, 12345), ("12345", 12345), (" 7 ", 7), (2**53 - 1, 2**53 - 1)],
)
def test_positive_id_accepts_whole_numbers_including_engine_floats(value, expected):
    assert v.positive_id("server_id", value) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        (True, "boolean"),
        (0, "between 1 and"),
        (-5, "between 1 and"),
        (2**53, "between 1 and"),
        (1.5, "whole number"),
        (float("nan"), "whole number"),
        (float("inf"), "whole number"),
        ("abc", "whole number"),
        ([1], "whole number"),
        (None, "whole number"),
    ],
)
def test_positive_id_rejects_with_the_field_name(value, fragment):
    with pytest.raises(v.FieldError) as info:
        v.positive_id("server_id", value)
    assert str(info.value).startswith("server_id: ")
    assert fragment in str(info.value)
    assert info.value.field == "server_id"


def test_description_limits():
    assert v.description("description", "Pre-deploy backup") == "Pre-deploy backup"
    assert v.description("description", "é" * 255) == "é" * 255
    with pytest.raises(v.FieldError, match=r"description: must be at most 255 characters, got 256"):
        v.description("description", "x" * 256)
    with pytest.raises(v.FieldError, match="control characters"):
        v.description("description", "two\nlines")
    with pytest.raises(v.FieldError, match="must be a string"):
        v.description("description", 42)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (90, 90.0),
        (2.5, 2.5),
        ("90", 90.0),
        ("90s", 90.0),
        ("45m", 2700.0),
        ("1h30m", 5400.0),
        ("1H 30M", 5400.0),
        ("24h", 86400.0),
    ],
)
def test_durations(value, seconds):
    assert v.duration_seconds("timeout", value) == seconds


@pytest.mark.parametrize("value", ["", "soon", "10x", "-5m", 0, 0.5, "25h", True, [], float("nan")])
def test_bad_durations_name_the_field(value):
    with pytest.raises(v.FieldError) as info:
        v.duration_seconds("timeout", value)
    assert str(info.value).startswith("timeout: must be")


def test_triggers_accept_lists_and_maps_and_reject_scalars():
    assert v.triggers("triggers", ["v1", 2, True, None]) == ["v1", 2, True, None]
    assert v.triggers("triggers", {"version": "2.4"}) == {"version": "2.4"}
    with pytest.raises(v.FieldError, match="triggers: must be a list or a map"):
        v.triggers("triggers", "v1")
    with pytest.raises(v.FieldError, match="at most 16384 bytes"):
        v.triggers("triggers", ["x" * 20000])


def test_check_fields_collects_every_failure_and_keeps_unknowns():
    specs = [
        v.FieldSpec("server_id", v.positive_id, required=True),
        v.FieldSpec("description", v.description),
        v.FieldSpec("timeout", v.duration_seconds, default=3600.0),
    ]
    inputs, failures = v.check_fields(specs, {"description": 5, "colour": "red"})
    assert sorted(f.field for f in failures) == ["colour", "description", "server_id"]
    assert inputs == {"timeout": 3600.0}
    inputs, failures = v.check_fields(specs, {"server_id": rpc.UNKNOWN, "__provider": "x"})
    assert failures == []
    assert inputs["server_id"] == rpc.UNKNOWN


def test_changed_fields_treats_floats_as_ints_and_unknown_as_change():
    specs = [v.FieldSpec("server_id", v.positive_id), v.FieldSpec("timeout", v.duration_seconds)]
    assert v.changed_fields(specs, {"server_id": 1.0}, {"server_id": 1}) == []
    assert v.changed_fields(specs, {"server_id": 1}, {"server_id": rpc.UNKNOWN}) == ["server_id"]
    assert v.changed_fields(specs, {"timeout": 5}, {"timeout": 6}) == ["timeout"]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("1h30m15s", 5415.0), ("1h15s", 3615.0), ("2h", 7200.0), ("1.5h", 5400.0), ("0h90s", 90.0)],
)
def test_durations_with_each_unit_once_in_order(value, seconds):
    assert v.duration_seconds("timeout", value) == seconds


@pytest.mark.parametrize("value", ["1h1h1h", "5m5m", "30m1h", "1s1m", "1h30m30m", "10s5s", "1ms"])
def test_a_repeated_or_misordered_unit_is_refused_by_name(value):
    """A repeated unit ("1h1h1h") is refused, not read as 3 h."""
    with pytest.raises(v.FieldError) as info:
        v.duration_seconds("timeout", value)
    text = str(info.value)
    assert text.startswith("timeout: must be a duration: a number of seconds or text such as '90s'")
    assert "each at most once, largest first" in text and repr(value) in text


def test_a_repeated_unit_is_a_check_failure_naming_timeout():
    from pulumi_vpsbackup.provider import BackupProvider

    result = BackupProvider().check({}, {"server_id": 1, "timeout": "1h1h1h"})
    assert [(f.property, f.reason.split(",")[0]) for f in result.failures] == [
        ("timeout", "must be a duration: a number of seconds or text such as '90s'")
    ]


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("line\u2028separator", "U+2028 LINE SEPARATOR at character 5"),
        ("para\u2029graph", "U+2029 PARAGRAPH SEPARATOR at character 5"),
        ("evil \u202eexe.txt", "U+202E RIGHT-TO-LEFT OVERRIDE at character 6"),
        ("\u202aembedded", "U+202A LEFT-TO-RIGHT EMBEDDING at character 1"),
        ("iso\u2066late\u2069", "U+2066 LEFT-TO-RIGHT ISOLATE at character 4"),
        ("two\nlines", "U+000A at character 4"),
        ("nul\x00", "U+0000 at character 4"),
        ("next\x85line", "U+0085 at character 5"),
    ],
)
def test_description_must_be_one_line_without_bidi_controls(value, found):
    """U+2028, U+2029 and bidi overrides are refused (the README says one line); the
    message names the character by code point, never printing it."""
    with pytest.raises(v.FieldError) as info:
        v.description("description", value)
    text = str(info.value)
    assert text.startswith("description: must be a single line of printable text: no line")
    assert "bidirectional controls (U+202A-U+202E, U+2066-U+2069)" in text
    assert found in text
    assert not any(c in text for c in "\u2028\u2029\u202a\u202e\u2066\u2069\x00\x85")


@pytest.mark.parametrize(
    "value",
    ["Café déjà vu", "日本語のバックアップ", "emoji 👩\u200d💻 joiner", "price: 5 €", "RTL עברית"],
)
def test_description_keeps_ordinary_text_in_any_script(value):
    assert v.description("description", value) == value


@pytest.mark.parametrize("value", ["\ud800", "before \udfff after", "a\ud83db"])
def test_a_lone_surrogate_is_a_failure_naming_description(value):
    with pytest.raises(v.FieldError) as info:
        v.description("description", value)
    assert str(info.value).startswith("description: is not valid Unicode text: it holds a lone")
    # The marker the resource class sends instead of text the SDK cannot encode.
    marker = v.wire_safe_text(value)
    assert isinstance(marker, dict)
    with pytest.raises(v.FieldError) as sent:
        v.description("description", marker)
    assert str(sent.value) == str(info.value)
    assert v.wire_safe_text("fine") == "fine" and v.wire_safe_text(None) is None
