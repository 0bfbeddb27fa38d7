"""Constants and helpers shared by the fake's tests (imported, unlike conftest)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import datetime, timezone
from pathlib import Path

import httpx

from pulumi_vpsbackup.fake import FakeVps

TOKEN = "vps_test_token_123"
START = datetime(2025, 1, 17, 12, 0, 0, tzinfo=timezone.utc)
REPO_ROOT = Path(__file__).resolve().parents[2]
URL_LINE_PREFIX = "VPS.org fake API listening on "


def make_client(app: FakeVps, token: str | None = TOKEN) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.Client(
        transport=httpx.WSGITransport(app=app),
        base_url="http://fake.test/api/v1",
        headers=headers,
    )


class CliFake:
    """A fake started as ``python -m pulumi_vpsbackup.fake`` in a subprocess."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.stderr = ""
        full_env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **(env or {})}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pulumi_vpsbackup.fake", "--port", "0", *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=REPO_ROOT,
            env=full_env,
        )
        assert self.process.stdout is not None
        self.first_line = self.process.stdout.readline().rstrip("\n")
        if not self.first_line.startswith(URL_LINE_PREFIX):
            self.stop()
            raise RuntimeError(f"fake did not start: {self.first_line!r} {self.stderr!r}")
        self.url = self.first_line[len(URL_LINE_PREFIX) :]

    def stop(self) -> int:
        """SIGTERM, then wait; returns the exit code."""
        if self.process.poll() is None:
            self.process.terminate()
        try:
            _, self.stderr = self.process.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            _, self.stderr = self.process.communicate()
        return self.process.returncode
