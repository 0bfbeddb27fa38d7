"""Benchmarks: how fast and frugal the provider is, against the ideal, in one run.

``make bench`` runs it; after ``make install`` (which installs ``bench`` with the
development package, ``dev/``) it also runs from any directory::

    python -m bench            # every figure (~5 minutes on 2 cores)
    python -m bench --quick    # fewer repetitions, smaller fleets (~3 minutes)
    python -m bench --only commands --only parallelism

Every figure is printed as: its name, what was measured, its target, its
ideal (or the baseline it is a ratio of, measured in the same run), and met /
MISSED (or info when it has no target). Times are never judged alone: each is
a ratio to something measured beside it. Everything runs against the fake API
(``pulumi_vpsbackup.fake``) on a free 127.0.0.1 port: the per-command request
counts under the real ``pulumi`` CLI (on PATH, else the one ``make cli``
builds; a fresh provider host per command, backups that take time, paging
on), the rest through the real SDK provider host
(``vpsbackup_dev.host.ProviderHost``). The table goes to stdout, the JSON to
``bench/results/latest.json``.

Modules: ``core`` (figures, timing, fake and host helpers), one module per
figure group (``commands``, ``overhead``, ``polling``, ``refresh``,
``parallelism``, ``startup``, ``state``), ``cli`` (options, table, JSON).
"""

from __future__ import annotations
