"""`pulumi up` at the repository root deploys examples/quickstart.

Pulumi.yaml has no `main:` on purpose: the provider host starts in the
project's main directory and resolves `virtualenv: .venv` from there
(pulumi/pulumi#7061), so the program must live here, beside `.venv`.
"""

import runpy
from pathlib import Path

runpy.run_path(
    str(Path(__file__).resolve().parent / "examples" / "quickstart" / "__main__.py"),
    run_name="__main__",
)
