"""The protocol is real (a plain aiohttp + hmac client, no ccxt), and the exchange runs as its own process."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
import sys
import time
import urllib.parse
from datetime import UTC, datetime
from typing import Any

import aiohttp

from tests.exchange_server.fixture import ROOT, SubprocessExchange, ThreadedExchange, start_subprocess

from .helpers import cid, run


async def binance_signed(
    session: aiohttp.ClientSession, exchange: Any, method: str, path: str, params: dict[str, str]
) -> tuple[int, Any]:
    """A Binance signed request the way Binance's documentation describes it."""
    query = urllib.parse.urlencode(
        {**params, "timestamp": str(int(time.time() * 1000)), "recvWindow": "5000"}
    )
    signature = hmac.new(exchange.secret.encode(), query.encode(), hashlib.sha256).hexdigest()
    headers = {"X-MBX-APIKEY": exchange.key}
    signed = f"{query}&signature={signature}"
    if method == "POST":
        headers["Content-Type"] = "application/x-www-form-urlencoded"
        response = await session.post(f"{exchange.base_url}{path}", data=signed, headers=headers)
    else:
        response = await session.request(method, f"{exchange.base_url}{path}?{signed}", headers=headers)
    async with response:
        return response.status, await response.json()


async def okx_signed(
    session: aiohttp.ClientSession, exchange: Any, method: str, path: str, body: Any, passphrase: str
) -> tuple[int, Any]:
    stamp = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    text = json.dumps(body) if body is not None else ""
    sign = base64.b64encode(
        hmac.new(exchange.secret.encode(), (stamp + method + path + text).encode(), hashlib.sha256).digest()
    ).decode()
    headers = {
        "OK-ACCESS-KEY": exchange.key,
        "OK-ACCESS-SIGN": sign,
        "OK-ACCESS-TIMESTAMP": stamp,
        "OK-ACCESS-PASSPHRASE": passphrase,
        "Content-Type": "application/json",
    }
    async with session.request(method, f"{exchange.base_url}{path}", data=text or None, headers=headers) as r:
        return r.status, await r.json()


def test_plain_client_places_queries_and_cancels_a_binance_order(local_exchange: ThreadedExchange) -> None:
    client_id = cid("raw")

    async def body() -> None:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"{local_exchange.base_url}/api/v3/ticker/price?symbol=SOLUSDT") as r:
                price = float((await r.json())["price"])
            order = {
                "symbol": "SOLUSDT", "side": "BUY", "type": "LIMIT", "timeInForce": "GTC", "quantity": "1.00",
                "price": f"{price * 0.5:.2f}", "newClientOrderId": client_id, "newOrderRespType": "RESULT",
            }  # fmt: skip
            status, placed = await binance_signed(session, local_exchange, "POST", "/api/v3/order", order)
            assert status == 200 and placed["status"] == "NEW" and placed["clientOrderId"] == client_id
            assert "fills" not in placed  # RESULT, not FULL
            status, dup = await binance_signed(session, local_exchange, "POST", "/api/v3/order", order)
            assert (status, dup) == (400, {"code": -2010, "msg": "Duplicate order sent."})
            query = {"symbol": "SOLUSDT", "origClientOrderId": client_id}
            status, found = await binance_signed(session, local_exchange, "GET", "/api/v3/order", query)
            assert status == 200 and found["orderId"] == placed["orderId"]
            status, gone = await binance_signed(session, local_exchange, "DELETE", "/api/v3/order", query)
            assert status == 200 and gone["status"] == "CANCELED" and gone["origClientOrderId"] == client_id
            status, again = await binance_signed(session, local_exchange, "DELETE", "/api/v3/order", query)
            assert (status, again) == (400, {"code": -2011, "msg": "Unknown order sent."})
            # a signature over other parameters than those sent
            bad = {**order, "newClientOrderId": cid("raw")}
            query_text = urllib.parse.urlencode({**bad, "timestamp": str(int(time.time() * 1000))})
            sig = hmac.new(local_exchange.secret.encode(), b"something else", hashlib.sha256).hexdigest()
            async with session.post(
                f"{local_exchange.base_url}/api/v3/order",
                data=f"{query_text}&signature={sig}",
                headers={
                    "X-MBX-APIKEY": local_exchange.key,
                    "Content-Type": "application/x-www-form-urlencoded",
                },
            ) as r:
                assert (r.status, await r.json()) == (
                    400,
                    {"code": -1022, "msg": "Signature for this request is not valid."},
                )
            async with session.get(f"{local_exchange.base_url}/api/v3/account") as r:  # no key at all
                assert (r.status, (await r.json())["code"]) == (401, -2014)

    run(body())


