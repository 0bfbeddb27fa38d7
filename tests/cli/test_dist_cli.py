"""What `make dist` builds, installed and run as a user on a clean machine would.

`tools/build_dist.sh` builds dist/ once per session (into a temporary
directory). Then, with nothing of this checkout reachable:

- the plugin archive's executable runs with only the system `python3` (`env -i
  PATH=/usr/bin:/bin`), and says what is wrong when there is no usable python3;
- every artifact carries the one version of pulumi_vpsbackup/_version.py, and
  the SDKs name the release URL (`server`) the schema's pluginDownloadURL gives;
- examples/native-go compiles against the Go SDK's tarball, unpacked and
  `replace`d as docs/native-plugin.md says;
- the engine's own automatic plugin acquisition downloads the archive (from a
  local HTTP server standing in for the GitHub release, through
  PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES), installs it and runs it in `pulumi up`;
- the clean-machine suite: for each way in (`WAYS`), an empty PULUMI_HOME, a
  PATH of the CLI's directory and /usr/bin:/bin, acquisition ON but every
  download attempt caught (HTTP(S)_PROXY is a local trap that records it), the
  artifacts installed as the README says (a fresh virtualenv of the system
  python3 and `pip install dist/...whl`; `npm install` of the tarball; `pulumi
  plugin install --file` for the plugin; YAML under Pulumi's own YAML host, with no
  SDK), then preview, up, `pulumi import`
  (plugin ways), refresh and destroy. No output has a Python traceback, a
  download or a "using ... from $PATH" warning.

Needs the CLI, Node.js and npm, and PyPI/npm (or their caches) for the
dependencies of the fresh installs. About 2 to 3 minutes on two cores with warm
caches, of which the dist build is 30 s.
"""

from __future__ import annotations

import http.server
import json
import os
import shutil
import subprocess
import sys
import tarfile
import threading
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_vpsbackup import __version__
from pulumi_vpsbackup.fake import FakeServer
from tests.cli.test_go_sdk_cli import SDK_MODULE as GO_MODULE
from tests.cli.test_go_sdk_cli import example_copy, go_build
from tests.cli.test_native_sdks_cli import _unavailable, install_example_dependencies
from tests.programs.scenarios import EXAMPLES, REPO, TOKEN, backups
from vpsbackup_dev.cli_project import PASSPHRASE, CliProject, Ran

pytestmark = pytest.mark.cli

PLUGIN = "pulumi-resource-vpsbackup"
ARCHIVE = f"{PLUGIN}-v{__version__}-linux-amd64.tar.gz"
RELEASES = "github://api.github.com/pulumi-vpsbackup/pulumi-vpsbackup"
BACKUP = "vpsbackup:index:Backup"
SYSTEM_PATH = "/usr/bin:/bin"
SYSTEM_PYTHON = "/usr/bin/python3"
INSTALL_TIMEOUT = 600
#: `pulumi plugin install`, as the README says (with `--file <archive>`).
INSTALL = ("plugin", "install", "resource", "vpsbackup", __version__)
#: A manual backup of the fake's demo world, imported into the stack.
IMPORT_499 = ("import", BACKUP, "imported", "499", "--yes", "--protect=false")


def _run(*args: str | Path, timeout: float = INSTALL_TIMEOUT, **kw: Any) -> str:
    done = subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, timeout=timeout, check=False, **kw
    )
    assert done.returncode == 0, f"{args}:\n{done.stdout}\n{done.stderr}"
    return done.stdout


