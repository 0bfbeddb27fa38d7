"""The native plugin's own promises, over gRPC as the engine calls it (no CLI needed).

The real-CLI tests (tests/cli/test_plugin_cli.py) show the user-visible
behaviour; these pin what the engine cannot show: that a preview Create and
Update send nothing to the API, how secrets and errors cross the wire, and
that the schema documents every property the plugin serves.
"""

from __future__ import annotations

import json
import time
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc

from pulumi_vpsbackup import __version__
from pulumi_vpsbackup.client.errors import VpsBackupError
from pulumi_vpsbackup.client.marker import is_owner_key, owner_key
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from pulumi_vpsbackup.plugin import BACKUP, schema_text, wire
from pulumi_vpsbackup.plugin.provider import (
    IDENTITY_KEY,
    INPUTS,
    INTERNAL_INPUTS,
    PROVIDER_SETTINGS,
)
from pulumi_vpsbackup.plugin.server import error_message, native_text
from tests.plugin.conftest import configure, running_plugin
from tests.programs.scenarios import TOKEN

Stub = provider_pb2_grpc.ResourceProviderStub
URN = "urn:pulumi:test::proj::vpsbackup:index:Backup::b"
GET_BACKUPS_TOKEN = "vpsbackup:index:getBackups"
RESTORE_URN = "urn:pulumi:test::proj::vpsbackup:index:Restore::r"


def writes(fake: FakeServer) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in fake.app.requests() if r["method"] != "GET"]


def checked(stub: Stub, news: dict[str, object], urn: str = URN) -> dict[str, object]:
    resp = stub.Check(provider_pb2.CheckRequest(urn=urn, news=wire.to_struct(news)))
    assert not resp.failures, resp.failures
    return wire.from_struct(resp.inputs)[0]


# ---- schema --------------------------------------------------------------------------


def test_schema_documents_every_property_the_plugin_serves() -> None:
    schema = json.loads(schema_text())
    assert schema["name"] == "vpsbackup"
    assert schema["language"]["python"]["packageName"] == "pulumi_vpsbackup_native"
    assert schema["language"]["nodejs"]["packageName"] == "@pulumi-vpsbackup/native"
    assert set(schema["config"]["variables"]) == set(PROVIDER_SETTINGS)
    assert set(schema["provider"]["inputProperties"]) == set(PROVIDER_SETTINGS)
    assert schema["provider"]["inputProperties"]["apiToken"]["secret"] is True
    assert set(schema["resources"]) == set(INPUTS)
    for token in INPUTS:
        resource = schema["resources"][token]
        assert set(resource["inputProperties"]) == set(INPUTS[token]), token
        # The owner key is documented; a rotation's or fleet's name and old keys
        # (for its messages and leftovers) are kept in state only, as undocumented.
        documented = set(INTERNAL_INPUTS[token]) - {"resourceName", "previousKeys"}
        assert documented <= set(resource["properties"]), token
    undocumented = []

    def walk(where: str, node: object) -> None:
        if isinstance(node, dict):
            for key in ("properties", "inputProperties"):
                for name, prop in (node.get(key) or {}).items():
                    if not prop.get("description"):
                        undocumented.append(f"{where}.{name}")
            for key, value in node.items():
                walk(f"{where}/{key}", value)

    walk("", schema)
    assert undocumented == []


def test_one_version_from_version_py_for_schema_and_plugin(plugin: Stub) -> None:
    """The version is written only in _version.py: schema.json has none, the plugin
    serves _version.py's in its schema and its PluginInfo, and tools/build_sdks.sh
    passes it to gen-sdk (tests/cli/test_dist_cli.py checks the SDKs carry it)."""
    from importlib import resources

    raw = json.loads(resources.files("pulumi_vpsbackup.plugin").joinpath("schema.json").read_text())
    assert "version" not in raw
    served = json.loads(plugin.GetSchema(provider_pb2.GetSchemaRequest()).schema)
    assert served["version"] == __version__
    assert list(served)[:2] == ["name", "version"]
    assert plugin.GetPluginInfo(empty_pb2.Empty()).version == __version__
    # Where the engine downloads a missing plugin from: the GitHub releases,
    # whose assets tools/build_dist.sh names as the engine asks for them.
    assert raw["pluginDownloadURL"] == "github://api.github.com/pulumi-vpsbackup/pulumi-vpsbackup"


