"""Every Binance error the local exchange sends, and the ccxt exception class ccxt 4.5 really raises for it.

The classes are asserted exactly (``type(e) is X``), so a ccxt upgrade that changes a mapping fails here
first. Some are surprising and the gateway must read the code in the message, not only the class: -2015
after a successful private call is ``DDoSProtection``; -1013 is ``InvalidOrder`` for LOT_SIZE and
PRICE_FILTER but ``BadRequest`` for NOTIONAL; -2010 is ``InsufficientFunds`` only for the balance message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import ccxt
import pytest

from cryptobots_desktop.core.replay import ReplaySpeed
from tests.exchange_server.fixture import ThreadedExchange, start_in_thread
from tests.exchange_server.server import ServerConfig

from .helpers import cid, run

Call = Callable[[Any], Awaitable[Any]]
T = TypeVar("T")


def caught(local: ThreadedExchange, call: Call, *, warm: bool = False, **config: Any) -> Exception:
    """Run ``call(client)`` on a fresh ccxt binance; return what it raised (fail if nothing)."""

    async def body() -> Exception:
        ex = local.binance(**config)
        try:
            await ex.load_markets()
            if warm:  # one successful private call first
                await ex.fetch_balance()
            try:
                await call(ex)
            except ccxt.BaseError as exc:
                return exc
            raise AssertionError("no exception")
        finally:
            await ex.close()

    return run(body())


def body_of(exc: Exception) -> dict[str, Any]:
    """The JSON error body ccxt quotes at the end of its message.

    When ccxt matched the message itself (e.g. insufficient balance) it quotes only the message: then
    ``{"msg": ...}`` without the code.
    """
    text = str(exc)
    if "{" not in text:
        return {"msg": text.removeprefix("binance ")}
    parsed: dict[str, Any] = json.loads(text[text.index("{") :])
    return parsed


def order(symbol: str = "BTCUSDT", **fields: str) -> dict[str, str]:
    base = {"symbol": symbol, "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "0.001"}
    return {**base, "price": "20000", "newClientOrderId": cid("e"), **fields}


CASES: list[tuple[str, Call, dict[str, Any], type[Exception], int, str]] = [
    # (name, call, client config, ccxt class, Binance code, message)
    (
        "wrong secret",
        lambda ex: ex.fetch_balance(),
        {"secret": "x" * 64},
        ccxt.AuthenticationError,
        -1022,
        "Signature for this request is not valid.",
    ),
    (
        "unknown key",
        lambda ex: ex.fetch_balance(),
        {"apiKey": "A" * 64},
        ccxt.AuthenticationError,
        -2015,
        "Invalid API-key, IP, or permissions for action.",
    ),
    (
        "key of a bad format",
        lambda ex: ex.fetch_balance(),
        {"apiKey": "not-a-key!"},
        ccxt.AuthenticationError,
        -2014,
        "API-key format invalid.",
    ),
    (
        "recvWindow over 60000",
        lambda ex: ex.fetch_balance({"recvWindow": 70_000}),
        {},
        ccxt.ExchangeError,  # ccxt maps no class to -1131: the base class
        -1131,
        "recvWindow must be less than 60000",
    ),
    (
        "unknown symbol (raw request: ccxt refuses unknown symbols itself)",
        lambda ex: ex.public_get_ticker_24hr({"symbol": "DOGEUSDT"}),
        {},
        ccxt.BadSymbol,
        -1121,
        "Invalid symbol.",
    ),
    (
        "amount off the lot step",
        lambda ex: ex.private_post_order(order(quantity="0.0010001")),
        {},
        ccxt.InvalidOrder,
        -1013,
        "Filter failure: LOT_SIZE",
    ),
    (
        "amount under the minimum",
        lambda ex: ex.private_post_order(order(quantity="0.000001")),
        {},
        ccxt.InvalidOrder,
        -1013,
        "Filter failure: LOT_SIZE",
    ),
    (
        "price off the tick",
        lambda ex: ex.private_post_order(order(price="20000.001")),
        {},
        ccxt.InvalidOrder,
        -1013,
        "Filter failure: PRICE_FILTER",
    ),
    (
        "order value under the minimum notional",
        lambda ex: ex.create_order("BTC/USDT", "limit", "buy", 0.0001, 20_000),
        {},
        ccxt.BadRequest,
        -1013,
        "Filter failure: NOTIONAL",
    ),
    (
        "insufficient balance",
        lambda ex: ex.create_order("BTC/USDT", "limit", "buy", 1, 20_000),
        {},
        ccxt.InsufficientFunds,
        -2010,
        "Account has insufficient balance for requested action.",
    ),
    (
        "unknown order id",
        lambda ex: ex.fetch_order("987654321", "BTC/USDT"),
        {},
        ccxt.OrderNotFound,
        -2013,
        "Order does not exist.",
    ),
    (
        "unknown client order id",
        lambda ex: ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "never-sent"}),
        {},
        ccxt.OrderNotFound,
        -2013,
        "Order does not exist.",
    ),
    (
        "cancel of an unknown order",
        lambda ex: ex.cancel_order("987654321", "BTC/USDT"),
        {},
        ccxt.OrderNotFound,
        -2011,
        "Unknown order sent.",
    ),
    (
        "timestamp outside recvWindow (client clock 30 s behind; ccxt sends recvWindow=10000)",
        lambda ex: ex.fetch_balance(),
        {"options": {"timeDifference": 30_000}},
        ccxt.InvalidNonce,
        -1021,
        "Timestamp for this request is outside of the recvWindow.",
    ),
    (
        "timestamp ahead of the server",
        lambda ex: ex.fetch_balance(),
        {"options": {"timeDifference": -5_000}},
        ccxt.InvalidNonce,
        -1021,
        "Timestamp for this request was 1000ms ahead of the server's time.",
    ),
]


@pytest.mark.parametrize(
    ("call", "config", "expected", "code", "message"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_binance_error_maps_to_ccxt_class(
    local_exchange: ThreadedExchange,
    call: Call,
    config: dict[str, Any],
    expected: type[Exception],
    code: int,
    message: str,
) -> None:
    exc = caught(local_exchange, call, **config)
    assert type(exc) is expected, f"{type(exc).__name__}: {exc}"
    if expected is ccxt.InsufficientFunds:  # matched by message: ccxt's text drops the code
        assert body_of(exc) == {"msg": message}
    else:
        assert body_of(exc) == {"code": code, "msg": message}


def test_duplicate_client_order_id_is_refused_as_binance_does(local_exchange: ThreadedExchange) -> None:
    client_id = cid("dup")

    async def first(ex: Any) -> None:
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})
        await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})

    exc = caught(local_exchange, first)
    assert type(exc) is ccxt.InvalidOrder
    assert body_of(exc) == {"code": -2010, "msg": "Duplicate order sent."}
    # the first one is there, once
    opened = [r for r in local_exchange.requests() if r["method"] == "POST" and r["status"] == 200]
    assert len(opened) == 1


async def reuse_one_client_id(ex: Any, client_id: str) -> list[str]:
    """Use ``client_id`` for a resting order, then (canceled) a market buy, then (filled) another: Binance
    refuses an id only while its order is open. Returns the three orders' ids, oldest first."""
    params = {"clientOrderId": client_id}
    resting = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, params)
    with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):  # open: refused
        await ex.create_order("BTC/USDT", "market", "buy", 0.0002, None, params)
    await ex.cancel_order(resting["id"], "BTC/USDT")
    first = await ex.create_order("BTC/USDT", "market", "buy", 0.0002, None, params)
    second = await ex.create_order("BTC/USDT", "market", "buy", 0.0003, None, params)
    assert first["status"] == second["status"] == "closed"
    assert first["clientOrderId"] == second["clientOrderId"] == client_id
    return [str(resting["id"]), str(first["id"]), str(second["id"])]


