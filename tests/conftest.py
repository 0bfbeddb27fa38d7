"""Suite-wide fixtures: the token leak watch, and options for the reliability tests.

Every test runs under ``_no_token_in_logs`` (autouse): a handler on the root
logger, at DEBUG, records every log record (message, formatted arguments and
any exception text) and the test fails in teardown if one of the suite's API
tokens appears in any of them. The tokens are the ``vps_...`` literals found in
the test sources (``tests/**/*.py``, so a new test token is covered without
editing this file), the fake's default token and the documents' placeholder.

Other tests use:

* ``leak_check(*things, where=...)``: fails if a token appears in any of the
  things given: text, bytes, a file path (a state file), an exception (its
  text, repr, args and whole cause/context chain) or any object (its repr);
* ``suite_tokens``: the tuple of tokens checked;
* ``log_watch``: the watching handler (``.texts`` is everything logged so far
  in this test), to prove a code path really logged while staying clean.

Hypothesis runs derandomized when ``CI`` is set: CI checks a fixed set of
examples every time, and new counterexamples are found on developers' runs,
where the search stays random.

``--campaign-size N`` sets how many seeds the fault campaigns in
``tests/reliability`` run (default 12; larger runs are marked ``slow``).
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from pulumi_vpsbackup.client.history import HISTORY_ENV
from pulumi_vpsbackup.fake import DEFAULT_TOKEN

# Waits learn durations (pulumi_vpsbackup.client.history) and keep them in
# ~/.cache across runs. The suite turns that off, for itself and every process
# it starts, so that no test reads what another one (or the developer's own
# runs) taught; a test about history names its own file.
os.environ[HISTORY_ENV] = "off"

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

TESTS_DIR = Path(__file__).resolve().parent
DEFAULT_CAMPAIGN_SIZE = 12
DEFAULT_IDENTITY_CAMPAIGN_SIZE = 6

# Tokens that are not ``vps_...`` literals in the test sources.
_EXTRA_TOKENS = ("YOUR_API_TOKEN", DEFAULT_TOKEN)
_TOKEN_LITERAL = re.compile(r"""["'](vps_[A-Za-z0-9_]{4,})["']""")


def _discover_tokens() -> tuple[str, ...]:
    found: set[str] = set(_EXTRA_TOKENS)
    for path in TESTS_DIR.rglob("*.py"):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found.update(_TOKEN_LITERAL.findall(text))
    # Longest first, so a report names the most specific token.
    return tuple(sorted(found, key=lambda t: (-len(t), t)))


SUITE_TOKENS: tuple[str, ...] = _discover_tokens()


def mask(token: str) -> str:
    """How a token is named in a failure message (never in full)."""
    return token[:6] + "…"


def tokens_in(text: str, tokens: Iterable[str] = SUITE_TOKENS) -> list[str]:
    """The tokens that occur in ``text``."""
    return [t for t in tokens if t in text]


def _texts_of(thing: Any, seen: set[int] | None = None) -> Iterator[str]:
    """Every text a thing can show a user: see the module docstring."""
    seen = set() if seen is None else seen
    if id(thing) in seen:
        return
    seen.add(id(thing))
    if thing is None:
        return
    if isinstance(thing, bytes):
        yield thing.decode("utf-8", "replace")
    elif isinstance(thing, str):
        yield thing
    elif isinstance(thing, Path):
        if thing.exists():
            yield thing.read_bytes().decode("utf-8", "replace")
    elif isinstance(thing, BaseException):
        yield str(thing)
        yield repr(thing)
        for arg in thing.args:
            yield repr(arg)
        for value in vars(thing).values():
            if isinstance(value, (str, bytes, int, float, list, dict, tuple)):
                yield repr(value)
        for nested in (thing.__cause__, thing.__context__):
            yield from _texts_of(nested, seen)
        details = getattr(thing, "details", None)
        if callable(details):
            yield str(details())
    else:
        yield repr(thing)
        yield str(thing)


def find_leaks(*things: Any, tokens: Iterable[str] = SUITE_TOKENS) -> list[str]:
    tokens = tuple(tokens)
    hits: set[str] = set()
    for thing in things:
        for text in _texts_of(thing):
            hits.update(tokens_in(text, tokens))
    return sorted(hits)


class TokenWatch(logging.Handler):
    """Records every log record's texts; remembers which contain a token."""

    def __init__(self, tokens: Iterable[str]) -> None:
        super().__init__(level=logging.DEBUG)
        self.tokens = tuple(tokens)
        self.texts: list[str] = []
        self.leaks: list[tuple[str, str, str]] = []  # (logger, level, masked token)
        self._guard = threading.Lock()
        self._formatter = logging.Formatter()

    def emit(self, record: logging.LogRecord) -> None:
        parts = [str(record.msg)]
        try:
            parts.append(record.getMessage())
        except Exception:
            parts.append(repr(record.args))
        if record.args:
            parts.append(repr(record.args))
        if record.exc_info:
            parts.append(self._formatter.formatException(record.exc_info))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        text = "\n".join(parts)
        with self._guard:
            self.texts.append(text)
            for token in tokens_in(text, self.tokens):
                self.leaks.append((record.name, record.levelname, mask(token)))


class _AsBefore(logging.Filter):
    """Passes a record only if it would have been created with the root at ``root_level``."""

    def __init__(self, root_level: int) -> None:
        super().__init__()
        self.root_level = root_level

    def filter(self, record: logging.LogRecord) -> bool:
        logger: logging.Logger | None = logging.getLogger(record.name)
        root = logging.getLogger()
        level = self.root_level
        while logger is not None and logger is not root:
            if logger.level:
                level = logger.level
                break
            logger = logger.parent
        return record.levelno >= level


@pytest.fixture(autouse=True)
def _no_token_in_logs() -> Iterator[TokenWatch]:
    """Fail the test (in teardown) if any log record carried a suite token."""
    root = logging.getLogger()
    watch = TokenWatch(SUITE_TOKENS)
    previous = root.level
    # Lowering the root level makes loggers that inherit it emit more records; the
    # other handlers (pytest's captured logs, caplog) must not see those, so they
    # get a filter that keeps exactly the records the old root level let through.
    as_before = _AsBefore(root.getEffectiveLevel())
    others = list(root.handlers)
    for handler in others:
        handler.addFilter(as_before)
    root.addHandler(watch)
    root.setLevel(logging.DEBUG)
    try:
        yield watch
    finally:
        root.removeHandler(watch)
        root.setLevel(previous)
        for handler in others:
            handler.removeFilter(as_before)
    if watch.leaks:
        shown = "; ".join(f"{name} {level}: {tok}" for name, level, tok in watch.leaks[:5])
        pytest.fail(
            f"an API token appeared in {len(watch.leaks)} log record(s): {shown}", pytrace=False
        )


@pytest.fixture
def log_watch(_no_token_in_logs: TokenWatch) -> TokenWatch:
    return _no_token_in_logs


@pytest.fixture(scope="session")
def suite_tokens() -> tuple[str, ...]:
    return SUITE_TOKENS


@pytest.fixture(scope="session")
def leak_check() -> Callable[..., None]:
    """``leak_check(*things, where="...", tokens=...)`` fails if a token appears in any."""

    def check(*things: Any, where: str = "", tokens: Iterable[str] = SUITE_TOKENS) -> None:
        hits = find_leaks(*things, tokens=tokens)
        if hits:
            pytest.fail(
                f"API token(s) {', '.join(mask(t) for t in hits)} found in {where or 'output'}",
                pytrace=False,
            )

    return check


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("vpsbackup reliability")
    group.addoption(
        "--campaign-size",
        type=int,
        default=DEFAULT_CAMPAIGN_SIZE,
        metavar="N",
        help=f"seeds per randomised fault campaign (default {DEFAULT_CAMPAIGN_SIZE})",
    )
    group.addoption(
        "--identity-campaign-size",
        type=int,
        default=DEFAULT_IDENTITY_CAMPAIGN_SIZE,
        metavar="N",
        help="seeds of the identity campaign (interrupted runs, two backends, renames; "
        f"default {DEFAULT_IDENTITY_CAMPAIGN_SIZE}, the issue's figure is 200)",
    )
