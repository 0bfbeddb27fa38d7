"""The package's public surface is one consistent set of names.

The top level exports every error and `FieldError`, every name the README
uses is importable, and `provider.__all__` does not advertise the
`ResourceProvider` classes.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest
from pulumi.dynamic import ResourceProvider

import pulumi_vpsbackup as vps
from pulumi_vpsbackup import provider
from pulumi_vpsbackup.client import errors

PACKAGE = Path(vps.__file__).parent
README = PACKAGE.parent / "README.md"
#: What users read: the README and the pages under docs/.
USER_DOCS = [README, *sorted((PACKAGE.parent / "docs").glob("*.md"))]


def _user_docs_text() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in USER_DOCS)


def _modules() -> list[str]:
    names = ["pulumi_vpsbackup"]
    for info in pkgutil.walk_packages([str(PACKAGE)], prefix="pulumi_vpsbackup."):
        if info.name.startswith("pulumi_vpsbackup.fake"):
            continue  # the fake stands alone, with an optional dependency
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _modules())
def test_every_name_in_each_all_exists(name: str) -> None:
    module = importlib.import_module(name)
    listed = getattr(module, "__all__", None)
    if listed is None:
        return
    assert len(listed) == len(set(listed)), f"{name}.__all__ lists a name twice"
    missing = [n for n in listed if not hasattr(module, n)]
    assert not missing, f"{name}.__all__ names {missing}, which it does not define"


def _error_classes() -> dict[str, type]:
    """Every exception class this package defines outside the fake and the Terraform
    provider (whose errors reach users as OpenTofu's diagnostics, never as Python
    exceptions: its `TerraformError` only carries them to the gRPC answer)."""
    found: dict[str, type] = {}
    for name in _modules():
        if name.startswith("pulumi_vpsbackup.terraform"):
            continue
        module = importlib.import_module(name)
        for attr, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
            ):
                found[attr] = value
    return found


def test_the_whole_error_tree_is_reachable_from_the_top_level() -> None:
    classes = _error_classes()
    assert set(errors.__all__) <= set(classes)
    assert "FieldError" in classes
    for name, cls in classes.items():
        assert getattr(vps, name, None) is cls, f"vps.{name} is not {cls.__module__}.{name}"
        assert name in vps.__all__
        assert issubclass(cls, vps.VpsBackupError), f"{name} is outside the error tree"


def test_provider_all_lists_what_programs_use_not_the_host_side_classes() -> None:
    for name in provider.__all__:
        value = getattr(provider, name)
        assert not (inspect.isclass(value) and issubclass(value, ResourceProvider)), name
    # Still importable by the path every stack's state records.
    assert issubclass(provider.BackupProvider, ResourceProvider)
    assert set(provider.__all__) <= set(vps.__all__)


def _readme_code() -> str:
    text = _user_docs_text()
    return "\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.DOTALL))


def test_every_name_the_readme_uses_in_code_is_importable() -> None:
    code = _readme_code()
    tree = ast.parse(code)
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "vps"
    }
    assert {"Backup", "Restore"} <= used  # the README's code was found and read
    assert not [n for n in used if not hasattr(vps, n)]
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pulumi_vpsbackup"):
            module = importlib.import_module(node.module or "")
            for alias in node.names:
                assert hasattr(module, alias.name), f"from {node.module} import {alias.name}"


def test_every_error_the_readme_names_can_be_caught_as_vps_name() -> None:
    text = _user_docs_text()
    named = set(re.findall(r"`(\w+Error)`", text)) - set(dir(builtins))
    assert {"NotFoundError", "PermissionDeniedError", "ConflictError"} <= named
    assert not [n for n in sorted(named) if not hasattr(vps, n)]


def _handlers(tree: ast.AST) -> list[tuple[int, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Tuple):
            names = [e.id for e in node.type.elts if isinstance(e, ast.Name)]
            found.append((node.lineno, names))
    return found


@pytest.mark.parametrize("name", _modules())
def test_no_except_clause_lists_a_class_and_its_subclass(name: str) -> None:
    """`except (AuthenticationError, ApiError)` reads as two cases but is one:
    the subclass adds nothing, and hides what is really caught."""
    module = importlib.import_module(name)
    tree = ast.parse(Path(module.__file__ or "").read_text(encoding="utf-8"))
    for line, names in _handlers(tree):
        classes = [getattr(module, n, None) or getattr(builtins, n, None) for n in names]
        for sub, cls_sub in zip(names, classes, strict=True):
            for sup, cls_sup in zip(names, classes, strict=True):
                if sub != sup and inspect.isclass(cls_sub) and inspect.isclass(cls_sup):
                    assert not issubclass(cls_sub, cls_sup), (
                        f"{name}:{line} catches {sub}, a subclass of {sup} in the same clause"
                    )


def test_the_lazy_top_level_is_exactly_the_error_tree_and_the_provider_surface() -> None:
    assert vps.__all__ == ["__version__", *errors.__all__, *provider.__all__]
    assert set(dir(vps)) >= set(vps.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = vps.Nope  # type: ignore[attr-defined]


def test_importing_the_package_loads_nothing_its_first_use_does_not_need() -> None:
    code = (
        "import sys, pulumi_vpsbackup as vps\n"
        "heavy = [m for m in ('httpx', 'pulumi', 'pulumi.dynamic', 'dill',"
        " 'pulumi_vpsbackup.provider', 'pulumi_vpsbackup.client') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "vps.get_backups\n"
        "assert 'httpx' in sys.modules and 'pulumi_vpsbackup.provider' in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
