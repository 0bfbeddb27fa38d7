"""Build the API reference with pdoc, failing on any warning about our docs.

pdoc has no warnings-as-errors switch, and ``python -W error -m pdoc`` stops
at warnings that are not ours: Pulumi's ``pulumi.Input`` alias names
``Output`` only as a forward reference inside the SDK, which pdoc cannot
evaluate from our modules (and the SDK's own base classes have the same).
Those, and only those, are tolerated; the annotation is then shown as written.

    python tools/build_docs.py [OUTPUT_DIR]      (default: build/docs)
"""

from __future__ import annotations

import re
import sys
import warnings
from pathlib import Path

import pdoc
import pdoc.render

MODULES = ["pulumi_vpsbackup", "pulumi_vpsbackup.client", "pulumi_vpsbackup.fake"]
SDK_FORWARD_REF = re.compile(
    r"^Error parsing type annotation .* for \S+\. Import of Output failed: "
    r"name 'Output' is not defined$"
    r"|^Error parsing type annotation .* for pulumi\.(?!_)\S*\. "
)


def build(output: Path) -> list[str]:
    """Write the reference into `output`; return the warnings that are ours."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pdoc.render.configure(docformat="restructuredtext", show_source=False)
        pdoc.pdoc(*MODULES, output_directory=output)
    return [str(w.message) for w in caught if not SDK_FORWARD_REF.match(str(w.message))]


def main(argv: list[str]) -> int:
    output = Path(argv[0]) if argv else Path("build/docs")
    ours = build(output)
    for message in ours:
        print(f"pdoc warning: {message}", file=sys.stderr)
    if ours:
        print(f"{len(ours)} pdoc warning(s): the reference is not clean", file=sys.stderr)
        return 1
    print(f"API reference written to {output}/index.html")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
