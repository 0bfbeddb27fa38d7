"""Error bodies of every kind, error messages, and lenient model parsing."""

from __future__ import annotations

import pickle
from datetime import datetime, timezone

import httpx
import pytest

import pulumi_vpsbackup.client as client_pkg
from pulumi_vpsbackup.client import (
    AccountRecord,
    ApiError,
    AuthenticationError,
    BackupRecord,
    BadRequestError,
    CreateReconciliationError,
    NotFoundError,
    PermissionDeniedError,
    RestoreResult,
    Server,
    ServerError,
    VpsBackupError,
    WaitTimeoutError,
)
from pulumi_vpsbackup.client.responses import error_from_response, parse_error_body


def make(
    status: int, body: str | None = None, json_body: object = None, **headers: str
) -> ApiError:
    if json_body is not None:
        response = httpx.Response(status, json=json_body, headers=headers)
    else:
        response = httpx.Response(status, text=body or "", headers=headers)
    return error_from_response("POST", "/backups/", response)


def test_drf_detail() -> None:
    error = make(404, json_body={"detail": "Not found."})
    assert isinstance(error, NotFoundError)
    assert error.message == "Not found."
    assert str(error) == "POST /backups/ failed with 404 Not Found: Not found."


def test_field_errors() -> None:
    error = make(400, json_body={"server_id": ["A valid integer is required."]})
    assert isinstance(error, BadRequestError)
    assert error.field_errors == {"server_id": ["A valid integer is required."]}
    assert str(error) == (
        "POST /backups/ failed with 400 Bad Request: server_id: A valid integer is required."
    )


def test_non_field_errors_and_several_fields() -> None:
    error = make(
        400,
        json_body={
            "non_field_errors": ["Backup limit reached (10 manual backups)."],
            "description": ["Too long.", "Bad chars."],
        },
    )
    assert error.field_errors == {"description": ["Too long.", "Bad chars."]}
    assert error.message == (
        "Backup limit reached (10 manual backups).; description: Too long. Bad chars."
    )


def test_other_json_shapes() -> None:
    assert make(400, json_body={"error": "bad thing", "code": 7}).message == "bad thing"
    assert make(400, json_body=["first", "second"]).message == "first; second"
    assert make(400, json_body={"nested": {"a": ["x"]}}).field_errors == {"nested": ["a: x"]}
    assert make(400, json_body=42).message == "42"


def test_html_body_is_stripped_and_truncated() -> None:
    html = (
        "<html><head><style>p{}</style></head><body><h1>502 Bad Gateway</h1>"
        + ("<p>nginx padding</p>" * 50)
        + "</body></html>"
    )
    error = make(502, html, **{"Content-Type": "text/html"})
    assert isinstance(error, ServerError)
    assert error.message.startswith("502 Bad Gateway nginx padding")
    assert "<" not in error.message and "p{}" not in error.message
    assert len(error.message) <= 200
    assert error.outcome_unknown


def test_plain_text_and_empty_bodies() -> None:
    assert make(500, "x" * 1000).message == "x" * 199 + "…"
    empty = make(503, "")
    assert empty.message == ""
    assert str(empty).startswith("POST /backups/ failed with 503 Service Unavailable.")


def test_request_id_is_kept() -> None:
    error = make(500, json_body={"detail": "boom"}, **{"X-Request-Id": "req-42"})
    assert error.request_id == "req-42"
    assert str(error).endswith("(request id req-42)")


def test_authentication_error_says_how_to_fix() -> None:
    text = str(make(401, json_body={"detail": "Invalid token."}))
    assert text.startswith("POST /backups/ failed with 401 Unauthorized: Invalid token.")
    assert "vpsbackup:apiToken" in text and "VPS_API_TOKEN" in text
    assert "\n" not in text


def test_permission_denied_names_permissions() -> None:
    error = PermissionDeniedError(
        "POST", "/backups/", 403, "nope", permissions=["backups:read", "servers:read"]
    )
    assert "backups:read, servers:read" in str(error)
    assert "create a token" in str(PermissionDeniedError("GET", "/x/", 403, "nope"))


def test_errors_share_one_root_and_pickle() -> None:
    for name in client_pkg.__all__:
        obj = getattr(client_pkg, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, VpsBackupError), name
    error = make(400, json_body={"server_id": ["bad"]}, **{"X-Request-Id": "r1"})
    clone = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
    assert type(clone) is BadRequestError
    assert str(clone) == str(error) and clone.field_errors == error.field_errors
    wait = pickle.loads(pickle.dumps(WaitTimeoutError("backup", 5, "in_progress", 3.0)))  # noqa: S301
    assert str(wait) == str(WaitTimeoutError("backup", 5, "in_progress", 3.0))


