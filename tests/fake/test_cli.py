"""The fake as a separate process: ``python -m pulumi_vpsbackup.fake``."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from pulumi_vpsbackup.fake import FakeStartError, launch
from pulumi_vpsbackup.fake.__main__ import main

from ._support import REPO_ROOT, CliFake

URL = re.compile(r"^http://127\.0\.0\.1:(\d+)/api/v1$")


def test_cli_prints_the_url_line_and_serves(start_cli: Callable[..., CliFake]) -> None:
    cli = start_cli("--token", "vps_cli_token")
    match = URL.match(cli.url)
    assert match and int(match.group(1)) > 0
    headers = {"Authorization": "Bearer vps_cli_token"}
    response = httpx.get(cli.url + "/backups/", headers=headers, timeout=10)
    assert response.status_code == 200
    assert response.json()["count"] == 4
    assert httpx.get(cli.url + "/backups/", timeout=10).status_code == 401
    assert cli.stop() == 0
    assert "vps_cli_token" not in cli.first_line + cli.stderr


def test_cli_token_from_environment(start_cli: Callable[..., CliFake]) -> None:
    cli = start_cli(env={"VPS_FAKE_TOKEN": "vps_env_token"})
    ok = httpx.get(
        cli.url + "/account/me/", headers={"Authorization": "Bearer vps_env_token"}, timeout=10
    )
    assert ok.status_code == 200


def test_cli_options_reach_the_behaviour(start_cli: Callable[..., CliFake]) -> None:
    cli = start_cli(
        "--world", "empty", "--time-scale", "0", "--backup-seconds", "7",
        "--restore-seconds", "3", "--failure-rate", "0.25", "--seed", "4",
    )  # fmt: skip
    root = cli.url.removesuffix("/api/v1")
    behaviour = httpx.get(root + "/__fake/behaviour", timeout=10).json()
    assert behaviour["backup_seconds"] == 7
    assert behaviour["restore_seconds"] == 3
    assert behaviour["failure_rate"] == 0.25
    assert httpx.get(root + "/__fake/clock", timeout=10).json()["scale"] == 0
    headers = {"Authorization": "Bearer vps_demo_token"}
    assert httpx.get(cli.url + "/backups/", headers=headers, timeout=10).json()["count"] == 0


def test_cli_restart_keeps_the_world_in_the_state_file(
    start_cli: Callable[..., CliFake], tmp_path: Path
) -> None:
    state = tmp_path / "fake-state.json"
    headers = {"Authorization": "Bearer vps_demo_token"}
    first = start_cli("--state-file", str(state), "--time-scale", "0")
    created = httpx.post(
        first.url + "/backups/", json={"server_id": 12345}, headers=headers, timeout=10
    ).json()
    root = first.url.removesuffix("/api/v1")
    httpx.post(root + "/__fake/clock", json={"advance": 3600}, timeout=10)
    now = httpx.get(root + "/__fake/clock", timeout=10).json()["now"]
    assert first.stop() == 0

    second = start_cli("--state-file", str(state))
    assert (
        httpx.get(second.url.removesuffix("/api/v1") + "/__fake/clock", timeout=10).json()["now"]
        == now
    )
    listed = httpx.get(second.url + "/backups/?server_id=12345", headers=headers, timeout=10)
    ids = {b["id"]: b for b in listed.json()["results"]}
    assert ids[created["id"]]["status"] == "completed"
    nxt = httpx.post(
        second.url + "/backups/", json={"server_id": 12345}, headers=headers, timeout=10
    )
    assert nxt.json()["id"] == created["id"] + 1


def test_cli_refuses_a_remote_host_without_allow_remote(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--host", "0.0.0.0", "--port", "0"]) == 2  # noqa: S104 - must be refused
    assert "--allow-remote" in capsys.readouterr().err


def test_cli_rejects_invalid_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--port", "0", "--failure-rate", "2"]) == 2
    assert "failure_rate" in capsys.readouterr().err


def test_cli_exits_cleanly_on_sigint(start_cli: Callable[..., CliFake]) -> None:
    import signal

    cli = start_cli()
    cli.process.send_signal(signal.SIGINT)
    assert cli.process.wait(timeout=10) == 0


def test_cli_help_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pulumi_vpsbackup.fake", "--help"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0
    assert "--state-file" in result.stdout


def test_launch_reports_a_cli_that_exits_and_one_that_is_too_slow() -> None:
    with pytest.raises(FakeStartError) as exited:
        launch("--failure-rate", "2", cwd=REPO_ROOT)
    assert exited.value.returncode == 2
    assert str(exited.value).startswith("the fake API exited with status 2 (invalid option:")
    with pytest.raises(FakeStartError) as slow:
        launch(cwd=REPO_ROOT, timeout=0.01)
    assert slow.value.returncode is None
    assert str(slow.value) == "the fake API did not report its URL within 0.01 s"


def test_launch_passes_the_token_by_environment_and_stops_cleanly() -> None:
    with launch("--world", "empty", token="vps_launch_token", cwd=REPO_ROOT) as fake:
        assert fake.admin_url == fake.url.removesuffix("/api/v1") + "/__fake"
        assert "vps_launch_token" not in " ".join(fake.process.args)  # type: ignore[arg-type]
        ok = httpx.get(
            fake.url + "/backups/",
            headers={"Authorization": "Bearer vps_launch_token"},
            timeout=10,
        )
        assert ok.json()["count"] == 0
    assert fake.process.returncode == 0
    assert fake.stop() == 0  # stopping again is harmless
