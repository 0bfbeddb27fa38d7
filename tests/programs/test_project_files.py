"""The examples and the root Pulumi.yaml are Pulumi projects that resolve on this checkout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from .scenarios import EXAMPLES, REPO, SCENARIOS, Scenario

FAKE_URL = "http://127.0.0.1:8787/api/v1"  # the Makefile's `make fake` (PORT ?= 8787)


def load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_example_is_a_python_project_on_the_repository_venv(scenario: Scenario) -> None:
    root = scenario.path
    project = load(root / "Pulumi.yaml")
    assert project["runtime"]["name"] == "python"
    # runtime.options.virtualenv is resolved against the directory of Pulumi.yaml.
    venv = (root / project["runtime"]["options"]["virtualenv"]).resolve()
    assert venv == (REPO / ".venv").resolve()
    assert project["config"]["vpsbackup:apiUrl"] == FAKE_URL
    for name in ("__main__.py", "README.md", "requirements.txt"):
        assert (root / name).is_file(), name
    # requirements.txt installs this repository normally, not editable: pip
    # reads the path from the directory it runs in, the example's own (as
    # `pulumi install` runs it), so it must lead from there to the repository.
    lines = [
        line.strip()
        for line in (root / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert lines == ["../..[fake]"], lines
    target = (root / re.sub(r"\[.*\]$", "", lines[0])).resolve()
    assert (target / "setup.py").is_file() and target == REPO.resolve()


@pytest.mark.parametrize("scenario", SCENARIOS, ids=str)
def test_example_readme_has_the_commands(scenario: Scenario) -> None:
    text = (scenario.path / "README.md").read_text(encoding="utf-8")
    for command in (
        "make install",
        "make fake",
        "pulumi stack init",
        "pulumi up",
        "pulumi destroy",
    ):
        assert command in text, command
    assert "pulumi config set --secret vpsbackup:apiToken" in text
    for key in scenario.first:
        assert key in text


def test_root_project_deploys_the_quickstart() -> None:
    project = load(REPO / "Pulumi.yaml")
    assert project["runtime"]["name"] == "python"
    assert project["runtime"]["options"]["virtualenv"] == ".venv"
    # No `main:`: the provider host starts in the main directory and resolves
    # the virtualenv from there (pulumi/pulumi#7061), so it must be the root;
    # test_readme.py deploys the root program itself.
    assert "main" not in project
    assert project["config"]["vpsbackup:apiUrl"] == FAKE_URL
    # A different project name from the example's, so their stacks never collide.
    assert project["name"] != load(EXAMPLES / "quickstart" / "Pulumi.yaml")["name"]


@pytest.mark.parametrize(
    "example",
    [
        "native-python",
        "native-typescript",
        "native-go",
        "yaml",
        "yaml-rotation",
        "yaml-fleet",
        "yaml-restore",
    ],
)
def test_plugin_examples_name_the_plugins_directory(example: str) -> None:
    """In a shell where the repository's virtualenv is not on PATH (a user's), the
    engine finds the plugin through Pulumi.yaml, not as an ambient plugin."""
    project = load(EXAMPLES / example / "Pulumi.yaml")
    (plugin,) = project["plugins"]["providers"]
    assert plugin["name"] == "vpsbackup"
    resolved = (EXAMPLES / example / plugin["path"]).resolve()
    assert resolved == (REPO / ".venv" / "bin").resolve()
    text = (EXAMPLES / example / "README.md").read_text(encoding="utf-8")
    assert ".venv/bin:$PATH" not in text


def test_yaml_example_finds_the_native_plugin_in_the_repository_venv() -> None:
    """examples/yaml has no SDK: its Pulumi.yaml names the plugin's directory, the
    repository's virtualenv scripts (resolved against the directory of Pulumi.yaml)."""
    root = EXAMPLES / "yaml"
    project = load(root / "Pulumi.yaml")
    assert project["runtime"] == "yaml"
    (plugin,) = project["plugins"]["providers"]
    assert plugin["name"] == "vpsbackup"
    assert (root / plugin["path"]).resolve() == (REPO / ".venv" / "bin").resolve()
    assert project["config"]["vpsbackup:apiUrl"] == FAKE_URL
    types = {r["type"] for r in project["resources"].values()}
    assert types == {"vpsbackup:index:Backup"}
    schema = load(REPO / "pulumi_vpsbackup" / "plugin" / "schema.json")
    (listing,) = project["variables"].values()
    assert listing["fn::invoke"]["function"] in schema["functions"]
    text = (root / "README.md").read_text(encoding="utf-8")
    for command in ("make install hosts", "make fake", "pulumi stack init", "pulumi up"):
        assert command in text, command
    assert "pulumi config set --secret vpsbackup:apiToken" in text