# ---- configuration and secrets ---------------------------------------------------------


def test_check_config_keeps_the_token_secret_and_names_bad_settings(plugin: Stub) -> None:
    resp = plugin.CheckConfig(
        provider_pb2.CheckRequest(
            urn="urn:pulumi:test::proj::pulumi:providers:vpsbackup::acct",
            news=wire.to_struct({"apiToken": TOKEN, "apiUrl": "http://example.com/api/v1"}),
        )
    )
    raw = json.loads(json.dumps(dict(wire.json_format.MessageToDict(resp.inputs))))
    assert raw["apiToken"] == wire.secret(TOKEN), "a plain token comes back as a secret"
    assert [f.property for f in resp.failures] == ["apiUrl"]
    assert "plain http" in resp.failures[0].reason
    assert TOKEN not in resp.failures[0].reason


PROVIDER_URN = "urn:pulumi:test::proj::pulumi:providers:vpsbackup::default_0_1_0"


def _check_config(plugin: Stub, news: dict[str, object], olds: Any = None) -> dict[str, Any]:
    resp = plugin.CheckConfig(
        provider_pb2.CheckRequest(
            urn=PROVIDER_URN, olds=olds or wire.to_struct({}), news=wire.to_struct(news)
        )
    )
    assert not resp.failures, resp.failures
    return dict(wire.from_struct(resp.inputs)[0])


def _diff_config(plugin: Stub, olds: dict[str, Any], news: dict[str, Any]) -> Any:
    return plugin.DiffConfig(
        provider_pb2.DiffRequest(
            urn=PROVIDER_URN, olds=wire.to_struct(olds), news=wire.to_struct(news)
        )
    )


def test_the_provider_gets_a_stack_identity_once_and_keeps_it(plugin: Stub) -> None:
    settings = {"apiUrl": "https://admin.vps.org/api/v1"}
    first = _check_config(plugin, settings)
    identity = first[IDENTITY_KEY]
    assert isinstance(identity, str) and len(identity) == 32
    again = _check_config(plugin, settings, olds=wire.to_struct(first))
    assert again[IDENTITY_KEY] == identity, "a stored identity is kept"
    another = _check_config(plugin, settings)
    assert another[IDENTITY_KEY] != identity, "another stack (no stored inputs) gets its own"
    none = provider_pb2.DiffResponse.DIFF_NONE
    assert _diff_config(plugin, first, again).changes == none
    assert _diff_config(plugin, first, another).changes == none, "the identity is no setting"
    moved = _diff_config(plugin, first, {**again, "apiUrl": "https://other.example/api/v1"})
    assert moved.changes == provider_pb2.DiffResponse.DIFF_SOME
    assert list(moved.replaces) == [] and list(moved.diffs) == ["apiUrl"]


def test_two_stacks_with_one_urn_give_a_backup_two_owner_keys(fake: FakeServer) -> None:
    keys = []
    for identity in ("a1" * 16, "b2" * 16):
        with running_plugin() as stub:
            configure(stub, fake.url, identity=identity)
            keys.append(checked(stub, {"serverId": 12345})["resourceKey"])
    assert all(is_owner_key(k) for k in keys) and keys[0] != keys[1]
    assert keys[0] == owner_key("a1" * 16, URN)


def test_an_unknown_input_is_refused_by_its_schema_name(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    resp = plugin.Check(
        provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({"serverId": 12345, "timeout": 5}))
    )
    assert [f.property for f in resp.failures] == ["timeout"]
    assert "allowed: serverId" in resp.failures[0].reason
    resp = plugin.Check(provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({"serverId": -1})))
    assert [f.property for f in resp.failures] == ["serverId"]


