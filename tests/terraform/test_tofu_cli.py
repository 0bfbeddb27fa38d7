"""The provider under the real OpenTofu, against the fake: what users run and read.

plan, apply, a plan with no change, replace, refresh after an outside delete,
import (command and block), destroy, the data sources, rotation, fleet and
restore, and the error text users read. Each test has its own fake and
working directory.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pulumi_vpsbackup.client.marker import strip_marker
from pulumi_vpsbackup.fake import FakeServer

from .conftest import TOKEN
from .harness import REQUIRED, Tofu, provider_block

WEB, DB = 12345, 12346


def config(fake: FakeServer, body: str) -> str:
    return REQUIRED + provider_block(fake.url, TOKEN) + body


def manual(fake: FakeServer, server_id: int | None = None) -> list[dict[str, Any]]:
    """The fake's manual backups (of one server)."""
    return [
        b
        for b in fake.app.state()["backups"]
        if b["backup_type"] == "manual" and (server_id is None or b["server"]["id"] == server_id)
    ]


def by_id(fake: FakeServer, backup_id: int) -> dict[str, Any] | None:
    return next((b for b in fake.app.state()["backups"] if b["id"] == backup_id), None)


BACKUP = """
resource "vpsbackup_backup" "pre" {
  server_id   = 12345
  description = "%s"
  triggers    = ["v1"]
}
"""


def test_plan_apply_no_change_and_destroy(fake: FakeServer, tofu: Tofu) -> None:
    before = {b["id"] for b in manual(fake)}
    tofu.write(config(fake, BACKUP % "before deploy"))
    plan = tofu.plan().stdout
    assert "# vpsbackup_backup.pre will be created" in plan
    assert "wait_for_completion = true" in plan
    assert "backup_id           = (known after apply)" in plan
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan
    assert {b["id"] for b in manual(fake)} == before, "a plan made a backup"

    applied = tofu.apply().stdout
    assert re.search(r"vpsbackup_backup\.pre: Creation complete after \d+s \[id=\d+\]", applied)
    values = tofu.resources()["vpsbackup_backup.pre"]
    made = by_id(fake, int(values["id"]))
    assert made is not None and made["status"] == "completed"
    assert strip_marker(made["description"]) == "before deploy"
    assert values["status"] == "completed" and values["backup_type"] == "manual"
    assert values["server_name"] == "web-server-01"
    assert re.fullmatch(r"[0-9a-f]{16}", values["resource_key"])
    assert values["resource_key"] in made["description"], "the marker names its owner key"

    again = tofu.plan("-detailed-exitcode", check=False)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "No changes." in again.stdout

    gone = tofu.destroy().stdout
    assert "Destroy complete! Resources: 1 destroyed." in gone
    assert by_id(fake, int(values["id"])) is None
    assert {b["id"] for b in manual(fake)} == before


