"""Options, the table and the JSON file of ``python -m bench``.

Exit status: 0 when every figure ran (targets missed or not, unless
``--strict``), 1 with ``--strict`` and a missed target, 2 when a figure
raised (its row then says ERROR and the JSON holds the traceback).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import platform
import sys
import time
import traceback
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .core import REPO_ROOT, Figure, Options

GROUPS = ("commands", "overhead", "polling", "refresh", "parallelism", "startup", "state")
DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "latest.json"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmarks of pulumi-vpsbackup against the ideal, all in one run.",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer repetitions and smaller fleets (~2-3 minutes)"
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=GROUPS,
        metavar="NAME",
        help=f"run only this group (repeatable): {', '.join(GROUPS)}",
    )
    parser.add_argument(
        "--output", type=Path, default=DEFAULT_OUTPUT, help="JSON file (default: %(default)s)"
    )
    parser.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    return parser.parse_args(argv)


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100 or float(value).is_integer():
        text = f"{value:.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.2f}"
    return f"{text} {unit}".strip()


def _verdict(figure: Figure) -> str:
    if figure.passed is None:
        return "info"
    return "met" if figure.passed else "MISSED"


def render(figures: list[Figure]) -> str:
    """One row per figure: name, measured, target, ideal (or baseline), met/missed."""
    header = ("group", "figure", "measured", "target", "ideal/baseline", "ratio", "result")
    rows = [
        (
            f.group,
            f.name,
            _fmt(f.measured, f.unit),
            f.target or "-",
            f"{_fmt(f.baseline, f.unit)} ({f.baseline_label})" if f.baseline_label else "-",
            f"{f.ratio:.2f}x" if f.ratio is not None else "-",
            _verdict(f),
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("{:<%d}" % w for w in widths)  # noqa: UP031 - a width template
    out = [line.format(*header), line.format(*("-" * w for w in widths))]
    out += [line.format(*row).rstrip() for row in rows]
    missed = sum(1 for f in figures if f.passed is False)
    met = sum(1 for f in figures if f.passed)
    out += ["", f"targets: {met} met, {missed} missed, {len(figures) - met - missed} info"]
    notes = [f"  [{f.group}] {f.name}: {f.note}" for f in figures if f.note]
    if notes:
        out += ["", "notes:", *notes]
    return "\n".join(out)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    options = Options(quick=args.quick)
    selected = [g for g in GROUPS if not args.only or g in args.only]
    figures: list[Figure] = []
    groups: dict[str, dict[str, Any]] = {}
    started = time.perf_counter()
    for name in selected:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        t0 = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.{name}")
            produced: list[Figure] = module.run(options)
        except Exception as exc:
            produced = []
            groups[name] = {"error": "".join(traceback.format_exception(exc))}
            figures.append(
                Figure(name, "ERROR", None, "", note=f"{type(exc).__name__}: {exc}", passed=False)
            )
        seconds = time.perf_counter() - t0
        groups.setdefault(name, {})["seconds"] = round(seconds, 2)
        print(f"bench: {name} done in {seconds:.1f} s", file=sys.stderr, flush=True)
        figures.extend(produced)
    total = time.perf_counter() - started
    print(render(figures))
    print(f"\n{len(selected)} group(s) in {total:.1f} s ({'quick' if args.quick else 'full'} run)")
    report = {
        "when": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "quick": args.quick,
        "seconds": round(total, 2),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "groups": groups,
        "figures": [f.to_json() for f in figures],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"JSON: {args.output}")
    if any("error" in g for g in groups.values()):
        return 2
    if args.strict and any(f.passed is False for f in figures):
        return 1
    return 0
