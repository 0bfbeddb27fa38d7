"""The CLI's Python language host does what Pulumi's own does where users meet it.

`make cli` builds `pulumi` from Pulumi's modules but serves the language
with tools/pulumi-cli/langhost.py (the proxy refuses the hosts' modules).
Each test is one behaviour of Pulumi's Python host, read from its source
(sdk/python/cmd/pulumi-language-python/main.go at v3.259.0 and
sdk/python/toolchain/pip.go at v3.276.0), run as a user runs it: a project
whose Pulumi.yaml names a virtualenv `venv` that does not exist yet, a
requirements.txt naming the package's wheel, no checkout on PYTHONPATH, and
automatic plugin acquisition ON. The machine is offline for plugin
downloads, so an attempt shows as an error naming the plugin.

- `pulumi install` creates the virtualenv and installs requirements.txt
  into it, pip's output shown; the package's `pulumi-plugin.json`
  (`{"resource": false}`) keeps the host from reporting a plugin for it,
  so nothing is downloaded. A `pulumi_*` distribution without that file does
  make the CLI try to download a plugin named after it (the test that shows
  the others can fail).
- A distribution whose pulumi-plugin.json says `"resource": true` stands for
  the plugin that file names, at its version, fetched from its server.
- The Node.js host: packages under node_modules whose package.json `pulumi`
  section declares a plugin.
- `pulumi preview` attempts no download either.
- `pulumi about` reports the virtualenv's Python and its distributions.
- `pulumi import` of a native-plugin Backup writes Python code, exit 0.
- `pulumi convert --from pcl --language python` writes a Python project.
- `pulumi package add SCHEMA` generates the SDK into sdks/, adds its path to
  requirements.txt and installs it into the virtualenv.

The virtualenv is made once for the module (pip reaches PyPI for pip,
setuptools, wheel and the package's dependencies; its cache serves later
runs). About 2 to 2.5 minutes in all on two busy cores, 35 s of it making
the virtualenv.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from pulumi_vpsbackup import __version__
from pulumi_vpsbackup.fake import FakeServer
from pulumi_vpsbackup.plugin.server import schema_text
from tests.cli.conftest import Projects
from tests.programs.scenarios import EXAMPLES, REPO, TOKEN
from vpsbackup_dev.cli_project import CliProject, Ran, offline_env

pytestmark = pytest.mark.cli

BIN = Path(sys.executable).parent
BACKUP = "vpsbackup:index:Backup"
PIP_TIMEOUT = 400
NATIVE = "pulumi_vpsbackup_native"  # the plugin SDK's distribution (schema: language.python)


def user_env(state: Path, home: Path) -> dict[str, str]:
    """A user's shell: no checkout on PYTHONPATH, no virtualenv of ours on PATH, an empty
    PULUMI_HOME, and the CLI free to acquire plugins (offline, so an attempt fails)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and Path(p).resolve() != BIN.resolve()
    )
    env.update(offline_env(state, home))
    env["PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION"] = ""
    env.update(VPS_API_TOKEN="", VPS_API_URL="")
    return env


def download_attempts(out: str) -> list[str]:
    """The lines of CLI output that show a plugin being fetched (pip's own "Downloading"
    lines are about Python packages, and name no plugin)."""
    return [
        line
        for line in out.splitlines()
        if "plugin" in line.lower() or "get.pulumi.com" in line or "api.github.com" in line
    ]


def pip_list(venv: Path) -> dict[str, str]:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env={k: v for k, v in os.environ.items() if k != "PYTHONPATH"},
    )
    return {p["name"].lower().replace("_", "-"): p["version"] for p in json.loads(done.stdout)}


def site_packages(venv: Path) -> Path:
    (found,) = venv.glob("lib/python*/site-packages")
    return found


@dataclass
class UserProject:
    project: CliProject
    venv: Path
    install: Ran  # what `pulumi install` printed when it made the virtualenv


