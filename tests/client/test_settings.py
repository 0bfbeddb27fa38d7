"""Settings resolution order, URL rules and the Secret wrapper."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import dill
import pytest

from pulumi_vpsbackup._version import __version__
from pulumi_vpsbackup.client import (
    ClientSettings,
    ConfigurationError,
    Credentials,
    PollPolicy,
    Secret,
    VpsClient,
    resolve_settings,
)

from .conftest import TOKEN


def test_secret_hides_its_value() -> None:
    secret = Secret(TOKEN)
    assert repr(secret) == "Secret('********')"
    assert str(secret) == "Secret('********')"
    assert f"{secret}" == "Secret('********')"
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN) and secret != Secret("other")
    assert copy.deepcopy(secret) is secret
    with pytest.raises(AttributeError):
        secret._value = "x"  # type: ignore[misc]


@pytest.mark.parametrize("dumps", [pickle.dumps, dill.dumps])
def test_secret_settings_and_client_refuse_pickling(dumps: object) -> None:
    settings = resolve_settings(token=TOKEN, environ={})
    for thing in (Secret(TOKEN), settings, VpsClient(settings)):
        with pytest.raises(TypeError) as info:
            dumps(thing)  # type: ignore[operator]
        assert TOKEN not in str(info.value)


def test_explicit_arguments_win() -> None:
    settings = resolve_settings(
        token="from-arg",
        base_url="https://arg.example/api/v1/",
        config={"vpsbackup:apiToken": "from-config", "vpsbackup:apiUrl": "https://cfg.example"},
        environ={"VPS_API_TOKEN": "from-env", "VPS_API_URL": "https://env.example"},
    )
    assert settings.token.reveal() == "from-arg"
    assert settings.base_url == "https://arg.example/api/v1"


def test_config_comes_before_environment() -> None:
    settings = resolve_settings(
        config={
            "vpsbackup:apiToken": "from-config",
            "vpsbackup:apiUrl": "https://cfg.example/api/v1",
        },
        environ={"VPS_API_TOKEN": "from-env", "VPS_API_URL": "https://env.example"},
    )
    assert settings.token.reveal() == "from-config"
    assert settings.base_url == "https://cfg.example/api/v1"


def test_unnamespaced_config_keys_are_accepted() -> None:
    settings = resolve_settings(
        config={"apiToken": "plain", "apiUrl": "https://plain.example/api/v1"}, environ={}
    )
    assert settings.token.reveal() == "plain"
    assert settings.base_url == "https://plain.example/api/v1"


def test_environment_is_the_last_resort_and_url_has_a_default() -> None:
    settings = resolve_settings(config={"vpsbackup:apiToken": "  "}, environ={"VPS_API_TOKEN": "e"})
    assert settings.token.reveal() == "e"
    assert settings.base_url == "https://admin.vps.org/api/v1"


def test_environ_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VPS_API_TOKEN", "os-env-token")
    monkeypatch.setenv("VPS_API_URL", "http://localhost:8787/api/v1")
    settings = resolve_settings()
    assert settings.token.reveal() == "os-env-token"
    assert settings.base_url == "http://localhost:8787/api/v1"


def test_missing_token_names_the_two_ways_a_stack_has() -> None:
    # A Pulumi resource has no `token=` argument: the message offers only the
    # stack config and the environment, which every user can set.
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(config={}, environ={})
    text = str(info.value)
    assert text == (
        "No VPS.org API token is configured. Provide one of: "
        "`pulumi config set --secret vpsbackup:apiToken <token>` "
        "or the environment variable VPS_API_TOKEN."
    )
    assert "argument" not in text and "token=" not in text


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/api/v1",
        "http://127.3.4.5/api/v1",
        "http://localhost:1/api/v1",
        "http://LOCALHOST/api/v1",
        "http://[::1]:9000/api/v1",
    ],
)
def test_plain_http_is_allowed_to_loopback(url: str) -> None:
    assert resolve_settings(token="t", base_url=url, environ={}).base_url.startswith("http://")


@pytest.mark.parametrize(
    "url", ["http://admin.vps.org/api/v1", "http://10.0.0.1/api/v1", "http://[::2]/api/v1"]
)
def test_plain_http_elsewhere_is_refused(url: str) -> None:
    with pytest.raises(ConfigurationError, match="clear text"):
        resolve_settings(token="t", base_url=url, environ={})


PLAIN = "http://vps.example/api/v1"


@pytest.mark.parametrize(
    ("how", "source"),
    [
        ({"config": {"vpsbackup:apiUrl": PLAIN}, "environ": {}}, "(vpsbackup:apiUrl)"),
        ({"config": {"apiUrl": PLAIN}, "environ": {}}, "(vpsbackup:apiUrl)"),
        ({"environ": {"VPS_API_URL": PLAIN}}, "(the VPS_API_URL environment variable)"),
        ({"base_url": PLAIN, "environ": {}}, "(the base_url argument)"),
    ],
    ids=["stack config", "unnamespaced config", "environment", "argument"],
)
def test_the_plain_http_refusal_names_the_setting_it_came_from(
    how: dict[str, Any], source: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(token="t", **how)
    assert source in str(info.value) and "plain http" in str(info.value), str(info.value)
    with pytest.raises(ConfigurationError, match=r"\(ClientSettings\.base_url\) uses plain http"):
        ClientSettings(token="t", base_url=PLAIN)


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("ftp://admin.vps.org/api/v1", "https://"),
        ("admin.vps.org/api/v1", "https://"),
        ("https:///api/v1", "no host"),
        ("https://user:pw@admin.vps.org/api/v1", "credentials"),
        ("https://admin.vps.org/api/v1?x=1", "query"),
        ("https://admin.vps.org:99999/api/v1", "port"),
    ],
)
def test_bad_urls_are_refused(url: str, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match) as info:
        resolve_settings(token="t", base_url=url, environ={})
    assert "pw" not in str(info.value)


def test_url_is_normalised() -> None:
    settings = resolve_settings(token="t", base_url="HTTPS://Admin.VPS.org/api/v1///", environ={})
    assert settings.base_url == "https://admin.vps.org/api/v1"


def test_overrides_reach_the_settings_and_unknown_ones_fail() -> None:
    poll = PollPolicy(initial=2)
    settings = resolve_settings(token="t", environ={}, timeout=5, max_attempts=2, poll=poll)
    assert (settings.timeout, settings.max_attempts, settings.poll) == (5, 2, poll)
    with pytest.raises(TypeError, match="bogus"):
        resolve_settings(token="t", environ={}, bogus=1)


def test_user_agent_names_package_and_version() -> None:
    settings = resolve_settings(token="t", environ={})
    assert settings.user_agent.startswith(f"pulumi-vpsbackup/{__version__} httpx/")


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("verify", False, "cannot be disabled"),
        ("verify", "", "CA bundle"),
        ("timeout", 0, "timeout"),
        ("max_attempts", 0, "max_attempts"),
        ("max_retry_seconds", -1, "max_retry_seconds"),
    ],
)
def test_invalid_settings_are_refused(field: str, value: object, match: str) -> None:
    with pytest.raises(ConfigurationError, match=match):
        ClientSettings(token=Secret("t"), **{field: value})  # type: ignore[arg-type]


def test_settings_wrap_a_plain_token_and_never_show_it() -> None:
    settings = ClientSettings(token=TOKEN)  # type: ignore[arg-type]
    assert isinstance(settings.token, Secret)
    assert TOKEN not in repr(settings)
    assert TOKEN not in repr(VpsClient(settings))


def test_ca_bundle_path_is_used_for_verification(tmp_path: object) -> None:
    import pathlib
    import ssl

    import certifi

    bundle = pathlib.Path(str(tmp_path)) / "ca.pem"
    bundle.write_text(pathlib.Path(certifi.where()).read_text())
    client = VpsClient(ClientSettings(token=Secret("t"), verify=str(bundle)))
    pool = client._http._client._transport._pool  # type: ignore[attr-defined]
    assert isinstance(pool._ssl_context, ssl.SSLContext)
    assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
    client.close()


def test_poll_policy_validation() -> None:
    for bad in (
        {"initial": -1},
        {"factor": 0.5},
        {"jitter": 1.0},
        {"initial": 5, "max_interval": 1},
    ):
        with pytest.raises(ValueError):
            PollPolicy(**bad)  # type: ignore[arg-type]


# -- tokens that cannot be an HTTP header value -------------------------------------

BAD_TOKENS = {
    "newline inside": TOKEN[:10] + "\n" + TOKEN[10:],
    "carriage return inside": TOKEN[:10] + "\r" + TOKEN[10:],
    "NUL at the end": TOKEN + "\x00",
    "newline then NUL": TOKEN + "\n\x00",
    "tab inside": TOKEN[:10] + "\t" + TOKEN[10:],
    "DEL": TOKEN + "\x7f",
    "space inside": TOKEN[:10] + " " + TOKEN[10:],
    "non-ASCII letter": TOKEN + "é",
    "line separator inside": TOKEN[:10] + "\u2028" + TOKEN[10:],
    "zero-width space": TOKEN + "\u200b",
}


def _token_forms(token: str) -> list[str]:
    """The token and the pieces and escapes of it that an error could show."""
    import json

    core = max(
        "".join(c if (c.isascii() and c.isalnum()) or c == "_" else " " for c in token).split(),
        key=len,
    )
    return [
        token,
        repr(token)[1:-1],
        repr(token.encode("utf-8", "backslashreplace"))[2:-1],
        json.dumps(token)[1:-1],
        core,
    ]


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
@pytest.mark.parametrize("where", ["config", "environment", "argument", "settings"])
def test_a_token_that_is_no_header_value_is_refused_up_front(case: str, where: str) -> None:
    token = BAD_TOKENS[case]
    with pytest.raises(ConfigurationError) as info:
        if where == "config":
            resolve_settings(config={"vpsbackup:apiToken": token}, environ={})
        elif where == "environment":
            resolve_settings(environ={"VPS_API_TOKEN": token})
        elif where == "argument":
            resolve_settings(token=token, environ={})
        else:
            ClientSettings(token=Secret(token))
    text = str(info.value)
    source = {
        "config": "(vpsbackup:apiToken)",
        "environment": "(VPS_API_TOKEN)",
        "argument": "(the token argument)",
        "settings": "(vpsbackup:apiToken or VPS_API_TOKEN)",
    }[where]
    assert text.startswith(f"The VPS.org API token {source} contains "), text
    assert "only printable ASCII" in text and "cannot be sent in an HTTP header" in text
    shown = [text, repr(info.value), *(repr(a) for a in info.value.args)]
    shown += [str(info.value.__cause__), str(info.value.__context__)]
    for form in _token_forms(token):
        assert all(form not in s for s in shown), form


def test_a_non_ascii_token_never_reaches_httpx_as_a_unicode_error() -> None:
    with pytest.raises(ConfigurationError, match="non-ASCII"):
        VpsClient.from_env(environ={"VPS_API_TOKEN": "vps_tökén_123456"})


def test_whitespace_around_a_token_is_dropped_not_sent() -> None:
    # A trailing newline is what `pulumi config set --secret k "$(cat file)"` or a
    # paste usually adds: dropping it is safe, the token itself is unchanged.
    for source in (
        {"config": {"vpsbackup:apiToken": f"  {TOKEN}\r\n"}, "environ": {}},
        {"environ": {"VPS_API_TOKEN": f"\t{TOKEN}\n"}},
        {"token": Secret(f"{TOKEN}\n"), "environ": {}},
    ):
        assert resolve_settings(**source).token.reveal() == TOKEN  # type: ignore[arg-type]


def test_settings_built_directly_refuse_surrounding_whitespace() -> None:
    with pytest.raises(ConfigurationError, match="control character"):
        ClientSettings(token=Secret(TOKEN + "\n"))


# -- the base URL must be the API's -------------------------------------------------


@pytest.mark.parametrize(
    ("url", "suggestion"),
    [
        ("http://127.0.0.1:8787", "http://127.0.0.1:8787/api/v1"),
        ("http://127.0.0.1:8787/", "http://127.0.0.1:8787/api/v1"),
        ("https://admin.vps.org", "https://admin.vps.org/api/v1"),
        ("https://admin.vps.org/api", "https://admin.vps.org/api/api/v1"),
        ("https://admin.vps.org/api/v1/backups/", "https://admin.vps.org/api/v1"),
        ("https://admin.vps.org/api/v2", "https://admin.vps.org/api/v2/api/v1"),
    ],
)
def test_a_url_without_the_api_path_is_refused_with_the_expected_form(
    url: str, suggestion: str
) -> None:
    with pytest.raises(ConfigurationError) as info:
        resolve_settings(token="t", config={"vpsbackup:apiUrl": url}, environ={})
    text = str(info.value)
    assert "(vpsbackup:apiUrl)" in text
    assert "ending in /api/v1" in text and "https://admin.vps.org/api/v1" in text
    assert f"did you mean {suggestion!r}" in text


def test_the_url_error_names_the_environment_variable_when_it_came_from_there() -> None:
    with pytest.raises(ConfigurationError, match=r"\(the VPS_API_URL environment variable\)"):
        resolve_settings(token="t", environ={"VPS_API_URL": "https://admin.vps.org/v1"})


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8787/api/v1", "http://127.0.0.1:8787/api/v1/", "https://p.example/x/api/v1"],
)
def test_urls_ending_in_the_api_path_are_accepted(url: str) -> None:
    assert resolve_settings(token="t", base_url=url, environ={}).base_url == url.rstrip("/")


# ---- one credentials value, checked where it enters ----------------------------------


def test_credentials_are_checked_once_where_they_enter_and_trusted_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pulumi_vpsbackup.client.settings as settings_module

    calls: list[str] = []
    real = settings_module.check_token

    def counted(value: str, source: str = settings_module.TOKEN_SOURCES) -> str:
        calls.append(source)
        return real(value, source)

    monkeypatch.setattr(settings_module, "check_token", counted)
    from_config = resolve_settings(config={"vpsbackup:apiToken": f" {TOKEN}\n"}, environ={})
    assert calls == ["vpsbackup:apiToken"], "the stack's token is checked once"
    credentials = from_config.credentials
    assert credentials == Credentials("https://admin.vps.org/api/v1/", TOKEN)
    calls.clear()
    again = resolve_settings(credentials=credentials, config={"vpsbackup:pollInterval": "2"})
    assert calls == [], "checked credentials are not checked again"
    assert again.token.reveal() == TOKEN and again.base_url == from_config.base_url
    assert again.poll.initial == 2.0, "the stack's polling applies to any credentials"


def test_credentials_name_their_source_and_never_show_the_token() -> None:
    with pytest.raises(ConfigurationError, match=r"\(the Account's api_token\) contains a space"):
        Credentials(
            "https://admin.vps.org/api/v1", "vps_a b", token_source="the Account's api_token"
        )
    with pytest.raises(ConfigurationError, match=r"\(the Account's api_url\) must start with"):
        Credentials("ftp://x/api/v1", TOKEN, url_source="the Account's api_url")
    credentials = Credentials("https://ADMIN.vps.org/api/v1/", f"{TOKEN}\n")
    assert credentials.base_url == "https://admin.vps.org/api/v1"
    assert credentials.token.reveal() == TOKEN
    assert TOKEN not in repr(credentials) and TOKEN not in credentials.key
    assert credentials.key == Credentials("https://admin.vps.org/api/v1", TOKEN).key
    assert credentials != Credentials("https://admin.vps.org/api/v1", TOKEN + "x")
    assert len({credentials, Credentials("https://admin.vps.org/api/v1", TOKEN)}) == 1
    for dumps in (pickle.dumps, dill.dumps):
        with pytest.raises(TypeError, match="refusing to pickle"):
            dumps(credentials)
    with pytest.raises(AttributeError):
        credentials.token = Secret("x")  # type: ignore[misc]
    with pytest.raises(TypeError, match="not both"):
        resolve_settings(credentials=credentials, token=TOKEN)
