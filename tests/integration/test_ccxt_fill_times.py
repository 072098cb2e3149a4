"""Fills keep their time: Binance's create reply lists an order's fills without one (price, qty, commission,
tradeId), and a fill journaled from it must not be dated 1 January 1970."""

from __future__ import annotations

import asyncio
from decimal import Decimal

from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderType
from tests.exchange_server.fixture import LocalExchange


def test_fills_of_an_order_filled_at_once_carry_its_time(local_exchange: LocalExchange) -> None:
    async def scenario() -> None:
        credentials = ApiCredentials(local_exchange.key, local_exchange.secret)
        placing = CcxtGateway("binance", credentials, api_url=local_exchange.base_url)
        asking = CcxtGateway("binance", credentials, api_url=local_exchange.base_url)  # no cached fills
        try:
            request = OrderRequest(
                "BTC/USDT", OrderSide.BUY, OrderType.MARKET, Decimal("0.001"), "fill-time-1"
            )
            placed = await placing.create_order(request)
            assert placed.fills and all(f.ts_ms == placed.updated_ms > 0 for f in placed.fills), placed
            fetched = await asking.fetch_order("BTC/USDT", "fill-time-1")
            assert fetched is not None
            assert fetched.fills == placed.fills  # myTrades (with times) says the same as the create reply
        finally:
            await placing.close()
            await asking.close()

    local_exchange.reset(accounts=True)
    asyncio.run(scenario())
