"""A bounded record of recent API requests, for tests and debugging.

Like moto's recorder, it lets a test ask "how many POSTs did the provider
send?" without a proxy. Credentials never enter it: the ``Authorization``
header (and cookies) are redacted before an entry is stored.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any

__all__ = ["REDACTED", "Journal", "redact_headers"]

REDACTED = "[redacted]"
_SECRET_HEADERS = {"authorization", "proxy-authorization", "cookie", "x-api-key"}


def redact_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: (REDACTED if k.lower() in _SECRET_HEADERS else v) for k, v in headers.items()}


class Journal:
    def __init__(self, size: int) -> None:
        self._lock = threading.Lock()
        self._entries: deque[dict[str, Any]] = deque(maxlen=size)
        self._seq = 0

    def resize(self, size: int) -> None:
        with self._lock:
            if size != self._entries.maxlen:
                self._entries = deque(self._entries, maxlen=size)

    def record(self, entry: dict[str, Any]) -> None:
        with self._lock:
            self._seq += 1
            self._entries.append({"seq": self._seq, **entry})

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
