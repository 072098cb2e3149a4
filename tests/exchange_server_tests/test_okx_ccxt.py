"""Real ccxt (``ccxt.async_support.okx``) against the local exchange's OKX v5 API: the passphrase flow."""

from __future__ import annotations

import json
from typing import Any

import ccxt
import pytest

from tests.exchange_server.fixture import ThreadedExchange

from .helpers import cid, run


def okx_error(exc: Exception) -> dict[str, Any]:
    text = str(exc)
    parsed: dict[str, Any] = json.loads(text[text.index("{") :])
    return parsed


def test_okx_passphrase_flow_balance_config_and_orders(local_exchange: ThreadedExchange) -> None:
    client_id = cid("okx")

    async def body() -> None:
        ex = local_exchange.okx()
        try:
            markets = await ex.load_markets()  # with keys: instruments + the signed asset/currencies
            assert set(markets) == {"BTC/USDT", "ETH/USDT", "SOL/USDT", "XRP/USDT"}
            assert markets["BTC/USDT"]["precision"]["price"] == 0.01
            ticker = await ex.fetch_ticker("BTC/USDT")
            assert ticker["last"] > 0
            balance = await ex.fetch_balance()
            assert balance["USDT"]["free"] == 10_000 and balance["BTC"]["total"] == 0.5
            config = await ex.private_get_account_config()
            assert config["data"][0]["perm"] == "read_only,trade" and config["data"][0]["ip"] == ""
            placed = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, 10_000, {"clientOrderId": client_id}
            )
            assert placed["clientOrderId"] == client_id
            found = await ex.fetch_order(None, "BTC/USDT", {"clientOrderId": client_id})
            assert found["id"] == placed["id"] and found["status"] == "open" and found["price"] == 10_000
            assert (await ex.fetch_balance())["USDT"]["used"] == 10
            canceled = await ex.cancel_order(placed["id"], "BTC/USDT")
            assert canceled["id"] == placed["id"]
            assert (await ex.fetch_order(placed["id"], "BTC/USDT"))["status"] == "canceled"
            market = await ex.create_order("ETH/USDT", "market", "sell", 0.01)
            done = await ex.fetch_order(market["id"], "ETH/USDT")
            assert done["status"] == "closed" and done["filled"] == 0.01
        finally:
            await ex.close()

    run(body())
    paths = {(r["method"], r["path"]) for r in local_exchange.requests()}
    assert ("GET", "/api/v5/public/instruments") in paths and ("POST", "/api/v5/trade/cancel-order") in paths


@pytest.mark.parametrize(
    ("config", "expected", "code"),
    [
        ({"password": "wrong-passphrase"}, ccxt.AuthenticationError, "50105"),
        ({"apiKey": "B" * 32}, ccxt.AuthenticationError, "50111"),
        ({"secret": "C" * 32}, ccxt.AuthenticationError, "50113"),
        ({"options": {"timeDifference": 60_000}}, ccxt.InvalidNonce, "50102"),
    ],
    ids=["wrong passphrase", "unknown key", "wrong secret", "timestamp expired"],
)
def test_okx_auth_errors(
    local_exchange: ThreadedExchange, config: dict[str, Any], expected: type[Exception], code: str
) -> None:
    async def body() -> Exception:
        ex = local_exchange.okx(**config)
        try:
            with pytest.raises(ccxt.BaseError) as failed:
                await ex.fetch_balance()
            return failed.value
        finally:
            await ex.close()

    exc = run(body())
    assert type(exc) is expected, f"{type(exc).__name__}: {exc}"
    assert okx_error(exc)["code"] == code


def test_okx_missing_passphrase_is_refused_by_ccxt_before_any_signed_request(
    local_exchange: ThreadedExchange,
) -> None:
    async def body() -> Exception:
        ex = local_exchange.okx(password="")
        try:
            with pytest.raises(ccxt.BaseError) as failed:
                await ex.fetch_balance()
            return failed.value
        finally:
            await ex.close()

    exc = run(body())
    assert type(exc) is ccxt.AuthenticationError and '"password" credential' in str(exc)
    # load_markets skipped the signed currencies call and read the instruments; nothing signed was sent
    assert [r["path"] for r in local_exchange.requests()] == ["/api/v5/public/instruments"]


@pytest.mark.parametrize(
    ("call", "expected", "code"),
    [
        (lambda ex: ex.create_order("BTC/USDT", "limit", "buy", 1, 20_000), ccxt.InsufficientFunds, "51008"),
        (lambda ex: ex.fetch_order("424242", "BTC/USDT"), ccxt.OrderNotFound, "51603"),
        (lambda ex: ex.cancel_order("424242", "BTC/USDT"), ccxt.OrderNotFound, "51400"),
        (lambda ex: ex.create_order("BTC/USDT", "limit", "buy", 0.00001, 20_000), ccxt.InvalidOrder, "51020"),
    ],
    ids=["insufficient balance", "unknown order", "cancel unknown order", "under the minimum"],
)
def test_okx_order_errors(
    local_exchange: ThreadedExchange, call: Any, expected: type[Exception], code: str
) -> None:
    async def body() -> Exception:
        ex = local_exchange.okx()
        try:
            await ex.load_markets()
            with pytest.raises(ccxt.BaseError) as failed:
                await call(ex)
            return failed.value
        finally:
            await ex.close()

    exc = run(body())
    assert type(exc) is expected, f"{type(exc).__name__}: {exc}"
    error = okx_error(exc)
    assert code in (error["code"], *(d.get("sCode") for d in error.get("data", [])))
