"""The `vpsbackup-fake` command, importable without the `fake` extra.

The fake is built on werkzeug, which only the `fake` extra installs. The
command is a console script of the package, so it exists after a plain
``pip install pulumi_vpsbackup`` too; without werkzeug it says how to get it
in one line instead of a `ModuleNotFoundError` traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["MISSING_EXTRA_HINT", "main"]

MISSING_EXTRA_HINT = (
    "vpsbackup-fake needs the fake API's extra dependencies (werkzeug): "
    "pip install 'pulumi_vpsbackup[fake]'"
)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the fake VPS.org API (see ``vpsbackup-fake --help``).

    :param argv: the command line arguments, without the program name
        (default: ``sys.argv[1:]``).
    :returns: the exit status: 0 after a clean stop, 2 for a usage error or
        when the `fake` extra is not installed.
    """
    try:
        from .fake.__main__ import main as run_fake
    except ModuleNotFoundError as exc:
        if (exc.name or "").partition(".")[0] != "werkzeug":
            raise
        print(MISSING_EXTRA_HINT, file=sys.stderr)
        return 2
    return run_fake(argv)


if __name__ == "__main__":
    sys.exit(main())
