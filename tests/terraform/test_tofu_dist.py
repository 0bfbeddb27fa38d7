"""The OpenTofu provider as a user installs it: `make dist`'s zip, through a filesystem mirror.

`tools/build_dist.sh` builds dist/ once per session, without the SDKs
(`DIST_SDKS=no`: the package and the two archives, nothing that needs Node.js
or the Pulumi CLI), into a temporary directory. Then, on a "clean machine":
OpenTofu runs with an environment of PATH=/usr/bin:/bin, an empty HOME, the
configuration's two variables and at most a CLI configuration, nothing else (no
virtualenv, nothing of this checkout), so the provider starts from the zip's
own libraries with the system python3:

- the zip lies, under its own name, in `<mirror>/registry.opentofu.org/vpsbackup/vpsbackup/`,
  the mirror being either a directory a `filesystem_mirror` block of the CLI
  configuration names (with `direct` for everything else: the README's way)
  or ~/.terraform.d/plugins, which OpenTofu searches with no configuration
  (docs/terraform.md's);
- `tofu init` installs vpsbackup/vpsbackup at the package's version and locks
  it with the h1: hash of exactly the zip's files;
- `tofu apply` of examples/terraform/main.tf makes its backups on the fake, a
  plan right after has nothing to change (OpenTofu checks the unpacked provider
  against the lock file again: the provider must not write into its own
  directory), and `tofu destroy` deletes them;
- when no Python fits, tofu's error quotes the launcher's reason.

Needs `tofu` (`make tofu`, or VPSBACKUP_TOFU_DIR) and /usr/bin/python3, and PyPI
(or pip's cache and the dependency cache) for the archives' libraries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pulumi_vpsbackup import __version__
from pulumi_vpsbackup.fake import FakeServer
from tests.programs.scenarios import backups
from tests.terraform.conftest import TOKEN
from tests.terraform.harness import REPO, SOURCE

PROVIDER = "terraform-provider-vpsbackup"
EXECUTABLE = f"{PROVIDER}_v{__version__}"
ZIP = f"{PROVIDER}_{__version__}_linux_amd64.zip"
SUMS = f"{PROVIDER}_{__version__}_SHA256SUMS"
HOST = "registry.opentofu.org"
SYSTEM_PATH = "/usr/bin:/bin"
SYSTEM_PYTHON = "/usr/bin/python3"
EXAMPLE = REPO / "examples" / "terraform" / "main.tf"


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@dataclass(frozen=True)
class Dist:
    dir: Path

    @property
    def zip(self) -> Path:
        return self.dir / ZIP

    @property
    def sums(self) -> Path:
        return self.dir / SUMS

    @property
    def wheel(self) -> Path:
        return self.dir / f"pulumi_vpsbackup-{__version__}-py3-none-any.whl"


@pytest.fixture(scope="session")
def dist(tofu_bin: str, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """dist/ as `make dist` builds it, but for the SDKs, in a directory of the session's."""
    if not Path(SYSTEM_PYTHON).exists():
        _unavailable(f"the clean-machine tests run the system {SYSTEM_PYTHON}")
    out = tmp_path_factory.mktemp("dist")
    env = {**os.environ, "PYTHON": sys.executable, "DIST_SDKS": "no"}
    done = subprocess.run(
        [str(REPO / "tools" / "build_dist.sh"), str(out)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    built = Dist(out)
    for path in (built.zip, built.sums, built.wheel):
        assert path.is_file(), f"{path.name} not in {sorted(p.name for p in out.iterdir())}"
    return built


def h1(names_and_data: dict[str, bytes]) -> str:
    """OpenTofu's h1: hash of a provider package (golang.org/x/mod/sumdb/dirhash's Hash1):
    the SHA-256 of its sorted "<sha256 hex>  <path>" lines, base64."""
    summary = "".join(
        f"{hashlib.sha256(data).hexdigest()}  {name}\n"
        for name, data in sorted(names_and_data.items())
    )
    return "h1:" + base64.b64encode(hashlib.sha256(summary.encode()).digest()).decode()


def test_the_zip_is_laid_out_as_the_registry_serves_it(dist: Dist) -> None:
    digest = hashlib.sha256(dist.zip.read_bytes()).hexdigest()
    assert dist.sums.read_text("utf-8") == f"{digest}  {ZIP}\n"
    with zipfile.ZipFile(dist.zip) as archive:
        infos = {info.filename: info for info in archive.infolist()}
    assert {name.split("/")[0] for name in infos} == {EXECUTABLE, "LICENSE", "lib"}
    # OpenTofu runs the first file named terraform-provider-vpsbackup[_.]...: ours alone.
    assert [name for name in infos if name.startswith(PROVIDER)] == [EXECUTABLE]
    mode = infos[EXECUTABLE].external_attr >> 16
    assert stat.S_ISREG(mode) and mode & 0o111 == 0o111, oct(mode)
    assert "lib/launch_terraform.py" in infos
    assert "lib/any/pulumi_vpsbackup/terraform/tfplugin6/tfplugin6_pb2.py" in infos
    assert "lib/launch.py" not in infos, "the Pulumi plugin's entry point"
    assert not [name for name in infos if "__pycache__" in name or name.endswith("/")]
    with zipfile.ZipFile(dist.wheel) as wheel:
        assert "pulumi_vpsbackup/terraform/tfplugin6/tfplugin6_pb2_grpc.py" in wheel.namelist()


# ---- a machine with OpenTofu, python3 and the zip --------------------------------------


@dataclass
class Machine:
    """A user's home and working directory, and the zip in a filesystem mirror: either
    a directory of their choice named in the CLI configuration (`mirror_config`,
    the README's way) or the implied one, ~/.terraform.d/plugins, with no
    configuration at all (docs/terraform.md's)."""

    root: Path
    tofu_bin: str
    fake: FakeServer
    mirror_config: bool

    def __post_init__(self) -> None:
        for name in ("home", "work"):
            (self.root / name).mkdir(parents=True)
        self.env = {
            "PATH": SYSTEM_PATH,
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
            "TF_VAR_api_url": self.fake.url,
            "TF_VAR_api_token": TOKEN,
        }
        if self.mirror_config:
            self.mirror_dir = self.root / "mirror"
            cli_config = self.root / "tofurc"
            cli_config.write_text(
                "provider_installation {\n"
                "  filesystem_mirror {\n"
                f'    path    = "{self.mirror_dir}"\n'
                f'    include = ["{HOST}/vpsbackup/*"]\n'
                "  }\n"
                "  direct {\n"
                f'    exclude = ["{HOST}/vpsbackup/*"]\n'
                "  }\n"
                "}\n",
                "utf-8",
            )
            self.env["TF_CLI_CONFIG_FILE"] = str(cli_config)
        else:
            self.mirror_dir = self.root / "home" / ".terraform.d" / "plugins"
        self.outputs: list[str] = []

    @property
    def work(self) -> Path:
        return self.root / "work"

    @property
    def installed(self) -> Path:
        """Where `tofu init` unpacks the provider."""
        return self.work / ".terraform/providers" / HOST / SOURCE / __version__ / "linux_amd64"

    def mirror(self, zip_path: Path) -> None:
        """The zip in the filesystem mirror, under its own name (the packed layout)."""
        into = self.mirror_dir / HOST / SOURCE
        into.mkdir(parents=True)
        (into / zip_path.name).write_bytes(zip_path.read_bytes())

    def tofu(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        if args[0] in ("init", "plan", "apply", "destroy"):
            args = (*args, "-input=false")
        done = subprocess.run(
            [self.tofu_bin, *args, "-no-color"],
            cwd=self.work,
            env={**self.env, **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        self.outputs += [done.stdout, done.stderr]
        return done


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, (
        f"{done.args}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    return done.stdout


@pytest.fixture(params=[True, False], ids=["mirror-in-cli-config", "implied-mirror"])
def machine(
    request: pytest.FixtureRequest, tmp_path: Path, tofu_bin: str, fake: FakeServer, dist: Dist
) -> Machine:
    made = Machine(tmp_path / "machine", tofu_bin, fake, mirror_config=request.param)
    made.mirror(dist.zip)
    shutil.copy2(EXAMPLE, made.work / "main.tf")
    return made


def _state(machine: Machine) -> dict[str, dict[str, Any]]:
    shown = json.loads(_ok(machine.tofu("show", "-json")))
    resources = ((shown.get("values") or {}).get("root_module") or {}).get("resources", [])
    return {r["address"]: r for r in resources}


def test_a_clean_machine_installs_from_a_filesystem_mirror_and_applies_the_example(
    machine: Machine, dist: Dist, leak_check: Callable[..., None]
) -> None:
    init = _ok(machine.tofu("init"))
    assert f"- Installed {SOURCE} v{__version__} (unauthenticated)" in init, init
    lock = (machine.work / ".terraform.lock.hcl").read_text("utf-8")
    with zipfile.ZipFile(dist.zip) as archive:
        shipped = {name: archive.read(name) for name in archive.namelist()}
    assert re.search(rf'provider "{HOST}/{SOURCE}" {{\s+version\s+= "{__version__}"\n', lock), lock
    assert f'"{h1(shipped)}"' in lock, lock
    assert os.access(machine.installed / EXECUTABLE, os.X_OK)
    start = backups(machine.fake.app)

    _ok(machine.tofu("apply", "-auto-approve"))
    made = set(backups(machine.fake.app)) - set(start)
    assert made, "apply made no backup"
    state = _state(machine)
    mine = [r["values"] for r in state.values() if r["type"] == "vpsbackup_backup"]
    assert mine, sorted(state)
    for values in mine:
        on_fake = backups(machine.fake.app)[int(values["backup_id"])]
        assert values["backup_id"] in made
        assert on_fake["status"] == "completed"
        # (The provider adds its marker after the description.)
        assert on_fake["description"].startswith(values["description"]), on_fake
    # The provider starts again from the same directory, which OpenTofu checks
    # against the lock file first; nothing may have been written into it.
    plan = machine.tofu("plan", "-detailed-exitcode")
    assert plan.returncode == 0, plan.stdout + plan.stderr
    files = {
        p.relative_to(machine.installed).as_posix()
        for p in machine.installed.rglob("*")
        if not p.is_dir()
    }
    assert files == set(shipped)

    _ok(machine.tofu("destroy", "-auto-approve"))
    assert backups(machine.fake.app) == start
    leak_check(*machine.outputs, (machine.work / "terraform.tfstate").read_text("utf-8"))


@pytest.mark.parametrize("machine", [True], ids=["mirror-in-cli-config"], indirect=True)
def test_tofu_says_why_the_provider_cannot_start(machine: Machine) -> None:
    """No usable interpreter: tofu's error quotes the launcher's reason (from its stdout)."""
    _ok(machine.tofu("init"))
    start = backups(machine.fake.app)
    failed = machine.tofu("plan", env={"PULUMI_VPSBACKUP_PYTHON": "python3.9"})
    assert failed.returncode == 1
    assert (
        f"Unrecognized remote plugin message: {PROVIDER}: PULUMI_VPSBACKUP_PYTHON is "
        f"python3.9, which is not a Python on PATH ({SYSTEM_PATH}); set it to a python3 of "
        "Python 3.10, 3.11, 3.12, 3.13, or unset it to use python3"
    ) in " ".join(failed.stderr.split()), failed.stderr
    assert backups(machine.fake.app) == start


def test_a_damaged_archive_says_what_is_missing(dist: Dist, tmp_path: Path) -> None:
    """An import failure inside the archive reaches the first line of stdout, which
    OpenTofu quotes ("Unrecognized remote plugin message: ...")."""
    import zipfile

    from pulumi_vpsbackup.terraform.server import MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE

    unpacked = tmp_path / "provider"
    with zipfile.ZipFile(dist.zip) as archive:
        archive.extractall(unpacked)
    launcher = next(unpacked.glob("terraform-provider-vpsbackup_v*"))
    launcher.chmod(0o755)
    for found in unpacked.glob("lib/*/msgpack"):
        shutil.rmtree(found)
    done = subprocess.run(
        [str(launcher)],
        env={
            "PATH": SYSTEM_PATH,
            "HOME": str(tmp_path),
            MAGIC_COOKIE_KEY: MAGIC_COOKIE_VALUE,
        },
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 1
    assert done.stdout.splitlines()[0] == (
        "terraform-provider-vpsbackup: cannot start: ModuleNotFoundError: No module named 'msgpack'"
    ), done.stdout + done.stderr