def test_a_secret_input_stays_secret_in_the_outputs(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    inputs = checked(plugin, {"serverId": 12345, "description": "hidden"})
    resp = plugin.Create(
        provider_pb2.CreateRequest(
            urn=URN, properties=wire.to_struct(inputs, {"description"}), timeout=30
        )
    )
    outs = wire.json_format.MessageToDict(resp.properties)
    assert outs["description"] == wire.secret("hidden")
    assert outs["status"] == "completed"
    assert "timeout" not in outs and "account" not in outs


# ---- preview ---------------------------------------------------------------------------


def test_preview_create_and_update_send_nothing_to_the_api(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    inputs = checked(plugin, {"serverId": 12345, "description": "maybe"})
    fake.app.clear_requests()
    resp = plugin.Create(
        provider_pb2.CreateRequest(urn=URN, properties=wire.to_struct(inputs), preview=True)
    )
    assert resp.id == ""
    assert wire.from_struct(resp.properties)[0]["serverId"] == 12345
    assert writes(fake) == []

    made = plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=wire.to_struct(inputs)))
    assert writes(fake) == ["POST /api/v1/backups/"], "the real create does write"
    fake.app.clear_requests()
    news = {**inputs, "waitForCompletion": False}
    resp = plugin.Update(
        provider_pb2.UpdateRequest(
            urn=URN, id=made.id, olds=made.properties, news=wire.to_struct(news), preview=True
        )
    )
    assert wire.from_struct(resp.properties)[0]["waitForCompletion"] is False
    assert writes(fake) == []


# ---- read: refresh, import ------------------------------------------------------------------


def test_read_with_only_an_id_returns_inputs_or_a_clear_error(
    plugin: Stub, fake: FakeServer
) -> None:
    configure(plugin, fake.url)
    resp = plugin.Read(provider_pb2.ReadRequest(urn=URN, id="499"))
    assert resp.id == "499"
    inputs = wire.from_struct(resp.inputs)[0]
    assert inputs["serverId"] == 12345 and inputs["description"] == "Pre-update backup"
    assert wire.from_struct(resp.properties)[0]["backupId"] == 499

    with pytest.raises(grpc.RpcError) as caught:
        plugin.Read(provider_pb2.ReadRequest(urn=URN, id="987654"))
    details = caught.value.details()
    assert details.startswith("backup 987654 was not found with this provider's account")
    assert "Traceback" not in details


def test_refresh_of_a_backup_proven_gone_drops_it(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    inputs = checked(plugin, {"serverId": 12345})
    made = plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=wire.to_struct(inputs)))
    fake.app.remove_backup(int(made.id))
    resp = plugin.Read(provider_pb2.ReadRequest(urn=URN, id=made.id, properties=made.properties))
    assert resp.id == ""


