"""The live gateway's errors a person can meet, each through real ccxt against the local exchange: the
exchange down (it answered) against unreachable (no answer), an IP ban (418) honoured, -2015 raised by ccxt
as DDoSProtection after a first success, an IP whitelist on Binance and OKX, an order under the pair's
minimums; every one with a hint, and no secret in any message, traceback or log line."""

from __future__ import annotations

import asyncio
import logging
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal as D  # noqa: N817

import pytest

from cryptobots_desktop.adapters.ccxt_gateway import CcxtGateway
from cryptobots_desktop.core.credentials import ApiCredentials
from cryptobots_desktop.core.errors import (
    AmountBelowMinimum,
    ExchangeError,
    ExchangeUnavailable,
    KeyNotPermitted,
    NotionalBelowMinimum,
    RateLimited,
)
from cryptobots_desktop.core.intents import client_order_id
from tests.exchange_server.fixture import LocalExchange, SubprocessExchange, start_subprocess
from tests.integration.test_ccxt_gateway import SYMBOL, assert_no_secret, request, run

BAN_S = 2  # the banning exchange's ban, in seconds


class Waits:
    """The gateway's sleeps, recorded and skipped (its back-off is not what these tests wait for)."""

    def __init__(self) -> None:
        self.seconds: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


def explained(error: ExchangeError) -> ExchangeError:
    assert error.message and error.hint, f"{type(error).__name__} without a hint: {error.message!r}"
    return error


def statuses(exchange: LocalExchange, path: str) -> list[int]:
    return [int(r["status"]) for r in exchange.requests() if r["path"] == path]


# -- down (it answered) or unreachable (no answer) ---------------------------------------------------------
@pytest.mark.parametrize(
    ("status", "code"),
    [
        (503, None),  # an HTML page from the load balancer: "System is under maintenance."
        (500, -1001),  # Binance's JSON: "Internal error; unable to process your request..."
    ],
)
def test_an_exchange_that_answers_5xx_is_down_not_unreachable(
    local_exchange: LocalExchange, caplog: pytest.LogCaptureFixture, status: int, code: int | None
) -> None:
    caplog.set_level(logging.DEBUG)
    local_exchange.add_fault("status", status=status, path="/api/v3/account", count=None)
    waits = Waits()

    async def body(gw: CcxtGateway) -> None:
        gw._sleep = waits
        await gw.fetch_balances()

    with pytest.raises(ExchangeUnavailable) as info:
        run(local_exchange, body)
    error = explained(info.value)
    assert error.message.startswith("Binance is down or under maintenance."), error.message
    assert "could not be reached" not in error.message and "internet" not in error.hint
    assert "wait" in error.hint and "tries again" in error.hint and "bots carry on" in error.hint
    assert error.exchange_code == code
    if code is not None:  # the exchange's own words are kept
        assert "(Binance said: Internal error; unable to process your request." in error.message
    assert waits.seconds == [0.5, 2.0]  # a read: tried three times, then said
    assert_no_secret(error, local_exchange, caplog)  # ccxt's text for a status holds the signed URL


