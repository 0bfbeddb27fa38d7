"""Figure 5: bytes of stack state per Backup resource, ``__provider`` included.

A program declaring N Backups runs through ``vpsbackup_dev.engine.Engine`` (the
real SDK runtime and provider host, with the engine's state bookkeeping); the
state file it writes is read back and each Backup's entry measured as compact
JSON (the JSON checkpoint's content without indentation). ``__provider`` (the
dill-pickled provider, base64) is stored twice, in inputs and in outputs.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from vpsbackup_dev.engine import Engine

from .core import TOKEN, Figure, Options, fake_server, median

GROUP = "state"
TARGET_BYTES = 1024
PROGRAM = """\
import pulumi_vpsbackup as vps

for i in range({n}):
    vps.Backup(f"backup-{{i}}", server_id=12345 + i % 2, description=f"state bench {{i}}")
"""


def _size(value: Any) -> int:
    return len(json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8"))


def run(options: Options) -> list[Figure]:
    n: int = options.pick(4, 10)
    with fake_server(completion="immediate") as served, tempfile.TemporaryDirectory() as tmp:
        program = Path(tmp) / "program"
        program.mkdir()
        (program / "__main__.py").write_text(PROGRAM.format(n=n), encoding="utf-8")
        engine = Engine(
            Path(tmp) / "state.json",
            project="bench",
            stack="bench",
            config={"vpsbackup:apiToken": TOKEN, "vpsbackup:apiUrl": served.url},
            secret_keys={"vpsbackup:apiToken"},
            env={"VPS_API_TOKEN": "", "VPS_API_URL": ""},
            program=program,
        )
        engine.up()
        state = json.loads(engine.state_path.read_text(encoding="utf-8"))
        file_bytes = engine.state_path.stat().st_size
    backups = [r for r in state["resources"] if r["type"].endswith("vpsbackup:Backup")]
    if len(backups) != n:
        raise RuntimeError(f"expected {n} Backups in state, found {len(backups)}")
    sizes = [_size(r) for r in backups]
    provider = backups[0]["outputs"].get("__provider")
    provider_bytes = _size(provider)
    secret = isinstance(provider, dict)
    per = median(sizes)
    # Pulumi's checkpoint omits empty fields (Go `omitempty`); the harness writes
    # every ResourceState field, so this is the same entry without the empty ones.
    omitted = median(
        _size({k: v for k, v in r.items() if v not in (None, False, "", [], {})}) for r in backups
    )
    payload = median(_size(r["inputs"]) + _size(r["outputs"]) for r in backups)
    sample = backups[0]
    parts = {
        "inputs": _size(sample["inputs"]),
        "outputs": _size(sample["outputs"]),
        "rest (urn, type, id, options)": per - _size(sample["inputs"]) - _size(sample["outputs"]),
    }
    return [
        Figure(
            GROUP,
            "bytes per Backup resource",
            per,
            "B",
            TARGET_BYTES,
            "1 KB target",
            f"<= {TARGET_BYTES} B",
            max(sizes) <= TARGET_BYTES,
            f"median of {n}, max {max(sizes)}; "
            + ", ".join(f"{k} {v:.0f}" for k, v in parts.items())
            + f"; without the harness's empty fields (as Pulumi's omitempty would) {omitted:.0f} B",
            {"sizes": sizes, "parts": parts, "file_bytes": file_bytes, "omitempty": omitted},
        ),
        Figure(
            GROUP,
            "inputs + outputs per Backup",
            payload,
            "B",
            TARGET_BYTES,
            "1 KB target",
            "(info)",
            None,
            "the part the provider controls; server_id, description, timeout and "
            "wait_for_completion are in both (read/delete only see old outputs)",
        ),
        Figure(
            GROUP,
            "__provider alone",
            provider_bytes,
            "B",
            per,
            "whole resource",
            "(info)",
            None,
            f"{'secret-wrapped' if secret else 'plain (not a secret)'}, stored twice "
            f"(inputs and outputs): {2 * provider_bytes} B of {per:.0f}",
            {"provider": provider if not secret else "<secret>"},
        ),
    ]
