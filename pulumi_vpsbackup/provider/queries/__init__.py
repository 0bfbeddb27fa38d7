"""The query functions (`get_backups`, `get_latest_backup`, `wait_for_backups` and
their `_output` forms), what they return (`results`), and how their errors reach
a program (`shown`)."""

from .functions import *  # noqa: F403 - the functions, by their __all__
from .functions import __all__ as _functions
from .results import BackupInfo, GetBackupsResult

__all__ = [*_functions, "BackupInfo", "GetBackupsResult"]
