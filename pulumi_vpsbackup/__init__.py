"""VPS.org server backups as code: Pulumi resources, queries and an API client.

    import pulumi_vpsbackup as vps

    backup = vps.Backup("before-deploy", server_id=12345, triggers=[app_version])
    vps.Restore("rollback", server_id=12345, backup_id=some_backup_id)
    latest = vps.get_latest_backup(server_id=12345)

Settings: stack config `vpsbackup:apiToken` (secret) and `vpsbackup:apiUrl`,
or the environment variables `VPS_API_TOKEN` and `VPS_API_URL`. Importing this
package reads no environment, opens no connection and registers no resource.

The public surface is `pulumi_vpsbackup.provider.__all__` (resources, their
arguments, `Account`, the query functions and their results, `FieldError`)
and every error of `pulumi_vpsbackup.client.errors` (all derive from
`VpsBackupError`; the tree is drawn in that module's docstring), so that
any error can be caught as `vps.SomeError`.

The names load on first use (PEP 562): `import pulumi_vpsbackup` costs about a
millisecond; the first name used loads the client and the providers.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # what type checkers and editors see; at run time, __getattr__
    from .client.errors import *  # noqa: F403
    from .provider import *  # noqa: F403

_SUBPACKAGES = frozenset({"client", "fake", "plugin", "provider"})


def _surface() -> dict[str, Any]:
    """Every public name: the error tree's and the provider's, by their __all__."""
    errors = importlib.import_module(f"{__name__}.client.errors")
    provider = importlib.import_module(f"{__name__}.provider")
    return {
        "__version__": __version__,
        **{name: getattr(errors, name) for name in errors.__all__},
        **{name: getattr(provider, name) for name in provider.__all__},
    }


def __getattr__(name: str) -> Any:
    if name == "__all__":
        value: Any = list(_surface())
    elif name.startswith("__") or name in _SUBPACKAGES:
        # Subpackages are the import system's to load (``from . import provider``).
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    else:
        surface = _surface()
        if name not in surface:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        globals().update(surface)  # later lookups are plain attribute reads
        value = surface[name]
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__getattr__("__all__")})
