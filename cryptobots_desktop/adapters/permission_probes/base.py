"""What a permission probe is: one exchange's signed request and its reading into ``KeyPermissions``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions

Ask = Callable[[Any, ApiCredentials], Awaitable[Any]]
Read = Callable[[Any, ApiCredentials, int], KeyPermissions]


@dataclass(frozen=True, slots=True)
class Probe:
    """``ask`` makes the exchange's signed request(s) through ccxt's implicit methods and returns the
    answer; ``read`` turns that answer into ``KeyPermissions`` (pure: answer, credentials, checked ms)."""

    exchange_id: str
    request: str  # e.g. "GET /sapi/v1/account/apiRestrictions", for logs and the guide
    ask: Ask
    read: Read


def present(answer: Mapping[str, Any], names: Iterable[str]) -> tuple[str, ...]:
    """The ``names`` that the answer actually carries, for ``KeyPermissions.raw_fields``."""
    return tuple(n for n in names if answer.get(n) is not None)
