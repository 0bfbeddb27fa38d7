"""A refresh spread over many servers: one listing per server for a few, one
account listing once that is cheaper, against the fake over HTTP."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pulumi_vpsbackup.client.api import REFRESH_LISTING_AGE
from pulumi_vpsbackup.client.spread import FIRST_PROBE_AT, Spread

from .test_against_fake import Env, env  # noqa: F401 - the fixture

pytest.importorskip("pulumi_vpsbackup.fake")


def _spread_over(e: Env, servers: int) -> list[tuple[int, int]]:
    pairs = []
    for i in range(servers):
        server = int(e.app.add_server(name=f"spread-{i}")["id"])
        pairs.append((int(e.app.seed_backup(server_id=server, description=f"s{i}")["id"]), server))
    e.app.clear_requests()
    return pairs


def _listings(e: Env) -> list[dict]:
    return [c for c in e.calls("GET", "/backups/")]


def test_a_few_servers_are_each_listed_once_and_the_account_size_never_asked(
    env: Callable[..., Env],  # noqa: F811
) -> None:
    e = env(page_size=5)
    pairs = _spread_over(e, FIRST_PROBE_AT - 1)
    for backup_id, server in pairs:
        found = e.client.refresh_backup(backup_id, server_id=server, backup_type="manual")
        assert found is not None and found.id == backup_id
    calls = _listings(e)
    assert len(calls) == len(pairs)
    assert all("server_id" in (c.get("query") or {}) for c in calls), calls


def test_many_servers_switch_to_one_account_listing_once_it_is_cheaper(
    env: Callable[..., Env],  # noqa: F811
) -> None:
    e = env(page_size=50)  # the whole account fits one page
    pairs = _spread_over(e, 30)
    for backup_id, server in pairs:
        found = e.client.refresh_backup(backup_id, server_id=server, backup_type="manual")
        assert found is not None and found.id == backup_id
    calls = _listings(e)
    per_server = [c for c in calls if "server_id" in (c.get("query") or {})]
    account = [c for c in calls if "server_id" not in (c.get("query") or {})]
    # FIRST_PROBE_AT - 1 servers listed alone, then the probe (one page: the
    # account is one page), after which the shared account listing serves all.
    assert len(per_server) == FIRST_PROBE_AT - 1, calls
    assert 1 <= len(account) <= 2, calls
    assert len(calls) < len(pairs) // 5


def test_a_failed_size_probe_keeps_listing_by_server_and_fails_no_read(
    env: Callable[..., Env],  # noqa: F811
) -> None:
    e = env(page_size=50, max_attempts=1)
    pairs = _spread_over(e, 8)
    # The first FIRST_PROBE_AT - 1 reads list their servers; the next request is the probe.
    e.app.add_fault(
        method="GET",
        path="/api/v1/backups/",
        action="status",
        status=503,
        skip=FIRST_PROBE_AT - 1,
        count=1,
    )
    for backup_id, server in pairs:
        found = e.client.refresh_backup(backup_id, server_id=server, backup_type="manual")
        assert found is not None and found.id == backup_id
    calls = _listings(e)
    assert [c.get("status") for c in calls].count(503) == 1, calls
    # The size stays unknown for the burst: every read lists its own server.
    answered = [c for c in calls if c.get("status") == 200]
    assert all("server_id" in (c.get("query") or {}) for c in answered), calls
    assert len(answered) == len(pairs)


def test_an_absence_in_a_shared_listing_is_checked_with_a_fresh_one(
    env: Callable[..., Env],  # noqa: F811
) -> None:
    e = env()
    ((first, server),) = _spread_over(e, 1)
    assert e.client.refresh_backup(first, server_id=server, backup_type="manual") is not None
    # Made after that listing was cached (by a person, another stack): the shared
    # listing does not show it, and a refresh must not conclude it is gone.
    later = int(e.app.seed_backup(server_id=server, description="later")["id"])
    e.time.now += 1
    e.app.clear_requests()
    found = e.client.refresh_backup(later, server_id=server, backup_type="manual")
    assert found is not None and found.id == later
    assert len(_listings(e)) == 1  # the cached listing, then one fresh listing
    e.app.remove_backup(later)
    e.time.now += REFRESH_LISTING_AGE + 1  # a later refresh: nothing shared is fresh
    e.app.clear_requests()
    assert e.client.refresh_backup(later, server_id=server, backup_type="manual") is None
    assert len(_listings(e)) == 2  # gone in two listings, the second started after the first


def test_the_account_size_is_asked_once_per_window_and_only_for_a_wide_burst() -> None:
    now = [0.0]
    asked: list[int] = []

    def pages() -> int:
        asked.append(1)
        return 6

    spread = Spread(lambda: now[0], window=30)
    decisions = [spread.account_wide(server, pages) for server in range(1, 9)]
    assert decisions == [False, False, False, False, False, True, True, True]
    assert len(asked) == 1
    now[0] = 100.0  # a new burst: the old servers have left the window
    assert spread.account_wide(1, pages) is False
    assert len(asked) == 1
