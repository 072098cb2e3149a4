"""Faults injected by the local exchange, as real ccxt experiences them."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import ccxt
import pytest

from tests.exchange_server.fixture import ThreadedExchange

from .helpers import cid, run

ORDER = ("POST", "/api/v3/order")


def posted_orders(local: ThreadedExchange) -> list[dict[str, Any]]:
    return [r for r in local.requests() if (r["method"], r["path"]) == ORDER]


def test_dropped_after_accept_the_order_exists_and_is_found_by_client_order_id(
    local_exchange: ThreadedExchange,
) -> None:
    client_id = cid("drop")
    local_exchange.add_fault("drop_after", method="POST", path="/api/v3/order")

    async def body() -> tuple[Exception, dict[str, Any]]:
        ex = local_exchange.binance()
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError) as lost:
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})
            found = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id})
            await ex.cancel_order(found["id"], "BTC/USDT")
            return lost.value, found
        finally:
            await ex.close()

    lost, found = run(body())
    assert type(lost) is ccxt.ExchangeNotAvailable  # aiohttp's ServerDisconnectedError
    assert found["clientOrderId"] == client_id and found["status"] == "open"
    assert [r["note"] for r in posted_orders(local_exchange)] == ["handled, reply dropped"]


def test_dropped_before_handling_nothing_was_placed(local_exchange: ThreadedExchange) -> None:
    client_id = cid("gone")
    local_exchange.add_fault("drop_before", method="POST", path="/api/v3/order")

    async def body() -> tuple[Exception, Exception]:
        ex = local_exchange.binance()
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError) as lost:
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})
            with pytest.raises(ccxt.BaseError) as missing:
                await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id})
            return lost.value, missing.value
        finally:
            await ex.close()

    lost, missing = run(body())
    assert type(lost) is ccxt.ExchangeNotAvailable
    assert type(missing) is ccxt.OrderNotFound


def test_slow_answer_times_out_in_ccxt_but_the_order_is_placed(local_exchange: ThreadedExchange) -> None:
    client_id = cid("slow")
    local_exchange.add_fault("delay", method="POST", path="/api/v3/order", delay_ms=600)

    async def body() -> tuple[Exception, dict[str, Any]]:
        ex = local_exchange.binance(timeout=200)
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError) as slow:
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id})
            for _ in range(100):  # the exchange handles it after 600 ms and answers no one
                if posted_orders(local_exchange):
                    break
                await asyncio.sleep(0.05)
            found = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id})
            await ex.cancel_order(found["id"], "BTC/USDT")
            return slow.value, found
        finally:
            await ex.close()

    slow, found = run(body())
    assert type(slow) is ccxt.RequestTimeout
    assert found["status"] == "open"


def test_429_carries_retry_after_and_ignoring_it_gets_418(local_exchange: ThreadedExchange) -> None:
    local_exchange.add_fault("rate_limit", retry_after_s=7)

    async def body() -> list[tuple[type, str, dict[str, Any]]]:
        ex = local_exchange.binance()
        seen = []
        try:
            for _ in range(5):
                try:
                    await ex.fetch_time()
                except ccxt.BaseError as exc:
                    text = str(exc)
                    seen.append(
                        (
                            type(exc),
                            ex.last_response_headers.get("Retry-After"),
                            json.loads(text[text.index("{") :]),
                        )
                    )
            local_exchange.clear_faults()
            assert await ex.fetch_time() > 0
            return seen
        finally:
            await ex.close()

    seen = run(body())
    assert [t for t, _, _ in seen] == [ccxt.DDoSProtection] * 5  # ccxt raises DDoSProtection for 429 and 418
    statuses = [r["status"] for r in local_exchange.requests()][:5]
    assert statuses == [429, 429, 429, 429, 418]
    assert seen[0][1] == "7" and all(int(h) > 0 for _, h, _ in seen)
    assert seen[0][2]["code"] == -1003 and seen[0][2]["msg"].startswith("Too many requests;")
    assert seen[4][2]["code"] == -1003 and seen[4][2]["msg"].startswith(
        "Way too many requests; IP(127.0.0.1) banned"
    )


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (500, ccxt.OperationFailed),  # Binance's body {"code":-1001,...}: ccxt maps -1001 before the status
        (502, ccxt.ExchangeNotAvailable),
        (503, ccxt.ExchangeNotAvailable),
        (504, ccxt.RequestTimeout),
    ],
)
def test_5xx(local_exchange: ThreadedExchange, status: int, expected: type[Exception]) -> None:
    local_exchange.add_fault("status", status=status, path="/api/v3/account")

    async def body() -> Exception:
        ex = local_exchange.binance()
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError) as failed:
                await ex.fetch_balance()
            await ex.fetch_balance()  # count=1: the next one passes
            return failed.value
        finally:
            await ex.close()

    exc = run(body())
    assert type(exc) is expected, f"{type(exc).__name__}: {exc}"


def test_malformed_json_is_mostly_not_an_error_in_ccxt(local_exchange: ThreadedExchange) -> None:
    """ccxt hands a truncated JSON body on as text: most calls "succeed" with empty fields; the gateway
    has to notice (``info`` is a str, ids are None) and treat it as a malformed answer."""
    for path in ("/api/v3/account", "/api/v3/time", "/api/v3/order", "/api/v3/openOrders"):
        local_exchange.add_fault("malformed", path=path)
    client_id = cid("mal")

    async def body() -> tuple[Any, Any, Any, Exception]:
        ex = local_exchange.binance()
        try:
            await ex.load_markets()
            balance = await ex.fetch_balance()
            server_time = await ex.fetch_time()
            placed = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id}
            )
            with pytest.raises(Exception) as crashed:
                await ex.fetch_open_orders("BTC/USDT")
            found = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": client_id})
            await ex.cancel_order(found["id"], "BTC/USDT")
            return balance, server_time, placed, crashed.value
        finally:
            await ex.close()

    balance, server_time, placed, crashed = run(body())
    assert isinstance(balance["info"], str) and "USDT" not in balance  # no error, no balances
    assert server_time is None  # no error, no time
    assert isinstance(placed["info"], str) and placed["id"] is None  # the order was placed all the same
    assert type(crashed) is AttributeError  # not even a ccxt error
    first_post = next(r for r in local_exchange.requests() if r["path"] == "/api/v3/order")
    assert first_post["note"] == "malformed reply"


def test_clock_skew_gives_1021_until_ccxt_resyncs(local_exchange: ThreadedExchange) -> None:
    local_exchange.set_skew(60_000)

    async def body() -> tuple[Exception, int, Any]:
        ex = local_exchange.binance()
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError) as skewed:
                await ex.fetch_balance()
            difference = await ex.load_time_difference()
            balance = await ex.fetch_balance()
            return skewed.value, difference, balance
        finally:
            await ex.close()

    exc, difference, balance = run(body())
    assert type(exc) is ccxt.InvalidNonce
    assert "-1021" in str(exc)
    assert -61_000 < difference < -59_000
    assert balance["USDT"]["total"] > 0


def test_faults_target_one_endpoint_and_count(local_exchange: ThreadedExchange) -> None:
    local_exchange.add_fault("status", status=503, method="POST", path="/api/v3/order", skip=1, count=1)

    async def body() -> list[str]:
        ex = local_exchange.binance()
        outcomes = []
        try:
            await ex.load_markets()
            for _ in range(3):
                await ex.fetch_balance()
                try:
                    o = await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 10_000)
                    await ex.cancel_order(o["id"], "BTC/USDT")
                    outcomes.append("ok")
                except ccxt.ExchangeNotAvailable:
                    outcomes.append("503")
            return outcomes
        finally:
            await ex.close()

    assert run(body()) == ["ok", "503", "ok"]
    assert [r["status"] for r in posted_orders(local_exchange)] == [200, 503, 200]
    assert local_exchange.state()["faults"] == []  # used up
