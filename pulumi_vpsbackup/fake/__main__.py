"""Command line: run the fake VPS.org API as a real HTTP server.

``python -m pulumi_vpsbackup.fake --port 0`` prints exactly one line first,
``VPS.org fake API listening on http://127.0.0.1:PORT/api/v1``, so a parent
process can read the URL (with the real port) and start talking. The token is
never printed.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from types import FrameType

from .app import DEFAULT_TOKEN, FakeVps
from .behaviour import Behaviour
from .clock import FakeClock
from .server import is_loopback, make_fake_server
from .worlds import WORLDS

__all__ = ["build_parser", "main"]

TOKEN_ENV = "VPS_FAKE_TOKEN"  # noqa: S105 - the name of a variable, not a secret


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pulumi_vpsbackup.fake",
        description="Run a local fake of the VPS.org Backups API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8787, help="0 picks a free port")
    parser.add_argument(
        "--token", default=None, help=f"bearer token (default: ${TOKEN_ENV} or {DEFAULT_TOKEN})"
    )
    parser.add_argument("--state-file", default=None, help="share the world across restarts")
    parser.add_argument("--world", choices=WORLDS, default="demo")
    parser.add_argument(
        "--time-scale", type=float, default=None, help="fake seconds per real second (0 freezes)"
    )
    parser.add_argument("--completion", choices=("time", "immediate", "reads"), default="time")
    parser.add_argument("--backup-seconds", type=float, default=Behaviour.backup_seconds)
    parser.add_argument("--restore-seconds", type=float, default=Behaviour.restore_seconds)
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--restore-failure-rate", type=float, default=0.0)
    parser.add_argument("--page-size", type=int, default=None)
    parser.add_argument("--delete-in-progress", choices=("reject", "allow"), default="reject")
    parser.add_argument("--automatic-schedule", action="store_true")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--access-log", action="store_true", help="log requests to stderr")
    parser.add_argument("--allow-remote", action="store_true", help="permit a non-loopback --host")
    return parser


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if not is_loopback(args.host) and not args.allow_remote:
        print(
            f"refusing to listen on non-loopback host {args.host!r}: the fake has no real "
            "security; pass --allow-remote if you mean it",
            file=sys.stderr,
        )
        return 2
    token = args.token or os.environ.get(TOKEN_ENV) or DEFAULT_TOKEN
    try:
        behaviour = Behaviour(
            completion=args.completion,
            backup_seconds=args.backup_seconds,
            restore_seconds=args.restore_seconds,
            failure_rate=args.failure_rate,
            restore_failure_rate=args.restore_failure_rate,
            page_size=args.page_size,
            delete_in_progress=args.delete_in_progress,
            automatic_schedule=args.automatic_schedule,
        )
        clock = FakeClock(scale=args.time_scale if args.time_scale is not None else 1.0)
        app = FakeVps(
            token=token,
            behaviour=behaviour,
            clock=clock,
            world=args.world,
            seed=args.seed,
            state_file=args.state_file,
        )
    except ValueError as exc:
        print(f"invalid option: {exc}", file=sys.stderr)
        return 2
    if args.time_scale is not None:
        # An explicit scale wins over one restored from the state file.
        app.set_time_scale(args.time_scale)
    server = make_fake_server(app, args.host, args.port, access_log=args.access_log)
    signal.signal(signal.SIGTERM, _stop)
    host = f"[{args.host}]" if ":" in args.host else args.host
    try:
        # Inside the try: a parent may send SIGINT as soon as it reads this line,
        # before print() has returned.
        print(
            f"VPS.org fake API listening on http://{host}:{server.server_port}/api/v1", flush=True
        )
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