def test_a_new_description_replaces_the_backup(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(config(fake, BACKUP % "one"))
    tofu.apply()
    first = int(tofu.resources()["vpsbackup_backup.pre"]["id"])
    tofu.write(config(fake, BACKUP % "two"))
    plan = tofu.plan().stdout
    assert "# vpsbackup_backup.pre must be replaced" in plan
    assert '~ description         = "one" -> "two" # forces replacement' in plan
    tofu.apply()
    second = int(tofu.resources()["vpsbackup_backup.pre"]["id"])
    assert second != first
    assert by_id(fake, first) is None
    assert strip_marker(by_id(fake, second)["description"]) == "two"  # type: ignore[index]
    assert len([b for b in manual(fake) if b["id"] in (first, second)]) == 1


def test_a_new_trigger_replaces_and_create_before_destroy_keeps_one_at_a_time(
    fake: FakeServer, tofu: Tofu
) -> None:
    body = """
resource "vpsbackup_backup" "pre" {
  server_id = 12345
  triggers  = [var.release]
  lifecycle { create_before_destroy = true }
}
variable "release" { type = string }
"""
    tofu.write(config(fake, body))
    tofu.apply("-var", "release=1")
    first = int(tofu.resources()["vpsbackup_backup.pre"]["id"])
    plan = tofu.plan("-var", "release=2").stdout
    assert "# vpsbackup_backup.pre must be replaced" in plan
    assert "+/- create replacement and then destroy" in plan
    tofu.apply("-var", "release=2")
    second = int(tofu.resources()["vpsbackup_backup.pre"]["id"])
    assert second != first and by_id(fake, first) is None and by_id(fake, second)


def test_refresh_after_an_outside_delete_plans_a_new_backup(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(config(fake, BACKUP % "kept"))
    tofu.apply()
    made = int(tofu.resources()["vpsbackup_backup.pre"]["id"])
    fake.app.remove_backup(made)
    plan = tofu.plan().stdout
    # Dropped from state by the refresh: a create, not a replacement.
    assert "# vpsbackup_backup.pre will be created" in plan
    assert "Plan: 1 to add, 0 to change, 0 to destroy." in plan
    refreshed = tofu.run("apply", "-refresh-only", "-auto-approve").stdout
    assert "vpsbackup_backup.pre has been deleted" in refreshed
    assert "vpsbackup_backup.pre" not in tofu.resources()


def test_import_command_and_block_then_destroy(fake: FakeServer, tofu_for: Any) -> None:
    seeded = fake.app.seed_backup(server_id=WEB, backup_type="manual", description="by hand")
    body = """
resource "vpsbackup_backup" "adopted" {
  server_id = 12345
}
"""
    cmd = tofu_for("cmd")
    cmd.write(config(fake, body))
    out = cmd.run("import", "vpsbackup_backup.adopted", str(seeded["id"])).stdout
    assert "Import successful!" in out
    values = cmd.resources()["vpsbackup_backup.adopted"]
    assert values["server_id"] == WEB and values["description"] == "by hand"
    plan = cmd.plan("-detailed-exitcode", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr

    block = tofu_for("block")
    block.write(
        config(fake, body)
        + f'\nimport {{\n  to = vpsbackup_backup.adopted\n  id = "{seeded["id"]}"\n}}\n'
    )
    planned = block.plan().stdout
    assert "vpsbackup_backup.adopted: Preparing import... [id=" in planned
    assert "Plan: 1 to import, 0 to add, 0 to change, 0 to destroy." in planned
    block.apply()
    assert block.resources()["vpsbackup_backup.adopted"]["id"] == str(seeded["id"])

    cmd.destroy()
    assert by_id(fake, seeded["id"]) is None


def test_import_refuses_automatic_backups_missing_ones_and_rotations(
    fake: FakeServer, tofu: Tofu
) -> None:
    automatic = next(b for b in fake.app.state()["backups"] if b["backup_type"] == "automatic")
    tofu.write(
        config(
            fake,
            """
resource "vpsbackup_backup" "x" { server_id = 12345 }
resource "vpsbackup_backup_rotation" "r" {
  server_id = 12345
  keep      = 2
}
""",
        )
    )
    auto = tofu.run("import", "vpsbackup_backup.x", str(automatic["id"]), check=False)
    assert auto.returncode != 0
    assert f"Error: backup {automatic['id']} is automatic" in auto.stderr
    missing = tofu.run("import", "vpsbackup_backup.x", "999999", check=False)
    assert "backup 999999 was not found with this provider's account" in missing.stderr
    rotation = tofu.run("import", "vpsbackup_backup_rotation.r", "1", check=False)
    assert "Error: vpsbackup_backup_rotation cannot be imported" in rotation.stderr
    assert by_id(fake, automatic["id"]) is not None


def test_errors_name_the_attribute_and_what_is_allowed(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(
        config(
            fake,
            """
resource "vpsbackup_backup" "bad" {
  server_id = 0
  timeouts { create = "soon" }
}
""",
        )
    )
    out = tofu.plan(check=False)
    assert out.returncode == 1
    err = out.stderr
    assert "Error: Invalid server_id" in err
    assert "with vpsbackup_backup.bad," in err
    assert "server_id must be between 1 and" in err
    assert "timeouts.create must be a duration" in err
    assert "Error: Invalid timeouts.create" in err

    tofu.write(config(fake, 'resource "vpsbackup_backup" "gone" { server_id = 999 }\n'))
    missing = tofu.plan(check=False)
    assert missing.returncode == 1
    assert "Error: Invalid server_id" in missing.stderr
    assert "999" in missing.stderr


def test_a_full_server_is_warned_about_at_plan(fake: FakeServer, tofu: Tofu) -> None:
    while len(manual(fake, DB)) < 10:
        fake.app.seed_backup(server_id=DB, backup_type="manual", description="old")
    tofu.write(config(fake, 'resource "vpsbackup_backup" "x" { server_id = 12346 }\n'))
    out = tofu.plan().stdout + tofu.plan().stderr
    assert "Warning: server 12346 (db-server-01) already has 10 manual backups" in out


def test_the_token_stays_out_of_state_and_output(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(
        REQUIRED
        + f"""
variable "token" {{
  type      = string
  sensitive = true
}}
provider "vpsbackup" {{
  api_url   = "{fake.url}"
  api_token = var.token
}}
resource "vpsbackup_backup" "x" {{ server_id = 12345 }}
"""
    )
    out = tofu.apply("-var", f"token={TOKEN}")
    assert TOKEN not in out.stdout + out.stderr
    assert TOKEN not in tofu.state_text()
    tofu.destroy("-var", f"token={TOKEN}")


def test_api_url_without_token_never_sends_the_environment_token_elsewhere(
    fake: FakeServer, tofu: Tofu
) -> None:
    tofu.write(
        REQUIRED
        + f'provider "vpsbackup" {{\n  api_url = "{fake.url}"\n}}\n'
        + 'resource "vpsbackup_backup" "x" { server_id = 12345 }\n'
    )
    out = tofu.plan(check=False, env={"VPS_API_TOKEN": TOKEN})
    assert out.returncode == 1
    assert "Error: api_url without api_token" in out.stderr
    assert not fake.app.requests(), "a request was sent with the environment's token"
    ok = tofu.plan(env={"VPS_API_TOKEN": TOKEN, "VPS_API_URL": fake.url})
    assert "will be created" in ok.stdout


def test_data_sources_read_backups(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(
        config(
            fake,
            """
data "vpsbackup_backups" "web" {
  server_id = 12345
}
data "vpsbackup_latest_backup" "auto" {
  server_id   = 12345
  backup_type = "automatic"
}
output "count" { value = length(data.vpsbackup_backups.web.backups) }
output "latest" { value = data.vpsbackup_latest_backup.auto.id }
output "status" { value = data.vpsbackup_latest_backup.auto.status }
""",
        )
    )
    tofu.apply()
    outputs = json.loads(tofu.run("output", "-json").stdout)
    web = [b for b in fake.app.state()["backups"] if b["server"]["id"] == WEB]
    assert outputs["count"]["value"] == len(web)
    newest_auto = max(
        (b for b in web if b["backup_type"] == "automatic" and b["status"] == "completed"),
        key=lambda b: b["created_at"],
    )
    assert outputs["latest"]["value"] == newest_auto["id"]
    assert outputs["status"]["value"] == "completed"


def test_rotation_keeps_its_last_backups(fake: FakeServer, tofu: Tofu) -> None:
    body = """
variable "release" { type = string }
resource "vpsbackup_backup_rotation" "r" {
  server_id   = 12346
  keep        = 2
  triggers    = [var.release]
  description = "nightly"
}
"""
    tofu.write(config(fake, body))
    ids: list[list[int]] = []
    for release in ("1", "2", "3"):
        tofu.apply("-var", f"release={release}")
        ids.append([int(i) for i in tofu.resources()["vpsbackup_backup_rotation.r"]["backup_ids"]])
    assert [len(i) for i in ids] == [1, 2, 2]
    assert ids[2][1] == ids[1][0], "the newest stays, the oldest goes"
    assert by_id(fake, ids[0][0]) is None
    plan = tofu.plan("-var", "release=3", "-detailed-exitcode", check=False)
    assert plan.returncode == 0, plan.stdout
    tofu.destroy("-var", "release=3")
    assert all(by_id(fake, i) is None for i in ids[2])


def test_fleet_backs_up_each_server_and_restore_runs_per_backup(
    fake: FakeServer, tofu: Tofu
) -> None:
    body = """
resource "vpsbackup_backup_fleet" "all" {
  server_ids  = [12346, 12345]
  description = "fleet"
}
resource "vpsbackup_restore" "db" {
  server_id = 12346
  backup_id = vpsbackup_backup_fleet.all.backup_ids["12346"]
}
"""
    tofu.write(config(fake, body))
    tofu.apply()
    res = tofu.resources()
    fleet = res["vpsbackup_backup_fleet.all"]
    assert set(fleet["backup_ids"]) == {"12345", "12346"}
    assert set(fleet["statuses"].values()) == {"completed"}
    assert res["vpsbackup_restore.db"]["restore_status"] == "completed"
    assert res["vpsbackup_restore.db"]["backup_id"] == fleet["backup_ids"]["12346"]
    plan = tofu.plan("-detailed-exitcode", check=False)
    assert plan.returncode == 0, plan.stdout
    tofu.destroy()
    assert not [b for b in manual(fake) if strip_marker(b["description"]) == "fleet"]


def test_two_accounts_through_provider_aliases(fake: FakeServer, tofu: Tofu) -> None:
    from pulumi_vpsbackup.fake import FakeClock, FakeVps, serve

    other_token = "vps_test_token_other"
    other_app = FakeVps(
        token=other_token, clock=FakeClock(scale=0), completion="immediate", restore_seconds=0
    )
    with serve(other_app) as other:
        tofu.write(
            REQUIRED
            + provider_block(fake.url, TOKEN)
            + provider_block(other.url, other_token, alias="b")
            + """
resource "vpsbackup_backup" "a" { server_id = 12345 }
resource "vpsbackup_backup" "b" {
  provider  = vpsbackup.b
  server_id = 12345
}
"""
        )
        tofu.apply()
        res = tofu.resources()
        assert by_id(fake, int(res["vpsbackup_backup.a"]["id"])) is not None
        in_b = [
            b
            for b in other_app.state()["backups"]
            if b["id"] == int(res["vpsbackup_backup.b"]["id"])
        ]
        assert in_b and in_b[0]["backup_type"] == "manual"
        tofu.destroy()
        assert not [b for b in other_app.state()["backups"] if b["id"] == in_b[0]["id"]]


def test_the_wait_is_logged_with_tf_log_info(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(config(fake, 'resource "vpsbackup_backup" "x" { server_id = 12345 }\n'))
    out = tofu.apply(env={"TF_LOG": "INFO"})
    made = tofu.resources()["vpsbackup_backup.x"]["id"]
    assert f"vpsbackup: created backup {made} of server 12345" in out.stderr
    assert TOKEN not in out.stderr + out.stdout


def test_import_a_restore_by_its_id(fake: FakeServer, tofu_for: Any) -> None:
    own = next(
        b["id"]
        for b in fake.app.state()["backups"]
        if b["server"]["id"] == DB and b["status"] == "completed"
    )
    first = tofu_for("first")
    body = f"""
resource "vpsbackup_restore" "db" {{
  server_id = 12346
  backup_id = {own}
}}
"""
    first.write(config(fake, body))
    first.apply()
    restore_id = first.resources()["vpsbackup_restore.db"]["id"]
    second = tofu_for("second")
    second.write(config(fake, body))
    second.run("import", "vpsbackup_restore.db", restore_id)
    values = second.resources()["vpsbackup_restore.db"]
    assert values["server_id"] == DB and values["backup_id"] == own
    assert values["restore_status"] == "completed"
    plan = second.plan("-detailed-exitcode", check=False)
    assert plan.returncode == 0, plan.stdout + plan.stderr


def test_a_bad_provider_setting_is_refused_before_any_request(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(
        REQUIRED
        + f'provider "vpsbackup" {{\n  api_url   = "ftp://{fake.host}/api/v1"\n'
        + f'  api_token = "{TOKEN}"\n}}\n'
        + 'resource "vpsbackup_backup" "x" { server_id = 12345 }\n'
    )
    out = tofu.plan(check=False)
    assert out.returncode == 1
    assert "Error: Invalid api_url" in out.stderr, out.stderr
    assert "ftp://" in out.stderr
    assert not fake.app.requests()


ROTATION = """
variable "release" { type = string }
variable "keep" {
  type    = number
  default = 2
}
resource "vpsbackup_backup_rotation" "r" {
  server_id   = 12346
  keep        = var.keep
  triggers    = [var.release]
  description = "nightly"
}
"""


def rotation_ids(tofu: Tofu) -> list[int]:
    return [int(i) for i in tofu.resources()["vpsbackup_backup_rotation.r"]["backup_ids"]]


def test_a_rotation_plan_names_each_backup_it_deletes(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(config(fake, ROTATION))
    tofu.apply("-var", "release=1")
    tofu.apply("-var", "release=2")
    newer, older = rotation_ids(tofu)
    # A new trigger adds one and deletes the oldest: the plan shows which.
    plan = tofu.plan("-var", "release=3")
    lines = [line.strip() for line in plan.stdout.splitlines()]
    assert "+ (known after apply)," in lines
    assert f"{newer}," in lines, "the member it keeps is shown as kept"
    assert f"- {older}," in lines, "the member it deletes is shown as deleted"
    tofu.apply("-var", "release=3")
    third = rotation_ids(tofu)
    assert third[1:] == [newer] and by_id(fake, older) is None
    # Lowering keep, no new backup: the whole list is known at plan.
    plan = tofu.plan("-var", "release=3", "-var", "keep=1")
    assert f"- {newer}," in [line.strip() for line in plan.stdout.splitlines()]
    assert "backup_ids" in plan.stdout and "(known after apply)" not in plan.stdout
    tofu.apply("-var", "release=3", "-var", "keep=1")
    assert rotation_ids(tofu) == third[:1] and by_id(fake, newer) is None
    again = tofu.plan("-var", "release=3", "-var", "keep=1", "-detailed-exitcode", check=False)
    assert again.returncode == 0, again.stdout


def test_a_delete_vpsorg_refuses_keeps_the_member_and_says_so(fake: FakeServer, tofu: Tofu) -> None:
    tofu.write(config(fake, ROTATION))
    tofu.apply("-var", "release=1", "-var", "keep=1")
    [first] = rotation_ids(tofu)
    fake.app.add_fault(method="DELETE", path=f"/api/v1/backups/{first}/", status=500, count=20)
    out = tofu.apply("-var", "release=2", "-var", "keep=1", check=False)
    assert out.returncode == 1
    err = " ".join(out.stderr.split())
    assert f"could not delete backup {first}" in " ".join(out.stdout.split())
    assert "Error: The update did not end as planned (backup_ids)" in err
    assert "inconsistent result" not in err
    # The state holds what is true: the new backup, and the one still on VPS.org.
    second, kept = rotation_ids(tofu)
    assert kept == first and by_id(fake, first) is not None
    fake.app.clear_faults()
    # The next apply deletes it, and its plan says so; nothing else changes.
    plan = tofu.plan("-var", "release=2", "-var", "keep=1")
    assert f"- {first}," in [line.strip() for line in plan.stdout.splitlines()]
    tofu.apply("-var", "release=2", "-var", "keep=1")
    assert rotation_ids(tofu) == [second] and by_id(fake, first) is None
    assert [b["id"] for b in manual(fake, DB)] == [second]


def test_a_fleet_plan_names_the_backup_of_a_server_it_drops(fake: FakeServer, tofu: Tofu) -> None:
    body = """
variable "servers" { type = list(number) }
resource "vpsbackup_backup_fleet" "f" {
  server_ids  = var.servers
  description = "maintenance"
}
"""
    tofu.write(config(fake, body))
    tofu.apply("-var", "servers=[12345, 12346]")
    ids = tofu.resources()["vpsbackup_backup_fleet.f"]["backup_ids"]
    plan = tofu.plan("-var", "servers=[12345]")
    lines = [" ".join(line.split()) for line in plan.stdout.splitlines()]
    assert f'- "12346" = {ids["12346"]} -> null' in lines, plan.stdout
    assert "(known after apply)" not in plan.stdout, "nothing is made: every value is known"
    tofu.apply("-var", "servers=[12345]")
    assert tofu.resources()["vpsbackup_backup_fleet.f"]["backup_ids"] == {"12345": ids["12345"]}
    assert by_id(fake, int(ids["12346"])) is None and by_id(fake, int(ids["12345"])) is not None
    # Adding a server back: its backup is unknown, the other's stays as it is.
    plan = tofu.plan("-var", "servers=[12345, 12346]")
    lines = [" ".join(line.split()) for line in plan.stdout.splitlines()]
    assert '+ "12346" = (known after apply)' in lines, plan.stdout
    assert "# (1 unchanged element hidden)" in lines, "the kept backup is not replanned"
    tofu.apply("-var", "servers=[12345, 12346]")
    again = tofu.resources()["vpsbackup_backup_fleet.f"]["backup_ids"]
    assert again["12345"] == ids["12345"] and by_id(fake, int(again["12346"])) is not None


def test_triggers_shaped_like_the_states_own_wrapper_are_kept_as_written(
    fake: FakeServer, tofu: Tofu
) -> None:
    # OpenTofu stores a `dynamic` value in state as {"value": ..., "type": ...}; a
    # user's own map with exactly those keys must still read back as that map.
    body = """
variable "release" { type = string }
resource "vpsbackup_backup" "pre" {
  server_id = 12345
  triggers  = { type = "release", value = var.release }
}
"""
    tofu.write(config(fake, body))
    tofu.apply("-var", "release=1")
    first = tofu.resources()["vpsbackup_backup.pre"]
    assert first["triggers"] == {"type": "release", "value": "1"}
    same = tofu.plan("-var", "release=1", "-detailed-exitcode", check=False)
    assert same.returncode == 0, same.stdout
    tofu.apply("-var", "release=2")
    second = tofu.resources()["vpsbackup_backup.pre"]
    assert second["id"] != first["id"] and by_id(fake, int(first["id"])) is None
    assert second["triggers"] == {"type": "release", "value": "2"}


def test_a_lost_answer_adopts_only_its_own_backup_and_destroy_spares_a_lookalike(
    fake: FakeServer, tofu: Tofu
) -> None:
    before = [b["id"] for b in manual(fake, WEB)]
    # Someone else's backup of the same server, with the same description.
    theirs = fake.app.seed_backup(server_id=WEB, backup_type="manual", description="release")
    fake.app.add_fault(
        method="POST", path="/api/v1/backups/", action="drop", phase="after", count=1
    )
    body = """
resource "vpsbackup_backup" "pre" {
  server_id   = 12345
  description = "release"
}
"""
    tofu.write(config(fake, body))
    tofu.apply()
    ours = int(tofu.resources()["vpsbackup_backup.pre"]["id"])
    assert fake.app.state()["faults"] == [], "the POST's answer was dropped"
    # The POST landed but its answer was lost: the retry found it by its marker,
    # so exactly one backup was made, and the lookalike was not taken for it.
    assert ours != theirs["id"]
    assert sorted(b["id"] for b in manual(fake, WEB)) == sorted([*before, theirs["id"], ours])
    tofu.destroy()
    assert sorted(b["id"] for b in manual(fake, WEB)) == sorted([*before, theirs["id"]])


def test_a_moved_block_renames_without_touching_the_backup(fake: FakeServer, tofu: Tofu) -> None:
    before = [b["id"] for b in manual(fake, WEB)]
    tofu.write(config(fake, 'resource "vpsbackup_backup" "old" { server_id = 12345 }\n'))
    tofu.apply()
    made = tofu.resources()["vpsbackup_backup.old"]
    renamed = """
resource "vpsbackup_backup" "new" { server_id = 12345 }
moved {
  from = vpsbackup_backup.old
  to   = vpsbackup_backup.new
}
"""
    tofu.write(config(fake, renamed))
    plan = tofu.plan()
    assert "vpsbackup_backup.old has moved to vpsbackup_backup.new" in plan.stdout
    assert "0 to add, 0 to change, 0 to destroy" in plan.stdout
    tofu.apply()
    after = tofu.resources()["vpsbackup_backup.new"]
    assert after["id"] == made["id"] and after["resource_key"] == made["resource_key"]
    assert [b["id"] for b in manual(fake, WEB)] == [*before, int(made["id"])]


def test_importing_a_backup_another_resource_made_names_it(fake: FakeServer, tofu_for: Any) -> None:
    maker = tofu_for("maker")
    maker.write(config(fake, 'resource "vpsbackup_backup" "made" { server_id = 12345 }\n'))
    maker.apply()
    made = maker.resources()["vpsbackup_backup.made"]
    taker = tofu_for("taker")
    taker.write(config(fake, 'resource "vpsbackup_backup" "x" { server_id = 12345 }\n'))
    out = taker.run("import", "vpsbackup_backup.x", made["id"])
    said = " ".join((out.stdout + out.stderr).split())
    assert f"backup {made['id']} of server 12345 was made by another resource" in said, said
    assert f"owner key {made['resource_key']}" in said
    # A backup nobody's marker claims (made by hand) is imported without a word.
    plain = fake.app.seed_backup(server_id=12345, backup_type="manual", description="by hand")
    quiet = taker.run("import", "vpsbackup_backup.y", str(plain["id"]), check=False)
    assert "another resource" not in quiet.stdout + quiet.stderr
