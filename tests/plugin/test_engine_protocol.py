"""The plugin's side of the engine protocol over gRPC: Cancel, Handshake, DiffConfig
and detailed diffs, as Pulumi's engine (pkg/v3 resource/plugin/provider_plugin.go,
v3.276.0) reads them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import empty_pb2
from google.rpc import status_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.plugin import wire
from pulumi_vpsbackup.plugin.provider import IDENTITY_KEY
from tests.plugin.conftest import IDENTITY, running_plugin
from tests.programs.scenarios import TOKEN, WEB_SERVER, backups

Stub = provider_pb2_grpc.ResourceProviderStub
URN = "urn:pulumi:test::proj::vpsbackup:index:Backup::b"


@pytest.fixture
def slow() -> Iterator[FakeServer]:
    """Backups that take ten minutes of real time."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=600)
    with serve(app) as server:
        yield server


def init_failure(error: grpc.RpcError) -> provider_pb2.ErrorResourceInitFailed | None:
    """The `ErrorResourceInitFailed` in a failed call's status details, as the engine
    reads it (`parseError`), if there is one."""
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                found = provider_pb2.ErrorResourceInitFailed()
                if detail.Unpack(found):
                    return found
    return None


def test_cancel_stops_a_create_wait_at_once_and_hands_its_backup_to_the_engine(
    plugin: Stub, slow: FakeServer
) -> None:
    # Polls 30 s apart: the wait is asleep when Cancel comes.
    args = {
        "apiUrl": slow.url,
        "apiToken": TOKEN,
        "pollInterval": 30,
        IDENTITY_KEY: IDENTITY,
    }
    plugin.Configure(provider_pb2.ConfigureRequest(args=wire.to_struct(args, {"apiToken"})))
    news = wire.to_struct({"serverId": WEB_SERVER, "description": "long one"})
    inputs = plugin.Check(provider_pb2.CheckRequest(urn=URN, news=news)).inputs
    before = set(backups(slow.app))
    call = plugin.Create.future(provider_pb2.CreateRequest(urn=URN, properties=inputs))
    deadline = time.monotonic() + 30
    while not set(backups(slow.app)) - before:  # the backup is made: the wait begins
        assert time.monotonic() < deadline and not call.done(), "the create never started"
        time.sleep(0.05)

    cancelled = time.monotonic()
    plugin.Cancel(empty_pb2.Empty())
    with pytest.raises(grpc.RpcError) as caught:
        call.result(timeout=10)
    took = time.monotonic() - cancelled
    assert took < 1.0, f"the create went on for {took:.1f} s after Cancel"

    kept = init_failure(caught.value)
    assert kept is not None, "no ErrorResourceInitFailed: the engine would drop the backup"
    (made,) = set(backups(slow.app)) - before
    assert kept.id == str(made), "the engine keeps in state the backup that exists"
    properties = wire.from_struct(kept.properties)[0]
    assert properties["backupId"] == made and properties["status"] == "in_progress"
    assert properties["description"] == "long one"
    assert "the operation was cancelled" in caught.value.details()
    assert "the next `pulumi up` waits for it" in caught.value.details()

    # After Cancel the plugin starts nothing new.
    with pytest.raises(grpc.RpcError) as refused:
        plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=inputs))
    assert "cancelled" in refused.value.details()
    assert set(backups(slow.app)) - before == {made}, "no backup outside state"
    slow.app.remove_backup(made)


def test_handshake_first_then_configure_and_create_as_the_engine_calls_them(
    plugin: Stub, fake: FakeServer, tmp_path: Path
) -> None:
    """The engine (3.276) calls Handshake before anything else and takes its answer
    over Configure's; the two must agree, and Configure must work after it."""
    shook = plugin.Handshake(
        provider_pb2.ProviderHandshakeRequest(
            engine_address="127.0.0.1:1",
            root_directory=str(tmp_path),
            program_directory=str(tmp_path),
            configure_with_urn=True,
            supports_views=True,
            supports_refresh_before_update=True,
            invoke_with_preview=True,
            accepts_byte_string=True,
        )
    )
    assert shook.accept_secrets and not shook.accept_resources and not shook.accept_outputs
    assert not shook.accepts_byte_string and not shook.supports_autonaming_configuration

    args = {"apiUrl": fake.url, "apiToken": TOKEN, IDENTITY_KEY: IDENTITY}
    configured = plugin.Configure(
        provider_pb2.ConfigureRequest(
            args=wire.to_struct(args, {"apiToken"}),
            acceptSecrets=True,
            acceptResources=True,
            urn="urn:pulumi:test::proj::pulumi:providers:vpsbackup::default",
            type="pulumi:providers:vpsbackup",
            name="default",
        )
    )
    assert (configured.acceptSecrets, configured.acceptResources, configured.acceptOutputs) == (
        shook.accept_secrets,
        shook.accept_resources,
        shook.accept_outputs,
    )
    assert configured.supportsPreview

    news = wire.to_struct({"serverId": WEB_SERVER, "description": "after handshake"})
    inputs = plugin.Check(provider_pb2.CheckRequest(urn=URN, news=news)).inputs
    before = set(backups(fake.app))
    preview = plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=inputs, preview=True))
    assert preview.id == "" and set(backups(fake.app)) == before
    made = plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=inputs))
    assert set(backups(fake.app)) - before == {int(made.id)}
    assert wire.from_struct(made.properties)[0]["status"] == "completed"


