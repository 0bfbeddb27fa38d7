"""`make demo` (scripts/demo.py) end to end in its mode for machines without the Pulumi CLI."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from .scenarios import REPO

DEMO = REPO / "scripts" / "demo.py"
TOKEN = "vps_demo_token_never_printed"


def path_without_pulumi() -> str:
    """PATH minus every directory holding a `pulumi` executable (so the demo cannot find one)."""
    dirs = [d for d in os.environ.get("PATH", "").split(os.pathsep) if d]
    kept = [d for d in dirs if not (Path(d) / "pulumi").exists()]
    return os.pathsep.join(kept)


@pytest.fixture
def demo_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PATH"] = path_without_pulumi()
    for name in ("VPS_API_TOKEN", "VPS_API_URL", "VPS_FAKE_TOKEN"):
        env.pop(name, None)
    assert shutil.which("pulumi", path=env["PATH"]) is None
    return env


def run_demo(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(DEMO), "--port", "0", "--token", TOKEN, *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_demo_without_the_cli_deploys_and_cleans_up(demo_env: dict[str, str]) -> None:
    done = run_demo(demo_env)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out

    # It says plainly that the CLI is missing and how to install it.
    assert "The Pulumi CLI is not installed" in out
    assert "curl -fsSL https://get.pulumi.com | sh" in out
    assert "https://www.pulumi.com/docs/iac/download-install/" in out
    assert "WITHOUT THE PULUMI CLI" in out

    # The quickstart ran: a plan, the backup created and listed, then destroyed.
    assert "Resources: + 3 to create" in out  # the stack, its identity and the backup
    assert "Resources: + 3 created" in out
    assert "Resources: - 3 deleted" in out
    created = re.search(r"backupId: (\d+)", out)
    assert created is not None, out
    backup_id = created.group(1)
    assert re.search(rf"^\s+{backup_id}\s+manual\s+completed", out, re.MULTILINE), out
    assert 'backupStatus: "completed"' in out

    # The token never appears, and the fake is gone afterwards.
    assert TOKEN not in out
    url = re.search(r"(http://127\.0\.0\.1:\d+/api/v1)", out)
    assert url is not None
    with pytest.raises(OSError):  # URLError is an OSError: connection refused
        urllib.request.urlopen(url.group(1) + "/backups/", timeout=2)


def test_demo_reports_a_fake_that_cannot_start(demo_env: dict[str, str]) -> None:
    done = subprocess.run(
        [sys.executable, str(DEMO), "--port", "0", "--token", TOKEN, "--startup-timeout", "0.01"],
        cwd=REPO,
        env=demo_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "demo failed: the fake API did not report its URL" in done.stdout
    assert TOKEN not in done.stdout + done.stderr


STUB = """#!/bin/sh
{{
  echo "ARGS $*"
  echo "BACKEND $PULUMI_BACKEND_URL"
  echo "PASSPHRASE_SET ${{PULUMI_CONFIG_PASSPHRASE:+yes}}"
  echo "VENV $(grep virtualenv Pulumi.yaml)"
}} >> "{log}"
if [ "$1 $2" = "stack output" ]; then echo '{{}}'; fi
exit 0
"""


def test_demo_drives_the_cli_with_a_file_backend(tmp_path: Path, demo_env: dict[str, str]) -> None:
    """With a `pulumi` on PATH (a stub recording its calls): the commands the demo runs."""
    log = tmp_path / "calls.log"
    stub = tmp_path / "bin" / "pulumi"
    stub.parent.mkdir()
    stub.write_text(STUB.format(log=log), encoding="utf-8")
    stub.chmod(0o755)
    env = dict(demo_env, PATH=os.pathsep.join([str(stub.parent), demo_env["PATH"]]))

    done = run_demo(env)
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "WITHOUT THE PULUMI CLI" not in out
    assert TOKEN not in out, "the token is never printed"

    calls = log.read_text(encoding="utf-8").splitlines()
    args = [line[len("ARGS ") :] for line in calls if line.startswith("ARGS ")]
    assert args[0] == "stack init demo --secrets-provider passphrase"
    assert args[1].startswith("config set vpsbackup:apiUrl http://127.0.0.1:")
    assert args[2] == f"config set --secret vpsbackup:apiToken {TOKEN}"
    assert args[3:] == [
        "up --yes --color never",
        "stack output --json",
        "destroy --yes --color never",
        "stack rm --yes demo",
    ]
    backends = {line for line in calls if line.startswith("BACKEND ")}
    assert len(backends) == 1 and backends.pop().startswith("BACKEND file:///")
    assert all(line == "PASSPHRASE_SET yes" for line in calls if line.startswith("PASSPHRASE"))
    venvs = {line for line in calls if line.startswith("VENV ")}
    assert venvs == {f"VENV     virtualenv: {sys.prefix}"}


# ---- `make demo` builds the CLI of `make cli` first, saying so ---------------------------

BUILD_STUB = """#!/bin/sh
# A stand-in for tools/pulumi-cli/build.sh: {state} says whether it is built.
if [ "$1" = "--if-built" ] && [ ! -f "{state}" ]; then exit 3; fi
if [ ! -f "{state}" ]; then
  echo "go: compiling" >&2
  touch "{state}"
fi
echo "{cli}"
"""


def built_cli_run(tmp_path: Path, *, go: bool = True) -> str:
    """`demo.built_cli(stub)` in a child process, stdout and stderr in one stream, in order."""
    stub = tmp_path / "build.sh"
    stub.write_text(
        BUILD_STUB.format(state=tmp_path / "built", cli=tmp_path / "cli"), encoding="utf-8"
    )
    stub.chmod(0o755)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    if go:
        (bin_dir / "go").write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        (bin_dir / "go").chmod(0o755)
    code = (
        "import runpy, sys; from pathlib import Path; demo = runpy.run_path(sys.argv[1]); "
        "print('RESULT', demo['built_cli'](Path(sys.argv[2])), flush=True)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(DEMO), str(stub)],
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}/usr/bin:/bin"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def test_demo_says_before_the_first_cli_build_how_long_it_takes(tmp_path: Path) -> None:
    out = built_cli_run(tmp_path)
    print(out)
    assert f"RESULT {tmp_path / 'cli'}" in out
    said = out.index("It is not built yet. The first build takes about 16 minutes on 2 cores")
    assert said < out.index("go: compiling"), "said before the build starts, not after"
    assert "It has not hung" in out
    # Built: reused without a word.
    again = built_cli_run(tmp_path)
    assert again.strip() == f"RESULT {tmp_path / 'cli'}", again


def test_demo_without_go_does_not_build_and_says_nothing(tmp_path: Path) -> None:
    out = built_cli_run(tmp_path, go=False)
    assert out.strip() == "RESULT None", out
