"""The README's opening program and the root project run as written.

A user's first contact is that snippet; it must work against the API without
edits beyond the stack config it asks for.
"""

from __future__ import annotations

import re
from pathlib import Path

from pulumi_vpsbackup.fake import FakeServer
from vpsbackup_dev.engine import Engine

from .scenarios import REPO, TOKEN, backups

PROJECT = "readme"


def readme_program() -> str:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL)
    assert blocks, "the README has no Python example"
    return blocks[0]


def test_readme_example_backs_up_each_release_and_destroys(
    tmp_path: Path, fake: FakeServer
) -> None:
    """The first screen's promise: a backup per release, the previous one deleted once
    the new one has completed, nothing left after destroy."""
    program = tmp_path / "program"
    program.mkdir()
    (program / "__main__.py").write_text(readme_program(), encoding="utf-8")
    engine = Engine(
        tmp_path / "state.json",
        project=PROJECT,
        stack="test",
        config={
            "vpsbackup:apiUrl": fake.url,
            "vpsbackup:apiToken": TOKEN,
            f"{PROJECT}:appVersion": "1.0.0",
        },
        secret_keys={"vpsbackup:apiToken"},
        env={"VPS_API_TOKEN": "", "VPS_API_URL": ""},
        program=program,
    )
    start = set(backups(fake.app))

    first = int(engine.up().outputs["backupId"])
    assert set(backups(fake.app)) == start | {first}

    engine.config[f"{PROJECT}:appVersion"] = "1.1.0"
    second = int(engine.up().outputs["backupId"])
    assert second != first
    assert set(backups(fake.app)) == start | {second}
    assert str(backups(fake.app)[second]["description"]).startswith("Before 1.1.0")

    engine.destroy()
    assert set(backups(fake.app)) == start


def test_the_root_project_deploys_the_quickstart(tmp_path: Path, fake: FakeServer) -> None:
    engine = Engine(
        tmp_path / "root.json",
        project="pulumi-vpsbackup",
        stack="test",
        config={"vpsbackup:apiUrl": fake.url, "vpsbackup:apiToken": TOKEN},
        secret_keys={"vpsbackup:apiToken"},
        env={"VPS_API_TOKEN": "", "VPS_API_URL": ""},
        program=REPO,
    )
    start = set(backups(fake.app))
    up = engine.up()
    assert set(backups(fake.app)) == start | {int(up.outputs["backupId"])}
    engine.destroy()
    assert set(backups(fake.app)) == start
