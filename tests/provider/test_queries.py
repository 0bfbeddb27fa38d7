"""get_backups, get_latest_backup and wait_for_backups, as a program calls them."""

from __future__ import annotations

import json
import pickle
import socket
import time

import pulumi
import pytest

import pulumi_vpsbackup as vps
from pulumi_vpsbackup.client import VpsClient
from pulumi_vpsbackup.provider.core.validation import FieldError
from pulumi_vpsbackup.provider.queries import functions as queries
from pulumi_vpsbackup.provider.queries import shown

from .conftest import TOKEN


@pytest.fixture
def api(served, fake, monkeypatch):
    """Settings reach the program through the environment (no stack config here)."""
    monkeypatch.setenv("VPS_API_TOKEN", TOKEN)
    monkeypatch.setenv("VPS_API_URL", served.url)
    return fake


def test_get_backups_filters_and_sorts_newest_first(api):
    result = vps.get_backups(server_id=12345)
    assert result.ids == [501, 495, 499]
    assert [b.id for b in result.backups] == result.ids
    manual = vps.get_backups(server_id=12345.0, backup_type="manual")  # engine-style float
    assert manual.ids == [499]
    info = manual.backups[0]
    assert info.description == "Pre-update backup"
    assert info.server_name == "web-server-01"
    assert info.expires_at is None
    assert vps.get_backups(description_regex="^Automatic").ids == [501, 500, 495]
    assert vps.get_backups(status="failed").ids == []


def test_get_latest_backup_and_its_error(api):
    assert vps.get_latest_backup(server_id=12345).id == 501
    assert vps.get_latest_backup(server_id=12345, backup_type="manual").id == 499
    with pytest.raises(vps.VpsBackupError, match=r"no backup matches server_id=12346, "):
        vps.get_latest_backup(server_id=12346, backup_type="manual")


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"server_id": -1}, "server_id"),
        ({"backup_type": "weekly"}, "backup_type"),
        ({"description_regex": "("}, "description_regex"),
    ],
)
def test_bad_filters_name_the_field(api, kwargs, field):
    with pytest.raises(FieldError) as info:
        vps.get_backups(**kwargs)
    assert str(info.value).startswith(f"get_backups: {field}: ")


def test_missing_token_names_every_way_to_set_it(served, fake, monkeypatch):
    monkeypatch.delenv("VPS_API_TOKEN", raising=False)
    monkeypatch.setenv("VPS_API_URL", served.url)
    with pytest.raises(vps.ConfigurationError) as info:
        vps.get_backups()
    text = str(info.value)
    assert "vpsbackup:apiToken" in text
    assert "VPS_API_TOKEN" in text


def test_wait_for_backups_waits_for_all_with_one_listing_per_poll(api):
    ids = [api.seed_backup(server_id=s, status="in_progress")["id"] for s in (12345, 12346, 12345)]
    api.clear_requests()
    done = vps.wait_for_backups(ids, timeout="30s")
    assert [b.id for b in done] == ids
    assert {b.status for b in done} == {"completed"}
    listings = [r for r in api.requests() if r["path"] == "/api/v1/backups/"]
    assert 2 <= len(listings) <= 3  # completion takes two reads; not one listing per backup


def test_wait_for_backups_reports_a_failed_backup(api):
    failing = api.seed_backup(server_id=12345, status="in_progress", will_fail=True)["id"]
    fine = api.seed_backup(server_id=12345, status="in_progress")["id"]
    with pytest.raises(vps.BackupFailedError, match=f"Backup {failing} ended with status failed"):
        vps.wait_for_backups([fine, failing], timeout=30)


def test_wait_for_backups_polls_on_the_stack_poll_interval(api, monkeypatch):
    """Before: the queries built their client from apiToken and apiUrl only, so
    `vpsbackup:pollInterval`, which the README documents, was ignored (1 s, doubling)."""
    config = {"vpsbackup:pollInterval": "0.05", "vpsbackup:maxPollInterval": "0.05"}
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    slept: list[float] = []
    # The wait sleeps with its client's Timing.
    monkeypatch.setattr(
        queries, "VpsClient", lambda settings, **kw: VpsClient(settings, sleep=slept.append, **kw)
    )
    ids = [api.seed_backup(server_id=12345, status="in_progress")["id"] for _ in range(2)]
    assert {b.status for b in vps.wait_for_backups(ids, timeout="30s")} == {"completed"}
    assert slept, "the backups completed without a single poll; the test proves nothing"
    assert all(0.045 <= delay <= 0.055 for delay in slept), slept


def test_wait_for_backups_stops_at_the_first_failure_of_any_backup(api):
    """The waits run one after another, but each poll looks at every backup: a
    failure of the last one ends the wait while the first is still running."""
    running = api.seed_backup(server_id=12345, status="in_progress")["id"]
    failed = api.seed_backup(server_id=12345, status="failed")["id"]
    with pytest.raises(vps.BackupFailedError, match=f"Backup {failed} ended with status failed"):
        vps.wait_for_backups([running, failed], timeout=30)