@pytest.fixture(scope="module")
def user(pulumi_cli: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[UserProject]:
    """The quickstart as a user sets it up: Pulumi.yaml names `venv` (missing),
    requirements.txt names the package's wheel; then `pulumi install`."""
    root = tmp_path_factory.mktemp("user")
    done = subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(root / "dist"), str(REPO)],
        capture_output=True,
        text=True,
        timeout=PIP_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    (wheel,) = (root / "dist").glob("pulumi_vpsbackup-*.whl")

    path = root / "quickstart"
    path.mkdir()
    shutil.copy2(EXAMPLES / "quickstart" / "__main__.py", path / "__main__.py")
    settings = yaml.safe_load((EXAMPLES / "quickstart" / "Pulumi.yaml").read_text("utf-8"))
    settings["runtime"]["options"]["virtualenv"] = "venv"
    (path / "Pulumi.yaml").write_text(yaml.safe_dump(settings, sort_keys=False), "utf-8")
    (path / "requirements.txt").write_text(f"{wheel}\n", "utf-8")
    (root / "state").mkdir()
    project = CliProject(path, user_env(root / "state", root / "home"))
    install = project.run("install", ok=False, timeout=PIP_TIMEOUT)
    yield UserProject(project, path / "venv", install)
    project.run("stack", "rm", "--yes", "--force", "test", ok=False)


def test_pulumi_install_creates_the_virtualenv_and_installs_requirements(
    user: UserProject,
) -> None:
    ran = user.install
    assert ran.code == 0, str(ran)
    assert (user.venv / "bin" / "python").is_file()
    installed = pip_list(user.venv)
    assert "pulumi-vpsbackup" in installed and "pulumi" in installed, installed
    # pip's own output comes through, between the host's steps.
    out = ran.out
    assert out.index("Creating virtual environment") < out.index("Installing dependencies in")
    assert "Successfully installed" in out, out
    # pulumi-plugin.json says the package has no plugin: nothing to download.
    assert (site_packages(user.venv) / "pulumi_vpsbackup" / "pulumi-plugin.json").is_file()
    assert download_attempts(out) == [], out


def test_a_pulumi_distribution_without_plugin_json_makes_the_cli_try_a_download(
    user: UserProject,
) -> None:
    """What the others would see without the file: the name rule of today's host."""
    assert user.install.code == 0, str(user.install)
    dist_info = site_packages(user.venv) / "pulumi_something-1.2.0.dist-info"
    dist_info.mkdir()
    try:
        (dist_info / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: pulumi_something\nVersion: 1.2.0\n", "utf-8"
        )
        (dist_info / "RECORD").write_text("", "utf-8")
        ran = user.project.run("install", "--no-dependencies", ok=False)
    finally:
        shutil.rmtree(dist_info)
    assert ran.code != 0, str(ran)
    # The plugin is named after the distribution without its `pulumi-` prefix, at the
    # distribution's version; offline, the download fails.
    assert "failed to download plugin: something-1.2.0" in ran.out, ran.out
    assert download_attempts(ran.out), ran.out


def closed_port_url() -> str:
    """A loopback URL nothing listens on: a download from it fails at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/releases"


def test_a_plugin_json_declaring_a_plugin_names_it_its_version_and_server(
    user: UserProject,
) -> None:
    """Any distribution whose pulumi-plugin.json says `"resource": true` stands for a
    plugin, whatever its name; the file's name, version and server win."""
    assert user.install.code == 0, str(user.install)
    server = closed_port_url()
    site = site_packages(user.venv)
    made = [site / "acme_vps", site / "acme_vps-1.0.0.dist-info"]
    try:
        made[0].mkdir()
        (made[0] / "__init__.py").write_text("", "utf-8")
        (made[0] / "pulumi-plugin.json").write_text(
            json.dumps({"resource": True, "name": "acmevps", "version": "2.0.0", "server": server}),
            "utf-8",
        )
        made[1].mkdir()
        (made[1] / "METADATA").write_text(
            "Metadata-Version: 2.1\nName: acme_vps\nVersion: 1.0.0\n", "utf-8"
        )
        (made[1] / "RECORD").write_text("", "utf-8")
        ran = user.project.run("install", "--no-dependencies", ok=False)
    finally:
        for path in made:
            shutil.rmtree(path, ignore_errors=True)
    assert ran.code != 0, str(ran)
    assert f"{server}/pulumi-resource-acmevps-v2.0.0-linux-amd64.tar.gz" in ran.out, ran.out
    assert "failed to download plugin: acmevps-2.0.0" in ran.out, ran.out


