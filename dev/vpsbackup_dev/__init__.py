"""Development tooling of this repository, shared by the tests, ``bench/`` and ``scripts/``.

* :mod:`vpsbackup_dev.engine`: runs whole Pulumi programs with the engine's semantics,
  without the Pulumi CLI (the fast mirror of the CLI tests, and the demo's fallback);
* :mod:`vpsbackup_dev.host`: drives the SDK's real dynamic provider host over gRPC;
* :mod:`vpsbackup_dev.cli_project`: small projects run with the real ``pulumi`` command.

Not part of the published package: ``make install`` installs it editable from ``dev/``.
"""

from __future__ import annotations

from pathlib import Path

#: The checkout this package belongs to (it is only ever installed editable).
REPO = Path(__file__).resolve().parents[2]

__all__ = ["REPO"]