def test_restore_by_id_alone(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    resp = plugin.Read(
        provider_pb2.ReadRequest(urn=RESTORE_URN, id="12345:499:20261201T120000.000000Z")
    )
    outs = wire.from_struct(resp.properties)[0]
    assert outs["serverId"] == 12345 and outs["backupId"] == 499
    assert outs["serverStatus"] == "active"


# ---- errors ----------------------------------------------------------------------------


def test_our_errors_are_their_message_in_the_schema_words() -> None:
    text = error_message(
        VpsBackupError(
            "existing_backup_id: backup 7 was not found on server 1; check the id "
            "with get_backups(server_id=1)"
        )
    )
    assert text == (
        "existingBackupId: backup 7 was not found on server 1; check the id with "
        "getBackups(serverId=1)"
    )
    assert native_text("GET /backups/?server_id=1&backup_id=2 failed") == (
        "GET /backups/?server_id=1&backup_id=2 failed"
    ), "a URL is quoted as it was sent"
    assert native_text("get_latest_backup: no backup matches server_id=1; see get_backups()") == (
        "getLatestBackup: no backup matches serverId=1; see getBackups()"
    ), "a query's error names the function the native SDKs call"
    assert native_text("Run `pulumi up` again (raise `timeout` first)") == (
        "Run `pulumi up` again (raise customTimeouts.create first)"
    )
    try:
        {}["x"]  # a bug, raised so that it has a traceback
    except KeyError as exc:
        bug = error_message(exc)
    assert bug.startswith("internal error in the vpsbackup provider plugin (KeyError")
    assert "Traceback" in bug, "a bug keeps its traceback for the report"


def test_a_create_refused_by_the_api_is_one_line_without_traceback(
    plugin: Stub, fake: FakeServer
) -> None:
    configure(plugin, fake.url, token="vps_wrong_token")
    inputs = {"serverId": 12345, "waitForCompletion": True, "resourceKey": "0123abcd"}
    with pytest.raises(grpc.RpcError) as caught:
        plugin.Create(provider_pb2.CreateRequest(urn=URN, properties=wire.to_struct(inputs)))
    details = caught.value.details()
    assert "Traceback" not in details
    assert "token" in details.splitlines()[0].lower(), details
    assert "vps_wrong_token" not in details


def test_update_waits_within_the_engines_update_timeout(plugin: Stub) -> None:
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=1), completion="time", backup_seconds=60)
    with serve(app) as slow:
        configure(plugin, slow.url)
        inputs = checked(plugin, {"serverId": 12345, "waitForCompletion": False})
        made = plugin.Create(
            provider_pb2.CreateRequest(urn=URN, properties=wire.to_struct(inputs), timeout=30)
        )
        assert wire.from_struct(made.properties)[0]["status"] == "in_progress"
        news = {**inputs, "waitForCompletion": True}
        started = time.monotonic()
        with pytest.raises(grpc.RpcError) as caught:
            plugin.Update(
                provider_pb2.UpdateRequest(
                    urn=URN, id=made.id, olds=made.properties, news=wire.to_struct(news), timeout=2
                )
            )
        took = time.monotonic() - started
        assert 1.5 < took < 10, took
        assert "after 2" in caught.value.details(), caught.value.details()
        assert "Traceback" not in caught.value.details()
        app.remove_backup(int(made.id))


def test_a_restore_runs_through_the_restore_provider(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    inputs = checked(plugin, {"serverId": 12345, "backupId": 499}, urn=RESTORE_URN)
    made = plugin.Create(
        provider_pb2.CreateRequest(urn=RESTORE_URN, properties=wire.to_struct(inputs), timeout=30)
    )
    assert made.id.startswith("12345:499:")
    outs = wire.from_struct(made.properties)[0]
    assert outs["restoreStatus"] == "completed" and outs["serverStatus"] == "active"
    assert [w for w in writes(fake) if "restore" in w] == ["POST /api/v1/servers/12345/restore/"]
    resp = plugin.Check(
        provider_pb2.CheckRequest(
            urn=RESTORE_URN, news=wire.to_struct({"serverId": 12345, "backupId": 999999})
        )
    )
    assert [f.property for f in resp.failures] == ["backupId"]


# ---- accounts: an explicit provider uses only its own settings --------------------------

EXPLICIT_URN = "urn:pulumi:test::proj::pulumi:providers:vpsbackup::account-b"
DEFAULT_URN = "urn:pulumi:test::proj::pulumi:providers:vpsbackup::default_0_1_0"


def configure_as(stub: Stub, urn: str, args: dict[str, object]) -> None:
    stub.Configure(
        provider_pb2.ConfigureRequest(
            urn=urn,
            name=urn.rsplit("::", 1)[1],
            type="pulumi:providers:vpsbackup",
            args=wire.to_struct(args, {"apiToken"}),
            acceptSecrets=True,
        )
    )


def api_requests(fake: FakeServer) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in fake.app.requests()]


def test_an_explicit_provider_with_a_url_and_no_token_never_sends_the_environments(
    fake: FakeServer,
) -> None:
    # VPS_API_TOKEN holds a token this URL accepts: were it sent, every call would work.
    with running_plugin({"VPS_API_TOKEN": TOKEN}) as stub:
        with pytest.raises(grpc.RpcError) as caught:
            configure_as(stub, EXPLICIT_URN, {"apiUrl": fake.url})
        details = caught.value.details()
        first = details.splitlines()[0]
        assert '"account-b"' in first and EXPLICIT_URN in first, details
        assert "no apiToken" in first and "VPS_API_TOKEN" in first, details
        assert "Traceback" not in details
        assert TOKEN not in details
        # Should the engine call on anyway, nothing reaches the API.
        calls = [
            lambda: stub.Read(provider_pb2.ReadRequest(urn=URN, id="499")),
            lambda: stub.Check(
                provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({"serverId": 12345}))
            ),
            lambda: stub.Invoke(
                provider_pb2.InvokeRequest(
                    tok="vpsbackup:index:getBackups", args=wire.to_struct({"serverId": 12345})
                )
            ),
        ]
        for call in calls:
            with pytest.raises(grpc.RpcError) as refused:
                call()
            assert "no apiToken" in refused.value.details()
    assert api_requests(fake) == [], "the fake at the provider's URL got no request"