PROVIDER_URN = "urn:pulumi:test::proj::pulumi:providers:vpsbackup::default"
KIND = provider_pb2.PropertyDiff


def kinds(resp: provider_pb2.DiffResponse) -> dict[str, int]:
    assert resp.hasDetailedDiff
    assert all(d.inputDiff for d in resp.detailedDiff.values())
    return {name: d.kind for name, d in resp.detailedDiff.items()}


def test_a_backups_diff_names_each_changed_input_and_whether_it_replaces(
    plugin: Stub, fake: FakeServer
) -> None:
    args = {"apiUrl": fake.url, "apiToken": TOKEN, IDENTITY_KEY: IDENTITY}
    plugin.Configure(provider_pb2.ConfigureRequest(args=wire.to_struct(args, {"apiToken"})))
    old = {"serverId": WEB_SERVER, "description": "before", "waitForCompletion": True}
    old_inputs = plugin.Check(provider_pb2.CheckRequest(urn=URN, news=wire.to_struct(old))).inputs
    made = plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=old_inputs))

    def diff(new: dict[str, object]) -> provider_pb2.DiffResponse:
        news = plugin.Check(
            provider_pb2.CheckRequest(urn=URN, olds=old_inputs, news=wire.to_struct(new))
        ).inputs
        return plugin.Diff(
            provider_pb2.DiffRequest(
                urn=URN, id=made.id, olds=made.properties, news=news, old_inputs=old_inputs
            )
        )

    replaced = diff({**old, "description": "after", "waitForCompletion": False})
    assert replaced.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(replaced.replaces) == ["description"]
    assert kinds(replaced) == {"description": KIND.UPDATE_REPLACE, "waitForCompletion": KIND.UPDATE}

    added = diff({**old, "triggers": {"release": "v2"}})
    assert kinds(added) == {"triggers": KIND.ADD_REPLACE}

    same = diff(old)
    assert same.changes == provider_pb2.DiffResponse.DIFF_NONE and kinds(same) == {}
    fake.app.remove_backup(int(made.id))


def test_diff_config_names_each_changed_setting_as_an_in_place_update(plugin: Stub) -> None:
    olds = {
        "apiUrl": "https://a.example/api/v1",
        "apiToken": TOKEN,
        "maxPollInterval": 60,
        IDENTITY_KEY: IDENTITY,
    }
    news = {
        "apiUrl": "https://b.example/api/v1",
        "apiToken": "vps_rotated_token_0123456789",
        "pollInterval": 2,
    }
    resp = plugin.DiffConfig(
        provider_pb2.DiffRequest(
            urn=PROVIDER_URN,
            olds=wire.to_struct(olds, {"apiToken"}),
            old_inputs=wire.to_struct(olds, {"apiToken"}),
            news=wire.to_struct(news, {"apiToken"}),
        )
    )
    assert resp.changes == provider_pb2.DiffResponse.DIFF_SOME and not resp.replaces
    assert kinds(resp) == {
        "apiUrl": KIND.UPDATE,
        "apiToken": KIND.UPDATE,
        "pollInterval": KIND.ADD,
        "maxPollInterval": KIND.DELETE,
    }, "the identity is no setting: never shown"


def test_an_sdk_filled_environment_token_never_goes_to_an_explicit_providers_own_url(
    fake: FakeServer,
) -> None:
    """The generated SDKs fill an explicit provider's unset apiToken from VPS_API_TOKEN
    (the schema's defaultInfo): with an apiUrl of its own, that token is refused
    before any request; with the environment's URL too, it is the environment's
    account, as for a provider given no setting."""
    urn = "urn:pulumi:test::proj::pulumi:providers:vpsbackup::account-b"
    args = {"apiUrl": fake.url, "apiToken": TOKEN, IDENTITY_KEY: IDENTITY}
    request = provider_pb2.ConfigureRequest(args=wire.to_struct(args, {"apiToken"}), urn=urn)
    with running_plugin({"VPS_API_TOKEN": TOKEN}) as stub:
        with pytest.raises(grpc.RpcError) as caught:
            stub.Configure(request)
    details = caught.value.details()
    assert "account-b" in details and "VPS_API_TOKEN" in details and "api_token=" in details
    assert TOKEN not in details
    assert fake.app.requests() == [], "the URL received nothing"

    with running_plugin({"VPS_API_TOKEN": TOKEN, "VPS_API_URL": fake.url}) as stub:
        stub.Configure(request)
        listed = stub.Invoke(
            provider_pb2.InvokeRequest(
                tok="vpsbackup:index:getBackups", args=wire.to_struct({"serverId": WEB_SERVER})
            )
        )
    assert wire.from_struct(getattr(listed, "return"))[0]["backups"]
