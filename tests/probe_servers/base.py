"""What every exchange's handler shares: the request as received, a reply, the per-exchange state."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

CLOCK_WINDOW_MS = 30_000
ERROR_KINDS = ("wrong_key", "wrong_secret", "no_passphrase", "wrong_passphrase", "ip", "clock", "rate_limit")


@dataclass(frozen=True)
class Received:
    """One request as the exchange sees it; ``path`` without the server's ``/<exchange_id>`` prefix."""

    method: str
    path: str
    query: str  # raw, as sent
    headers: Mapping[str, str]
    body: str

    @property
    def path_qs(self) -> str:
        return self.path + (f"?{self.query}" if self.query else "")

    def param(self, name: str) -> str | None:
        from urllib.parse import parse_qsl

        return dict(parse_qsl(self.query, keep_blank_values=True)).get(name)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # JSON-able, or str for a plain-text body
    headers: Mapping[str, str] = field(default_factory=dict)


@dataclass
class Account:
    """What one exchange's server knows and is told: its key, the variant it answers, a forced fault."""

    key: str
    secret: str
    passphrase: str = ""
    variant: str = "documented"
    fault: str | None = None  # "ip", "rate_limit", "down", "clock" (forced, where no timestamp is sent)
    skew_ms: int = 0  # server clock = wall clock + skew: signed timestamps fall outside the window
    extra: dict[str, Any] = field(default_factory=dict)  # per-exchange details (a public key...)

    def now_ms(self) -> int:
        return int(time.time() * 1000) + self.skew_ms


class Handler:
    """One exchange: how it authenticates, what it answers, how it refuses."""

    exchange_id: ClassVar[str]
    routes: ClassVar[tuple[tuple[str, str], ...]]  # (method, path) of the signed permission requests
    public_routes: ClassVar[tuple[tuple[str, str], ...]] = ()  # unsigned ones (a clock), see ``public``
    variants: ClassVar[tuple[str, ...]]

    def public(self, rx: Received, account: Account) -> Reply | None:
        """The answer to an unsigned request on ``public_routes``."""
        return None

    def check(self, rx: Received, account: Account) -> str | None:
        """The error kind for a request not signed right with this account's credentials, else None."""
        raise NotImplementedError

    def timestamp_ms(self, rx: Received) -> int | None:
        """The client's signed timestamp, for the clock check (None: this exchange sends none)."""
        raise NotImplementedError

    def refuse(self, kind: str, account: Account) -> Reply:
        raise NotImplementedError

    def answer(self, rx: Received, account: Account) -> Reply:
        raise NotImplementedError


def hmac_digest(secret: bytes | str, message: bytes | str, algorithm: str = "sha256") -> bytes:
    key = secret.encode() if isinstance(secret, str) else secret
    msg = message.encode() if isinstance(message, str) else message
    return hmac.new(key, msg, getattr(hashlib, algorithm)).digest()


def hmac_hex(secret: bytes | str, message: bytes | str, algorithm: str = "sha256") -> str:
    return hmac_digest(secret, message, algorithm).hex()


def hmac_b64(secret: bytes | str, message: bytes | str, algorithm: str = "sha256") -> str:
    return base64.b64encode(hmac_digest(secret, message, algorithm)).decode()


def same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())
