"""Helpers for the local exchange's tests."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run one test's coroutine on a fresh event loop (the suite does not use pytest-asyncio)."""
    return asyncio.run(coro)


def cid(prefix: str = "t") -> str:
    """A fresh client order id (Binance allows 36 characters of [A-Za-z0-9_-], OKX 32 alphanumerics)."""
    return f"{prefix}{uuid.uuid4().hex[:20]}"
