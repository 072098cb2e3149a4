"""The live gateway: real ccxt against the local exchange (Binance's and OKX's wire protocols, signatures
checked), every operation and every error a person can meet, with no secret in any message or log."""

from __future__ import annotations

import asyncio
import logging
import traceback
from collections.abc import Awaitable, Callable
from decimal import Decimal as D  # noqa: N817
from pathlib import Path
from typing import Any, TypeVar

import pytest

from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway
from cryptobots_desktop.adapters.sqlite_journal import SqliteJournal
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import (
    AmountBelowMinimum,
    AuthenticationFailed,
    ExchangeError,
    ExchangeUnavailable,
    InsufficientFunds,
    KeyNotPermitted,
    MalformedResponse,
    NotionalBelowMinimum,
    OrderNotCancelable,
    UnknownPair,
)
from cryptobots_desktop.core.intents import IntentState, OrderIntent, client_order_id
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderStatus, OrderType
from cryptobots_desktop.engine.event_bus import EventBus
from cryptobots_desktop.engine.order_executor import OrderExecutor
from tests.exchange_server.fixture import LocalExchange

T = TypeVar("T")
SYMBOL = "BTC/USDT"
WRONG_SECRET = "wrong-secret-0123456789abcdef"


def gateway(exchange: LocalExchange, exchange_id: str = "binance", **creds: str) -> CcxtGateway:
    credentials = ApiCredentials(
        creds.get("api_key", exchange.key),
        creds.get("secret", exchange.secret),
        creds.get("passphrase", exchange.passphrase if exchange_id == "okx" else ""),
    )
    return CcxtGateway(exchange_id, credentials, api_url=exchange.base_url)


def run(exchange: LocalExchange, body: Callable[[CcxtGateway], Awaitable[T]], **kw: Any) -> T:
    async def scenario() -> T:
        gw = gateway(exchange, **kw)
        try:
            return await body(gw)
        finally:
            await gw.close()

    return asyncio.run(scenario())


def request(symbol: str, side: str, kind: str, amount: str, price: str | None, cid: str) -> OrderRequest:
    return OrderRequest(
        symbol, OrderSide(side), OrderType(kind), D(amount), cid, D(price) if price is not None else None
    )


def assert_no_secret(exc: BaseException, exchange: LocalExchange, caplog: pytest.LogCaptureFixture) -> None:
    app_logs = [r.getMessage() for r in caplog.records if not r.name.startswith("exchange_server")]
    shown = " ".join([str(exc), repr(exc), "".join(traceback.format_exception(exc)), *app_logs])
    for secret in (exchange.secret, exchange.passphrase, WRONG_SECRET):
        assert secret not in shown
    assert "signature=" not in shown.replace("signature=…", "")


# -- every operation ---------------------------------------------------------------------------------------
def test_markets_prices_balances_and_the_order_lifecycle(local_exchange: LocalExchange) -> None:
    local_exchange.reset(accounts=True)

    async def body(gw: CcxtGateway) -> None:
        markets = await gw.load_markets()
        assert {"BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"} <= set(markets)
        btc = markets[SYMBOL]
        assert (btc.exchange_symbol, btc.base, btc.quote) == ("BTCUSDT", "BTC", "USDT")
        assert btc.price_tick == D("0.01") and btc.amount_step == D("0.00001") and btc.min_notional > 0
        await gw.load_markets()  # cached: one exchangeInfo request in all
        ticker = await gw.fetch_ticker(SYMBOL)
        assert ticker.symbol == SYMBOL and ticker.last > 0
        candles = await gw.fetch_candles(SYMBOL, "1m", 5)
        assert len(candles) == 5 and all(c.low <= c.close <= c.high for c in candles)
        assert [c.ts_ms for c in candles] == sorted(c.ts_ms for c in candles)
        balances = await gw.fetch_balances()
        assert balances["USDT"].free > 0

        below = btc.round_price(ticker.last * D("0.9"))
        cid = client_order_id("gw1", 1, "b", 0)
        placed = await gw.create_order(request(SYMBOL, "buy", "limit", "0.001", str(below), cid))
        assert placed.client_order_id == cid and placed.status is OrderStatus.OPEN
        assert placed.price == below and placed.amount == D("0.001") and not placed.fills
        fetched = await gw.fetch_order(SYMBOL, cid)
        assert fetched is not None and fetched.exchange_order_id == placed.exchange_order_id
        assert [o.client_order_id for o in await gw.fetch_open_orders(SYMBOL)] == [cid]
        assert [o.client_order_id for o in await gw.fetch_open_orders()] == [cid]  # every pair at once
        assert (await gw.fetch_balances())["USDT"].used == below * D("0.001")
        canceled = await gw.cancel_order(SYMBOL, cid)
        assert canceled.status is OrderStatus.CANCELED
        with pytest.raises(OrderNotCancelable):
            await gw.cancel_order(SYMBOL, cid)
        assert await gw.fetch_open_orders(SYMBOL) == []
        assert await gw.fetch_order(SYMBOL, client_order_id("gw1", 9, "b", 0)) is None

        mcid = client_order_id("gw1", 2, "b", 0)
        bought = await gw.create_order(request(SYMBOL, "buy", "market", "0.002", None, mcid))
        assert bought.status is OrderStatus.FILLED and bought.price is None
        assert sum(f.amount for f in bought.fills) == D("0.002")
        assert all(f.client_order_id == mcid and f.fee > 0 and f.fee_asset for f in bought.fills)
        again = await gw.fetch_order(SYMBOL, mcid)  # the same fills when asked later (fetched trades)
        assert again is not None and again.fills == bought.fills
        assert (await gw.fetch_balances())["BTC"].free > 0

    run(local_exchange, body)
    paths = [r["path"] for r in local_exchange.requests()]
    assert paths.count("/api/v3/exchangeInfo") == 1