def test_the_default_provider_and_a_bare_explicit_one_keep_the_environment(
    fake: FakeServer,
) -> None:
    # The stack's vpsbackup:apiUrl with the token from VPS_API_TOKEN: the documented default.
    with running_plugin({"VPS_API_TOKEN": TOKEN}) as stub:
        configure_as(stub, DEFAULT_URN, {"apiUrl": fake.url})
        assert stub.Read(provider_pb2.ReadRequest(urn=URN, id="499")).id == "499"
    # An explicit provider given nothing at all reads the environment, like the default.
    with running_plugin({"VPS_API_TOKEN": TOKEN, "VPS_API_URL": fake.url}) as stub:
        configure_as(stub, EXPLICIT_URN, {})
        assert stub.Read(provider_pb2.ReadRequest(urn=URN, id="499")).id == "499"


def test_an_explicit_provider_with_a_token_and_no_url_uses_the_apis_own_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pulumi_vpsbackup.client.settings import DEFAULT_BASE_URL
    from pulumi_vpsbackup.plugin import NativeProvider

    monkeypatch.setenv("VPS_API_URL", "http://127.0.0.1:9/api/v1")
    monkeypatch.setenv("VPS_API_TOKEN", "vps_someone_elses_token")
    provider = NativeProvider()
    provider.configure({"apiToken": TOKEN}, {}, EXPLICIT_URN)
    settings = provider._core(BACKUP).settings()
    assert settings.base_url == DEFAULT_BASE_URL, "never VPS_API_URL"
    assert settings.token.reveal() == TOKEN
    provider.configure({"apiUrl": "http://127.0.0.1:9/api/v1"}, {}, DEFAULT_URN)
    assert provider._core(BACKUP).settings().token.reveal() == "vps_someone_elses_token"


# ---- import is manual-only ------------------------------------------------------------------


def test_an_automatic_backup_is_never_imported_nor_deleted(plugin: Stub, fake: FakeServer) -> None:
    configure(plugin, fake.url)
    automatic = next(r for r in fake.app.state()["backups"] if r["backup_type"] == "automatic")
    with pytest.raises(grpc.RpcError) as caught:
        plugin.Read(provider_pb2.ReadRequest(urn=URN, id=str(automatic["id"])))
    details = caught.value.details()
    assert details.startswith(f"backup {automatic['id']} is automatic"), details
    assert "only manual backups can be imported" in details
    assert "Traceback" not in details
    # A stack that imported one before this refusal: destroy must not delete it.
    state = {
        "serverId": automatic["server"]["id"],
        "backupId": automatic["id"],
        "backupType": "automatic",
    }
    with pytest.raises(grpc.RpcError) as refused:
        plugin.Delete(
            provider_pb2.DeleteRequest(
                urn=URN, id=str(automatic["id"]), properties=wire.to_struct(state)
            )
        )
    assert "pulumi state delete" in refused.value.details()
    assert writes(fake) == [], "no DELETE reached VPS.org"


# ---- refused values are echoed escaped and short ------------------------------------------

TRICKY = "ok\nerror: forged\x1b[2J\u202eevil\u2066x\u2069"
RAW = ["\n", "\x1b", "\u202e", "\u2066", "\u2069"]


