"""The HCL in examples/terraform/ (what the Registry docs embed, and the whole example
configuration) is valid for the provider as it is, and the example works against the fake.

`tofu validate` needs no `tofu init` when the provider comes from `dev_overrides`:
it loads the provider's schema from the override directory, so a misspelt or
missing argument fails here.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup.fake import FakeServer

from .conftest import TOKEN
from .harness import REPO, REQUIRED, Tofu

EXAMPLES = REPO / "examples" / "terraform"
SNIPPETS = sorted(p.relative_to(EXAMPLES).as_posix() for p in EXAMPLES.rglob("*.tf"))


def in_workdir(tofu: Tofu, example: Path) -> None:
    """The example as a configuration of its own; a snippet that names no provider
    source (as the Registry's resource examples do not) gets it beside it."""
    text = example.read_text(encoding="utf-8")
    tofu.write(text)
    if "required_providers" not in text:
        tofu.write(REQUIRED, "versions.tf")


def test_every_example_file_is_found() -> None:
    assert "main.tf" in SNIPPETS
    assert "provider/provider.tf" in SNIPPETS
    assert "resources/vpsbackup_backup/resource.tf" in SNIPPETS
    assert "data-sources/vpsbackup_latest_backup/data-source.tf" in SNIPPETS


@pytest.mark.parametrize("example", SNIPPETS)
def test_the_example_is_valid(example: str, tofu_for: Callable[[str], Tofu]) -> None:
    tofu = tofu_for("validate")
    in_workdir(tofu, EXAMPLES / example)
    run = tofu.run("validate", "-json", check=False)
    result = json.loads(run.stdout)
    errors = [d for d in result["diagnostics"] if d["severity"] == "error"]
    assert result["valid"], errors
    assert run.returncode == 0


def test_validate_checks_the_examples_against_the_provider_schema(
    tofu_for: Callable[[str], Tofu],
) -> None:
    """The check above can fail: a rotation without `keep`, with a misspelt argument."""
    tofu = tofu_for("invalid")
    snippet = EXAMPLES / "resources" / "vpsbackup_backup_rotation" / "resource.tf"
    broken = snippet.read_text(encoding="utf-8").replace("keep        = 3", "kept = 3")
    assert broken != snippet.read_text(encoding="utf-8")
    tofu.write(broken)
    tofu.write(REQUIRED, "versions.tf")
    result = json.loads(tofu.run("validate", "-json", check=False).stdout)
    summaries = {d["summary"] for d in result["diagnostics"] if d["severity"] == "error"}
    assert not result["valid"]
    assert summaries == {"Missing required argument", "Unsupported argument"}


def manual_backups(fake: FakeServer) -> dict[int, str]:
    """The fake's manual backups: id and description (with any marker)."""
    return {
        b["id"]: b["description"] or ""
        for b in fake.app.state()["backups"]
        if b["backup_type"] == "manual"
    }


def outputs(tofu: Tofu) -> dict[str, Any]:
    shown = json.loads(tofu.run("output", "-json").stdout)
    return {name: out["value"] for name, out in shown.items()}


def test_the_example_configuration_applies_and_destroys_against_the_fake(
    fake: FakeServer, tofu_for: Callable[[str], Tofu]
) -> None:
    tofu = tofu_for("example")
    shutil.copy(EXAMPLES / "main.tf", tofu.workdir / "main.tf")
    # The variables the README says to set for another API; the token through the
    # environment, never on a command line.
    tofu.env = {"TF_VAR_api_url": fake.url, "TF_VAR_api_token": TOKEN}
    before = manual_backups(fake)

    tofu.apply()
    out = outputs(tofu)
    made = manual_backups(fake)
    new = set(made) - set(before)
    pre_deploy = out["pre_deploy_backup_id"]
    rotation = out["rotation_backup_ids"]
    assert out["pre_deploy_status"] == "completed"
    assert len(rotation) == 1
    assert new == {pre_deploy, *rotation}
    assert made[pre_deploy].startswith("Before 1.0.0")
    assert made[rotation[0]].startswith("Release backup")
    # The data sources were read after both backups were made (depends_on).
    assert set(out["manual_backup_ids"]) == set(made)
    assert out["newest_manual_backup_id"] in new
    assert TOKEN not in tofu.state_text()

    again = tofu.plan("-detailed-exitcode", check=False)
    assert again.returncode == 0, again.stdout + again.stderr  # no changes

    # The next release (README): a new pre-deploy backup, made before the old one is
    # deleted (create_before_destroy), and a second backup in the rotation.
    tofu.env["TF_VAR_app_version"] = "1.1.0"
    release = tofu.apply().stdout
    out = outputs(tofu)
    now = manual_backups(fake)
    assert pre_deploy not in now
    assert now[out["pre_deploy_backup_id"]].startswith("Before 1.1.0")
    assert out["rotation_backup_ids"][1:] == rotation
    assert len(out["rotation_backup_ids"]) == 2
    created = release.find("vpsbackup_backup.pre_deploy: Creation complete")
    deposed = release.find("vpsbackup_backup.pre_deploy (deposed object")
    assert 0 <= created < deposed, release

    tofu.destroy()
    assert manual_backups(fake) == before
    assert tofu.resources() == {}