async def orders_under(ex: Any, client_id: str) -> dict[str, tuple[str, float]]:
    """Order id -> (status, amount) of every order allOrders lists under ``client_id``."""
    rows = await ex.fetch_orders("BTC/USDT")
    return {str(o["id"]): (o["status"], o["amount"]) for o in rows if o["clientOrderId"] == client_id}


def test_a_client_order_id_is_free_again_once_its_order_closed(local_exchange: ThreadedExchange) -> None:
    client_id = cid("reuse")

    async def body(ex: Any) -> None:
        resting, first, second = await reuse_one_client_id(ex, client_id)
        latest = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id})
        assert (str(latest["id"]), latest["amount"]) == (second, 0.0003)  # the latest one with the id
        older = await ex.fetch_order(first, "BTC/USDT")  # by its order id: the older one itself
        assert (older["clientOrderId"], older["amount"], older["status"]) == (client_id, 0.0002, "closed")
        assert (await ex.fetch_order(resting, "BTC/USDT"))["status"] == "canceled"
        assert await orders_under(ex, client_id) == {
            resting: ("canceled", 0.001),
            first: ("closed", 0.0002),
            second: ("closed", 0.0003),
        }
        trades = [t for t in await ex.fetch_my_trades("BTC/USDT") if str(t["order"]) in (first, second)]
        assert sorted((str(t["order"]), t["amount"]) for t in trades) == [(first, 0.0002), (second, 0.0003)]
        # open again under the same id: refused again, as long as it is open
        again = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})
        with pytest.raises(ccxt.InvalidOrder, match="Duplicate order sent"):
            await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})
        await ex.cancel_order(None, "BTC/USDT", {"origClientOrderId": client_id})
        assert (await ex.fetch_order(again["id"], "BTC/USDT"))["status"] == "canceled"

    async def scenario() -> None:
        ex = local_exchange.binance()
        try:
            await body(ex)
        finally:
            await ex.close()

    run(scenario())
    posts = [
        (r["status"], r["note"])
        for r in local_exchange.requests()
        if (r["method"], r["path"]) == ("POST", "/api/v3/order")
    ]
    twin = (400, "Duplicate order sent.")  # as the request log notes it (the live crash test counts these)
    assert posts == [(200, ""), twin, (200, ""), (200, ""), (200, ""), twin]


