"""Fault injection: make the fake misbehave the way real networks and APIs do.

A :class:`FaultRule` matches requests by method and path glob and, when it
triggers, answers with any status (or a raw, non-JSON body), adds latency,
drops the connection, or defers the request (the late POST behind a gateway).
``phase="after"`` lets the request take effect first and then replaces the
answer: a POST whose response was lost. Every field and rule (order, phases,
deferral against the fake clock): pulumi_vpsbackup/fake/DESIGN.md, "Faults".
"""

from __future__ import annotations

import dataclasses
import fnmatch
import random
import threading
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["FaultAction", "FaultPhase", "FaultPlan", "FaultRule", "FaultSet"]

FaultAction = Literal["status", "latency", "drop", "defer"]
FaultPhase = Literal["before", "after"]


@dataclass
class FaultRule:
    """One fault. ``count=None`` means forever; ``skip`` lets the first N matches pass."""

    action: FaultAction = "status"
    method: str = "*"
    path: str = "*"
    phase: FaultPhase = "before"
    status: int = 503
    body: Any = None
    raw_body: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None
    latency: float = 0.0
    delay: float = 0.0
    probability: float = 1.0
    count: int | None = None
    skip: int = 0
    id: int = 0
    matched: int = 0
    fired: int = 0

    def __post_init__(self) -> None:
        if self.action not in ("status", "latency", "drop", "defer"):
            raise ValueError("action must be one of: status, latency, drop, defer")
        if self.phase not in ("before", "after"):
            raise ValueError("phase must be 'before' or 'after'")
        if self.action == "defer" and self.phase != "before":
            raise ValueError("a defer rule must have phase 'before' (the request is not run yet)")
        if self.raw_body is not None and not isinstance(self.raw_body, str):
            raise ValueError("raw_body must be a string (or null for a JSON body)")
        if not 100 <= int(self.status) <= 599:
            raise ValueError("status must be an HTTP status code")
        if not 0.0 <= float(self.probability) <= 1.0:
            raise ValueError("probability must be between 0 and 1")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be >= 1 or null")
        if self.skip < 0 or self.latency < 0 or self.delay < 0:
            raise ValueError("skip, latency and delay must be >= 0")
        self.method = self.method.upper()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FaultRule:
        """Build from JSON; counters and id are assigned by the fake, not the caller."""
        known = {f.name for f in dataclasses.fields(cls)} - {"id", "matched", "fired"}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown fault field(s): {', '.join(unknown)}")
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["remaining"] = None if self.count is None else max(0, self.count - self.fired)
        return data

    def response_body(self) -> Any:
        if self.body is not None:
            return self.body
        if self.status == 429:
            return {"detail": "Request was throttled."}
        return {"detail": f"Injected fault: HTTP {self.status}."}

    def response_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.raw_body and not any(k.lower() == "content-type" for k in headers):
            headers["Content-Type"] = "text/html; charset=utf-8"
        if self.retry_after is not None:
            value = self.retry_after
            headers["Retry-After"] = str(int(value)) if float(value).is_integer() else str(value)
        return headers


@dataclass
class FaultPlan:
    """What to do with one request in one phase."""

    latency: float = 0.0
    terminal: FaultRule | None = None


class FaultSet:
    """The fake's active rules, thread-safe, with seeded randomness."""

    def __init__(self, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._seed = seed
        self._rng = random.Random(seed)

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            self._rules.append(rule)
            return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        """Remove every rule and restart the random sequence."""
        with self._lock:
            self._rules.clear()
            self._rng = random.Random(self._seed)

    def list(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def plan(self, method: str, path: str, phase: FaultPhase) -> FaultPlan:
        """Decide, and count, what the rules do to this request in ``phase``."""
        plan = FaultPlan()
        with self._lock:
            for rule in list(self._rules):
                if rule.phase != phase or not self._matches(rule, method, path):
                    continue
                if plan.terminal is not None and rule.action != "latency":
                    continue
                rule.matched += 1
                if rule.matched <= rule.skip:
                    continue
                if rule.probability < 1.0 and self._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                if rule.count is not None and rule.fired >= rule.count:
                    self._rules.remove(rule)
                if rule.action == "latency":
                    plan.latency += rule.latency
                else:
                    plan.terminal = rule
        return plan

    @staticmethod
    def _matches(rule: FaultRule, method: str, path: str) -> bool:
        if rule.method not in ("*", method.upper()):
            return False
        return fnmatch.fnmatchcase(path, rule.path)
