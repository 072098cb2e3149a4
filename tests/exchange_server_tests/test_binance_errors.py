"""Every Binance error the local exchange sends, and the ccxt exception class ccxt 4.5 really raises for it.

The classes are asserted exactly (``type(e) is X``), so a ccxt upgrade that changes a mapping fails here
first. Some are surprising and the gateway must read the code in the message, not only the class: -2015
after a successful private call is ``DDoSProtection``; -1013 is ``InvalidOrder`` for LOT_SIZE and
PRICE_FILTER but ``BadRequest`` for NOTIONAL; -2010 is ``InsufficientFunds`` only for the balance message.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import ccxt
import pytest

from tests.exchange_server.fixture import ThreadedExchange

from .helpers import cid, run

Call = Callable[[Any], Awaitable[Any]]


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