def test_a_reused_client_order_id_is_reported_after_a_restart(tmp_path: Path) -> None:
    client_id = cid("kept")
    config = ServerConfig(speed=ReplaySpeed.MAX, state_dir=tmp_path)

    async def reuse(ex: Any) -> list[str]:
        return await reuse_one_client_id(ex, client_id)

    async def listed(ex: Any) -> dict[str, tuple[str, float]]:
        assert (await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id}))["amount"] == 0.0003
        return await orders_under(ex, client_id)

    before = with_client(start_in_thread(config), reuse)
    after = with_client(start_in_thread(config), listed)  # the same accounts, reopened
    assert sorted(after) == sorted(before) and len(after) == 3


def with_client(exchange: ThreadedExchange, call: Callable[[Any], Awaitable[T]]) -> T:
    """``call(ccxt binance client)`` on ``exchange``, which is stopped afterwards."""

    async def body() -> T:
        ex = exchange.binance()
        try:
            return await call(ex)
        finally:
            await ex.close()

    try:
        return run(body())
    finally:
        exchange.stop()


def test_cancel_of_a_filled_order_is_unknown_order(local_exchange: ThreadedExchange) -> None:
    async def call(ex: Any) -> None:
        done = await ex.create_order("BTC/USDT", "market", "buy", 0.0002)
        assert done["status"] == "closed"
        await ex.cancel_order(done["id"], "BTC/USDT")

    exc = caught(local_exchange, call)
    assert type(exc) is ccxt.OrderNotFound
    assert body_of(exc) == {"code": -2011, "msg": "Unknown order sent."}


def test_key_restrictions_refuse_with_2015_and_ccxt_calls_it_ddos_after_a_success(
    local_exchange: ThreadedExchange,
) -> None:
    def trade(ex: Any) -> Awaitable[Any]:
        return ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000)

    local_exchange.set_restrictions(enableSpotAndMarginTrading=False)
    cold = caught(local_exchange, trade)
    warm = caught(local_exchange, trade, warm=True)
    assert type(cold) is ccxt.AuthenticationError
    # ccxt's workaround for Binance's temporary bans: -2015 after any successful private call
    assert type(warm) is ccxt.DDoSProtection
    for exc in (cold, warm):
        assert body_of(exc) == {"code": -2015, "msg": "Invalid API-key, IP, or permissions for action."}

    local_exchange.set_restrictions(reset=True, ipRestrict=True, ipWhitelist=["203.0.113.7"])
    not_whitelisted = caught(local_exchange, lambda ex: ex.fetch_balance())
    assert type(not_whitelisted) is ccxt.AuthenticationError and body_of(not_whitelisted)["code"] == -2015

    local_exchange.set_restrictions(reset=True, enableReading=False)
    unreadable = caught(local_exchange, lambda ex: ex.fetch_balance())
    assert type(unreadable) is ccxt.AuthenticationError and body_of(unreadable)["code"] == -2015
