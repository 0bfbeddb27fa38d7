"""Several accounts under the real CLI: one program, two VPS.org accounts.

Account A is the stack's (`vpsbackup:apiToken`, the `fake` fixture); account
B is another fake on another port with its own token, given to resources and
a query as `vps.Account(api_token=config.require_secret("otherToken"), ...)`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from tests.programs.scenarios import BACKUP, TOKEN, backups
from vpsbackup_dev.cli_project import CliProject

pytestmark = pytest.mark.cli

Make = Callable[..., CliProject]
TOKEN_B = "vps_cli_second_account_8c1f04"
TOKEN_B2 = "vps_cli_second_account_rotated_2d7e"
SECRET_SIG = "4dabf18193072939515e22adb298388d"

PROGRAM = """\
import pulumi
import pulumi_vpsbackup as vps

config = pulumi.Config()
other = vps.Account(
    api_token=config.require_secret("otherToken"), api_url=config.require("otherUrl")
)

mine = vps.Backup("in-a", server_id=12345, description="stack account")
theirs = vps.Backup("in-b", server_id=12345, description="other account", account=other)
listing = vps.get_backups_output(server_id=theirs.server_id, backup_type="manual", account=other)

pulumi.export("a", mine.backup_id)
pulumi.export("b", theirs.backup_id)
pulumi.export("bManual", listing.apply(lambda r: [b.description for b in r.backups]))
"""


@pytest.fixture
def fake_b() -> Iterator[FakeServer]:
    """Listed first by the test, so it outlives the project's teardown destroy."""
    app = FakeVps(
        token=TOKEN_B, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0
    )
    with serve(app) as server:
        yield server


def resources(project: CliProject) -> dict[str, dict[str, Any]]:
    exported = json.loads(project.export())
    return {
        r["urn"].rsplit("::", 1)[1]: r
        for r in exported["deployment"].get("resources", [])
        if r["type"] == BACKUP
    }


def test_one_program_manages_backups_in_two_accounts(
    fake_b: FakeServer, cli_project: Make, fake: FakeServer, tmp_path: Path
) -> None:
    before_a, before_b = backups(fake.app), backups(fake_b.app)
    project = cli_project(PROGRAM, name="accounts")
    project.config("otherUrl", fake_b.url)
    project.config("otherToken", TOKEN_B, secret=True)
    texts = [project.up().out]

    made_a = sorted(set(backups(fake.app)) - set(before_a))
    made_b = sorted(set(backups(fake_b.app)) - set(before_b))
    outputs = project.outputs()
    assert made_a == [outputs["a"]] and made_b == [outputs["b"]], outputs
    # (Each fake numbers its own backups: ids may coincide, descriptions do not.)
    assert "other account" in outputs["bManual"], "the query listed account B"
    assert "stack account" not in outputs["bManual"]
    texts.append(project.preview("--expect-no-changes").out)

    # State: the token only as ciphertext, in the inputs and the (secret) outputs.
    held = resources(project)["in-b"]
    token_in = held["inputs"]["account"]["api_token"]
    assert token_in[SECRET_SIG] == "1b47061264138c4ac30d75fd1eb44270" and "ciphertext" in token_in
    assert held["inputs"]["account"]["api_url"] == fake_b.url
    assert set(held["outputs"]["account"]) == {SECRET_SIG, "ciphertext"}
    assert "account" not in resources(project)["in-a"]["inputs"]

    # A rotation: B revokes the old token; only the secret config changes.
    fake_b.app.set_token(TOKEN_B2)
    project.config("otherToken", TOKEN_B2, secret=True)
    preview = project.preview("--diff")
    texts.append(preview.out)
    assert "replace" not in preview.out, preview.out
    assert "1 to update" in preview.out, preview.out
    rotated = project.up()
    texts.append(rotated.out)
    assert "replace" not in rotated.out
    assert sorted(set(backups(fake_b.app)) - set(before_b)) == made_b, "no new backup in B"
    assert project.outputs()["b"] == made_b[0]
    texts.append(project.preview("--expect-no-changes").out)

    # Another URL for the same resource is refused, naming both URLs.
    project.config("otherUrl", fake.url)
    moved = project.preview(ok=False)
    texts.append(moved.out)
    assert moved.code != 0 and "API URL changed from" in moved.out, moved.out
    assert fake_b.url in moved.out and fake.url in moved.out
    project.config("otherUrl", fake_b.url)

    texts.append(project.run("refresh", "--yes", "--skip-preview").out)
    assert sorted(int(r["id"]) for r in resources(project).values()) == made_a + made_b
    texts.append(project.export())

    texts.append(project.run("destroy", "--yes", "--skip-preview").out)
    assert backups(fake.app) == before_a and backups(fake_b.app) == before_b, "nothing left"

    for text in texts:
        for token in (TOKEN, TOKEN_B, TOKEN_B2):
            assert token not in text, text
    for path in (tmp_path / "state").rglob("*"):
        if path.is_file():
            raw = path.read_bytes()
            for token in (TOKEN, TOKEN_B, TOKEN_B2):
                assert token.encode() not in raw, path
    stack_config = (project.path / "Pulumi.test.yaml").read_text()
    assert TOKEN_B2 not in stack_config and TOKEN_B not in stack_config