def test_node_modules_packages_declaring_a_plugin_are_required(
    tmp_path: Path, pulumi_cli: str
) -> None:
    """The Node.js host: package.json files under node_modules whose `pulumi` section
    says `"resource": true`; the name from that section or an @pulumi/ package name.
    The project's own package.json and packages without the section do not count."""
    server = closed_port_url()
    packages = {
        "@acme/vps": {
            "version": "3.1.0",
            "pulumi": {"resource": True, "name": "acmevps", "server": server},
        },
        "@pulumi/thing": {"version": "1.0.0", "pulumi": {"resource": True}},
        "plain": {"version": "1.0.0"},
        "optout": {"version": "1.0.0", "pulumi": {"resource": False, "name": "optout"}},
    }
    for name, fields in packages.items():
        where = tmp_path / "node_modules" / name
        where.mkdir(parents=True)
        (where / "package.json").write_text(json.dumps({"name": name, **fields}), "utf-8")
    own = {"name": "own", "pulumi": {"resource": True, "name": "ownplugin"}}
    (tmp_path / "package.json").write_text(json.dumps(own), "utf-8")
    (tmp_path / "Pulumi.yaml").write_text("name: node-plugins\nruntime: nodejs\n", "utf-8")
    (tmp_path / "state").mkdir()
    project = CliProject(tmp_path, user_env(tmp_path / "state", tmp_path / "home"))
    ran = project.run("install", "--no-dependencies", ok=False)
    assert ran.code != 0, str(ran)
    assert f"{server}/pulumi-resource-acmevps-v3.1.0-linux-amd64.tar.gz" in ran.out, ran.out
    assert "pulumi-resource-thing-v1.0.0-linux-amd64.tar.gz" in ran.out, ran.out
    for other in ("ownplugin", "plain", "optout"):
        assert f"pulumi-resource-{other}" not in ran.out, ran.out


def test_preview_of_the_installed_package_attempts_no_download(
    user: UserProject, fake: FakeServer
) -> None:
    project = user.project
    assert user.install.code == 0, str(user.install)
    project.run("stack", "init", "test")
    project.config("vpsbackup:apiUrl", fake.url)
    project.config("vpsbackup:apiToken", TOKEN, secret=True)
    ran = project.preview()
    assert "+ 1 to create" in ran.out or "to create" in ran.out, ran.out
    assert download_attempts(ran.out) == [], ran.out
    assert "Traceback" not in ran.out, ran.out


