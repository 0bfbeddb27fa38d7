"""Run the real OpenTofu (built by `make tofu`) on small configurations against the fake.

`Tofu` is one working directory with its own CLI configuration, data directory
and environment: the provider comes from a `dev_overrides` directory holding a
launcher that runs this checkout's `pulumi_vpsbackup.terraform.server` with the
test interpreter (the filesystem-mirror install of the built archive is
tests/terraform/test_tofu_dist.py's). Nothing of the user's (`~/.tofurc`,
`VPS_API_*`, `TF_*`) reaches it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SOURCE = "vpsbackup/vpsbackup"
HINT = "build it with `make tofu` and pass its directory as VPSBACKUP_TOFU_DIR (`make test` does)"

REQUIRED = """terraform {
  required_providers {
    vpsbackup = { source = "vpsbackup/vpsbackup" }
  }
}
"""


def provider_block(url: str, token: str, alias: str | None = None) -> str:
    alias_line = f'\n  alias     = "{alias}"' if alias else ""
    return f"""provider "vpsbackup" {{{alias_line}
  api_url   = "{url}"
  api_token = "{token}"
}}
"""


def launcher_dir(into: Path) -> Path:
    """A directory whose `terraform-provider-vpsbackup` runs this checkout's provider."""
    into.mkdir(parents=True, exist_ok=True)
    exe = into / "terraform-provider-vpsbackup"
    exe.write_text(
        f'#!/bin/sh\nexec "{sys.executable}" -m pulumi_vpsbackup.terraform.server "$@"\n',
        encoding="utf-8",
    )
    exe.chmod(0o755)
    return into


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """This process's environment without anything that configures OpenTofu or the API."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("TF_", "VPS_API_", "PLUGIN_")) and k != "CHECKPOINT_DISABLE"
    }
    env.update({"CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1", "NO_COLOR": "1"})
    env.update(extra or {})
    return env


@dataclass
class Tofu:
    """One OpenTofu working directory."""

    binary: str
    workdir: Path
    cli_config: Path
    env: dict[str, str] = field(default_factory=dict)

    def write(self, main_tf: str, name: str = "main.tf") -> None:
        (self.workdir / name).write_text(main_tf, encoding="utf-8")

    def run(
        self,
        *args: str,
        check: bool = True,
        env: dict[str, str] | None = None,
        timeout: float = 300,
    ) -> subprocess.CompletedProcess[str]:
        full_env = clean_env(
            {
                "TF_CLI_CONFIG_FILE": str(self.cli_config),
                "TF_DATA_DIR": str(self.workdir / ".tofu-data"),
                **self.env,
                **(env or {}),
            }
        )
        proc = subprocess.run(
            [self.binary, *args, "-no-color"]
            if args and args[0] != "version"
            else [self.binary, *args],
            cwd=self.workdir,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise AssertionError(
                f"tofu {' '.join(args)} exited {proc.returncode}\n"
                f"--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
            )
        return proc

    def apply(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("apply", "-auto-approve", "-input=false", *args, check=check, env=env)

    def plan(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("plan", "-input=false", *args, check=check, env=env)

    def destroy(
        self, *args: str, check: bool = True, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", "-auto-approve", "-input=false", *args, check=check, env=env)

    def state(self) -> dict[str, Any]:
        """`tofu show -json`: the state's values."""
        shown = json.loads(self.run("show", "-json").stdout)
        return shown.get("values") or {}

    def resources(self) -> dict[str, dict[str, Any]]:
        """Each managed resource in state by address: its attribute values."""
        found: dict[str, dict[str, Any]] = {}
        root = self.state().get("root_module") or {}
        for res in root.get("resources", []):
            found[res["address"]] = res["values"]
        return found

    def state_text(self) -> str:
        path = self.workdir / "terraform.tfstate"
        return path.read_text(encoding="utf-8") if path.exists() else ""


def dev_override_config(path: Path, provider_dir: Path) -> Path:
    path.write_text(
        "provider_installation {\n"
        f'  dev_overrides {{ "registry.opentofu.org/{SOURCE}" = "{provider_dir}" }}\n'
        "  direct {}\n"
        "}\n",
        encoding="utf-8",
    )
    return path
