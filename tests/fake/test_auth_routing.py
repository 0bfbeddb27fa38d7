"""Authentication, unknown paths and wrong methods, in DRF's order."""

from __future__ import annotations

import httpx
import pytest

from pulumi_vpsbackup.fake import FakeVps

from ._support import make_client

PROTECTED = [
    ("GET", "/backups/"),
    ("POST", "/backups/"),
    ("DELETE", "/backups/501/"),
    ("GET", "/servers/"),
    ("GET", "/servers/12345/"),
    ("POST", "/servers/12345/restore/"),
    ("GET", "/account/me/"),
]


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_missing_token_is_401(fake: FakeVps, method: str, path: str) -> None:
    with make_client(fake, token=None) as anon:
        response = anon.request(method, path, json={"server_id": 12345})
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_wrong_token_is_401_and_changes_nothing(fake: FakeVps, method: str, path: str) -> None:
    before = fake.state()["backups"]
    with make_client(fake, token="vps_wrong") as intruder:
        response = intruder.request(method, path, json={"server_id": 12345, "backup_id": 501})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid token."}
    assert fake.state()["backups"] == before


@pytest.mark.parametrize(
    ("header", "detail"),
    [
        ("Token vps_test_token_123", "Authentication credentials were not provided."),
        ("Bearer", "Invalid token header. No credentials provided."),
        ("Bearer a b", "Invalid token header. Token string should not contain spaces."),
    ],
)
def test_malformed_authorization_headers_are_401(fake: FakeVps, header: str, detail: str) -> None:
    with make_client(fake, token=None) as anon:
        response = anon.get("/backups/", headers={"Authorization": header})
    assert response.status_code == 401
    assert response.json() == {"detail": detail}


def test_right_token_is_accepted_and_me_describes_it(client: httpx.Client) -> None:
    response = client.get("/account/me/")
    assert response.status_code == 200
    body = response.json()
    assert set(body["account"]) == {
        "email",
        "first_name",
        "last_name",
        "company_name",
        "created_at",
    }
    assert set(body["token"]) == {"name", "permissions"}
    assert isinstance(body["token"]["permissions"], list)


def test_token_never_appears_in_answers(fake: FakeVps, client: httpx.Client) -> None:
    for path in ("/account/me/", "/backups/", "/servers/"):
        assert "vps_test_token_123" not in client.get(path).text
    assert "vps_test_token_123" not in repr(fake)


def test_unknown_path_is_json_404_even_without_token(fake: FakeVps) -> None:
    with make_client(fake, token=None) as anon:
        response = anon.get("/nothing/here/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_missing_trailing_slash_is_404(client: httpx.Client) -> None:
    assert client.get("/backups").status_code == 404


def test_non_numeric_id_is_404(client: httpx.Client) -> None:
    assert client.delete("/backups/abc/").status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [("PUT", "/backups/"), ("PATCH", "/backups/501/"), ("DELETE", "/servers/12345/")],
)
def test_wrong_method_is_405_with_allow(client: httpx.Client, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert response.json() == {"detail": f'Method "{method}" not allowed.'}
    assert response.headers["allow"]


def test_wrong_method_without_token_is_401_first(fake: FakeVps) -> None:
    with make_client(fake, token=None) as anon:
        assert anon.put("/backups/").status_code == 401


def test_empty_token_is_refused_at_construction() -> None:
    with pytest.raises(ValueError):
        FakeVps(token="")