def test_wait_for_backups_believes_a_backup_gone_only_when_two_listings_miss_it(api):
    """Paging is no snapshot: one listing that misses a running backup (here an
    answer without it) is not proof; the next listing shows it, and the wait goes on."""
    running = api.seed_backup(server_id=12345, status="in_progress")["id"]
    empty = {"count": 0, "next": None, "previous": None, "results": []}
    api.add_fault(
        method="GET", path="/api/v1/backups/", phase="after", status=200, body=empty, count=1
    )
    api.clear_requests()
    done = vps.wait_for_backups([running], timeout="30s")
    assert [(b.id, b.status) for b in done] == [(running, "completed")]
    listings = [r for r in api.requests() if r["path"] == "/api/v1/backups/"]
    assert len(listings) >= 2  # the first, which missed it, and those after


def test_wait_for_backups_reports_a_backup_two_listings_in_a_row_miss(api):
    gone = api.seed_backup(server_id=12345, status="in_progress")["id"]
    api.remove_backup(gone)
    api.clear_requests()
    with pytest.raises(vps.BackupVanishedError, match=f"Backup {gone} disappeared"):
        vps.wait_for_backups([gone], timeout="30s")
    assert len([r for r in api.requests() if r["path"] == "/api/v1/backups/"]) == 2


class _NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return args.name, args.inputs

    def call(self, args):
        return {}


@pytest.fixture
def program(api):
    pulumi.runtime.set_mocks(_NoResources(), preview=False)
    yield api


@pulumi.runtime.test
def test_output_variants_take_and_return_outputs(program):
    server = pulumi.Output.from_input(12345)
    listing = vps.get_backups_output(server_id=server, backup_type="manual")
    latest = vps.get_latest_backup_output(server_id=server)

    def check(args):
        found, newest = args
        assert found.ids == [499]
        assert newest.id == 501

    return pulumi.Output.all(listing, latest).apply(check)


def test_every_function_accepts_invoke_options_and_refuses_resource_options(api):
    assert vps.get_backups(server_id=12345, opts=pulumi.InvokeOptions()).ids == [501, 495, 499]
    assert vps.get_latest_backup(server_id=12345, opts=pulumi.InvokeOptions()).id == 501
    assert vps.wait_for_backups([499], opts=pulumi.InvokeOptions())[0].id == 499
    for function in (vps.get_backups, vps.get_latest_backup, vps.get_backups_output):
        with pytest.raises(TypeError, match=r"opts must be a pulumi\.InvokeOptions or None"):
            function(server_id=12345, opts=pulumi.ResourceOptions())
    with pytest.raises(TypeError, match=r"opts must be a pulumi\.InvokeOptions"):
        vps.wait_for_backups_output([499], opts=pulumi.ResourceOptions())


class _SlowResources(pulumi.runtime.Mocks):
    """Resources that take a moment to be created, recording when they are done."""

    def __init__(self, events: list[str]) -> None:
        self.events = events

    def new_resource(self, args):
        time.sleep(0.3)
        self.events.append(f"created {args.name}")
        return f"{args.name}-id", args.inputs

    def call(self, args):
        return {}


@pytest.fixture
def events(api, monkeypatch):
    found: list[str] = []
    pulumi.runtime.set_mocks(_SlowResources(found), preview=False)
    real = queries.backups_of  # what both listing queries run

    def recording(*args, **kwargs):
        found.append("query")
        return real(*args, **kwargs)

    monkeypatch.setattr(queries, "backups_of", recording)
    return found


class _Thing(pulumi.CustomResource):
    def __init__(self, name: str) -> None:
        super().__init__("test:index:Thing", name, {})


@pulumi.runtime.test
def test_output_forms_run_after_the_resources_in_depends_on(events):
    thing = _Thing("first")
    listing = vps.get_backups_output(
        server_id=12345, opts=pulumi.InvokeOutputOptions(depends_on=[thing])
    )
    latest = vps.get_latest_backup_output(
        server_id=12345, opts=pulumi.InvokeOutputOptions(depends_on=thing)
    )

    def check(args):
        assert args[0].ids == [501, 495, 499] and args[1].id == 501
        assert events == ["created first", "query", "query"]

    return pulumi.Output.all(listing, latest).apply(check)


@pulumi.runtime.test
def test_without_depends_on_the_query_does_not_wait(events):
    _Thing("second")
    listing = vps.get_backups_output(server_id=12345, opts=pulumi.InvokeOutputOptions())

    def check(result):
        assert result.ids == [501, 495, 499]
        assert events[0] == "query"  # the proof that the test above can fail

    return listing.apply(check)


