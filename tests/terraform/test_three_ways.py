"""One scenario through the three ways in, each ending in the same state on the API.

The ways: Pulumi's dynamic provider (`import pulumi_vpsbackup as vps`), the native
plugin `pulumi-resource-vpsbackup` (the same program declaring the resources by
type token, as a generated SDK does, the plugin found through Pulumi.yaml), both
under the real `pulumi`, and OpenTofu with `terraform-provider-vpsbackup`. Each
runs against a fake of its own that starts from the demo world:

1. up: a Backup of server 12345 ("pre-deploy", triggers ["v1"]), a BackupRotation
   of server 12346 keeping 2 (triggers ["a"]) and a BackupFleet of both servers
   ("fleet");
2. the Backup's triggers ["v2"] and the rotation's ["b"]: the Backup is replaced,
   the rotation adds a backup; then the rotation's ["c"]: it adds one and deletes
   its oldest (it holds 2);
3. a Restore of server 12345 from the Backup;
4. destroy.

After each step the fake's backups are compared: per server, its manual backups
as (description without the marker, status), how many backups it holds, how many
restores the step sent it and from which backup the last one was. Ids and marker keys
differ by nature, so the snapshot leaves them out. Every way must give the one
expected snapshot of each step, so the three give the same.

What is allowed to differ, and is asserted here as it is: the order of a
replace. Pulumi makes the new backup before it deletes the old one; OpenTofu,
without `lifecycle { create_before_destroy = true }`, deletes first.

A wrong token is refused by every way before anything is made, and each way's
error names its own way to set the token (OpenTofu's: `api_token`, never a
`pulumi` command).

Needs `pulumi` on PATH for the Pulumi ways and OpenTofu (VPSBACKUP_TOFU_DIR) for
the last, each skipped without (failed in CI). The API requests each step sent
are printed (`-s`).
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pytest
import yaml

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.fake import FakeClock, FakeServer, FakeVps, serve
from tests.cli.conftest import Projects, cli_home, pulumi_cli  # noqa: F401 (fixtures)
from tests.programs.scenarios import backups, last_restore, restore_requests

from .harness import REQUIRED, Tofu, dev_override_config, provider_block

TOKEN = "vps_test_token_three_ways"
WEB, DB = 12345, 12346
PLUGIN = "pulumi-resource-vpsbackup"


@dataclass(frozen=True)
class Step:
    name: str
    backup_trigger: str
    rotation_trigger: str
    restore: bool = False


STEPS = [
    Step("up", "v1", "a"),
    Step("change the Backup and the rotation", "v2", "b"),
    Step("the rotation again", "v2", "c"),
    Step("restore", "v2", "c", restore=True),
]

# ---- the programs ------------------------------------------------------------------

DYNAMIC_PROGRAM = """\
import pulumi
import pulumi_vpsbackup as vps

config = pulumi.Config()
pre = vps.Backup(
    "pre", server_id=12345, description="pre-deploy", triggers=[config.require("backupTrigger")]
)
vps.BackupRotation(
    "rot", server_id=12346, keep=2, triggers=[config.require("rotationTrigger")]
)
vps.BackupFleet("fleet", server_ids=[12345, 12346], description="fleet")
if config.require_bool("restore"):
    vps.Restore("back", server_id=12345, backup_id=pre.backup_id)
"""

PLUGIN_PROGRAM = """\
import pulumi

config = pulumi.Config()

def res(token, name, props, outputs=()):
    return pulumi.CustomResource(
        f"vpsbackup:index:{token}", name, {**dict.fromkeys(outputs), **props}
    )

pre = res(
    "Backup", "pre",
    {"serverId": 12345, "description": "pre-deploy",
     "triggers": [config.require("backupTrigger")]},
    ["backupId"],
)
res("BackupRotation", "rot",
    {"serverId": 12346, "keep": 2, "triggers": [config.require("rotationTrigger")]})
res("BackupFleet", "fleet", {"serverIds": [12345, 12346], "description": "fleet"})
if config.require_bool("restore"):
    res("Restore", "back", {"serverId": 12345, "backupId": pre.backupId})
"""


def tofu_config(url: str, step: Step, token: str = TOKEN) -> str:
    restore = (
        """
resource "vpsbackup_restore" "back" {
  server_id = 12345
  backup_id = vpsbackup_backup.pre.backup_id
}
"""
        if step.restore
        else ""
    )
    return (
        REQUIRED
        + provider_block(url, token)
        + f"""
resource "vpsbackup_backup" "pre" {{
  server_id   = 12345
  description = "pre-deploy"
  triggers    = ["{step.backup_trigger}"]
}}

resource "vpsbackup_backup_rotation" "rot" {{
  server_id = 12346
  keep      = 2
  triggers  = ["{step.rotation_trigger}"]
}}

