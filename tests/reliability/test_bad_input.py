"""Bad input, property-based: every resource input through Check on the real host,
every query filter in-process.

For each field a value is drawn as absent, valid (with the value it must
normalise to) or junk (known invalid: wrong types, bools for ints, fractions,
NaN/inf, negative or huge ids, huge or control-character text, unknown
words, nested junk). Check must never fail at the gRPC level; each junk field
must be reported by a failure naming it; valid fields must come back
normalised. A failure may also name a valid id the API does not know (Check
asks the API once the fields are valid). Queries must return, or raise a
``FieldError`` naming the bad filter, or a ``VpsBackupError`` from the API.

The bugs these properties found (Unicode digits, a non-list of ids, filter
errors outside the package's exception tree) are pinned by the tests at the end.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import pulumi_vpsbackup as vps
from pulumi_vpsbackup.fake import FakeServer
from pulumi_vpsbackup.provider import BackupProvider, RestoreProvider
from pulumi_vpsbackup.provider.core.validation import MAX_ID, FieldError
from tests.support.failures import by_field
from vpsbackup_dev.host import ProviderHost, serialize_provider, urn

from ._support import BACKUP_TYPE, RESTORE_TYPE, TOKEN, served_fake

HOST_EXAMPLES = 120
QUERY_EXAMPLES = 150
HOST_SETTINGS = settings(
    max_examples=HOST_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=True,
)
QUERY_SETTINGS = settings(
    max_examples=QUERY_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
BACKUP_PROVIDER = serialize_provider(BackupProvider())
RESTORE_PROVIDER = serialize_provider(RestoreProvider())
ABSENT = object()

# -- strategies: (value, expected normalised value) for valid, value for junk ---------

ints_as_engine_floats = st.integers(1, MAX_ID).map(lambda i: (float(i), i))
valid_id = st.one_of(
    st.integers(1, MAX_ID).map(lambda i: (i, i)),
    ints_as_engine_floats,
    st.integers(1, 10**9).map(lambda i: (str(i), i)),
)
junk_scalar = st.one_of(
    st.booleans(),
    st.none().map(lambda _: []),
    st.floats(allow_nan=True, allow_infinity=True).filter(
        lambda f: not (math.isfinite(f) and f.is_integer() and 1 <= f <= MAX_ID)
    ),
    st.text(max_size=20).filter(lambda s: not s.strip().isdigit()),
)
nested_junk = st.recursive(
    st.one_of(st.integers(-5, 5), st.text(max_size=5), st.booleans(), st.floats()),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=8,
)
junk_id = st.one_of(
    st.booleans(),
    st.integers(max_value=0),
    st.integers(MAX_ID + 1, 2**63),
    st.floats().filter(lambda f: not (math.isfinite(f) and f.is_integer() and 1 <= f <= MAX_ID)),
    st.sampled_from([math.nan, math.inf, -math.inf, 1.5, 12345.25, -1.0, 0.0]),
    st.text(max_size=20).filter(lambda s: not s.strip().isdigit()),
    st.lists(st.integers(1, 100), max_size=3),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)
printable = st.characters(
    blacklist_categories=("Cc", "Cs", "Zl", "Zp"),
    blacklist_characters="".join(map(chr, [*range(0x202A, 0x202F), *range(0x2066, 0x206A)])),
)
valid_description = st.text(printable, max_size=255).map(lambda s: (s, s.strip()))
junk_description = st.one_of(
    st.integers(),
    st.floats(),
    st.booleans(),
    st.lists(st.text(max_size=3), max_size=3),
    st.text(printable, min_size=256, max_size=600),
    st.tuples(
        st.text(printable, max_size=20),
        st.characters(whitelist_categories=("Cc",)),
        st.text(printable, max_size=20),
    ).map("".join),
    st.sampled_from(
        [
            "x" * 10_000,
            "line1\nline2",
            "tab\there",
            "nul\x00byte",
            "\x1b[31mred",
            "line\u2028separator",
            "para\u2029separator",
            "bidi \u202eoverride",
            "isolate \u2066x\u2069",
        ]
    ),
)
json_scalar = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**31), 2**31), st.text(max_size=10)
)
valid_triggers = st.one_of(
    st.lists(json_scalar, max_size=4), st.dictionaries(st.text(max_size=8), json_scalar, max_size=4)
).map(lambda t: (t, t))
junk_triggers = st.one_of(
    st.text(max_size=10),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.just(["x" * 17_000]),
)
valid_bool = st.one_of(
    st.booleans().map(lambda b: (b, b)),
    st.sampled_from(["true", "false", "TRUE", "False"]).map(lambda s: (s, s.lower() == "true")),
)
junk_bool = st.one_of(
    st.integers(),
    st.floats(),
    st.text(max_size=10).filter(lambda s: s.lower() not in ("true", "false")),
    st.lists(st.booleans(), max_size=2),
)
valid_timeout = st.one_of(
    st.integers(1, 86_400).map(lambda i: (i, float(i))),
    st.floats(1.0, 86_400.0).map(lambda f: (f, f)),
    st.sampled_from([("90s", 90.0), ("45m", 2700.0), ("1h30m", 5400.0), ("24h", 86400.0)]),
)
junk_timeout = st.one_of(
    st.booleans(),
    st.integers(max_value=0),
    st.integers(86_401, 10**12),
    st.floats(max_value=0.99),
    st.floats(min_value=86_400.5),
    st.sampled_from([math.nan, math.inf, -math.inf, "soon", "90x", "-5m", "", "h", "1e400"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)

BACKUP_FIELDS: dict[str, tuple[Any, Any]] = {
    "server_id": (valid_id, junk_id),
    "description": (valid_description, junk_description),
    "triggers": (valid_triggers, junk_triggers),
    "wait_for_completion": (valid_bool, junk_bool),
    "timeout": (valid_timeout, junk_timeout),
    "existing_backup_id": (valid_id, junk_id),
}
RESTORE_FIELDS: dict[str, tuple[Any, Any]] = {
    "server_id": (valid_id, junk_id),
    "backup_id": (valid_id, junk_id),
    "triggers": (valid_triggers, junk_triggers),
    "wait_for_completion": (valid_bool, junk_bool),
    "timeout": (valid_timeout, junk_timeout),
}
REQUIRED = {"server_id", "backup_id"}
ID_FIELDS = {"server_id", "backup_id", "existing_backup_id"}


@st.composite
def property_bags(draw: Any, fields: dict[str, tuple[Any, Any]]) -> tuple[dict, dict, set]:
    """(news, expected normalised values, names of junk fields)."""
    news: dict[str, Any] = {}
    expected: dict[str, Any] = {}
    junk: set[str] = set()
    for name, (valid, bad) in fields.items():
        kind = draw(st.sampled_from(["absent", "valid", "valid", "junk"]))
        if kind == "absent":
            if name in REQUIRED:
                junk.add(name)  # "is required"
            continue
        if kind == "valid":
            value, normalised = draw(valid)
            news[name], expected[name] = value, normalised
        else:
            news[name] = draw(bad)
            junk.add(name)
    if draw(st.booleans()) and draw(st.integers(0, 9)) == 0:
        news["surprise"] = draw(nested_junk)
        junk.add("surprise")
    return news, expected, junk


# -- the host ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[FakeServer]:
    with served_fake() as server:
        yield server


@pytest.fixture(scope="module")
def host(served: FakeServer) -> Iterator[ProviderHost]:
    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as h:
        h.configure(
            {
                "vpsbackup:apiToken": TOKEN,
                "vpsbackup:apiUrl": served.url,
                "vpsbackup:pollInterval": "0.01",
                "vpsbackup:maxPollInterval": "0.05",
            },
            secret_keys={"vpsbackup:apiToken"},
        )
        yield h


def _check_property_bag(
    host: ProviderHost,
    type_: str,
    provider: str,
    bag: tuple[dict, dict, set],
    fields: dict[str, tuple[Any, Any]],
) -> None:
    news, expected, junk = bag
    # The program drops None inputs before they reach the engine.
    wire = {k: v for k, v in news.items() if v is not None}
    inputs, failures = host.check(urn(type_, "r"), {}, {**wire, "__provider": provider})
    failures = by_field(failures)
    named = {prop for prop, _ in failures}
    for prop, reason in failures:
        assert reason.strip(), f"an empty reason for {prop}"
        assert prop in fields or prop in junk, f"failure names no input: {prop!r}: {reason}"
    assert junk <= named, f"junk not reported: {junk - named}; failures {failures}; news {news}"
    # Beyond the junk, only the API may object, and only to ids it does not know.
    assert named - junk <= ID_FIELDS, f"valid input refused: {failures}; news {news}"
    if not failures:
        for name, value in expected.items():
            got = inputs[name]
            assert got == value and type(got) is type(value), f"{name}: {got!r} != {value!r}"


@HOST_SETTINGS
@given(bag=property_bags(BACKUP_FIELDS))
def test_backup_check_never_crashes_and_names_every_bad_field(
    host: ProviderHost, bag: tuple[dict, dict, set]
) -> None:
    _check_property_bag(host, BACKUP_TYPE, BACKUP_PROVIDER, bag, BACKUP_FIELDS)


@HOST_SETTINGS
@given(bag=property_bags(RESTORE_FIELDS))
def test_restore_check_never_crashes_and_names_every_bad_field(
    host: ProviderHost, bag: tuple[dict, dict, set]
) -> None:
    _check_property_bag(host, RESTORE_TYPE, RESTORE_PROVIDER, bag, RESTORE_FIELDS)


@HOST_SETTINGS
@given(field=st.sampled_from(sorted(BACKUP_FIELDS)), value=nested_junk)
def test_backup_check_survives_any_junk_in_any_field(
    host: ProviderHost, field: str, value: Any
) -> None:
    if value is None:
        return
    news = {"server_id": 12345, field: value, "__provider": BACKUP_PROVIDER}
    inputs, failures = host.check(urn(BACKUP_TYPE, "junk"), {}, news)
    failures = by_field(failures)
    for prop, reason in failures:
        assert prop in BACKUP_FIELDS and reason.strip()
    if field not in {prop for prop, _ in failures}:
        assert field in inputs  # accepted, so it was normalised and kept


def test_valid_inputs_normalise(host: ProviderHost) -> None:
    news = {
        "server_id": 12345.0,
        "description": "before release 2.4",
        "triggers": {"version": "2.4"},
        "wait_for_completion": "FALSE",
        "timeout": "1h30m",
        "__provider": BACKUP_PROVIDER,
    }
    inputs, failures = host.check(urn(BACKUP_TYPE, "ok"), {}, news)
    assert failures == []
    assert inputs["server_id"] == 12345 and inputs["timeout"] == 5400.0
    assert inputs["wait_for_completion"] is False


# -- the queries, in-process ------------------------------------------------------------


@pytest.fixture(scope="module")
def query_env(served: FakeServer) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("VPS_API_TOKEN", TOKEN)
        mp.setenv("VPS_API_URL", served.url)
        yield


FILTERS = ("server_id", "backup_type", "status", "description", "description_regex")
filter_junk = st.one_of(junk_id, junk_description, nested_junk, junk_scalar)
filter_values = st.one_of(
    st.none(),
    valid_id.map(lambda pair: pair[0]),
    st.sampled_from(["manual", "automatic", "completed", "in_progress", "failed", "weekly"]),
    st.text(max_size=30),
    filter_junk,
)


def _query_outcome(call: Any, fields: set[str], query: str) -> Any:
    try:
        return call()
    except FieldError as err:
        assert err.field in fields, f"a FieldError names {err.field!r}, not a given filter"
        assert str(err).startswith(f"{query}: {err.field}: ")
        return err
    except vps.VpsBackupError as err:
        assert str(err).strip()
        return err


@QUERY_SETTINGS
@given(filters=st.dictionaries(st.sampled_from(FILTERS), filter_values, max_size=5))
def test_get_backups_filters_fail_by_name(query_env: None, filters: dict[str, Any]) -> None:
    result = _query_outcome(lambda: vps.get_backups(**filters), set(filters), "get_backups")
    if isinstance(result, vps.GetBackupsResult):
        assert all(isinstance(i, int) for i in result.ids)
        if filters.get("backup_type") is not None:
            assert {b.backup_type for b in result.backups} <= {filters["backup_type"]}


@QUERY_SETTINGS
@given(filters=st.dictionaries(st.sampled_from(FILTERS), filter_values, max_size=5))
def test_get_latest_backup_filters_fail_by_name(query_env: None, filters: dict[str, Any]) -> None:
    result = _query_outcome(
        lambda: vps.get_latest_backup(**filters), set(filters), "get_latest_backup"
    )
    assert isinstance(result, (vps.BackupInfo, vps.VpsBackupError, FieldError))


@QUERY_SETTINGS
@given(
    ids=st.one_of(
        st.lists(st.one_of(valid_id.map(lambda p: p[0]), junk_id), max_size=4),
        st.lists(st.sampled_from([495, 499, 500, 501]), max_size=4),
    ),
    timeout=st.one_of(valid_timeout.map(lambda p: p[0]), junk_timeout),
)
def test_wait_for_backups_inputs_fail_by_name(
    query_env: None, ids: list[Any], timeout: Any
) -> None:
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool) and timeout > 5:
        timeout = 5  # a valid id that never completes must not hold the test for hours
    result = _query_outcome(
        lambda: vps.wait_for_backups(ids, timeout=timeout),
        {"backup_ids", "timeout"},
        "wait_for_backups",
    )
    if isinstance(result, list):
        assert [b.id for b in result] == [int(i) for i in ids]


# -- reproductions of what the properties found -------------------------------------------


def test_superscript_digit_id_is_a_check_failure_not_a_crash(host: ProviderHost) -> None:
    news = {"server_id": "²", "__provider": BACKUP_PROVIDER}
    _, failures = host.check(urn(BACKUP_TYPE, "sup"), {}, news)
    assert [prop for prop, _ in failures] == ["server_id"]


def test_superscript_digit_filter_names_the_field(query_env: None) -> None:
    with pytest.raises(FieldError, match=r"^get_backups: server_id: "):
        vps.get_backups(server_id="²")


@pytest.mark.parametrize("ids", ["512", 512], ids=["string", "int"])
def test_wait_for_backups_refuses_a_non_list(query_env: None, ids: Any) -> None:
    with pytest.raises(FieldError, match=r"^wait_for_backups: backup_ids: "):
        vps.wait_for_backups(ids, timeout="5s")


def test_bad_filter_errors_are_package_errors(query_env: None) -> None:
    with pytest.raises(vps.VpsBackupError):
        vps.get_backups(backup_type="weekly")


SURROGATE_PROGRAM = """
import pulumi
import pulumi_vpsbackup as vps

text = pulumi.Config("t").get("via") or "literal"
bad = "nightly \\ud800"
description = pulumi.Output.from_input(bad) if text == "output" else bad
vps.Backup("odd", server_id=12345, description=description)
"""


@pytest.mark.parametrize("via", ["literal", "output"])
def test_a_lone_surrogate_in_a_program_is_a_check_failure_naming_description(
    served: FakeServer, tmp_path: Any, via: str
) -> None:
    """The SDK cannot encode the text for the engine (a UnicodeEncodeError naming no
    field); Check refuses it first and names `description`."""
    from vpsbackup_dev.engine import EngineError

    from ._support import make_engine

    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(SURROGATE_PROGRAM, encoding="utf-8")
    engine = make_engine(tmp_path / "state.json", served.url, program / "__main__.py")
    engine.config["t:via"] = via
    with pytest.raises(EngineError) as info:
        engine.preview()
    assert [prop for prop, _ in info.value.failures] == ["description"], info.value.details
    reason = info.value.failures[0][1]
    assert reason.startswith("is not valid Unicode text: it holds a lone surrogate (U+D800)")
    assert "UnicodeEncodeError" not in info.value.details