def test_pulumi_about_reports_the_virtualenvs_python_and_packages(user: UserProject) -> None:
    assert user.install.code == 0, str(user.install)
    ran = user.project.run("about", "--json", ok=False)
    about = json.loads(ran.out[ran.out.index("{") :])
    runtime = about["runtime"]
    assert runtime["language"] == "python"
    assert runtime["executable"] == str(user.venv / "bin" / "python"), runtime
    venv_version = subprocess.run(
        [str(user.venv / "bin" / "python"), "--version"], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert runtime["version"] == venv_version
    assert runtime["toolchain"] == "Auto"
    names = {d["name"]: d["version"] for d in about["dependencies"]}
    assert names.get("pulumi-vpsbackup") == pip_list(user.venv)["pulumi-vpsbackup"], names


def test_pulumi_import_writes_python_code_and_exits_0(
    tmp_path: Path, fake: FakeServer, pulumi_cli: str, cli_home: Path
) -> None:
    """The native plugin found on PATH, as in test_plugin_cli; the generated code
    declares the imported backup, protected, through the plugin's Python SDK."""
    if not (BIN / "pulumi-resource-vpsbackup").exists():
        pytest.fail(f"{BIN}/pulumi-resource-vpsbackup is missing: run `make install`")
    projects = Projects(tmp_path, cli_home, path_first=BIN)
    try:
        project = projects.make("import-test", "import pulumi\n", fake.url, TOKEN)
        code = tmp_path / "imported.py"
        ran = project.run("import", BACKUP, "old", "499", "--yes", "--out", str(code))
        assert ran.code == 0, str(ran)
        written = code.read_text("utf-8")
        assert "import pulumi_vpsbackup_native as vpsbackup" in written, written
        assert 'vpsbackup.Backup("old",' in written, written
        assert "server_id=12345" in written, written
        assert "protect=True" in written, written
        compile(written, str(code), "exec")
    finally:
        projects.close()


def test_pulumi_convert_writes_a_python_project(
    tmp_path: Path, pulumi_cli: str, cli_home: Path
) -> None:
    """GenerateProject: a PCL program becomes __main__.py, Pulumi.yaml and a
    requirements.txt naming the plugin SDK, by Pulumi's own generator."""
    if not (BIN / "pulumi-resource-vpsbackup").exists():
        pytest.fail(f"{BIN}/pulumi-resource-vpsbackup is missing: run `make install`")
    source = tmp_path / "pcl"
    source.mkdir()
    (source / "main.pp").write_text(
        'resource old "vpsbackup:index:Backup" {\n'
        "  serverId    = 12345\n"
        '  description = "converted"\n'
        "}\n"
        "output backupId {\n  value = old.backupId\n}\n",
        "utf-8",
    )
    (tmp_path / "state").mkdir()
    env = {**os.environ, **offline_env(tmp_path / "state", cli_home)}
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    project = CliProject(source, env)
    out = tmp_path / "py"
    project.run(
        "convert", "--from", "pcl", "--language", "python", "--out", str(out), "--generate-only"
    )
    main = (out / "__main__.py").read_text("utf-8")
    assert f"import {NATIVE} as vpsbackup" in main, main
    assert 'vpsbackup.Backup("old",' in main and 'pulumi.export("backupId"' in main, main
    compile(main, "__main__.py", "exec")
    assert yaml.safe_load((out / "Pulumi.yaml").read_text("utf-8"))["runtime"] == "python"
    requirements = (out / "requirements.txt").read_text("utf-8").split()
    assert f"{NATIVE}=={__version__}" in requirements, requirements


def test_pulumi_package_add_links_a_local_sdk_into_requirements(user: UserProject) -> None:
    """Runs last among the users of the shared virtualenv: it installs an SDK that
    declares a resource plugin, and removes it again."""
    project = user.project
    assert user.install.code == 0, str(user.install)
    requirements = project.path / "requirements.txt"
    before = requirements.read_text("utf-8")
    try:
        # The schema as the plugin serves it (`pulumi-resource-vpsbackup --schema`):
        # schema.json with the package's version, which lives in _version.py only.
        served = project.path.parent / "vpsbackup-schema.json"
        served.write_text(schema_text(), "utf-8")
        ran = project.run("package", "add", str(served), ok=False, timeout=PIP_TIMEOUT)
        assert ran.code == 0, str(ran)
        assert (project.path / "sdks" / "vpsbackup" / "setup.py").exists() or (
            project.path / "sdks" / "vpsbackup" / "pyproject.toml"
        ).exists()
        lines = requirements.read_text("utf-8").splitlines()
        assert lines == [*before.splitlines(), "sdks/vpsbackup"], lines
        # The schema's python packageName names both sides of the import, as upstream.
        assert "import pulumi_vpsbackup_native as pulumi_vpsbackup_native" in ran.out, ran.out
        assert "pulumi-vpsbackup-native" in pip_list(user.venv)
    finally:
        subprocess.run(
            [str(user.venv / "bin" / "python"), "-m", "pip", "uninstall", "-y", "-q", NATIVE],
            capture_output=True,
            check=False,
        )
        requirements.write_text(before, "utf-8")


def load_langhost() -> Any:
    """tools/pulumi-cli/langhost.py as a module (it is a script, not a package)."""
    name = "langhost_under_test"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            name, REPO / "tools" / "pulumi-cli" / "langhost.py"
        )
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module  # its dataclass looks itself up there
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.mark.parametrize(
    ("package", "plugin"),
    [
        ("1.0", "1.0.0"),
        ("6.1.2", "6.1.2"),
        ("1.2.3a4", "1.2.3-alpha.4"),
        ("1.2.3b4", "1.2.3-beta.4"),
        ("1.2.3rc4", "1.2.3-rc.4"),
        ("1.2.3.post4", "1.2.3+post4"),
        ("1.2.3.dev5", "1.2.3+dev5"),
        ("1.2.3.post4.dev5", "1.2.3+post4dev5"),
        ("1!2.0", None),  # epochs: the package is skipped
        ("1.0+local", None),
        ("", None),
    ],
)
def test_a_python_version_becomes_the_plugin_version_upstream_derives(
    package: str, plugin: str | None
) -> None:
    """determinePluginVersion's translations (its doc comment, main.go v3.259.0)."""
    assert load_langhost().plugin_version(package) == plugin