def test_reconciliation_error_names_candidates() -> None:
    text = str(CreateReconciliationError(12345, [7, 9]))
    assert "server 12345" in text and "(7, 9)" in text


def test_parse_error_body_is_total() -> None:
    for text in ["", "{", "null", "[]", "{}", '{"detail": null}', "\x00\xff"]:
        message, fields = parse_error_body(text)
        assert isinstance(message, str) and isinstance(fields, dict)


def test_backup_documented_shape_round_trips() -> None:
    data = {
        "id": 501,
        "server": {"id": 12345, "name": "web-server-01"},
        "backup_type": "automatic",
        "status": "completed",
        "size_mb": 4523,
        "created_at": "2025-01-16T03:00:00Z",
        "expires_at": "2025-02-16T03:00:00Z",
        "description": "Automatic daily backup",
    }
    backup = BackupRecord.from_dict(data)
    assert backup.server_id == 12345 and backup.server_name == "web-server-01"
    assert backup.created_at == datetime(2025, 1, 16, 3, tzinfo=timezone.utc)
    assert not backup.is_in_progress
    assert backup.to_dict() == {**data, "message": None}
    assert BackupRecord.from_dict(backup.to_dict()) == backup


def test_backup_parsing_is_lenient() -> None:
    backup = BackupRecord.from_dict(
        {
            "id": "502",
            "server_id": 7,
            "status": "archiving",
            "size_mb": None,
            "created_at": "yesterday",
            "expires_at": "2025-01-16T03:00:00",
            "brand_new_field": {"x": 1},
        }
    )
    assert backup.id == 502 and backup.server_id == 7 and backup.server_name is None
    assert backup.status == "archiving" and backup.backup_type == "unknown"
    assert backup.size_mb is None and backup.created_at is None
    assert backup.expires_at == datetime(2025, 1, 16, 3, tzinfo=timezone.utc)
    assert BackupRecord.from_dict({"id": 1, "server": 3, "status": "in_progress"}).is_in_progress
    assert BackupRecord.from_dict(
        {"id": 1, "server": 3, "created_at": "2025-01-16T05:00:00+02:00"}
    ).created_at == datetime(2025, 1, 16, 3, tzinfo=timezone.utc)


@pytest.mark.parametrize("bad", [{}, {"id": None}, {"id": "x"}, {"id": 1}, [], "501"])
def test_backup_without_id_or_server_is_refused(bad: object) -> None:
    with pytest.raises(ValueError):
        BackupRecord.from_dict(bad)  # type: ignore[arg-type]


def test_server_account_and_restore_result() -> None:
    server = Server.from_dict(
        {
            "id": 1,
            "status": "restoring",
            "plan": {"id": 2},
            "last_restore": {"backup_id": 5},
            "x": 1,
        }
    )
    assert server.status == "restoring" and server.plan == {"id": 2}
    assert server.last_restore == {"backup_id": 5} and server.os is None
    assert Server.from_dict(server.to_dict()) == server

    account = AccountRecord.from_dict(
        {
            "account": {"email": "a@b.c", "first_name": "A", "created_at": "2024-01-01T00:00:00Z"},
            "token": {"name": "ci", "permissions": ["backups:read", "backups:write"]},
        }
    )
    assert account.permissions == ("backups:read", "backups:write")
    assert account.token_name == "ci" and account.last_name is None
    assert AccountRecord.from_dict({}) == AccountRecord()

    result = RestoreResult.from_dict(
        {
            "status": "success",
            "message": "Server is being restored",
            "server": {"id": 9, "status": "restoring"},
        },
        server_id=9,
        backup_id=501,
    )
    assert result == RestoreResult("success", "Server is being restored", 9, "restoring", 501)
    assert RestoreResult.from_dict({}, server_id=1, backup_id=2).status == "unknown"


def test_api_error_attributes() -> None:
    error = AuthenticationError("GET", "/account/me/", 401, "bad", request_id="r")
    assert (error.method, error.path, error.status_code, error.request_id) == (
        "GET",
        "/account/me/",
        401,
        "r",
    )


def test_a_wait_error_states_its_outcome_without_advice_for_callers_with_their_own() -> None:
    from pulumi_vpsbackup.client.errors import RestoreFailedError, WaitTimeoutError

    timeout = WaitTimeoutError("backup", 502, "in_progress", 2.0)
    assert (
        timeout.what_happened() == "Timed out waiting for backup 502: still in_progress after 2.0 s"
    )
    assert "pick it up" in str(timeout)  # the client's own advice stays in its message
    failed = RestoreFailedError("restore", 12345, "stopped", 1.0, "backup_id=499")
    assert failed.what_happened().endswith("(backup_id=499)")
    assert "panel" in str(failed) and "panel" not in failed.what_happened()
