"""Fault injection around a real exchange gateway (the paper exchange), for the order-path tests.

Nothing is simulated but the failure itself: orders really reach (or don't reach) the real paper exchange.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from decimal import Decimal

from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.errors import ExchangeUnavailable
from cryptobots_desktop.core.market import Candle, Market, Ticker
from cryptobots_desktop.core.orders import Order, OrderRequest
from cryptobots_desktop.core.ports import ExchangeGateway


def dropped() -> ExchangeUnavailable:
    return ExchangeUnavailable("The connection to the exchange was lost.", "It is retried automatically.")


class FaultyGateway:
    """Delegates to ``inner``; ``drop_before`` / ``drop_after`` make the next create_order calls fail with
    a lost connection before the order reaches the exchange, or after it was accepted (reply lost)."""

    def __init__(self, inner: ExchangeGateway) -> None:
        self.inner = inner
        self.drop_before = 0
        self.drop_after = 0
        self.fetch_fails = 0
        self.sent: list[str] = []  # client order ids that reached the exchange, in order
        self.on_create: Callable[[OrderRequest], Awaitable[None]] | None = None

    @property
    def exchange_id(self) -> str:
        return self.inner.exchange_id

    @property
    def is_paper(self) -> bool:
        return self.inner.is_paper

    async def load_markets(self) -> Mapping[str, Market]:
        return await self.inner.load_markets()

    async def fetch_ticker(self, symbol: str) -> Ticker:
        return await self.inner.fetch_ticker(symbol)

    async def fetch_candles(self, symbol: str, timeframe: str = "1m", limit: int = 120) -> Sequence[Candle]:
        return await self.inner.fetch_candles(symbol, timeframe, limit)

    async def fetch_balances(self) -> Mapping[str, Balance]:
        return await self.inner.fetch_balances()

    async def create_order(self, request: OrderRequest) -> Order:
        if self.on_create is not None:
            await self.on_create(request)
        if self.drop_before:
            self.drop_before -= 1
            raise dropped()
        order = await self.inner.create_order(request)
        self.sent.append(request.client_order_id)
        if self.drop_after:
            self.drop_after -= 1
            raise dropped()
        return order

    async def fetch_order(self, symbol: str, client_order_id: str) -> Order | None:
        if self.fetch_fails:
            self.fetch_fails -= 1
            raise dropped()
        return await self.inner.fetch_order(symbol, client_order_id)

    async def cancel_order(self, symbol: str, client_order_id: str) -> Order:
        return await self.inner.cancel_order(symbol, client_order_id)

    async def fetch_open_orders(self, symbol: str | None = None) -> Sequence[Order]:
        return await self.inner.fetch_open_orders(symbol)

    async def close(self) -> None:
        await self.inner.close()


ZERO = Decimal(0)
