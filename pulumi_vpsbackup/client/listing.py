"""Reading a paged listing (``{"count", "results", "next"}``) to the end.

:func:`paginate` follows ``next`` and reads a listing again when it changed
while it was read (the rule is in its docstring); :func:`fetch_backups` is the
backups listing that ``VpsClient`` and its cache use.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from .errors import UnexpectedResponseError
from .models import BackupRecord
from .responses import ResponseReader

__all__ = ["LISTING_READS", "MAX_PAGES", "GetPage", "Listing", "fetch_backups", "paginate"]

logger = logging.getLogger("pulumi_vpsbackup.client")

LISTING_READS = 3
MAX_PAGES = 1000

Listing = tuple[BackupRecord, ...]
#: Sends one GET (a path or an absolute ``next`` link, with optional query).
GetPage = Callable[[str, Mapping[str, Any] | None], httpx.Response]
#: One item of a listing with the response that carried it (for error messages).
_Item = tuple[Any, httpx.Response]


def paginate(
    get: GetPage, reader: ResponseReader, path: str, params: Mapping[str, Any]
) -> list[_Item]:
    """Every item of a ``{"count", "results", "next"}`` listing, following ``next``.

    Page-number paging is not a snapshot: a backup deleted while the pages
    are read shifts the next page, and an item slips through unseen. A
    listing whose ``count`` changes between pages, or whose pages do not add
    up to ``count``, or that shows an item twice, is read again (at most
    ``LISTING_READS`` times), because callers take absence from a listing as
    proof that a backup is gone. A multi-page listing without any ``count``
    cannot be checked that way; it is accepted when two reads in a row agree.
    """
    previous: list[Any] | None = None
    for _ in range(LISTING_READS):
        items, consistent = _read_pages(get, reader, path, params)
        if consistent:
            return items
        ids = _ids(items)
        if consistent is None and ids == previous:
            return items  # no count to check against: two identical reads agree
        previous = ids if consistent is None else None
        logger.info("GET %s changed while it was read page by page; reading it again", path)
    raise UnexpectedResponseError(
        "GET",
        path,
        200,
        f"the listing changed during each of {LISTING_READS} page-by-page reads; try again",
    )


def _read_pages(
    get: GetPage, reader: ResponseReader, path: str, params: Mapping[str, Any]
) -> tuple[list[_Item], bool | None]:
    items: list[_Item] = []
    counts: set[Any] = set()
    pages = 0
    target: str | None = path
    query: Mapping[str, Any] | None = params
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        assert target is not None
        response = get(target, query)
        data = reader.json(response)
        if isinstance(data, list):
            return items + [(item, response) for item in data], pages == 0
        if not isinstance(data, Mapping) or not isinstance(data.get("results"), list):
            reader.shape_error(response, "unexpected response shape: no results list")
        pages += 1
        count = data.get("count")
        if isinstance(count, int) and not isinstance(count, bool):
            counts.add(count)  # pages without a count (cursor paging) cannot be checked
        items.extend((item, response) for item in data["results"])
        next_link = data.get("next")
        if not next_link or not isinstance(next_link, str):
            return items, pages == 1 or _adds_up(items, counts)
        if next_link in seen:
            reader.shape_error(response, "unexpected response shape: the `next` links loop")
        seen.add(next_link)
        target = str(response.request.url.join(next_link))
        query = None
    raise UnexpectedResponseError("GET", path, 200, f"more than {MAX_PAGES} pages")


def _ids(items: list[_Item]) -> list[Any]:
    return [item.get("id") for item, _ in items if isinstance(item, Mapping)]


def _adds_up(items: list[_Item], counts: set[int]) -> bool | None:
    """Whether a multi-page read is whole: every page agreed on ``count``, the
    pages add up to it, and no item came twice (an insert shifts items onto the
    next page). None when no page gave a count: it cannot be told from one read."""
    ids = _ids(items)
    if len(ids) != len(set(ids)):
        return False
    if not counts:
        return None
    return len(counts) == 1 and next(iter(counts)) == len(items)


def fetch_backups(
    get: GetPage, reader: ResponseReader, server_id: int | None, backup_type: str | None
) -> Listing:
    """The backups of ``GET /backups/``, kept to the server and type asked for."""
    params = {"server_id": server_id, "backup_type": backup_type}
    backups = (
        reader.parse(BackupRecord.from_dict, item, response)
        for item, response in paginate(get, reader, "/backups/", params)
    )
    return tuple(
        b
        for b in backups
        if (server_id is None or b.server_id == server_id)
        and (backup_type is None or b.backup_type == backup_type)
    )