resource "vpsbackup_backup_fleet" "fleet" {{
  server_ids  = [12345, 12346]
  description = "fleet"
}}
"""
        + restore
    )


# ---- the ways ----------------------------------------------------------------------


class Way(Protocol):
    #: Whether a replace deletes the old backup before it makes the new one.
    deletes_first: bool

    def apply(self, step: Step, *, ok: bool = True) -> str: ...

    def destroy(self) -> str: ...


class PulumiWay:
    deletes_first = False

    def __init__(self, projects: Projects, name: str, program: str, url: str, token: str) -> None:
        self.project = projects.make(name, program, url, token)

    def apply(self, step: Step, *, ok: bool = True) -> str:
        self.project.config("backupTrigger", step.backup_trigger)
        self.project.config("rotationTrigger", step.rotation_trigger)
        self.project.config("restore", "true" if step.restore else "false")
        return self.project.up(ok=ok).out

    def destroy(self) -> str:
        return self.project.run("destroy", "--yes", "--skip-preview").out


class TofuWay:
    deletes_first = True

    def __init__(self, tofu: Tofu, url: str, token: str) -> None:
        self.tofu, self.url, self.token = tofu, url, token
        self.destroyed = False

    def apply(self, step: Step, *, ok: bool = True) -> str:
        self.tofu.write(tofu_config(self.url, step, self.token))
        done = self.tofu.apply(check=ok)
        return done.stdout + done.stderr

    def destroy(self) -> str:
        out = self.tofu.destroy().stdout
        self.destroyed = True
        return out

    def clean_up(self) -> None:
        """After a failed test: destroy what is left (no provider process or backup stays)."""
        if not self.destroyed and (self.tofu.workdir / "terraform.tfstate").exists():
            self.tofu.destroy(check=False)


def pulumi_projects(request: pytest.FixtureRequest, tmp_path: Path) -> Projects:
    request.getfixturevalue("pulumi_cli")
    projects = Projects(tmp_path, request.getfixturevalue("cli_home"))
    request.addfinalizer(projects.close)
    return projects


def dynamic_way(request: pytest.FixtureRequest, tmp_path: Path, url: str, token: str) -> Way:
    return PulumiWay(pulumi_projects(request, tmp_path), "dynamic", DYNAMIC_PROGRAM, url, token)


def plugin_way(request: pytest.FixtureRequest, tmp_path: Path, url: str, token: str) -> Way:
    scripts = Path(sys.executable).parent
    if not (scripts / PLUGIN).exists():
        reason = f"the native plugin is not in {scripts} (`make install`)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    way = PulumiWay(pulumi_projects(request, tmp_path), "plugin", PLUGIN_PROGRAM, url, token)
    # The plugin from this checkout, found through Pulumi.yaml as a user's project names it.
    settings_file = way.project.path / "Pulumi.yaml"
    settings = yaml.safe_load(settings_file.read_text("utf-8"))
    settings["plugins"] = {"providers": [{"name": "vpsbackup", "path": str(scripts)}]}
    settings_file.write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return way


def tofu_way(request: pytest.FixtureRequest, tmp_path: Path, url: str, token: str) -> Way:
    binary = request.getfixturevalue("tofu_bin")
    provider_dir = request.getfixturevalue("provider_dir")
    workdir = tmp_path / "tofu"
    workdir.mkdir()
    tofu = Tofu(binary, workdir, dev_override_config(tmp_path / "tofurc", provider_dir))
    way = TofuWay(tofu, url, token)
    request.addfinalizer(way.clean_up)
    return way


MAKERS: dict[str, Callable[[pytest.FixtureRequest, Path, str, str], Way]] = {
    "dynamic": dynamic_way,
    "plugin": plugin_way,
    "tofu": tofu_way,
}


@pytest.fixture
def fake() -> Iterator[FakeServer]:
    """The demo world, of this way's own; backups and restores finish at once."""
    app = FakeVps(token=TOKEN, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0)
    with serve(app) as server:
        yield server


# ---- what the API holds ------------------------------------------------------------


def snapshot(app: FakeVps) -> dict[int, dict[str, Any]]:
    """Per server what every way must leave alike (no ids, no marker keys); restores
    are those in the request journal (cleared before each step)."""
    held = backups(app)
    out: dict[int, dict[str, Any]] = {}
    for server in (WEB, DB):
        mine = [b for b in held.values() if b["server_id"] == server]
        restored = last_restore(app, server)
        source = held.get(restored["backup_id"]) if restored else None
        out[server] = {
            "manual": sorted(
                (strip_marker(b["description"]), b["status"])
                for b in mine
                if b["backup_type"] == "manual"
            ),
            "backups": len(mine),
            "restores": restore_requests(app, server),
            "last restore": None
            if restored is None
            else (
                strip_marker(source["description"]) if source else "(backup deleted since)",
                restored["status"],
            ),
        }
    return out


SEEDED = ("Pre-update backup", "completed")
FLEET = ("fleet", "completed")
PRE = ("pre-deploy", "completed")
ROTATION = ("", "completed")  # a rotation's backup without a description: the marker alone


