"""The examples' life cycles, shared by the harness tests (here) and the CLI tests (tests/cli).

Each scenario is what a user does with an example: deploy it with a first
config, change one setting, deploy again, refresh, destroy. The expectations
are the plan the Pulumi engine shows at each step, per resource, and what the
fake VPS.org API must hold afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from pulumi_vpsbackup.fake import FakeVps

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
TOKEN = "vps_test_token_examples"

BACKUP = "pulumi-python:dynamic/vpsbackup:Backup"
#: What the first backup-making resource of a stack registers (provider/core/identity.py).
IDENTITY = "pulumi-python:dynamic/vpsbackup:StackIdentity"
IDENTITY_NAME = "vpsbackup-stack-identity"
RESTORE = "pulumi-python:dynamic/vpsbackup:Restore"
RELEASE = "example:app:Release"
STACK = "pulumi:pulumi:Stack"

WEB_SERVER = 12345


@dataclass(frozen=True)
class Scenario:
    example: str
    first: Mapping[str, str]  # project config (un-namespaced keys) of the first deploy
    change: Mapping[str, str]  # the config the user changes afterwards
    resources: Mapping[str, str]  # name -> type of everything the example declares
    change_ops: Mapping[str, str]  # name -> op the change produces (others: same)

    @property
    def path(self) -> Path:
        return EXAMPLES / self.example

    @property
    def project(self) -> str:
        return project_settings(self.example)["name"]

    def __str__(self) -> str:
        return self.example


QUICKSTART = Scenario(
    example="quickstart",
    first={"description": "quickstart test, first"},
    change={"description": "quickstart test, second"},
    resources={"quickstart": BACKUP, IDENTITY_NAME: IDENTITY},
    change_ops={"quickstart": "replace"},
)
PRE_DEPLOY = Scenario(
    example="pre-deploy",
    first={"appVersion": "1.0.0"},
    change={"appVersion": "1.1.0"},
    resources={"pre-deploy": BACKUP, "app": RELEASE, IDENTITY_NAME: IDENTITY},
    change_ops={"pre-deploy": "replace", "app": "update"},
)
RESTORE_SCENARIO = Scenario(
    example="restore",
    first={"restoreFromBackupId": "499"},  # the demo world's manual backup of 12345
    change={"restoreFromBackupId": "501"},  # its newest automatic backup
    resources={"restore": RESTORE},
    change_ops={"restore": "replace"},
)
SCENARIOS = [QUICKSTART, PRE_DEPLOY, RESTORE_SCENARIO]


def with_identity(scenario: Scenario, stack_op: str, per_name: Mapping[str, Any]) -> dict:
    """`per_name` with the stack identity's op added, when the example has one: it
    is made and removed with the stack, and no change of the example touches it."""
    out = dict(per_name)
    if IDENTITY_NAME in scenario.resources:
        op = stack_op if stack_op in ("create", "delete") else "same"
        out[IDENTITY_NAME] = [op] if isinstance(next(iter(per_name.values()), ""), list) else op
    return out


def project_settings(example: str) -> dict[str, Any]:
    data = yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def namespaced(project: str, config: Mapping[str, str]) -> dict[str, str]:
    return {key if ":" in key else f"{project}:{key}": value for key, value in config.items()}


# ---- the fake's side -------------------------------------------------------------------


def backups(fake: FakeVps) -> dict[int, dict[str, Any]]:
    """Every backup the fake holds, by id, in its public form."""
    return {
        int(b["id"]): {
            "server_id": int(b["server"]["id"]),
            **{k: b.get(k) for k in ("backup_type", "status", "description", "created_at")},
        }
        for b in fake.state()["backups"]
    }


def servers(fake: FakeVps) -> dict[int, tuple[str, str]]:
    return {int(s["id"]): (s["name"], s["status"]) for s in fake.state()["servers"]}


def last_restore(fake: FakeVps, server_id: int) -> dict[str, Any] | None:
    for s in fake.state()["servers"]:
        if int(s["id"]) == server_id:
            record = s.get("last_restore")
            return dict(record) if record else None
    raise AssertionError(f"server {server_id} is not in the fake")


def restore_requests(fake: FakeVps, server_id: int) -> int:
    """How many restores of the server the fake was asked for (its request journal)."""
    path = f"/api/v1/servers/{server_id}/restore/"
    return sum(1 for r in fake.requests() if r["method"] == "POST" and r["path"] == path)


def world(fake: FakeVps) -> dict[str, Any]:
    """What "the fake ends as it started" compares: backups and servers."""
    return {"backups": backups(fake), "servers": servers(fake)}
