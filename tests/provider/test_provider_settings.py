"""Provider settings come from the stack config handed to configure(), then the environment."""

from __future__ import annotations

import json
import pickle

import pytest
from pulumi.dynamic import ConfigureRequest
from pulumi.dynamic.config import Config

from pulumi_vpsbackup import ConfigurationError
from pulumi_vpsbackup.provider import BackupProvider

TOKEN = "vps_provider_settings_token_77"


def configured(**config: str) -> BackupProvider:
    provider = BackupProvider()
    provider.configure(ConfigureRequest(Config(config, project_name="p")))
    return provider


def test_stack_config_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("VPS_API_TOKEN", "vps_from_the_environment_1")
    monkeypatch.setenv("VPS_API_URL", "https://env.example/api/v1")
    settings = configured(
        **{"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": "http://127.0.0.1:9/api/v1"}
    ).settings()
    assert settings.token.reveal() == TOKEN
    assert settings.base_url.startswith("http://127.0.0.1:9/api/v1")


def test_poll_settings_shape_the_schedule():
    settings = configured(
        **{
            "vpsbackup:apiToken": TOKEN,
            "vpsbackup:pollInterval": "0.5",
            "vpsbackup:maxPollInterval": "30",
        }
    ).settings()
    assert (settings.poll.initial, settings.poll.max_interval) == (0.5, 30.0)


@pytest.mark.parametrize("value", ["0", "-1", "soon", "7200"])
def test_a_poll_interval_that_would_hammer_or_stall_is_refused(value):
    provider = configured(**{"vpsbackup:apiToken": TOKEN, "vpsbackup:pollInterval": value})
    with pytest.raises(ConfigurationError, match=r"vpsbackup:pollInterval must be .* 0.01 to 3600"):
        provider.settings()


def test_the_host_and_a_program_make_the_same_settings_of_one_config(monkeypatch):
    """One path from stack config to client settings: the provider host (handed
    the config by configure()) and a query (reading it in the program) agree,
    polling included; an Account keeps the stack's polling."""
    from pulumi_vpsbackup.provider.core.config import program_config, settings_for

    config = {
        "vpsbackup:apiToken": TOKEN,
        "vpsbackup:apiUrl": "https://a.example/api/v1",
        "vpsbackup:pollInterval": "0.3",
        "vpsbackup:maxPollInterval": "7",
    }
    monkeypatch.setenv("PULUMI_CONFIG", json.dumps(config))
    monkeypatch.delenv("VPS_API_TOKEN", raising=False)
    monkeypatch.delenv("VPS_API_URL", raising=False)
    provider = configured(**config)
    in_host, in_program = provider.settings(), settings_for(program_config())
    assert (in_host.token.reveal(), in_host.base_url, in_host.poll) == (
        in_program.token.reveal(),
        in_program.base_url,
        in_program.poll,
    )
    assert (in_host.poll.initial, in_host.poll.max_interval) == (0.3, 7.0)
    account = {"api_url": "https://b.example/api/v1", "api_token": "vps_other_account_42"}
    other = provider.settings(account)
    assert (other.base_url, other.token.reveal()) == (account["api_url"], account["api_token"])
    assert other.poll == in_host.poll


def test_a_configured_provider_pickles_without_its_settings():
    provider = configured(**{"vpsbackup:apiToken": TOKEN})
    provider.client()
    raw = pickle.dumps(provider)
    assert TOKEN.encode() not in raw
    assert pickle.loads(raw)._config == {}  # noqa: S301 - our own bytes


# -- misspelt keys and a wrong API URL ----------------------------------------------


@pytest.fixture
def fresh_warnings(monkeypatch):
    from pulumi_vpsbackup.provider.core import base

    monkeypatch.setattr(base, "_warned_keys", set())


@pytest.mark.parametrize(
    ("key", "hint"),
    [
        ("vpsbackup:apiTokn", "did you mean vpsbackup:apiToken?"),
        ("vpsbackup:apiurl", "did you mean vpsbackup:apiUrl?"),
        ("vpsbackup:pollIntervall", "did you mean vpsbackup:pollInterval?"),
        ("vpsbackup:timeout", "timeout is an input of each Backup or Restore"),
        ("vpsbackup:colour", "known keys: vpsbackup:apiToken, vpsbackup:apiUrl"),
    ],
)
def test_an_unknown_vpsbackup_key_is_warned_about_by_name(fresh_warnings, capsys, key, hint):
    provider = configured(**{"vpsbackup:apiToken": TOKEN, key: "x", "aws:region": "eu"})
    err = capsys.readouterr().err
    assert f"vpsbackup: warning: unknown configuration key {key} is ignored;" in err
    assert hint in err
    assert "aws:region" not in err  # other namespaces are not ours to judge
    assert provider.settings().token.reveal() == TOKEN
    assert TOKEN not in err


def test_known_keys_give_no_warning_and_a_key_is_warned_about_once(fresh_warnings, capsys):
    configured(**{"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": "https://a.example/api/v1"})
    assert capsys.readouterr().err == ""
    from pulumi_vpsbackup.provider import RestoreProvider

    for provider in (BackupProvider(), RestoreProvider()):  # one host configures both
        provider.configure(ConfigureRequest(Config({"vpsbackup:timeout": "1"}, project_name="p")))
    assert capsys.readouterr().err.count("unknown configuration key vpsbackup:timeout") == 1


def test_the_provider_host_warns_about_a_misspelt_token_key():
    """Through the real SDK host: `vpsbackup:apiTokn` is not ignored in silence (the
    token would then come from nowhere); the user reads which key to fix."""
    from vpsbackup_dev.host import ProviderHost, serialize_provider, urn

    with ProviderHost(env={"VPS_API_TOKEN": "", "VPS_API_URL": ""}) as host:
        host.configure({"vpsbackup:apiTokn": TOKEN}, secret_keys={"vpsbackup:apiTokn"})
        provider = serialize_provider(BackupProvider())
        resource = urn("pulumi-python:dynamic/vpsbackup:Backup", "b")
        host.check(resource, {}, {"server_id": 12345, "__provider": provider})
    output = host.settled_output()  # all of it: the host has stopped
    assert "unknown configuration key vpsbackup:apiTokn is ignored" in output
    assert "did you mean vpsbackup:apiToken?" in output
    assert TOKEN not in output


def test_an_api_url_without_the_api_path_is_not_read_as_a_missing_server(capsys):
    """Before: `apiUrl=http://127.0.0.1:PORT` made every call 404, so preview said
    "server 12345 does not exist". Now the URL itself is refused, by name."""
    from pulumi_vpsbackup.fake import FakeClock, FakeVps, serve

    with serve(FakeVps(token=TOKEN, clock=FakeClock(scale=0))) as server:
        root = server.url[: -len("/api/v1")]
        provider = configured(**{"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": root})
        result = provider.check({}, {"server_id": 12345})
        assert result.failures == []  # not "server 12345 does not exist"
        warning = capsys.readouterr().err
        with pytest.raises(ConfigurationError) as info:
            provider.create({"server_id": 12345, "wait_for_completion": True, "timeout": 60.0})
        assert server.app.requests() == []
    for text in (warning, str(info.value)):
        assert f"The VPS.org API URL {root!r} (vpsbackup:apiUrl)" in text
        assert "ending in /api/v1" in text and f"did you mean '{root}/api/v1'" in text
        assert "does not exist" not in text