# ---- errors as a program shows them -----------------------------------------------------
#
# Pulumi's program runner prints a `pulumi.RunError` as its message alone; any
# other exception as "Program failed with an unhandled exception" and its
# traceback. A query's errors are both a RunError and their own class.

PLAIN_QUERIES = [
    ("get_backups", {}),
    ("get_latest_backup", {"server_id": 12345}),
    ("wait_for_backups", {"backup_ids": [499], "timeout": "5s"}),
]


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(("name", "kwargs"), PLAIN_QUERIES)
def test_a_missing_token_is_a_run_error_of_its_own_class_naming_the_query(
    served, fake, monkeypatch, name, kwargs
):
    monkeypatch.delenv("VPS_API_TOKEN", raising=False)
    monkeypatch.setenv("VPS_API_URL", served.url)
    with pytest.raises(vps.ConfigurationError) as info:
        getattr(vps, name)(**kwargs)
    error = info.value
    assert isinstance(error, pulumi.RunError), "Pulumi would print its traceback"
    assert isinstance(error, vps.VpsBackupError)
    assert type(error).__name__ == "ConfigurationError"
    text = str(error)
    assert text.startswith(f"{name}: No VPS.org API token"), text
    assert "pulumi config set --secret vpsbackup:apiToken" in text and "VPS_API_TOKEN" in text


def test_a_wrong_url_is_a_run_error_naming_the_host_and_the_setting(monkeypatch):
    port = closed_port()
    monkeypatch.setenv("VPS_API_TOKEN", TOKEN)
    monkeypatch.setenv("VPS_API_URL", f"http://127.0.0.1:{port}/api/v1")
    with pytest.raises(vps.TransportError) as info:
        vps.get_latest_backup(server_id=12345)
    error = info.value
    assert isinstance(error, pulumi.RunError)
    text = str(error)
    assert text.startswith("get_latest_backup: GET /backups/"), text
    assert f"from http://127.0.0.1:{port}" in text and "vpsbackup:apiUrl" in text
    assert TOKEN not in text and TOKEN not in repr(error)
    # Pickled (a process pool), it is the error it was: no token, its own class.
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(copy) is vps.TransportError and str(copy) == text.split(": ", 1)[1]
    assert TOKEN.encode() not in pickle.dumps(error)


def test_a_refused_filter_is_a_run_error_and_still_a_field_error(api):
    with pytest.raises(FieldError) as info:
        vps.get_backups(server_id=-1)
    assert isinstance(info.value, pulumi.RunError) and isinstance(info.value, ValueError)
    assert str(info.value).startswith("get_backups: server_id: "), str(info.value)


def test_what_is_not_ours_keeps_its_traceback(api):
    with pytest.raises(TypeError) as info:
        vps.get_backups(opts=pulumi.ResourceOptions())  # type: ignore[arg-type]
    assert not isinstance(info.value, pulumi.RunError), "a wrong argument points at its line"


def test_one_shown_class_per_error_class():
    assert shown.shown_class(vps.NotFoundError) is shown.shown_class(vps.NotFoundError)
    assert issubclass(shown.shown_class(vps.NotFoundError), vps.ApiError)
    error = shown.as_shown(vps.WaitTimeoutError("backup", 7, "in_progress", 3.0), "x")
    assert shown.as_shown(error, "outer") is error and str(error).startswith("outer: Timed out")


@pytest.fixture
def no_token_program(served, fake, monkeypatch):
    monkeypatch.delenv("VPS_API_TOKEN", raising=False)
    monkeypatch.setenv("VPS_API_URL", served.url)
    pulumi.runtime.set_mocks(_NoResources(), preview=False)


@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("get_backups_output", {"server_id": pulumi.Output.from_input(12345)}),
        ("get_latest_backup_output", {}),
        ("wait_for_backups_output", {"backup_ids": [499]}),
    ],
)
def test_an_output_forms_error_surfaces_from_its_apply_as_a_run_error(no_token_program, name, args):
    """The query runs inside an `apply`; the SDK re-raises what it raised when the
    program ends (it awaits every Output), so the runner sees the same error."""

    @pulumi.runtime.test
    def program():
        return getattr(vps, name)(**args)

    with pytest.raises(vps.ConfigurationError) as info:
        program()
    assert isinstance(info.value, pulumi.RunError)
    assert str(info.value).startswith(f"{name}: No VPS.org API token"), str(info.value)


def test_an_accounts_blank_token_in_an_output_form_is_a_run_error(program):
    other = vps.Account(api_token=pulumi.Output.secret(" "), api_url="http://127.0.0.1:1/api/v1")

    @pulumi.runtime.test
    def run():
        return vps.get_backups_output(account=other)

    with pytest.raises(vps.ConfigurationError) as info:
        run()
    assert isinstance(info.value, pulumi.RunError)
    assert str(info.value).startswith("get_backups_output: Account"), str(info.value)