# ---- the artifacts -------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    dir: Path

    @property
    def wheel(self) -> Path:
        return self.dir / f"pulumi_vpsbackup-{__version__}-py3-none-any.whl"

    @property
    def sdist(self) -> Path:
        return self.dir / f"pulumi_vpsbackup-{__version__}.tar.gz"

    @property
    def native_wheel(self) -> Path:
        return self.dir / f"pulumi_vpsbackup_native-{__version__}-py3-none-any.whl"

    @property
    def npm_tarball(self) -> Path:
        return self.dir / f"pulumi-vpsbackup-native-{__version__}.tgz"

    @property
    def go_tarball(self) -> Path:
        return self.dir / f"pulumi-vpsbackup-native-go-{__version__}.tar.gz"

    @property
    def archive(self) -> Path:
        return self.dir / ARCHIVE


@pytest.fixture(scope="session")
def dist(pulumi_cli: str, tmp_path_factory: pytest.TempPathFactory) -> Dist:
    """dist/ as `make dist` builds it (tools/build_dist.sh), in a directory of the session's."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        _unavailable(
            "Node.js and npm are needed for the TypeScript SDK (apt-get install nodejs npm)"
        )
    if not Path(SYSTEM_PYTHON).exists():
        _unavailable(f"the clean-machine tests run the system {SYSTEM_PYTHON}")
    out = tmp_path_factory.mktemp("dist")
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "PATH": f"{Path(pulumi_cli).parent}:{os.environ['PATH']}",
    }
    _run(REPO / "tools" / "build_dist.sh", out, env=env)
    built = Dist(out)
    artifacts = (built.wheel, built.sdist, built.native_wheel, built.npm_tarball, built.go_tarball)
    for path in (*artifacts, built.archive):
        assert path.is_file(), f"{path.name} not in {sorted(p.name for p in out.iterdir())}"
    return built


def test_every_artifact_carries_the_one_version_and_the_release_url(dist: Dist) -> None:
    with zipfile.ZipFile(dist.native_wheel) as wheel:
        plugin_json = json.loads(wheel.read("pulumi_vpsbackup_native/pulumi-plugin.json"))
        metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
        assert f"\nVersion: {__version__}\n" in wheel.read(metadata).decode()
    # `server` is what the engine downloads the plugin from when it is missing.
    assert plugin_json == {
        "resource": True,
        "name": "vpsbackup",
        "version": __version__,
        "server": RELEASES,
    }
    with tarfile.open(dist.npm_tarball) as npm:
        package = json.load(npm.extractfile("package/package.json"))  # type: ignore[arg-type]
    assert package["version"] == __version__
    assert package["pulumi"] == {
        "resource": True,
        "name": "vpsbackup",
        "version": __version__,
        "server": RELEASES,
    }
    top = f"pulumi-vpsbackup-native-go-{__version__}"
    with tarfile.open(dist.go_tarball) as go:
        go_names = go.getnames()
        plugin_json = json.load(go.extractfile(f"{top}/vpsbackup/pulumi-plugin.json"))  # type: ignore[arg-type]
        go_mod = go.extractfile(f"{top}/go.mod").read().decode()  # type: ignore[union-attr]
    assert all(n == top or n.startswith(f"{top}/") for n in go_names), go_names
    assert plugin_json["version"] == __version__ and plugin_json["server"] == RELEASES
    assert go_mod.startswith(f"module {GO_MODULE}\n")
    with tarfile.open(dist.archive) as archive:
        names = archive.getnames()
        launcher = archive.getmember(PLUGIN)
    # The engine's extractor takes regular files, directories and symlinks only.
    assert launcher.isfile() and launcher.mode & 0o111
    assert all(n.split("/")[0] in (PLUGIN, "LICENSE", "lib") for n in names), names
    assert "lib/any/pulumi_vpsbackup/plugin/schema.json" in names
    assert not [n for n in names if "/debugpy/" in n or "__pycache__" in n]


def test_the_go_example_compiles_against_the_dist_go_sdk(dist: Dist, tmp_path: Path) -> None:
    """As the docs say: unpack the tarball, `replace` the module with it, go build."""
    if shutil.which("go") is None:
        _unavailable("Go is needed for the Go SDK (https://go.dev/dl)")
    with tarfile.open(dist.go_tarball) as go:
        go.extractall(tmp_path, filter="tar")
    sdk = tmp_path / f"pulumi-vpsbackup-native-go-{__version__}"
    program = example_copy(tmp_path / "native-go", sdk)
    done = go_build(program, tmp_path / "native-go" / "bin")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def unpacked(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    into = tmp_path_factory.mktemp("plugin")
    with tarfile.open(dist.archive) as archive:
        archive.extractall(into, filter="tar")
    return into


def _bare(path: str, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`env -i PATH=path HOME=home plugin args`: nothing of ours but the archive."""
    return subprocess.run(
        ["/usr/bin/env", "-i", f"PATH={path}", f"HOME={home}", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_the_archive_runs_on_the_system_python3_alone(unpacked: Path, tmp_path: Path) -> None:
    done = _bare(SYSTEM_PATH, tmp_path, str(unpacked / PLUGIN), "--version")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"name": "vpsbackup", "version": __version__}
    done = _bare(SYSTEM_PATH, tmp_path, str(unpacked / PLUGIN), "--schema")
    assert done.returncode == 0, done.stderr
    schema = json.loads(done.stdout)
    assert schema["version"] == __version__
    assert schema["pluginDownloadURL"] == RELEASES


def test_the_launcher_says_which_python3_it_needs(unpacked: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    done = _bare(str(empty), tmp_path, str(unpacked / PLUGIN), "--version")
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.startswith(
        "pulumi-resource-vpsbackup: needs python3 (Python 3.10, 3.11, 3.12, 3.13) "
        f"and found none on PATH ({empty})"
    ), done.stderr
    old = tmp_path / "old"
    old.mkdir()
    (old / "python3").write_text("#!/bin/sh\necho 3.9\n", "utf-8")
    (old / "python3").chmod(0o755)
    done = _bare(str(old), tmp_path, str(unpacked / PLUGIN), "--version")
    assert done.returncode == 1
    assert done.stderr.startswith(
        "pulumi-resource-vpsbackup: needs Python 3.10, 3.11, 3.12, 3.13, "
        f"but {old / 'python3'} is Python 3.9;"
    ), done.stderr
    assert "PULUMI_VPSBACKUP_PYTHON" in done.stderr


# ---- a machine where downloads are caught --------------------------------------------


class _Recorder(http.server.ThreadingHTTPServer):
    """An HTTP server on a free loopback port that records every request line."""

    def __init__(self, handler: type[http.server.BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.seen: list[str] = []
        self._thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self) -> _Recorder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()
        self.server_close()
        self._thread.join(10)


class _Trap(http.server.BaseHTTPRequestHandler):
    """The proxy every download goes through: it refuses, after writing it down."""

    def _refuse(self) -> None:
        self.server.seen.append(self.requestline)  # type: ignore[attr-defined]
        self.send_error(403, "no downloads on this machine (test proxy)")

    do_GET = do_HEAD = do_POST = do_CONNECT = _refuse

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Releases(http.server.SimpleHTTPRequestHandler):
    """Serves dist/ as a release page would, recording what was fetched."""

    def do_GET(self) -> None:
        self.server.seen.append(self.requestline)  # type: ignore[attr-defined]
        super().do_GET()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def trap() -> Iterator[_Recorder]:
    with _Recorder(_Trap) as server:
        yield server


@dataclass
class Machine:
    """A user's shell: the CLI and the system tools on PATH, an empty PULUMI_HOME,
    automatic plugin acquisition on, every download going to `trap`."""

    root: Path
    cli_dir: Path
    trap: _Recorder
    fake: FakeServer
    env: dict[str, str] = field(init=False)
    made: list[CliProject] = field(default_factory=list)

    def __post_init__(self) -> None:
        for name in ("home", "pulumi-home", "state"):
            (self.root / name).mkdir(parents=True)
        self.env = {
            "PATH": f"{self.cli_dir}:{SYSTEM_PATH}",
            "HOME": str(self.root / "home"),
            "LANG": "C.UTF-8",
            "PULUMI_HOME": str(self.pulumi_home),
            "PULUMI_BACKEND_URL": (self.root / "state").as_uri(),
            "PULUMI_CONFIG_PASSPHRASE": PASSPHRASE,
            "PULUMI_SKIP_UPDATE_CHECK": "true",
            "HTTP_PROXY": self.trap.url,
            "HTTPS_PROXY": self.trap.url,
            "http_proxy": self.trap.url,
            "https_proxy": self.trap.url,
            # The fake, the engine's and the plugins' own gRPC: not downloads.
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }

    @property
    def pulumi_home(self) -> Path:
        return self.root / "pulumi-home"

    def pulumi(self, *args: str, cwd: Path | None = None) -> Ran:
        """`pulumi ARGS` outside any project."""
        project = CliProject(cwd or self.root, self.env)
        return project.run(*args)

    def project(self, path: Path) -> CliProject:
        project = CliProject(path, self.env)
        self.made.append(project)
        project.run("stack", "init", "test")
        project.config("vpsbackup:apiUrl", self.fake.url)
        project.config("vpsbackup:apiToken", TOKEN, secret=True)
        return project

    def plugins(self) -> list[str]:
        plugins = self.pulumi_home / "plugins"
        return sorted(p.name for p in plugins.iterdir() if p.is_dir()) if plugins.exists() else []

    def close(self) -> None:
        for project in self.made:
            project.run("destroy", "--yes", "--skip-preview", ok=False)
            project.run("stack", "rm", "--yes", "--force", ok=False)


@pytest.fixture
def machine(
    tmp_path: Path, pulumi_cli: str, trap: _Recorder, fake: FakeServer
) -> Iterator[Machine]:
    made = Machine(tmp_path / "machine", Path(pulumi_cli).parent, trap, fake)
    yield made
    made.close()


def assert_clean(ran: Ran) -> None:
    """What a user must never see: a traceback, a download, an ambient-plugin warning."""
    assert "Traceback (most recent call last)" not in ran.out, str(ran)
    # ("pluginDownloadURL" is a provider input in `stack export`, not a download.)
    assert "download" not in ran.out.lower().replace("plugindownloadurl", ""), str(ran)
    assert "from $PATH" not in ran.out, str(ran)


# ---- installing as the README says ---------------------------------------------------


@pytest.fixture(scope="session")
def user_venvs(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """A fresh virtualenv of the system python3 per wheel, `pip install`ed as a user would
    (one per session for each)."""
    made: dict[str, Path] = {}
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}

    def venv(wheel: str) -> Path:
        if wheel not in made:
            path = tmp_path_factory.mktemp("venv")
            _run(SYSTEM_PYTHON, "-m", "venv", path, env=env)
            pip = (path / "bin" / "python", "-m", "pip", "--disable-pip-version-check")
            _run(*pip, "install", "--quiet", dist.dir / wheel, env=env)
            made[wheel] = path
        return made[wheel]

    return venv


@pytest.fixture(scope="session")
def user_node_modules(dist: Dist, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`npm install` of the TypeScript example's dependencies, the SDK from dist/."""
    return install_example_dependencies(tmp_path_factory.mktemp("npm"), dist.npm_tarball)


def installed_settings(example: str) -> dict[str, Any]:
    """An example's Pulumi.yaml as a user who installed the plugin has it: without
    the `plugins:` entry that points the repository's examples at its virtualenv."""
    settings = yaml.safe_load((EXAMPLES / example / "Pulumi.yaml").read_text("utf-8"))
    settings.pop("plugins", None)
    return dict(settings)


def python_example(example: str, into: Path, venv: Path) -> Path:
    into.mkdir(parents=True)
    shutil.copy2(EXAMPLES / example / "__main__.py", into / "__main__.py")
    settings = installed_settings(example)
    settings["runtime"]["options"]["virtualenv"] = str(venv)
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return into


# ---- the engine downloads the plugin itself ------------------------------------------


def test_the_engine_downloads_installs_and_runs_the_released_plugin(
    dist: Dist,
    machine: Machine,
    user_venvs: Callable[[str], Path],
    tmp_path: Path,
) -> None:
    """The SDK names the release (`server`); the override sends the engine to dist/ instead.

    The override is `regexp=URL` pairs, the regexp matched against the source's URL
    (sdk/v3 go/common/workspace/plugins.go, pluginDownloadOverrideArray.get); an
    http(s) URL gets `/pulumi-resource-vpsbackup-v<version>-linux-amd64.tar.gz` appended.
    """
    venv = user_venvs(dist.native_wheel.name)
    handler = partial(_Releases, directory=str(dist.dir))
    with _Recorder(handler) as releases:  # type: ignore[arg-type]
        machine.env["PULUMI_PLUGIN_DOWNLOAD_URL_OVERRIDES"] = (
            f"^{RELEASES.replace('.', '[.]')}$={releases.url}"
        )
        project = machine.project(python_example("native-python", tmp_path / "p", venv))
        start = backups(machine.fake.app)
        up = project.up()
        assert releases.seen == [f"GET /{ARCHIVE} HTTP/1.1"], releases.seen
    # The language host names the plugin the SDK requires (pulumi-plugin.json), so
    # the engine installs it before the program runs, as with Pulumi's own host.
    assert f"Downloading plugin vpsbackup-{__version__}: done" in up.out, str(up)
    assert "Traceback (most recent call last)" not in up.out, str(up)
    assert "from $PATH" not in up.out, str(up)
    assert machine.trap.seen == [], "nothing else was downloaded"
    assert machine.plugins() == [f"resource-vpsbackup-v{__version__}"]
    out = project.outputs()
    assert set(backups(machine.fake.app)) - set(start) == {out["backupId"]}
    assert out["backupStatus"] == "completed"
    project.run("destroy", "--yes", "--skip-preview")
    assert backups(machine.fake.app) == start


def test_the_engine_shows_the_launchers_reason_when_no_python_fits(
    dist: Dist, machine: Machine, user_venvs: Callable[[str], Path], tmp_path: Path
) -> None:
    """No usable interpreter for the plugin: the engine prints the launcher's message
    (in its "exited prematurely" dump), not a Python error of the plugin's."""
    machine.pulumi(*INSTALL, "--file", str(dist.archive))
    venv = user_venvs(dist.native_wheel.name)
    project = machine.project(python_example("native-python", tmp_path / "p", venv))
    project.env["PULUMI_VPSBACKUP_PYTHON"] = "python3.9"
    failed = project.preview(ok=False)
    assert failed.code != 0
    assert (
        "pulumi-resource-vpsbackup: PULUMI_VPSBACKUP_PYTHON is python3.9, which is not a "
        "Python on PATH"
    ) in failed.out, str(failed)
    assert "set it to a python3 of Python 3.10, 3.11, 3.12, 3.13, or unset it" in failed.out
    assert machine.trap.seen == []


# ---- the clean-machine suite ---------------------------------------------------------

#: Makes a way's project directory: (dist, into, user_venvs, request) -> the directory.
Prepare = Callable[[Dist, Path, Callable[[str], Path], pytest.FixtureRequest], Path]


@dataclass(frozen=True)
class Way:
    """One way in: how a user installs from dist/ and what project they run."""

    name: str
    prepare: Prepare
    plugin: bool  # the program's resources are the plugin's (installed from the archive)
    env: dict[str, str] = field(default_factory=dict)
    #: What `pulumi import` writes for the imported backup (plugin ways), in the language.
    imported_code: tuple[str, ...] = ()
    #: Run with Pulumi's real language hosts (`make hosts`) as the CLI's directory.
    real_hosts: bool = False


def _dynamic(dist: Dist, into: Path, venvs: Callable[[str], Path], _: Any) -> Path:
    return python_example("quickstart", into, venvs(dist.wheel.name))


def _native_python(dist: Dist, into: Path, venvs: Callable[[str], Path], _: Any) -> Path:
    return python_example("native-python", into, venvs(dist.native_wheel.name))


def _typescript(dist: Dist, into: Path, _: Any, request: pytest.FixtureRequest) -> Path:
    node_modules: Path = request.getfixturevalue("user_node_modules")
    into.mkdir(parents=True)
    for name in ("tsconfig.json", "index.ts"):
        shutil.copy2(EXAMPLES / "native-typescript" / name, into / name)
    settings = installed_settings("native-typescript")
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    shutil.copy2(node_modules.parent / "package.json", into / "package.json")
    (into / "node_modules").symlink_to(node_modules, target_is_directory=True)
    return into


def _yaml(dist: Dist, into: Path, _: Any, __: Any) -> Path:
    """examples/yaml as a user who installed the plugin has it: no `plugins:` entry."""
    into.mkdir(parents=True)
    settings = installed_settings("yaml")
    (into / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    return into


WAYS = [
    Way("dynamic-python", _dynamic, plugin=False),
    Way(
        "native-python",
        _native_python,
        plugin=True,
        imported_code=("import pulumi_vpsbackup_native", 'Backup("imported"'),
    ),
    # Type checking is test_native_sdks_cli's; this is about installing and running.
    Way(
        "typescript",
        _typescript,
        plugin=True,
        env={"PULUMI_NODEJS_TRANSPILE_ONLY": "true"},
        imported_code=('from "@pulumi-vpsbackup/native"', 'Backup("imported"'),
    ),
    # No SDK: Pulumi's YAML host reads the installed plugin's schema.
    Way(
        "yaml",
        _yaml,
        plugin=True,
        imported_code=("type: vpsbackup:Backup", "serverId: 12345"),
        real_hosts=True,
    ),
]


@pytest.mark.parametrize("way", WAYS, ids=lambda w: w.name)
def test_a_clean_machine_installs_from_dist_and_runs_the_cycle(
    way: Way,
    dist: Dist,
    machine: Machine,
    user_venvs: Callable[[str], Path],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    runs: list[Ran] = []
    if way.real_hosts:
        hosts: Path = request.getfixturevalue("real_hosts")
        machine.env["PATH"] = f"{hosts}:{SYSTEM_PATH}"
    if way.plugin:
        runs.append(machine.pulumi(*INSTALL, "--file", str(dist.archive)))
        assert machine.plugins() == [f"resource-vpsbackup-v{__version__}"]
    path = way.prepare(dist, tmp_path / way.name, user_venvs, request)
    project = machine.project(path)
    project.env.update(way.env)
    start = backups(machine.fake.app)

    project.preview()
    assert backups(machine.fake.app) == start, "a preview must not touch the API"
    up = project.up()
    made = set(backups(machine.fake.app)) - set(start)
    assert len(made) == 1, str(up)
    if way.plugin:
        # Not protected, so that destroy takes it too. The language host writes
        # the code to declare it (GenerateProgram), as `pulumi import` prints it.
        imported = project.run(*IMPORT_499)
        for code in way.imported_code:
            assert code in imported.out, str(imported)
        assert '"id": "499"' in project.export()
    project.run("refresh", "--yes", "--skip-preview")
    project.run("destroy", "--yes", "--skip-preview")
    gone = {499} if way.plugin else set()
    assert set(backups(machine.fake.app)) == set(start) - gone
    for ran in [*runs, *project.runs]:
        assert_clean(ran)
    assert machine.trap.seen == [], "a download was attempted"
    assert machine.plugins() == ([f"resource-vpsbackup-v{__version__}"] if way.plugin else [])