# -- errors a person can meet ------------------------------------------------------------------------------
def test_wrong_secret_says_so_and_shows_no_secret(
    local_exchange: LocalExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthenticationFailed) as info:
        run(local_exchange, lambda gw: gw.fetch_balances(), secret=WRONG_SECRET)
    assert "secret does not belong to this key" in str(info.value)
    assert info.value.exchange_code == -1022
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert_no_secret(info.value, local_exchange, caplog)


def test_unknown_key_and_a_key_refused_for_the_request(local_exchange: LocalExchange) -> None:
    with pytest.raises(AuthenticationFailed, match="the key is wrong") as unknown:  # -2015, as Binance does
        run(local_exchange, lambda gw: gw.fetch_balances(), api_key="nobody")
    assert unknown.value.exchange_code == -2015
    local_exchange.set_restrictions(enableReading=False)
    with pytest.raises(KeyNotPermitted, match="whitelist") as info:
        run(local_exchange, lambda gw: gw.fetch_balances())
    assert info.value.exchange_code == -2015


def test_order_refusals_name_the_rule(local_exchange: LocalExchange) -> None:
    local_exchange.reset(accounts=True)

    async def body(gw: CcxtGateway) -> list[ExchangeError]:
        price = (await gw.fetch_ticker(SYMBOL)).last
        errors: list[ExchangeError] = []
        cases = [
            request("DOGE/USDT", "buy", "market", "10", None, client_order_id("e", 1, "b", 0)),
            request(SYMBOL, "buy", "limit", "0.00001", f"{price:.2f}", client_order_id("e", 2, "b", 0)),
            request(SYMBOL, "buy", "market", "100", None, client_order_id("e", 3, "b", 0)),
        ]
        for case in cases:
            try:
                await gw.create_order(case)
            except ExchangeError as exc:
                errors.append(exc)
        return errors

    unknown, small, poor = run(local_exchange, body)
    assert isinstance(unknown, UnknownPair) and "DOGE/USDT" in unknown.message
    assert "spot pairs" in unknown.hint
    assert isinstance(small, NotionalBelowMinimum | AmountBelowMinimum) and small.minimum > 0
    assert f"{small.minimum.normalize():f}" in small.message
    assert isinstance(poor, InsufficientFunds) and poor.exchange_code == -2010
    assert all(e.hint for e in (unknown, small, poor))


def test_an_exchange_that_is_down_or_garbled_is_retried_then_reported(local_exchange: LocalExchange) -> None:
    local_exchange.add_fault("status", status=503, path="/api/v3/ticker/24hr", count=2)
    ticker = run(local_exchange, lambda gw: gw.fetch_ticker(SYMBOL))  # a read is tried 3 times
    assert ticker.last > 0
    local_exchange.add_fault("status", status=500, path="/api/v3/ticker/24hr", count=1)  # Binance's -1001
    assert run(local_exchange, lambda gw: gw.fetch_ticker(SYMBOL)).last > 0
    local_exchange.add_fault("status", status=502, path="/api/v3/account", count=None)
    with pytest.raises(ExchangeUnavailable, match="is down or under maintenance"):  # it answered: not offline
        run(local_exchange, lambda gw: gw.fetch_balances())
    local_exchange.clear_faults()
    local_exchange.add_fault("malformed", path="/api/v3/account", count=None)
    with pytest.raises(MalformedResponse, match="cannot read"):
        run(local_exchange, lambda gw: gw.fetch_balances())
    local_exchange.clear_faults()
    attempts = [r for r in local_exchange.requests() if r["path"] == "/api/v3/account"]
    assert len(attempts) == 6  # three tries each, then the person is told


def test_rate_limit_waits_as_long_as_the_exchange_says(local_exchange: LocalExchange) -> None:
    local_exchange.add_fault("rate_limit", retry_after_s=1, path="/api/v3/ticker/24hr", count=1)
    waits: list[float] = []

    async def body(gw: CcxtGateway) -> None:
        real_sleep = asyncio.sleep

        async def sleep(seconds: float) -> None:
            waits.append(seconds)
            await real_sleep(seconds)

        gw._sleep = sleep  # record the waits; they still really happen
        assert (await gw.fetch_ticker(SYMBOL)).last > 0
        await gw.fetch_balances()  # after the wait, nothing more is held back

    run(local_exchange, body)
    assert len(waits) == 1 and 0.9 <= waits[0] <= 1.0
    statuses = [r["status"] for r in local_exchange.requests() if r["path"] == "/api/v3/ticker/24hr"]
    assert statuses == [429, 200]


