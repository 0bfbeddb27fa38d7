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
"""

from __future__ import annotations

from . import provider as _provider
from ._version import __version__
from .client import errors as _errors
from .client.errors import *  # noqa: F403 - the whole error tree, by its __all__
from .provider import *  # noqa: F403 - resources and queries, by its __all__

__all__ = ["__version__", *_errors.__all__, *_provider.__all__]