def expected(web: list[tuple[str, str]], db: list[tuple[str, str]], restored: bool) -> Any:
    """The snapshot of the demo world (server 12345: 2 automatic backups and one
    manual; 12346: one automatic) with these manual backups added."""
    return {
        WEB: {
            "manual": sorted([SEEDED, *web]),
            "backups": 3 + len(web),
            "restores": int(restored),
            "last restore": ("pre-deploy", "completed") if restored else None,
        },
        DB: {"manual": sorted(db), "backups": 1 + len(db), "restores": 0, "last restore": None},
    }


EXPECTED = [
    expected([PRE, FLEET], [ROTATION, FLEET], False),
    expected([PRE, FLEET], [ROTATION, ROTATION, FLEET], False),
    expected([PRE, FLEET], [ROTATION, ROTATION, FLEET], False),  # the oldest one deleted
    expected([PRE, FLEET], [ROTATION, ROTATION, FLEET], True),
]
AFTER_DESTROY = {
    WEB: {
        "manual": [SEEDED],
        "backups": 3,
        "restores": 0,
        # Destroy forgets the restore; the backup it came from is gone with the stack.
        "last restore": ("(backup deleted since)", "completed"),
    },
    DB: {"manual": [], "backups": 1, "restores": 0, "last restore": None},
}


def sent(app: FakeVps) -> dict[str, int]:
    """The API requests since the journal was last cleared, by method."""
    return dict(Counter(r["method"] for r in app.requests() if r["path"].startswith("/api/")))


# ---- the scenario ------------------------------------------------------------------


@pytest.mark.parametrize("way_name", list(MAKERS))
def test_the_scenario_ends_alike_through_every_way(
    way_name: str, request: pytest.FixtureRequest, tmp_path: Path, fake: FakeServer
) -> None:
    app = fake.app
    seeded = set(backups(app))
    way = MAKERS[way_name](request, tmp_path, fake.url, TOKEN)
    print(f"\n    {way_name}: API requests per step")
    rotation_ids: list[int] = []
    for n, (step, want) in enumerate(zip(STEPS, EXPECTED, strict=True)):
        before = backups(app)
        app.clear_requests()
        way.apply(step)
        journal = app.requests()
        print(f"    {step.name:36} {sent(app)}")
        assert snapshot(app) == want, f"after step {n + 1} ({step.name})"
        now = backups(app)
        made = sorted(set(now) - set(before))
        gone = sorted(set(before) - set(now))
        assert seeded <= set(now), "nothing the scenario did not make is touched"
        if n == 1:
            # The Backup's replace: one DELETE of the old backup; the new one is made
            # before it (Pulumi) or after it (OpenTofu).
            (old,) = gone
            (deleted_at,) = [
                r["seq"]
                for r in journal
                if r["method"] == "DELETE" and r["path"].endswith(f"/backups/{old}/")
            ]
            made_after = [r for r in journal if r["method"] == "POST" and r["seq"] > deleted_at]
            assert bool(made_after) == way.deletes_first, [
                (r["seq"], r["method"], r["path"]) for r in journal
            ]
        if n == 2:
            # The rotation held 2: its oldest backup is the one deleted.
            (oldest,) = gone
            assert oldest == rotation_ids[0]
            assert len(made) == 1
        rotation_ids += [
            i
            for i in made
            if now[i]["server_id"] == DB and strip_marker(now[i]["description"]) == ""
        ]

    app.clear_requests()
    way.destroy()
    print(f"    {'destroy':36} {sent(app)}")
    assert snapshot(app) == AFTER_DESTROY
    assert set(backups(app)) == seeded, "no backup the scenario made remains"


#: How each way tells its user to set the API token.
TOKEN_SETTING = {
    "dynamic": "pulumi config set --secret vpsbackup:apiToken",
    "plugin": "pulumi config set --secret vpsbackup:apiToken",
    "tofu": "api_token",
}


@pytest.mark.parametrize("way_name", list(MAKERS))
def test_a_wrong_token_is_refused_in_each_ways_own_words(
    way_name: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    fake: FakeServer,
    leak_check: Callable[..., None],
) -> None:
    app = fake.app
    start = backups(app)
    way = MAKERS[way_name](request, tmp_path, fake.url, "vps_wrong_token_three_ways")
    out = way.apply(STEPS[0], ok=False)
    leak_check(out, where=f"{way_name}'s output")
    assert "Error:" in out or "error:" in out, out
    writes = [r for r in app.requests() if r["method"] not in ("GET", "HEAD")]
    assert writes == [] and backups(app) == start, "nothing is made with a refused token"
    errors = out[out.lower().index("error:") :]
    assert TOKEN_SETTING[way_name] in errors, errors
    if way_name == "tofu":
        # Not Pulumi's command: an OpenTofu user sets the token in the provider block.
        assert "pulumi" not in out.lower(), out
