"""Constants and helpers shared by the fake's tests (imported, unlike conftest)."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import httpx

from pulumi_vpsbackup.fake import FakeVps, LaunchedFake

TOKEN = "vps_test_token_123"
START = datetime(2025, 1, 17, 12, 0, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[2]


def make_client(app: FakeVps, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://fake.test/api/v1",
        headers=headers,
    )


#: A fake started as ``python -m pulumi_vpsbackup.fake`` by the package's own launcher.
CliFake = LaunchedFake
