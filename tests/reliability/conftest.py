"""Fixtures of the reliability tests: campaign seeds and the numbers they report.

``--campaign-size N`` (defined in ``tests/conftest.py``) picks how many seeds
the fault campaigns run: the first N of a fixed list, extended
deterministically past its end. Seeds beyond the default are marked ``slow``.
Every test here may add to ``reliability_report``; the totals are printed at
the end of the run (``-rA`` not needed).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from tests.conftest import DEFAULT_CAMPAIGN_SIZE

FIXED_SEEDS = (7, 11, 23, 42, 97, 128, 256, 311, 499, 777, 1009, 4242)


def campaign_seeds(size: int) -> list[int]:
    seeds = list(FIXED_SEEDS[:size])
    n = 0
    while len(seeds) < size:
        # Past the fixed list: seeds far from any run before (earlier extensions
        # started at 10_000), so every fault kind meets fresh draws of the others.
        seeds.append(1_000_003 + 7919 * n)
        n += 1
    return seeds


class Report:
    """Counters and timings the reliability tests collect for the final summary."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.lines: list[str] = []

    def add(self, **counts: int) -> None:
        self.counts.update(counts)

    def note(self, line: str) -> None:
        self.lines.append(line)


_REPORT = Report()


@pytest.fixture(scope="session")
def reliability_report() -> Report:
    return _REPORT


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "campaign_seed" in metafunc.fixturenames:
        size = max(1, int(metafunc.config.getoption("campaign_size")))
        params: list[Any] = []
        for index, seed in enumerate(campaign_seeds(size)):
            marks = [pytest.mark.slow] if index >= DEFAULT_CAMPAIGN_SIZE else []
            params.append(pytest.param((index, seed), id=f"seed{seed}", marks=marks))
        metafunc.parametrize("campaign_seed", params)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _REPORT.counts and not _REPORT.lines:
        return
    terminalreporter.section("reliability report")
    for key in sorted(_REPORT.counts):
        terminalreporter.write_line(f"{key}: {_REPORT.counts[key]}")
    for line in _REPORT.lines:
        terminalreporter.write_line(line)
