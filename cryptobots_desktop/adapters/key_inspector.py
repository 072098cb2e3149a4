"""``CcxtKeyInspector``: the exchanges a person can connect, what their keys need, and what a key may do.

Implements ``core.ports.KeyInspector`` with ccxt. ccxt is imported in a worker thread on first use (its
import costs ~0.45 s and must not freeze the window); the exchange list is built once, in that thread.
``inspect`` signs a real request: the exchange's permission endpoint where a probe exists
(``permission_probes``), otherwise a balance read through ``CcxtGateway``, which proves the key and its
read right but tells nothing else (the reading is otherwise unknown, never assumed safe).
"""

from __future__ import annotations

import asyncio
import importlib
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from cryptobots_desktop.core.accounts import RequiredFields
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.key_permissions import KeyPermissions
from cryptobots_desktop.core.ports import ExchangeListing, KeyInspector


def _ccxt() -> Any:
    return importlib.import_module("ccxt.async_support")


class CcxtKeyInspector:
    """``core.ports.KeyInspector`` over ccxt.

    ``api_urls`` maps an exchange id to a base URL every REST endpoint of it is pointed at (the local
    exchange in tests, a proxy); ``throttle=False`` drops ccxt's pacing between requests (local servers).
    """

    def __init__(
        self, api_urls: Mapping[str, str] | None = None, *, throttle: bool = True, timeout_ms: int = 15_000
    ) -> None:
        self._api_urls = dict(api_urls or {})
        self._throttle = throttle
        self._timeout_ms = timeout_ms
        self._lock = threading.Lock()
        self._listing: tuple[ExchangeListing, ...] | None = None
        self._required: dict[str, RequiredFields] = {}

    async def exchanges(self) -> Sequence[ExchangeListing]:
        return await asyncio.to_thread(self._exchanges_sync)

    async def required_fields(self, exchange_id: str) -> RequiredFields:
        return await asyncio.to_thread(self._required_sync, exchange_id)

    async def inspect(self, exchange_id: str, credentials: ApiCredentials, now_ms: int) -> KeyPermissions:
        await asyncio.to_thread(_ccxt)  # the import, off the event loop's thread
        from cryptobots_desktop.adapters.permission_probes import probe_for, probe_key  # noqa: PLC0415

        api_url = self._api_urls.get(exchange_id)
        if probe_for(exchange_id) is not None:
            return await probe_key(
                exchange_id,
                credentials,
                now_ms=now_ms,
                api_url=api_url,
                timeout_ms=self._timeout_ms,
                throttle=self._throttle,
            )
        from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway  # noqa: PLC0415

        gateway = CcxtGateway(exchange_id, credentials, api_url=api_url, timeout_ms=self._timeout_ms)
        try:
            await gateway.fetch_balances()  # signed: proves the key, the secret and the right to read
        finally:
            await gateway.close()
        return KeyPermissions(exchange_id, read=True, checked_ms=now_ms, raw_fields=("fetch_balance",))

    # --- in a worker thread ---------------------------------------------------------------------------
    def _exchanges_sync(self) -> tuple[ExchangeListing, ...]:
        with self._lock:
            if self._listing is None:
                from cryptobots_desktop.adapters.permission_probes import PROBED_EXCHANGES  # noqa: PLC0415

                ccxt = _ccxt()
                found = []
                for exchange_id in ccxt.exchanges:
                    klass = getattr(ccxt, exchange_id, None)
                    if klass is None:
                        continue
                    found.append(
                        ExchangeListing(exchange_id, str(klass().name), exchange_id in PROBED_EXCHANGES)
                    )
                found.sort(key=lambda e: (not e.probed, e.name.casefold()))
                self._listing = tuple(found)
            return self._listing

    def _required_sync(self, exchange_id: str) -> RequiredFields:
        with self._lock:
            if exchange_id not in self._required:
                from cryptobots_desktop.adapters.ccxt_gateway import required_credentials  # noqa: PLC0415

                self._required[exchange_id] = RequiredFields.from_ccxt(required_credentials(exchange_id))
            return self._required[exchange_id]


_PORT: type[KeyInspector] = CcxtKeyInspector  # mypy checks that the class implements the port
