"""Requests per CLI command for one Backup, counted under the real `pulumi` CLI.

Every command starts a fresh provider host, as users get it, so nothing is
cached from the command before. The fake takes time to make a backup
(``BACKUP_SECONDS`` real seconds), lists 10 per page, and the server holds
30 automatic backups besides (a listing of it is 4 pages when unfiltered).
The requests are counted from the fake's journal between commands.

Ideals (the floor with every guarantee kept): preview 1 (one listing that
shows the server exists and has a free slot), up 2 (the POST and one poll
that sees the backup completed; needs the poll to come at completion), up
with a preview first 3 (1 + 2), refresh 1, destroy 3 (the server's manual
backups, to find what the resource's own interrupted runs left there, the
DELETE, and, as the stack's identity goes, one listing of the account's manual
backups to name any that still carry the stack's marker), replace 4 (POST,
poll, then the old one's listing and DELETE).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from pulumi_vpsbackup.fake import FakeClock
from vpsbackup_dev.cli_project import make_project, offline_env

from .core import REPO_ROOT, TOKEN, Figure, Options, api_requests, fake_server, last_seq

GROUP = "commands"
SERVER = 12345
BACKUP_SECONDS = 2.0
OTHERS = 30
PAGE_SIZE = 10

PROGRAM = """\
import pulumi
import pulumi_vpsbackup as vps

description = pulumi.Config().get("description") or "bench"
vps.Backup("one", server_id=12345, description=description)
"""

# (figure name, pulumi arguments, target (max requests) or None, ideal, config to set first)
STEPS: list[tuple[str, tuple[str, ...], int | None, int, dict[str, str]]] = [
    ("preview (create)", ("preview",), None, 1, {}),
    ("up --skip-preview, no history", ("up", "--yes", "--skip-preview"), 4, 2, {}),
    ("preview (no changes)", ("preview", "--expect-no-changes"), None, 0, {}),
    ("refresh", ("refresh", "--yes", "--skip-preview"), 1, 1, {}),
    (
        "replace (description), with history",
        ("up", "--yes", "--skip-preview"),
        4,
        4,
        {"description": "v2"},
    ),
    ("destroy", ("destroy", "--yes", "--skip-preview"), 3, 3, {}),
    ("up --skip-preview, server with history", ("up", "--yes", "--skip-preview"), 3, 3, {}),
    ("destroy (again)", ("destroy", "--yes", "--skip-preview"), 3, 3, {}),
    ("up with preview, with history", ("up", "--yes"), 4, 3, {}),
]


def pulumi_dir() -> str:
    """The directory of the `pulumi` to run: on PATH, else the one `make cli` builds."""
    found = shutil.which("pulumi")
    if found:
        return str(Path(found).parent)
    built = subprocess.run(
        [str(REPO_ROOT / "tools" / "pulumi-cli" / "build.sh")],
        capture_output=True,
        text=True,
        check=True,
        timeout=1800,
    )
    return built.stdout.strip().splitlines()[-1]


def route(entry: dict[str, Any]) -> str:
    path = str(entry["path"]).removeprefix("/api/v1")
    parts = [p if not p.isdigit() else "{id}" for p in path.split("/")]
    query = entry.get("query") or {}
    suffix = "?" + "&".join(sorted(query)) if query else ""
    return f"{entry['method']} " + "/".join(parts) + suffix


def run(options: Options) -> list[Figure]:
    cli = pulumi_dir()
    clock = FakeClock(scale=1.0)
    figures: list[Figure] = []
    with (
        fake_server(
            world="demo",
            clock=clock,
            completion="time",
            backup_seconds=BACKUP_SECONDS,
            page_size=PAGE_SIZE,
        ) as served,
        tempfile.TemporaryDirectory() as tmp,
    ):
        app = served.app
        for i in range(OTHERS):
            app.seed_backup(server_id=SERVER, backup_type="automatic", description=f"auto {i}")

        root = Path(tmp)
        (root / "state").mkdir()
        (root / "home").mkdir()
        env = {
            **offline_env(root / "state", root / "home"),
            "PATH": cli + os.pathsep + os.environ.get("PATH", ""),
            "VPS_API_TOKEN": "",
            "VPS_API_URL": "",
            # The waits' history starts empty and is this run's alone (not ~/.cache).
            "VPSBACKUP_HISTORY_FILE": str(root / "wait-history.json"),
        }
        saved_path = os.environ.get("PATH", "")
        os.environ["PATH"] = env["PATH"]  # make_project runs `pulumi` by name
        try:
            project = make_project(root, "bench-commands", PROGRAM, env, served.url, TOKEN)
            for name, args, target, ideal, config in STEPS:
                for key, value in config.items():
                    project.config(key, value)
                seq = last_seq(app)
                ran = project.run(*args, ok=False, timeout=600)
                if ran.code != 0:
                    raise RuntimeError(f"pulumi {' '.join(args)} failed:\n{ran.out[-3000:]}")
                entries = api_requests(app, since=seq)
                kinds = Counter(route(e) for e in entries)
                figures.append(
                    Figure(
                        GROUP,
                        f"requests: {name}",
                        len(entries),
                        "req",
                        ideal,
                        "ideal",
                        f"<= {target}" if target is not None else "(info)",
                        len(entries) <= target if target is not None else None,
                        ", ".join(f"{n} {k}" for k, n in sorted(kinds.items())) or "none",
                        {"requests": dict(kinds)},
                    )
                )
            project.run("destroy", "--yes", "--skip-preview", ok=False)
        finally:
            os.environ["PATH"] = saved_path
    figures[0].note += (
        f"; fresh host per command, backups take {BACKUP_SECONDS:g} s, {OTHERS} automatic "
        f"backups on the server, {PAGE_SIZE} per page"
    )
    return figures
