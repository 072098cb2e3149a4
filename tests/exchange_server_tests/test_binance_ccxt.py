"""Real ccxt (``ccxt.async_support.binance``) against the local exchange: every call the app makes works,
and what the exchange reports agrees with the app's paper exchange on the same data at the same moment."""

from __future__ import annotations

import time
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

from cryptobots_desktop.adapters.paper import PaperExchange
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderType
from cryptobots_desktop.core.replay import ReplaySpeed
from tests.exchange_server.fixture import ThreadedExchange
from tests.exchange_server.server import DEFAULT_BALANCES, MARKET_DATA

from .helpers import cid, run


def test_load_markets_is_one_request_with_the_real_filters(local_exchange: ThreadedExchange) -> None:
    async def body() -> dict[str, Any]:
        ex = local_exchange.binance()
        try:
            return dict(await ex.load_markets())
        finally:
            await ex.close()

    markets = run(body())
    assert [(r["method"], r["path"]) for r in local_exchange.requests()] == [("GET", "/api/v3/exchangeInfo")]
    assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"}
    btc = markets["BTC/USDT"]
    assert btc["id"] == "BTCUSDT" and btc["spot"] and btc["active"]
    assert btc["precision"]["amount"] == 1e-05 and btc["precision"]["price"] == 0.01
    assert btc["limits"]["amount"]["min"] == 1e-05 and btc["limits"]["amount"]["max"] == 9000.0
    assert btc["limits"]["cost"]["min"] == 5.0  # the NOTIONAL filter of the 2024 snapshot


def test_time_ticker_and_candles_agree_with_the_paper_exchange(
    local_exchange: ThreadedExchange, tmp_path: Path
) -> None:
    async def body() -> None:
        replay_ms = local_exchange.replay_ms()
        paper = await PaperExchange.open(
            MARKET_DATA, "binance_spot_2023", tmp_path / "p.sqlite", DEFAULT_BALANCES,
            speed=ReplaySpeed.MAX, replay_start_ms=replay_ms,
        )  # fmt: skip
        ex = local_exchange.binance()
        try:
            server_time = await ex.fetch_time()
            assert abs(server_time - time.time() * 1000) < 5_000  # auth clock: wall time
            ticker = await ex.fetch_ticker("BTC/USDT")
            paper_ticker = await paper.fetch_ticker("BTC/USDT")
            assert Decimal(str(ticker["last"])) == paper_ticker.last
            assert ticker["timestamp"] == replay_ms  # market clock: the replay
            ohlcv = await ex.fetch_ohlcv("BTC/USDT", "5m", limit=4)
            paper_candles = await paper.fetch_candles("BTC/USDT", "5m", 4)
            assert [c[0] for c in ohlcv] == [c.ts_ms for c in paper_candles]
            assert [Decimal(str(c[4])) for c in ohlcv] == [c.close for c in paper_candles]
            hourly = await ex.fetch_ohlcv("ETH/USDT", "1h", limit=24)
            assert len(hourly) == 24 and all(b[0] - a[0] == 3_600_000 for a, b in pairwise(hourly))
            since = await ex.fetch_ohlcv("BTC/USDT", "1m", since=replay_ms - 10 * 60_000, limit=5)
            assert [c[0] for c in since] == [
                replay_ms - replay_ms % 60_000 - (10 - k) * 60_000 for k in range(5)
            ]
        finally:
            await ex.close()
            await paper.close()

    run(body())