def test_plain_client_speaks_okx_and_the_passphrase_is_checked(local_exchange: ThreadedExchange) -> None:
    async def body() -> None:
        async with aiohttp.ClientSession() as session:
            right = local_exchange.passphrase
            status, config = await okx_signed(
                session, local_exchange, "GET", "/api/v5/account/config", None, right
            )
            assert status == 200 and config["code"] == "0" and config["data"][0]["perm"] == "read_only,trade"
            order = {"instId": "BTC-USDT", "tdMode": "cash", "side": "buy", "ordType": "limit", "sz": "0.001",
                     "px": "10000", "clOrdId": cid("rawokx")}  # fmt: skip
            status, placed = await okx_signed(
                session, local_exchange, "POST", "/api/v5/trade/order", order, right
            )
            assert status == 200 and placed["code"] == "0" and placed["data"][0]["sCode"] == "0"
            status, twice = await okx_signed(
                session, local_exchange, "POST", "/api/v5/trade/order", order, right
            )
            assert twice["code"] == "1" and twice["data"][0]["sCode"] == "51016"
            path = f"/api/v5/trade/order?instId=BTC-USDT&clOrdId={order['clOrdId']}"
            status, found = await okx_signed(session, local_exchange, "GET", path, None, right)
            assert (
                found["data"][0]["state"] == "live"
                and found["data"][0]["ordId"] == placed["data"][0]["ordId"]
            )
            cancel = {"instId": "BTC-USDT", "clOrdId": order["clOrdId"]}
            status, done = await okx_signed(
                session, local_exchange, "POST", "/api/v5/trade/cancel-order", cancel, right
            )
            assert done["code"] == "0" and done["data"][0]["sCode"] == "0"
            status, wrong = await okx_signed(
                session, local_exchange, "GET", "/api/v5/account/balance", None, "nope"
            )
            assert (status, wrong["code"]) == (401, "50105")
            status, empty = await okx_signed(
                session, local_exchange, "GET", "/api/v5/account/balance", None, ""
            )
            assert (status, empty["code"]) == (401, "50104")

    run(body())


def test_the_exchange_as_a_process_prints_its_url_obeys_controls_and_stops_on_sigterm(
    exchange_process: SubprocessExchange,
) -> None:
    assert exchange_process.base_url.startswith("http://127.0.0.1:")
    start = exchange_process.replay_ms()
    assert exchange_process.advance(3_600_000) == start + 3_600_000
    exchange_process.add_fault("status", status=503, path="/api/v3/ping")

    async def body() -> None:
        ex = exchange_process.binance()
        try:
            await ex.load_markets()
            assert (await ex.fetch_balance())["USDT"]["free"] == 10_000
            ticker = await ex.fetch_ticker("BTC/USDT")
            assert ticker["timestamp"] == start + 3_600_000
        finally:
            await ex.close()
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{exchange_process.base_url}/api/v3/ping") as r,
        ):
            assert r.status == 503

    run(body())
    assert exchange_process.stop() == 0


def test_command_line_options_and_help() -> None:
    help_text = subprocess.run(
        [sys.executable, "-m", "tests.exchange_server", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    for words in (
        "accounts:",
        "--balance",
        "restrictions",
        "--fault",
        "drop_after",
        "/_control/faults",
        "--skew-ms",
    ):
        assert words in help_text
    exchange = start_subprocess(
        "--balance", "USDT=123.5", "--speed", "max", "--skew-ms", "-40000",
        "--restrict", "enableWithdrawals=true",
        "--fault", "rate_limit:path=/api/v3/exchangeInfo,retry_after_s=3", key="K1", secret="S1",
    )  # fmt: skip
    try:

        async def body() -> None:
            async with aiohttp.ClientSession() as session:
                async with session.get(f"{exchange.base_url}/api/v3/exchangeInfo") as r:
                    assert r.status == 429 and r.headers["Retry-After"] == "3"
                async with session.get(f"{exchange.base_url}/api/v3/time") as r:
                    assert r.status == 429  # the window covers every endpoint
                exchange.clear_faults()
                async with session.get(f"{exchange.base_url}/api/v3/time") as r:
                    assert abs((await r.json())["serverTime"] + 40_000 - time.time() * 1000) < 5_000
            ex = exchange.binance(options={"timeDifference": 40_000})  # in step with the skewed server
            try:
                balance = await ex.fetch_balance()
                assert balance["total"] == {"USDT": 123.5}
                assert (await ex.sapi_get_account_apirestrictions())["enableWithdrawals"] is True
            finally:
                await ex.close()

        run(body())
    finally:
        assert exchange.stop() == 0