def test_the_plugins_checks_echo_refused_names_and_values_escaped_and_short(
    plugin: Stub, fake: FakeServer
) -> None:
    configure(plugin, fake.url)
    huge = "k" * 100_000
    texts = []
    for key in (TRICKY, huge):
        resp = plugin.CheckConfig(provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({key: 1})))
        texts += [f"{f.property}: {f.reason}" for f in resp.failures]
        resp = plugin.Check(provider_pb2.CheckRequest(urn=URN, news=wire.to_struct({key: 1})))
        texts += [f"{f.property}: {f.reason}" for f in resp.failures]
        with pytest.raises(grpc.RpcError) as caught:
            plugin.Invoke(
                provider_pb2.InvokeRequest(tok=GET_BACKUPS_TOKEN, args=wire.to_struct({key: 1}))
            )
        texts.append(caught.value.details())
    bad_values = {"serverId": TRICKY, "description": 7, "waitForCompletion": huge}
    resp = plugin.Check(provider_pb2.CheckRequest(urn=URN, news=wire.to_struct(bad_values)))
    texts += [f"{f.property}: {f.reason}" for f in resp.failures]
    assert len(texts) == 9, texts
    for text in texts:
        assert not any(c in text for c in RAW), text
        assert len(text) < 600, text[:300]
    assert sum("\\u202e" in t for t in texts) == 4, texts
    assert sum("100000 characters, 80 shown" in t for t in texts) == 4, texts


def test_the_plain_http_refusal_names_the_provider_setting_it_came_from(plugin: Stub) -> None:
    plain = {"apiToken": TOKEN, "apiUrl": "http://vps.example/api/v1"}
    reasons = {}
    for urn in (EXPLICIT_URN, DEFAULT_URN):
        resp = plugin.CheckConfig(provider_pb2.CheckRequest(urn=urn, news=wire.to_struct(plain)))
        (failure,) = resp.failures
        reasons[urn] = failure.reason
    assert (
        f'(the vpsbackup provider "account-b" ({EXPLICIT_URN})\'s apiUrl) uses plain http'
        in (reasons[EXPLICIT_URN])
    ), reasons
    assert "(vpsbackup:apiUrl) uses plain http" in reasons[DEFAULT_URN], reasons
    # Configure of an explicit provider refuses it the same way, before any request.
    with pytest.raises(grpc.RpcError) as caught:
        configure_as(plugin, EXPLICIT_URN, plain)
    assert "account-b" in caught.value.details() and "apiUrl) uses plain http" in (
        caught.value.details()
    )


def test_a_restore_an_interrupted_run_left_is_adopted_and_a_new_trigger_restores_again(
    plugin: Stub, fake: FakeServer
) -> None:
    """A restore runs once per intent through the plugin: the next `up` after a run
    killed once VPS.org had accepted the restore sends none; a changed `triggers`
    sends a new one."""
    import httpx

    configure(plugin, fake.url)
    with httpx.Client(base_url=fake.url, headers={"Authorization": f"Bearer {TOKEN}"}) as api:
        assert api.post("/servers/12345/restore/", json={"backup_id": 499}).status_code == 200

    def restores() -> list[str]:
        return [w for w in writes(fake) if w.endswith("/restore/")]

    inputs = checked(plugin, {"serverId": 12345, "backupId": 499}, urn=RESTORE_URN)
    made = plugin.Create(
        provider_pb2.CreateRequest(urn=RESTORE_URN, properties=wire.to_struct(inputs), timeout=30)
    )
    outs = wire.from_struct(made.properties)[0]
    assert restores() == ["POST /api/v1/servers/12345/restore/"]
    assert outs["restoreStatus"] == "completed" and outs["restoreStartedAt"]
    news = wire.from_struct(
        plugin.Check(
            provider_pb2.CheckRequest(
                urn=RESTORE_URN,
                olds=wire.to_struct(inputs),
                news=wire.to_struct({"serverId": 12345, "backupId": 499, "triggers": ["again"]}),
            )
        ).inputs
    )[0]
    diffed = plugin.Diff(
        provider_pb2.DiffRequest(
            urn=RESTORE_URN, id=made.id, olds=made.properties, news=wire.to_struct(news)
        )
    )
    assert list(diffed.replaces) == ["triggers"]
    plugin.Create(
        provider_pb2.CreateRequest(urn=RESTORE_URN, properties=wire.to_struct(news), timeout=30)
    )
    assert restores() == ["POST /api/v1/servers/12345/restore/"] * 2