def test_limit_order_round_trip_by_client_order_id(local_exchange: ThreadedExchange) -> None:
    client_id = cid("lim")

    async def body() -> None:
        ex = local_exchange.binance()
        try:
            before = await ex.fetch_balance()
            order = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id}
            )
            assert order["clientOrderId"] == client_id and order["status"] == "open"
            assert order["price"] == 10_000 and order["amount"] == 0.001
            held = await ex.fetch_balance()
            assert held["USDT"]["used"] == before["USDT"]["used"] + 10
            found = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id})
            assert found["id"] == order["id"] and found["status"] == "open"
            by_id = await ex.fetch_order(order["id"], "BTC/USDT")
            assert by_id["clientOrderId"] == client_id
            assert order["id"] in [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")]
            ex.options["fetchOpenOrders"]["warnWithoutSymbol"] = False  # else ccxt refuses to ask without one
            assert order["id"] in [o["id"] for o in await ex.fetch_open_orders()]
            canceled = await ex.cancel_order(order["id"], "BTC/USDT")
            assert canceled["status"] == "canceled"
            after = await ex.fetch_balance()
            assert after["USDT"]["free"] == before["USDT"]["free"]
            assert order["id"] not in [o["id"] for o in await ex.fetch_open_orders("BTC/USDT")]
            everything = await ex.fetch_orders("BTC/USDT")
            assert [o["status"] for o in everything if o["id"] == order["id"]] == ["canceled"]
        finally:
            await ex.close()

    run(body())
    paths = [(r["method"], r["path"]) for r in local_exchange.requests()]
    assert ("POST", "/api/v3/order") in paths and ("DELETE", "/api/v3/order") in paths


def test_market_order_fills_at_once_and_shows_in_my_trades(local_exchange: ThreadedExchange) -> None:
    client_id = cid("mkt")

    async def body() -> None:
        ex = local_exchange.binance()
        try:
            before = await ex.fetch_balance()
            last = (await ex.fetch_ticker("ETH/USDT"))["last"]
            order = await ex.create_order(
                "ETH/USDT", "market", "buy", 0.01, None, {"clientOrderId": client_id}
            )
            assert order["status"] == "closed" and order["filled"] == 0.01 and order["average"] == last
            assert order["fee"] == {"currency": "ETH", "cost": 1e-05}  # 0.1 % of what was received
            trades = await ex.fetch_my_trades("ETH/USDT")
            mine = [t for t in trades if t["order"] == order["id"]]
            assert len(mine) == 1 and mine[0]["price"] == last and mine[0]["amount"] == 0.01
            assert mine[0]["takerOrMaker"] == "taker" and mine[0]["side"] == "buy"
            after = await ex.fetch_balance()
            assert abs(after["ETH"]["total"] - before["ETH"]["total"] - 0.00999) < 1e-9
            assert abs(before["USDT"]["total"] - after["USDT"]["total"] - 0.01 * last) < 1e-6
            # a market buy for an amount of quote currency (quoteOrderQty)
            spend = await ex.create_order("ETH/USDT", "market", "buy", None, None, {"quoteOrderQty": 20})
            assert spend["status"] == "closed" and 0 < spend["cost"] <= 20
        finally:
            await ex.close()

    run(body())


def test_a_resting_order_fills_as_the_replay_moves_exactly_as_in_paper_trading(
    local_exchange: ThreadedExchange, tmp_path: Path
) -> None:
    client_id = cid("rest")

    async def body() -> None:
        paper = await PaperExchange.open(
            MARKET_DATA, "binance_spot_2023", tmp_path / "p.sqlite", DEFAULT_BALANCES,
            speed=ReplaySpeed.MAX, replay_start_ms=local_exchange.replay_ms(),
        )  # fmt: skip
        ex = local_exchange.binance()
        try:
            last = Decimal(str((await ex.fetch_ticker("XRP/USDT"))["last"]))
            price = (last * Decimal("0.997")).quantize(Decimal("0.0001"))
            order = await ex.create_order(
                "XRP/USDT", "limit", "buy", 100, float(price), {"clientOrderId": client_id}
            )
            request = OrderRequest("XRP/USDT", OrderSide.BUY, OrderType.LIMIT, Decimal(100), client_id, price)
            await paper.create_order(request)
            for _ in range(96):  # up to two days, half an hour at a time
                local_exchange.advance(1_800_000)
                paper.replay.step(1_800_000)
                found = await ex.fetch_order(order["id"], "XRP/USDT")
                if found["status"] == "closed":
                    break
            assert found["status"] == "closed", "XRP did not fall 0.3 % in two days?"
            paper_order = await paper.fetch_order("XRP/USDT", client_id)
            assert paper_order is not None and paper_order.status.value == "filled"
            trades = [t for t in await ex.fetch_my_trades("XRP/USDT") if t["order"] == order["id"]]
            paper_fills = paper_order.fills
            assert [
                (Decimal(str(t["price"])), Decimal(str(t["amount"])), t["timestamp"]) for t in trades
            ] == [(f.price, f.amount, f.ts_ms) for f in paper_fills]
            assert all(t["takerOrMaker"] == "maker" for t in trades)
        finally:
            await ex.close()
            await paper.close()

    run(body())


def test_order_without_client_id_gets_one_and_raw_sapi_restrictions(local_exchange: ThreadedExchange) -> None:
    async def body() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        ex = local_exchange.binance()
        try:
            order = await ex.private_post_order(
                {"symbol": "BTCUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC",
                 "quantity": "0.00100", "price": "10000.00"}
            )  # fmt: skip
            await ex.cancel_order(str(order["orderId"]), "BTC/USDT")
            default = await ex.sapi_get_account_apirestrictions()
            local_exchange.set_restrictions(
                enableWithdrawals=True, tradingAuthorityExpirationTime=1_767_225_600_000
            )
            changed = await ex.sapi_get_account_apirestrictions()
            return order, default, changed
        finally:
            await ex.close()

    order, default, changed = run(body())
    # ccxt sends its own newClientOrderId (x-<broker>...) even when none is given
    assert order["clientOrderId"].startswith("x-") and order["status"] == "NEW"
    assert default["enableReading"] is True and default["enableSpotAndMarginTrading"] is True
    assert default["enableWithdrawals"] is False and default["ipRestrict"] is False
    assert "tradingAuthorityExpirationTime" not in default and "ipWhitelist" not in default
    assert changed["enableWithdrawals"] is True
    assert changed["tradingAuthorityExpirationTime"] == 1_767_225_600_000
