"""The user's own API pages, replayed: their curl and Python examples, host swapped.

The examples below are the ones in the Backups API documents (Turkish and
Hungarian pages, identical code). Only ``https://admin.vps.org`` is replaced by
the fake's address; the fake is started with the documents' placeholder token so
the headers work unchanged.
"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve

from ._support import START

DOC_HOST = "https://admin.vps.org"
DOC_TOKEN = "YOUR_API_TOKEN"

CURL_LIST = """curl -X GET "https://admin.vps.org/api/v1/backups/?server_id=12345" \\
  -H "Authorization: Bearer YOUR_API_TOKEN" \\
  -H "Content-Type: application/json\""""

CURL_CREATE = """curl -X POST "https://admin.vps.org/api/v1/backups/" \\
  -H "Authorization: Bearer YOUR_API_TOKEN" \\
  -H "Content-Type: application/json" \\
  -d '{
    "server_id": 12345,
    "description": "Pre-deployment backup"
  }'"""

CURL_DELETE = """curl -X DELETE "https://admin.vps.org/api/v1/backups/501/" \\
  -H "Authorization: Bearer YOUR_API_TOKEN" \\
  -H "Content-Type: application/json\""""

PY_LIST = """import requests

url = "https://admin.vps.org/api/v1/backups/"
headers = {
    "Authorization": "Bearer YOUR_API_TOKEN",
    "Content-Type": "application/json"
}
params = {"server_id": 12345}

response = requests.get(url, headers=headers, params=params)
print(response.json())
"""

PY_CREATE = """import requests

url = "https://admin.vps.org/api/v1/backups/"
headers = {
    "Authorization": "Bearer YOUR_API_TOKEN",
    "Content-Type": "application/json"
}
data = {
    "server_id": 12345,
    "description": "Pre-deployment backup"
}

response = requests.post(url, headers=headers, json=data)
print(response.json())
"""

PY_DELETE = """import requests

backup_id = 501
url = f"https://admin.vps.org/api/v1/backups/{backup_id}/"
headers = {
    "Authorization": "Bearer YOUR_API_TOKEN",
    "Content-Type": "application/json"
}

response = requests.delete(url, headers=headers)
print(response.status_code)
"""

BACKUP_KEYS = {
    "id", "server", "backup_type", "status", "size_mb", "created_at", "expires_at", "description",
}  # fmt: skip


@pytest.fixture
def doc_server() -> Iterator[FakeServer]:
    fake = FakeVps(token=DOC_TOKEN, clock=FakeClock(START, 0))
    with serve(fake) as server:
        yield server


def _curl(example: str, server: FakeServer) -> tuple[int, str]:
    """Run a documented curl command; returns (HTTP status, body)."""
    curl = shutil.which("curl")
    if curl is None:
        pytest.skip("curl is not installed")
    command = example.replace("\\\n", " ").replace(DOC_HOST, server.root_url)
    argv = shlex.split(command)
    assert argv[0] == "curl"
    argv = [curl, "-sS", "-w", "\n%{http_code}", *argv[1:]]
    result = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=True)
    body, _, status = result.stdout.rpartition("\n")
    return int(status), body


def _python(example: str, server: FakeServer) -> str:
    """Run a documented Python snippet and return what it printed."""
    code = example.replace(DOC_HOST, server.root_url)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, "<seed example>", "exec"), {})  # noqa: S102 - the user's own example
    return out.getvalue()


def test_curl_list(doc_server: FakeServer) -> None:
    status, body = _curl(CURL_LIST, doc_server)
    assert status == 200
    data = json.loads(body)
    assert data["count"] == 3
    assert {b["id"] for b in data["results"]} == {501, 499, 495}
    assert all(set(b) == BACKUP_KEYS for b in data["results"])


def test_curl_create(doc_server: FakeServer) -> None:
    status, body = _curl(CURL_CREATE, doc_server)
    assert status == 201
    data = json.loads(body)
    assert set(data) == BACKUP_KEYS | {"message"}
    assert data["id"] == 502
    assert data["status"] == "in_progress" and data["size_mb"] is None
    assert data["description"] == "Pre-deployment backup"


def test_curl_delete(doc_server: FakeServer) -> None:
    status, body = _curl(CURL_DELETE, doc_server)
    assert (status, body) == (204, "")
    status, _ = _curl(CURL_DELETE, doc_server)
    assert status == 404


def test_python_list(doc_server: FakeServer) -> None:
    printed = _python(PY_LIST, doc_server)
    assert printed.startswith("{'count': 3, ")
    assert "'id': 501" in printed and "'server': {'id': 12345, 'name': 'web-server-01'}" in printed


def test_python_create(doc_server: FakeServer) -> None:
    printed = _python(PY_CREATE, doc_server)
    assert "'id': 502" in printed
    assert "'status': 'in_progress'" in printed
    assert "'message': 'Backup is being created." in printed


def test_python_delete(doc_server: FakeServer) -> None:
    assert _python(PY_DELETE, doc_server) == "204\n"
    assert _python(PY_DELETE, doc_server) == "404\n"


def test_the_documented_restore_body(doc_server: FakeServer) -> None:
    import requests

    response = requests.post(
        doc_server.url + "/servers/12345/restore/",
        headers={"Authorization": f"Bearer {DOC_TOKEN}", "Content-Type": "application/json"},
        json={"backup_id": 501},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["server"]["status"] == "restoring"
