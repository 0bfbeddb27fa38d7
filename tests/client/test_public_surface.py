"""The package's ``__all__`` is exactly its public surface, and the agreed names exist."""

from __future__ import annotations

import inspect
import types

import pulumi_vpsbackup.client as client_pkg


def test_all_is_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(client_pkg).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert set(client_pkg.__all__) == public
    assert len(client_pkg.__all__) == len(set(client_pkg.__all__))


def test_agreed_interface_is_present() -> None:
    client = client_pkg.VpsClient
    expected = {
        "get_account": [],
        "list_servers": ["status"],
        "get_server": ["server_id"],
        "list_backups": ["server_id", "backup_type", "max_age"],
        "find_backup": ["backup_id", "server_id", "max_age"],
        "create_backup": ["server_id", "description"],
        "delete_backup": ["backup_id"],
        "restore_server": ["server_id", "backup_id"],
        "wait_for_backup": ["backup_id", "server_id", "timeout", "on_progress"],
        "wait_for_restore": ["server_id", "timeout", "on_progress"],
    }
    for method, params in expected.items():
        names = list(inspect.signature(getattr(client, method)).parameters)[1:]
        assert names[: len(params)] == params, method
    init = inspect.signature(client.__init__).parameters
    assert list(init)[1:6] == ["settings", "transport", "sleep", "clock", "rng"]
    for name in ("close", "__enter__", "__exit__", "from_env"):
        assert callable(getattr(client, name))
    settings_fields = list(client_pkg.ClientSettings.__dataclass_fields__)
    assert settings_fields[:7] == [
        "token",
        "base_url",
        "timeout",
        "max_attempts",
        "max_retry_seconds",
        "poll",
        "user_agent",
    ]
    tree = {
        "ConfigurationError": "VpsBackupError",
        "ApiError": "VpsBackupError",
        "BadRequestError": "ApiError",
        "AuthenticationError": "ApiError",
        "PermissionDeniedError": "ApiError",
        "NotFoundError": "ApiError",
        "ConflictError": "ApiError",
        "RateLimitedError": "ApiError",
        "ServerError": "ApiError",
        "TransportError": "VpsBackupError",
        "CreateReconciliationError": "VpsBackupError",
        "WaitError": "VpsBackupError",
        "BackupFailedError": "WaitError",
        "RestoreFailedError": "WaitError",
        "WaitTimeoutError": "WaitError",
    }
    for child, parent in tree.items():
        assert issubclass(getattr(client_pkg, child), getattr(client_pkg, parent)), child


def test_import_has_no_side_effects() -> None:
    import subprocess
    import sys

    code = (
        "import os, socket\n"
        "os.environ.pop('VPS_API_TOKEN', None)\n"
        "class NoNet(socket.socket):\n"
        "    def connect(self, *a):\n"
        "        raise SystemExit('connected at import')\n"
        "socket.socket = NoNet\n"
        "import pulumi_vpsbackup.client\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_every_exported_class_and_function_is_documented() -> None:
    for name in client_pkg.__all__:
        value = getattr(client_pkg, name)
        if inspect.isclass(value) or inspect.isfunction(value):
            assert (value.__doc__ or "").strip(), f"{name} has no docstring"


def test_no_client_name_is_also_a_resource_or_fake_name() -> None:
    """The API's records are not the resources: `vps.Backup` and `vps.Account` mean one
    thing each, and so does every name the fake's records use."""
    import pulumi_vpsbackup.provider as provider_pkg
    from pulumi_vpsbackup.fake import entities

    records = {"AccountRecord", "BackupRecord", "RestoreRecord", "Server"}
    assert records <= set(client_pkg.__all__)
    assert not set(client_pkg.__all__) & set(provider_pkg.__all__)
    assert not set(client_pkg.__all__) & set(entities.__all__)
    assert not set(provider_pkg.__all__) & set(entities.__all__)


def test_no_client_module_reaches_into_another_objects_private_members() -> None:
    """Reconciliation and the waits use what the client hands them, not its privates:
    `api._send_create` or `client._http` from outside the object would tie a module to
    another's insides."""
    import ast
    from pathlib import Path

    reached = []
    for path in sorted(Path(client_pkg.__file__).parent.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and node.attr.startswith("_")
                and not node.attr.startswith("__")
                and not (
                    isinstance(node.value, ast.Name) and node.value.id in ("self", "cls", "other")
                )
            ):
                reached.append(f"{path.name}:{node.lineno} .{node.attr}")
    assert reached == []
