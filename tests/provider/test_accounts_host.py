"""Several accounts: a resource or query with its own `Account`.

The provider host is configured with the stack's account (fake A); fake B is
another account on another port with its own token. Each resource must reach
the account stored with it, for every call, and no token may show anywhere.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from typing import Any

import pulumi
import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config
from pulumi.runtime import rpc

import pulumi_vpsbackup as vps
from pulumi_vpsbackup.fake import Behaviour, FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.provider import BackupProvider
from pulumi_vpsbackup.provider.core.account import account_input
from pulumi_vpsbackup.provider.core.validation import FieldError
from vpsbackup_dev.host import ProviderError, urn

from .conftest import BACKUP_TYPE, TOKEN, Engine, Resource, api_requests, fake_backups

TOKEN_B = "vps_second_account_3e9a1c77d2"
TOKEN_B2 = "vps_second_account_rotated_51b0"
SERVER = 12345


@pytest.fixture(scope="module")
def served_b() -> Iterator[FakeServer]:
    app = FakeVps(token=TOKEN_B, world="demo", clock=FakeClock(scale=0))
    with serve(app) as server:
        yield server


@pytest.fixture
def fake_b(served_b: FakeServer) -> FakeVps:
    app = served_b.app
    app.set_token(TOKEN_B)
    app.set_behaviour(Behaviour(completion="reads", completion_reads=2, restore_seconds=0))
    app.reset(world="demo")
    return app


def account(url: str, token: str = TOKEN_B) -> dict[str, Any]:
    """The `account` input as it reaches the host (the engine strips the secret)."""
    return {"api_url": url, "api_token": token}


def no_token_in(*texts: str) -> None:
    for text in texts:
        for token in (TOKEN, TOKEN_B, TOKEN_B2):
            assert token not in text


def test_each_backup_is_made_read_and_deleted_in_its_own_account(
    backups: Engine, fake: FakeVps, fake_b: FakeVps, served_b: FakeServer
) -> None:
    before_a, before_b = fake_backups(fake), fake_backups(fake_b)
    mine = backups.create("in-a", server_id=SERVER)
    theirs = backups.create("in-b", server_id=SERVER, account=account(served_b.url))
    made_a = set(fake_backups(fake)) - set(before_a)
    made_b = set(fake_backups(fake_b)) - set(before_b)
    assert made_a == {int(mine.id)} and made_b == {int(theirs.id)}
    assert theirs.outputs["account"] == account(served_b.url), "delete needs it: outputs only"
    assert "account" not in mine.outputs

    # Refresh reads each from its own account.
    for res, app in ((mine, fake), (theirs, fake_b)):
        app.clear_requests()
        id_, outs, _ = backups.host.read(res.id, res.urn, res.outputs)
        assert id_ == res.id and outs["backup_id"] == int(res.id)
        assert api_requests(app), "read asked the resource's own account"

    backups.delete(theirs)
    backups.delete(mine)
    assert fake_backups(fake) == before_a and fake_backups(fake_b) == before_b
    no_token_in(backups.host.settled_output())


def test_a_token_rotation_updates_in_place_and_the_new_token_deletes(
    backups: Engine, fake_b: FakeVps, served_b: FakeServer
) -> None:
    res = backups.create("rotated", server_id=SERVER, account=account(served_b.url))
    fake_b.set_token(TOKEN_B2)  # the old token is revoked
    fake_b.clear_requests()
    checked, diff = backups.diff(res, server_id=SERVER, account=account(served_b.url, TOKEN_B2))
    assert diff.changes and diff.replaces == [], "a credential is no reason to replace"
    outs = backups.host.update(res.id, res.urn, res.outputs, checked)
    assert outs["backup_id"] == int(res.id)
    assert outs["account"]["api_token"] == TOKEN_B2
    assert not [r for r in api_requests(fake_b) if r[0] in ("POST", "DELETE")]

    # Unchanged afterwards: the same token compares equal (by hash).
    _, again = backups.diff(
        Resource(res.urn, res.id, checked, outs),
        server_id=SERVER,
        account=account(served_b.url, TOKEN_B2),
    )
    assert again.changes is False

    backups.host.delete(res.id, res.urn, outs)
    assert int(res.id) not in fake_backups(fake_b)
    no_token_in(backups.host.settled_output())


def test_a_new_api_url_is_refused_and_names_both_urls(
    backups: Engine, fake: FakeVps, served: FakeServer, served_b: FakeServer
) -> None:
    old = {"server_id": SERVER, "account": account(served_b.url)}
    _, failures = backups.check("moved", {"server_id": SERVER}, olds=old)
    ((field, reason),) = failures
    assert field == "account"
    assert served_b.url in reason and served.url in reason
    assert "never moved between accounts" in reason
    no_token_in(reason)

    # From the stack's account to an Account at the same URL: only the token is new.
    _, failures = backups.check(
        "same-url", {"server_id": SERVER, "account": account(served.url, TOKEN)}, olds=old
    )
    assert failures and failures[0][0] == "account"  # old was B, new is A: refused
    _, failures = backups.check(
        "same-url",
        {"server_id": SERVER, "account": account(served.url, TOKEN)},
        olds={"server_id": SERVER},
    )
    assert failures == []


def test_an_unknown_token_at_preview_passes_check_without_asking(
    backups: Engine, fake_b: FakeVps, served_b: FakeServer
) -> None:
    fake_b.clear_requests()
    _, failures = backups.check(
        "later",
        {"server_id": SERVER, "account": {"api_url": served_b.url, "api_token": rpc.UNKNOWN}},
    )
    assert failures == []
    assert api_requests(fake_b) == []


def test_a_wrong_token_fails_without_showing_any_token(
    backups: Engine, fake_b: FakeVps, served_b: FakeServer
) -> None:
    inputs = {"server_id": SERVER, "account": account(served_b.url, TOKEN_B2)}
    checked, failures = backups.check("wrong", inputs)
    assert failures == [], "a bad token only warns at preview"
    with pytest.raises(ProviderError) as info:
        backups.host.create(urn(BACKUP_TYPE, "wrong"), checked)
    assert "401" in info.value.message or "token" in info.value.message.lower()
    no_token_in(info.value.details(), str(info.value), backups.host.settled_output())


def test_a_restore_runs_in_its_own_account(
    restores: Engine, fake: FakeVps, fake_b: FakeVps, served_b: FakeServer
) -> None:
    fake.clear_requests()
    fake_b.clear_requests()
    res = restores.create("r", server_id=SERVER, backup_id=499, account=account(served_b.url))
    assert ("POST", f"/api/v1/servers/{SERVER}/restore/") in api_requests(fake_b)
    assert not [r for r in api_requests(fake) if r[0] == "POST"]
    assert res.outputs["account"] == account(served_b.url)
    id_, _, inputs = restores.host.read(res.id, res.urn, res.outputs)
    assert id_ == res.id and inputs is not None and inputs["account"] == account(served_b.url)


def test_the_provider_pickles_to_nothing_after_using_accounts(
    served: FakeServer, served_b: FakeServer, fake_b: FakeVps
) -> None:
    provider = BackupProvider()
    config = {"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": served.url}
    provider.configure(ConfigureRequest(Config(config, project_name="p")))
    first = provider.client_for(account(served_b.url))
    assert provider.client_for(account(served_b.url)) is first, "cached"
    assert provider.client_for(account(served_b.url, TOKEN_B2)) is not first
    assert provider.client_for(None) is provider.client()
    raw = pickle.dumps(provider)
    for token in (TOKEN, TOKEN_B, TOKEN_B2):
        assert token.encode() not in raw
        assert all(token not in repr(key) for key in provider._clients)
    no_token_in(repr(provider), repr(first), repr(provider._clients))


# ---- the Account value ------------------------------------------------------------


def test_an_account_hides_its_token_and_refuses_to_be_pickled() -> None:
    acct = vps.Account(api_token=f" {TOKEN_B}\n", api_url="http://127.0.0.1:9/api/v1/")
    assert acct.api_url == "http://127.0.0.1:9/api/v1"
    assert acct.api_token == TOKEN_B, "the newline of a pasted secret is dropped"
    no_token_in(repr(acct), str(acct), f"{acct}")
    with pytest.raises(TypeError, match="refusing to pickle an Account"):
        pickle.dumps(acct)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"api_token": "vps_with space_1234"}, "a space"),
        (
            {"api_token": TOKEN_B, "api_url": "http://vps.example/api/v1"},
            r"\(the Account's api_url\) uses plain http",
        ),
        ({"api_token": TOKEN_B, "api_url": "https://admin.vps.org/"}, "ending in /api/v1"),
    ],
)
def test_a_bad_account_is_refused_where_it_is_written(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(vps.ConfigurationError, match=match) as info:
        vps.Account(**kwargs)
    assert "vps_with" not in str(info.value) and TOKEN_B not in str(info.value)


def test_check_names_a_bad_account_field_without_the_token() -> None:
    with pytest.raises(FieldError, match=r"^account: .*control character") as info:
        account_input("account", {"api_url": "https://admin.vps.org/api/v1", "api_token": "a\nb"})
    assert "a\nb" not in str(info.value)
    with pytest.raises(FieldError, match=r"must be a vps\.Account"):
        account_input("account", "vps_token_as_a_string")


def test_an_account_without_a_token_is_refused_by_name_never_filled_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The environment holds a token: an Account must neither use it nor tell the user to set it.
    monkeypatch.setenv("VPS_API_TOKEN", TOKEN_B)
    url = "http://127.0.0.1:9/api/v1"
    with pytest.raises(vps.ConfigurationError) as blank:
        vps.Account(api_token="  ", api_url=url)
    with pytest.raises(TypeError) as missing:
        vps.Account(api_token=None, api_url=url)  # type: ignore[arg-type]
    with pytest.raises(FieldError) as checked:
        account_input("account", {"api_url": url, "api_token": ""})
    for text in (str(blank.value), str(missing.value), str(checked.value)):
        assert url in text and "has no api_token" in text, text
        assert "never vpsbackup:apiToken or the VPS_API_TOKEN" in text, text
        assert "Provide one of" not in text, "an Account never reads the stack's settings"
    assert str(checked.value).startswith("account: the Account (api_url ")


# ---- queries ---------------------------------------------------------------------


def test_queries_list_and_wait_in_the_given_account(
    served: FakeServer, fake: FakeVps, fake_b: FakeVps, served_b: FakeServer, monkeypatch
) -> None:
    monkeypatch.setenv("VPS_API_TOKEN", TOKEN)
    monkeypatch.setenv("VPS_API_URL", served.url)
    only_b = fake_b.seed_backup(server_id=SERVER, description="only in B")["id"]
    acct = vps.Account(api_token=TOKEN_B, api_url=served_b.url)
    assert only_b in vps.get_backups(server_id=SERVER, account=acct).ids
    assert only_b not in vps.get_backups(server_id=SERVER).ids
    assert vps.get_latest_backup(description="only in B", account=acct).id == only_b
    assert [b.id for b in vps.wait_for_backups([only_b], timeout=5, account=acct)] == [only_b]
    secret_acct = vps.Account(api_token=pulumi.Output.secret(TOKEN_B), api_url=served_b.url)
    with pytest.raises(TypeError, match="use get_backups_output"):
        vps.get_backups(account=secret_acct)


class _NoResources(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return args.name, args.inputs

    def call(self, args):
        return {}


@pytest.fixture
def program(fake_b: FakeVps) -> FakeVps:
    pulumi.runtime.set_mocks(_NoResources(), preview=False)
    return fake_b


@pulumi.runtime.test
def test_output_forms_resolve_a_secret_token_and_return_no_secret(program, served_b):
    acct = vps.Account(api_token=pulumi.Output.secret(TOKEN_B), api_url=served_b.url)
    listing = vps.get_backups_output(server_id=SERVER, backup_type="manual", account=acct)
    latest = vps.get_latest_backup_output(server_id=SERVER, account=acct)
    waited = vps.wait_for_backups_output([499], timeout="5s", account=acct)

    def check(args):
        found, newest, done, secret = args
        assert found.ids == [499]
        assert newest.id == 501
        assert [b.id for b in done] == [499]
        assert secret is False, "the listing holds no token: not a secret"

    secret = pulumi.Output.all(listing.is_secret(), latest.is_secret(), waited.is_secret()).apply(
        lambda flags: any(flags)
    )
    return pulumi.Output.all(listing, latest, waited, secret).apply(check)


@pulumi.runtime.test
def test_a_plain_token_becomes_a_secret_input(program, served_b):
    acct = vps.Account(api_token=TOKEN_B, api_url=served_b.url)
    given = acct.to_input()
    assert given["api_url"] == served_b.url
    flags = pulumi.Output.all(given["api_token"].is_secret())
    return flags.apply(lambda f: f == [True] or pytest.fail(f"not a secret: {f}"))