def test_an_exchange_that_does_not_answer_could_not_be_reached(
    local_exchange: LocalExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local_exchange.add_fault("drop_before", path="/api/v3/account", count=None)  # the connection is cut
    waits = Waits()

    async def body(gw: CcxtGateway) -> None:
        gw._sleep = waits
        await gw.fetch_balances()

    with pytest.raises(ExchangeUnavailable) as info:
        run(local_exchange, body)
    error = explained(info.value)
    assert error.message == "Binance could not be reached or did not answer in time."
    assert "internet connection" in error.hint
    assert len(waits.seconds) == 2 and set(statuses(local_exchange, "/api/v3/account")) == {0}
    assert_no_secret(error, local_exchange, caplog)


def test_nothing_listening_could_not_be_reached() -> None:
    with socket.socket() as s:  # a port nobody listens on: the connection is refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    waits = Waits()

    async def body() -> None:
        gw = CcxtGateway(
            "binance", ApiCredentials("k" * 64, "s" * 64), api_url=f"http://127.0.0.1:{port}", sleep=waits
        )
        try:
            await gw.fetch_ticker(SYMBOL)
        finally:
            await gw.close()

    with pytest.raises(ExchangeUnavailable, match="could not be reached") as info:
        asyncio.run(body())
    assert "internet connection" in explained(info.value).hint and len(waits.seconds) == 2


# -- 418: banned for ignoring a 429 --------------------------------------------------------------------------
@pytest.fixture
def banning_exchange() -> Iterator[SubprocessExchange]:
    """A local exchange that bans (418) at the first request sent inside a 429 window, for 2 s."""
    exchange = start_subprocess("--speed", "max", "--ban-after", "0", "--ban-s", str(BAN_S))
    try:
        yield exchange
    finally:
        exchange.stop()


def ban_this_computer(exchange: LocalExchange) -> None:
    """Another program on this computer ignores a 429: the exchange bans the IP address (418)."""
    exchange.add_fault("rate_limit", retry_after_s=1, path="/api/v3/ping", count=1)
    codes = []
    for _ in range(2):
        try:
            urllib.request.urlopen(f"{exchange.base_url}/api/v3/ping", timeout=5).close()
            codes.append(200)
        except urllib.error.HTTPError as exc:
            codes.append(exc.code)
    assert codes == [429, 418]


def test_a_418_ban_is_said_and_its_retry_after_honoured(
    banning_exchange: SubprocessExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)
        await asyncio.sleep(seconds)  # really waits: the ban must be over when the gateway asks again

    async def body(gw: CcxtGateway) -> tuple[ExchangeError, float]:
        gw._sleep = sleep
        await gw.load_markets()
        ban_this_computer(banning_exchange)
        cid = client_order_id("ban", 1, "b", 0)
        with pytest.raises(RateLimited) as info:  # an order is not retried: said, and the app holds back
            await gw.create_order(request(SYMBOL, "buy", "limit", "0.001", "10000", cid))
        t0 = time.monotonic()
        assert (await gw.fetch_ticker(SYMBOL)).last > 0  # the next request waits out the ban first
        return info.value, time.monotonic() - t0

    error, waited = run(banning_exchange, body)
    assert isinstance(error, RateLimited) and error.retry_after == BAN_S
    assert "blocked this computer's IP address" in explained(error).message
    assert f"waits {BAN_S} s" in error.hint
    assert len(waits) == 1 and BAN_S - 1 <= waits[0] <= BAN_S and waited >= waits[0]
    assert statuses(banning_exchange, "/api/v3/order") == [418]
    assert statuses(banning_exchange, "/api/v3/ticker/24hr") == [200]  # not banned again
    assert_no_secret(error, banning_exchange, caplog)


# -- the key: -2015 after a success, an IP whitelist --------------------------------------------------------
def test_2015_after_a_successful_call_is_the_key_not_rate_limiting(
    local_exchange: LocalExchange, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    local_exchange.reset(accounts=True)
    waits = Waits()

    async def body(gw: CcxtGateway) -> list[ExchangeError]:
        gw._sleep = waits
        assert (await gw.fetch_balances())["USDT"].free > 0  # one successful private call first
        errors: list[ExchangeError] = []
        local_exchange.set_restrictions(enableReading=False)
        try:
            await gw.fetch_balances()
        except ExchangeError as exc:
            errors.append(exc)
        local_exchange.set_restrictions(reset=True, enableSpotAndMarginTrading=False)
        try:
            await gw.create_order(
                request(SYMBOL, "buy", "market", "0.001", None, client_order_id("k", 1, "b", 0))
            )
        except ExchangeError as exc:
            errors.append(exc)
        local_exchange.set_restrictions(reset=True)
        assert (await gw.fetch_balances())["USDT"].free > 0  # not held back as if rate limited
        return errors

    errors = run(local_exchange, body)
    assert len(errors) == 2
    for error in errors:
        assert type(error) is KeyNotPermitted and error.exchange_code == -2015
        assert "lacks the permission" in explained(error).message
        assert_no_secret(error, local_exchange, caplog)
    assert waits.seconds == []  # no rate-limit pause, no retry
    translated = [r.getMessage() for r in caplog.records if "->" in r.getMessage()]
    assert "binance: DDoSProtection -> KeyNotPermitted" in translated  # ccxt's class, mapped by the code


@pytest.mark.parametrize(("exchange_id", "code"), [("binance", -2015), ("okx", 50110)])
def test_an_ip_whitelist_without_this_computer_says_so(
    local_exchange: LocalExchange, caplog: pytest.LogCaptureFixture, exchange_id: str, code: int
) -> None:
    caplog.set_level(logging.DEBUG)
    local_exchange.set_restrictions(ipRestrict=True, ipWhitelist=["203.0.113.7"])
    with pytest.raises(KeyNotPermitted) as info:
        run(local_exchange, lambda gw: gw.fetch_balances(), exchange_id=exchange_id)
    error = explained(info.value)
    assert error.exchange_code == code
    assert "IP address" in error.message and "whitelist" in error.message
    assert "IP address" in error.hint and "whitelist" in error.hint
    if exchange_id == "okx":  # OKX names the IP alone; Binance's -2015 names three possibilities
        assert error.message.startswith("OKX refused this computer's IP address"), error.message
    assert_no_secret(error, local_exchange, caplog)


# -- orders under the pair's minimums ------------------------------------------------------------------------
def test_an_order_under_the_minimums_names_the_minimum(local_exchange: LocalExchange) -> None:
    local_exchange.reset(accounts=True)

    async def body(gw: CcxtGateway) -> list[ExchangeError]:
        price = (await gw.fetch_ticker(SYMBOL)).last
        tick = (await gw.load_markets())[SYMBOL].round_price(price * D("0.9"))
        errors: list[ExchangeError] = []
        cases = [
            ("limit", "0.000001", str(tick)),  # ccxt would truncate it to 0 and say "precision"
            ("market", "0.000001", None),
            ("limit", "0.0001", str(tick)),  # worth ~2-3 USDT: under the 5 USDT minimum value
            ("market", "0.0001", None),  # its value only the exchange judges (-1013 NOTIONAL)
        ]
        for n, (kind, amount, limit_price) in enumerate(cases):
            try:
                await gw.create_order(
                    request(SYMBOL, "buy", kind, amount, limit_price, client_order_id("min", n, "b", 0))
                )
            except ExchangeError as exc:
                errors.append(exc)
        return errors

    tiny_limit, tiny_market, cheap_limit, cheap_market = run(local_exchange, body)
    for tiny in (tiny_limit, tiny_market):
        assert isinstance(tiny, AmountBelowMinimum) and tiny.minimum == D("0.00001")
        assert "minimum of 0.00001 BTC" in tiny.message and "0.000001 BTC" in tiny.message
        assert explained(tiny).hint == "Increase the amount to at least 0.00001 BTC."
    for cheap in (cheap_limit, cheap_market):
        assert isinstance(cheap, NotionalBelowMinimum) and cheap.minimum == 5
        assert "minimum of 5 USDT" in cheap.message and "at least" in explained(cheap).hint
    assert "BTC (worth 5 USDT at" in cheap_limit.hint  # the amount that suffices at the limit price
    assert cheap_market.exchange_code == -1013  # the exchange refused it
    posts = statuses(local_exchange, "/api/v3/order")
    assert posts == [400]  # the others were refused before anything was sent