def test_clock_skew_is_corrected_once_and_the_request_goes_through(local_exchange: LocalExchange) -> None:
    local_exchange.set_skew(-30_000)  # the exchange's clock is 30 s behind this computer's
    balances = run(local_exchange, lambda gw: gw.fetch_balances())
    assert "USDT" in balances
    notes = [(r["path"], r["status"]) for r in local_exchange.requests()]
    assert ("/api/v3/time", 200) in notes and notes[-1] == ("/api/v3/account", 200)


# -- the order path: a reply lost after the exchange accepted the order ------------------------------------
def test_an_order_whose_reply_was_lost_is_adopted_not_sent_twice(
    local_exchange: LocalExchange, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local_exchange.reset(accounts=True)
    local_exchange.add_fault("drop_after", method="POST", path="/api/v3/order", count=1)
    activity: list[str] = []

    async def scenario() -> tuple[IntentState, IntentState]:
        gw = gateway(local_exchange)
        journal = await SqliteJournal.open(tmp_path / "journal.sqlite3")
        try:
            bus = EventBus()
            bus.subscribe(lambda event: activity.append(str(event)))
            executor = OrderExecutor(journal, gw, bus, "binance")
            price = (await gw.fetch_ticker(SYMBOL)).last
            below = (await gw.load_markets())[SYMBOL].round_price(price * D("0.95"))
            req = request(SYMBOL, "buy", "limit", "0.001", str(below), client_order_id("lost", 1, "b", 0))
            row = await executor.place(OrderIntent("binance", "lost", 1, "b", 0, req, created_ms=0))
            again = await executor.reconciler.reconcile_one(row)
            return row.state, again.state
        finally:
            await journal.close()
            await gw.close()

    first, second = asyncio.run(scenario())
    assert first is IntentState.OPEN and second is IntentState.OPEN  # adopted by its client order id
    posts = [r for r in local_exchange.requests() if r["method"] == "POST" and r["path"] == "/api/v3/order"]
    assert len(posts) == 1
    # what the person saw of the lost reply (ccxt's text carries the URL, its message the signed request)
    said = " ".join(activity)
    assert "could not be reached" in said, said
    assert_no_secret(ExchangeError(said), local_exchange, caplog)


def test_a_lost_reply_is_said_as_a_connection_failure_with_no_secret(
    local_exchange: LocalExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local_exchange.reset(accounts=True)
    local_exchange.add_fault("drop_after", method="POST", path="/api/v3/order", count=1)

    async def body(gw: CcxtGateway) -> None:
        price = (await gw.fetch_ticker(SYMBOL)).last
        below = (await gw.load_markets())[SYMBOL].round_price(price * D("0.95"))
        cid = client_order_id("lost", 2, "b", 0)
        await gw.create_order(request(SYMBOL, "buy", "limit", "0.001", str(below), cid))

    with pytest.raises(ExchangeUnavailable) as info:
        run(local_exchange, body)
    assert "could not be reached" in info.value.message and "internet connection" in info.value.hint
    assert info.value.exchange_code is None  # no answer: nothing from the exchange to show
    assert_no_secret(info.value, local_exchange, caplog)


# -- OKX: the passphrase ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("passphrase", "words"),
    [("", "needs this key's API passphrase"), ("not-the-passphrase", "API passphrase is wrong")],
)
def test_okx_passphrase_missing_or_wrong_says_which_passphrase(
    local_exchange: LocalExchange, passphrase: str, words: str
) -> None:
    with pytest.raises(AuthenticationFailed) as info:
        run(local_exchange, lambda gw: gw.fetch_balances(), exchange_id="okx", passphrase=passphrase)
    assert words in info.value.message
    assert "not your account's login or trading password" in info.value.hint


def test_okx_with_the_right_passphrase_trades(local_exchange: LocalExchange) -> None:
    local_exchange.reset(accounts=True)

    async def body(gw: CcxtGateway) -> None:
        assert (await gw.fetch_balances())["USDT"].free > 0
        price = (await gw.fetch_ticker(SYMBOL)).last
        below = (await gw.load_markets())[SYMBOL].round_price(price * D("0.9"))
        cid = client_order_id("okx1", 1, "b", 0)  # dashes: OKX allows letters and digits only
        placed = await gw.create_order(request(SYMBOL, "buy", "limit", "0.001", str(below), cid))
        assert placed.client_order_id == cid and placed.status is OrderStatus.OPEN
        fetched = await gw.fetch_order(SYMBOL, cid)
        assert fetched is not None and fetched.exchange_order_id == placed.exchange_order_id
        assert (await gw.cancel_order(SYMBOL, cid)).status is OrderStatus.CANCELED

    run(local_exchange, body, exchange_id="okx")
