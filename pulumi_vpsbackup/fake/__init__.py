"""A local fake of the VPS.org API, in the spirit of moto.

The project's embedded default for examples, tests and benchmarks: a WSGI app
(:class:`FakeVps`) with its own state, a controllable clock, configurable
answers to everything the API documents leave open, fault injection, a request
journal and optional persistence to a state file shared across processes.

Use it in-process with ``httpx.WSGITransport(app=FakeVps())``, on loopback with
``with serve(FakeVps()) as server: server.url``, in another process with
``with launch("--world", "empty") as fake: fake.url``, or from a shell with
``python -m pulumi_vpsbackup.fake --port 0``.

Modules: ``clock`` (fake time), ``behaviour`` (settings), ``entities`` and
``worlds`` (records and starting data), ``model`` (rules, raising ``errors``),
``faults``, ``journal``, ``persistence``, ``api`` and ``admin`` (routes, both
through ``http.Router``), ``app`` (``FakeVps``), ``server`` (``serve``),
``__main__`` (CLI) and ``launch`` (the CLI in a child process).
"""

from __future__ import annotations

from .app import DEFAULT_TOKEN, ConnectionDropped, FakeVps
from .behaviour import Behaviour
from .clock import FakeClock
from .faults import FaultRule
from .launch import FakeStartError, LaunchedFake, launch
from .server import FakeServer, serve

__all__ = [
    "DEFAULT_TOKEN",
    "Behaviour",
    "ConnectionDropped",
    "FakeClock",
    "FakeServer",
    "FakeStartError",
    "FakeVps",
    "FaultRule",
    "LaunchedFake",
    "launch",
    "serve",
]
