"""Benchmarks: how fast and frugal the provider is, against the ideal, in one run.

Run from the repository root::

    python -m bench            # every figure (~3-4 minutes on 2 cores)
    python -m bench --quick    # short, deterministic-enough smoke run (< 60 s)
    python -m bench --only polling --only state

Every figure is a ratio of two things measured in the same run (or a count
against an ideal), never an absolute time judged alone. Everything runs against
the fake API (``pulumi_vpsbackup.fake``) served on a free 127.0.0.1 port and the
real SDK provider host (``tests.support.host.ProviderHost``). The table goes to
stdout, the JSON to ``bench/results/latest.json``.

Modules: ``core`` (figures, timing, fake and host helpers), one module per
figure group (``overhead``, ``polling``, ``refresh``, ``parallelism``,
``state``, ``startup``), ``cli`` (options, table, JSON).
"""

from __future__ import annotations
