"""Faults the local exchange can be told to inject, and the rate limiter (429, then 418 when ignored).

A ``Fault`` targets requests by method and path and hits the next ``count`` of them (after letting ``skip``
pass); ``count=None`` keeps it until cleared. Kinds:

- ``delay``: wait ``delay_ms`` before handling (combines with any other fault on the same request);
- ``drop_before``: close the connection without handling the request (nothing happened);
- ``drop_after``: handle the request (an order is placed), then close the connection without a reply;
- ``status``: answer HTTP ``status`` (500, 502, 503...) with ``body`` (a default per status otherwise);
- ``malformed``: answer 200 with a truncated JSON body;
- ``rate_limit``: start a rate-limit window of ``retry_after_s`` (429 + Retry-After + -1003; see
  ``RateLimiter``).
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FaultKind = Literal["delay", "drop_before", "drop_after", "status", "malformed", "rate_limit"]
FAULT_KINDS: tuple[str, ...] = ("delay", "drop_before", "drop_after", "status", "malformed", "rate_limit")

# What Binance (or the load balancer in front of it) sends with these statuses.
DEFAULT_STATUS_BODIES: dict[int, tuple[str, str]] = {
    500: (
        "application/json;charset=UTF-8",
        '{"code":-1001,"msg":"Internal error; unable to process your request. '
        'Please try your request again."}',
    ),
    502: (
        "text/html",
        "<html><head><title>502 Bad Gateway</title></head><body>502 Bad Gateway</body></html>",
    ),
    503: (
        "text/html",
        "<html><head><title>503 Service Unavailable</title></head>"
        "<body>System is under maintenance.</body></html>",
    ),
    504: ("text/html", "<html><head><title>504 Gateway Time-out</title></head><body></body></html>"),
}


@dataclass(slots=True)
class Fault:
    """One injected fault; ``path`` is an exact path or a glob (``/api/v3/*``), ``method`` e.g. "POST"."""

    kind: FaultKind
    method: str | None = None
    path: str | None = None
    count: int | None = 1
    skip: int = 0
    delay_ms: int = 0
    status: int = 503
    body: str | None = None
    retry_after_s: int = 1
    hits: int = field(default=0)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; one of {', '.join(FAULT_KINDS)}")
        if self.method is not None:
            self.method = self.method.upper()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fault:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__ and k != "hits"}
        unknown = set(data) - set(cls.__dataclass_fields__)
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**known)

    @classmethod
    def parse(cls, spec: str) -> Fault:
        """``"status:status=503,method=POST,path=/api/v3/order,count=2"`` -> Fault (the CLI's form)."""
        kind, _, rest = spec.partition(":")
        data: dict[str, Any] = {"kind": kind.strip()}
        for part in filter(None, (p.strip() for p in rest.split(","))):
            key, _, value = part.partition("=")
            key = key.strip()
            if key in ("count", "skip", "delay_ms", "status", "retry_after_s"):
                data[key] = None if value in ("", "none", "inf") and key == "count" else int(value)
            else:
                data[key] = value
        return cls.from_dict(data)

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method.upper():
            return False
        return self.path is None or self.path == path or fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.count is not None and self.hits >= self.skip + self.count

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The active faults; ``take`` returns the ones that hit a request (and counts them)."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        self._faults.append(fault)

    def clear(self) -> None:
        self._faults.clear()

    def list(self) -> list[Fault]:
        return list(self._faults)

    def take(self, method: str, path: str) -> list[Fault]:
        hit: list[Fault] = []
        for fault in self._faults:
            if fault.exhausted or not fault.matches(method, path):
                continue
            fault.hits += 1
            if fault.hits > fault.skip:
                hit.append(fault)
        self._faults = [f for f in self._faults if not f.exhausted]
        return hit


class RateLimiter:
    """Binance's IP limits, simplified: a window in which every request gets 429 with Retry-After.

    The window opens when a ``rate_limit`` fault hits or when more than ``per_minute`` requests arrive in a
    minute (``per_minute=None``: no automatic limit). A client that sends ``ban_after`` more requests
    inside the window (it ignored Retry-After) is banned: 418 with Retry-After for ``ban_s`` seconds.
    Times are wall-clock seconds (``now`` passed in).
    """

    def __init__(self, per_minute: int | None = None, ban_after: int = 3, ban_s: float = 120.0) -> None:
        self.per_minute = per_minute
        self.ban_after = ban_after
        self.ban_s = ban_s
        self.limited_until = 0.0
        self.banned_until = 0.0
        self.ignored = 0
        self._minute = -1
        self._count = 0

    def reset(self) -> None:
        self.limited_until = self.banned_until = 0.0
        self.ignored = 0
        self._count = 0

    def start_window(self, now: float, seconds: float) -> None:
        self.limited_until = max(self.limited_until, now + seconds)
        self.ignored = 0

    def check(self, now: float) -> tuple[int, int] | None:
        """None to let the request through, else ``(429 or 418, retry_after_s)``."""
        if now < self.banned_until:
            return 418, math.ceil(self.banned_until - now)
        if now < self.limited_until:
            self.ignored += 1
            if self.ignored > self.ban_after:
                self.banned_until = now + self.ban_s
                return 418, math.ceil(self.ban_s)
            return 429, max(1, math.ceil(self.limited_until - now))
        minute = int(now // 60)
        if minute != self._minute:
            self._minute, self._count = minute, 0
        self._count += 1
        if self.per_minute is not None and self._count > self.per_minute:
            retry = max(1, math.ceil(60 - now % 60))
            self.start_window(now, retry)
            return 429, retry
        return None

    def used_weight(self) -> int:
        return self._count
