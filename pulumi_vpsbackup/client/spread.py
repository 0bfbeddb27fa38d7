"""When a refresh should read one listing of the account instead of one per server.

A refresh reads every backup of a stack in a burst, as many at a time as the
engine's ``--parallel`` allows, in one provider host. Backups on one server
share that server's listing (one request for most: at most ten manual backups).
Backups spread over many servers would cost one listing each, while one listing
of the whole account serves them all for the price of its pages. Which is
cheaper depends on two numbers the host does not know in advance: how many
servers the burst will touch, and how many pages the account's listing has.

`Spread` decides online, like renting skis until renting has cost what
buying would: each server is listed on its own until the burst has touched
as many servers as the account listing has pages; from then on every read
uses the account listing. The page count is asked once per burst (one
request, the first page's ``count``), and only once the burst reaches
`FIRST_PROBE_AT` servers, so a small stack pays nothing for it. A refresh
then never costs much more than twice the cheaper plan, and a stack of a few
servers in a large account is never charged the whole account's pages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["FIRST_PROBE_AT", "Spread", "account_listing_cheaper", "worth_asking"]

#: Servers a burst must touch before the account listing is even considered.
FIRST_PROBE_AT = 4


def worth_asking(servers: int) -> bool:
    """Whether reads of this many servers justify one request to learn the account
    listing's size: below `FIRST_PROBE_AT` the answer would cost more than it saves."""
    return servers >= FIRST_PROBE_AT


def account_listing_cheaper(servers: int, pages: int) -> bool:
    """Whether one listing of the account (``pages`` requests) costs no more than one
    listing of each of ``servers`` servers (one request each, most of the time)."""
    return servers >= pages


class Spread:
    """The servers read within ``window`` seconds, and the account listing's size."""

    def __init__(self, clock: Callable[[], float], window: float) -> None:
        self._clock = clock
        self._window = window
        self._lock = threading.Lock()
        self._seen: dict[int, float] = {}
        self._pages: tuple[float, int] | None = None

    def account_wide(self, server_id: int, pages: Callable[[], int]) -> bool:
        """Note a read of ``server_id``; True when the account listing is now the cheaper plan.

        ``pages()`` asks how many requests the account listing takes; it is
        called at most once per window, and not at all for a burst of fewer
        than `FIRST_PROBE_AT` servers.
        """
        now = self._clock()
        with self._lock:
            self._seen = {s: t for s, t in self._seen.items() if now - t <= self._window}
            self._seen[server_id] = now
            touched = len(self._seen)
            if not worth_asking(touched):
                return False
            if self._pages is None or now - self._pages[0] > self._window:
                self._pages = (now, pages())
            return account_listing_cheaper(touched, self._pages[1])
