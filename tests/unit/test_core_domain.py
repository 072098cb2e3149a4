"""Core domain: market rounding, orders, balances valuation."""

from __future__ import annotations

from decimal import Decimal as D  # noqa: N817 - short money literals read better in tables

import pytest

from cryptobots_desktop.core.balances import Balance, asset_price, value_portfolio
from cryptobots_desktop.core.market import Market, split_symbol
from cryptobots_desktop.core.orders import Fill, Order, OrderRequest, OrderSide, OrderStatus, OrderType

BTC = Market(
    "BTC/USDT",
    "BTCUSDT",
    "BTC",
    "USDT",
    D("0.01"),
    D("0.00001"),
    D("0.00001"),
    D(9000),
    D(5),
    D("0.001"),
    D("0.001"),
)


def test_rounding_follows_ccxt() -> None:
    assert BTC.round_price(D("28080.005")) == D("28080.01")
    assert BTC.round_price(D("28080.004")) == D("28080.00")
    assert BTC.floor_amount(D("0.123456789")) == D("0.12345")
    assert BTC.floor_amount(D("0.000009")) == 0
    assert (BTC.price_decimals, BTC.amount_decimals) == (2, 5)


def test_split_symbol() -> None:
    assert split_symbol("ETH/BTC") == ("ETH", "BTC")
    for bad in ("ETHBTC", "/USDT", "A/B/C"):
        with pytest.raises(ValueError):
            split_symbol(bad)


def test_order_request_validation() -> None:
    with pytest.raises(ValueError, match="client order id"):
        OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, D(1), "has space")
    with pytest.raises(ValueError, match="positive"):
        OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.MARKET, D(0), "a1")
    with pytest.raises(ValueError, match="limit order needs a positive price"):
        OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.LIMIT, D(1), "a1")
    assert OrderRequest("BTC/USDT", OrderSide.BUY, OrderType.LIMIT, D(1), "x" * 36, D(2)).price == 2


def test_order_fill_arithmetic() -> None:
    fills = tuple(
        Fill(f"t{i}", "c1", "BTC/USDT", OrderSide.BUY, price, amount, D(0), "BTC", i, True)
        for i, (price, amount) in enumerate([(D(100), D(1)), (D(110), D(3))])
    )
    order = Order(
        "1", "c1", "BTC/USDT", OrderSide.BUY, OrderType.LIMIT, D(5), D(110), OrderStatus.OPEN, 0, 1, fills
    )
    assert order.filled == 4
    assert order.remaining == 1
    assert order.cost == D(430)
    assert order.average_price == D("107.5")


def test_valuation_direct_inverse_and_unpriced() -> None:
    prices = {"BTC/USDT": D(30_000), "USDT/TRY": D(20)}
    balances = {
        "USDT": Balance("USDT", D(100), D(50)),
        "BTC": Balance("BTC", D("0.5"), D(0)),
        "TRY": Balance("TRY", D(200), D(0)),
        "DOGE": Balance("DOGE", D(10), D(0)),
        "ETH": Balance("ETH", D(0), D(0)),
    }
    v = value_portfolio(balances, prices, "USDT")
    assert [r.balance.asset for r in v.rows] == ["BTC", "USDT", "TRY", "DOGE"]
    assert v.total == D(15_000) + D(150) + D(10)
    assert v.unpriced == ("DOGE",)
    assert asset_price("USDT", "USDT", prices) == 1
