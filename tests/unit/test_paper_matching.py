"""The paper exchange's matching engine with Binance's real trading rules (exchangeInfo snapshots)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from cryptobots_desktop.adapters.paper.exchange_info import MarketRules
from cryptobots_desktop.adapters.paper.matching import MatchingEngine
from cryptobots_desktop.core.balances import Balance
from cryptobots_desktop.core.errors import (
    AmountBelowMinimum,
    DuplicateClientOrderId,
    InsufficientFunds,
    NotionalBelowMinimum,
    OrderNotCancelable,
    OrderNotFound,
    UnknownPair,
)
from cryptobots_desktop.core.orders import OrderRequest, OrderSide, OrderStatus, OrderType

BUY, SELL = OrderSide.BUY, OrderSide.SELL
T0 = 1_680_469_380_000


def market(side: OrderSide, amount: str, cid: str, symbol: str = "BTC/USDT") -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.MARKET, Decimal(amount), cid)


def limit(side: OrderSide, amount: str, price: str, cid: str, symbol: str = "BTC/USDT") -> OrderRequest:
    return OrderRequest(symbol, side, OrderType.LIMIT, Decimal(amount), cid, Decimal(price))


def engine(rules: dict[str, MarketRules], participation: str = "0.1", **balances: str) -> MatchingEngine:
    return MatchingEngine(rules, {a: Decimal(v) for a, v in balances.items()}, Decimal(participation))


def bal(e: MatchingEngine, asset: str) -> tuple[Decimal, Decimal]:
    b = e.balances().get(asset, Balance(asset, Decimal(0), Decimal(0)))
    return b.free, b.used


def test_market_orders_fill_at_once_at_the_current_price_with_taker_fee_in_the_asset_received(
    rules_2024: dict[str, MarketRules],
) -> None:
    e = engine(rules_2024, USDT="10000")
    buy = e.place(market(BUY, "0.1", "b1"), Decimal("30000.00"), T0)
    assert buy.status is OrderStatus.FILLED and buy.price is None and buy.filled == Decimal("0.1")
    (f,) = buy.fills
    assert (f.price, f.amount, f.fee, f.fee_asset, f.is_maker, f.ts_ms) == (
        Decimal("30000"),
        Decimal("0.1"),
        Decimal("0.0001"),
        "BTC",
        False,
        T0,
    )
    assert bal(e, "USDT") == (Decimal("7000"), Decimal(0))
    assert bal(e, "BTC") == (Decimal("0.0999"), Decimal(0))

    sell = e.place(market(SELL, "0.05", "s1"), Decimal("31000"), T0 + 1)
    (f,) = sell.fills
    assert (f.price, f.fee, f.fee_asset) == (
        Decimal("31000"),
        Decimal("1.55"),
        "USDT",
    )  # 0.1% of 1550 USDT received
    assert bal(e, "USDT") == (Decimal("7000") + Decimal("1550") - Decimal("1.55"), Decimal(0))
    assert bal(e, "BTC") == (Decimal("0.0499"), Decimal(0))


def test_resting_limit_orders_reserve_funds_and_fill_at_their_price_with_maker_fee(
    rules_2024: dict[str, MarketRules],
) -> None:
    e = engine(rules_2024, USDT="10000", BTC="1")
    buy = e.place(limit(BUY, "0.1", "29000", "b1"), Decimal("30000"), T0)
    sell = e.place(limit(SELL, "0.2", "31000", "s1"), Decimal("30000"), T0)
    assert buy.status is sell.status is OrderStatus.OPEN and not buy.fills
    assert bal(e, "USDT") == (Decimal("7100"), Decimal("2900"))
    assert bal(e, "BTC") == (Decimal("0.8"), Decimal("0.2"))

    assert (
        e.advance("BTC/USDT", Decimal("29000.01"), Decimal("30999.99"), T0, Decimal("50"), T0 + 60_000) == []
    )
    fills = e.advance(
        "BTC/USDT", Decimal("28999.99"), Decimal("31000"), T0 + 60_000, Decimal("50"), T0 + 90_000
    )
    assert [(f.client_order_id, f.price, f.amount, f.fee, f.fee_asset, f.is_maker) for f in fills] == [
        ("b1", Decimal("29000"), Decimal("0.1"), Decimal("0.0001"), "BTC", True),
        ("s1", Decimal("31000"), Decimal("0.2"), Decimal("6.2"), "USDT", True),
    ]
    assert e.order("b1").status is e.order("s1").status is OrderStatus.FILLED  # type: ignore[union-attr]
    assert bal(e, "USDT") == (Decimal("7100") + Decimal("6200") - Decimal("6.2"), Decimal(0))
    assert bal(e, "BTC") == (Decimal("0.8") + Decimal("0.0999"), Decimal(0))


def test_a_marketable_limit_order_fills_at_once_at_the_current_price_as_taker(
    rules_2024: dict[str, MarketRules],
) -> None:
    e = engine(rules_2024, USDT="10000", BTC="1")
    buy = e.place(limit(BUY, "0.1", "31000", "b1"), Decimal("30000"), T0)
    sell = e.place(limit(SELL, "0.1", "29000", "s1"), Decimal("30000"), T0)
    for order in (buy, sell):
        (f,) = order.fills
        assert order.status is OrderStatus.FILLED and f.price == Decimal("30000") and not f.is_maker
    assert bal(e, "USDT") == (Decimal("10000") - Decimal("3000") + Decimal("3000") - Decimal("3"), Decimal(0))


def test_partial_fills_are_capped_per_candle_by_participation_then_complete(
    rules_2024: dict[str, MarketRules],
) -> None:
    e = engine(rules_2024, participation="0.1", USDT="10000")
    e.place(limit(BUY, "0.1", "29000", "b1"), Decimal("30000"), T0)
    # candle 1: volume 0.3 BTC -> at most 0.03 for this order, however many path segments touch it
    assert [
        f.amount
        for f in e.advance("BTC/USDT", Decimal("28900"), Decimal("29100"), T0, Decimal("0.3"), T0 + 20_000)
    ] == [Decimal("0.03")]
    assert e.advance("BTC/USDT", Decimal("28800"), Decimal("29100"), T0, Decimal("0.3"), T0 + 59_000) == []
    order = e.order("b1")
    assert order is not None and order.status is OrderStatus.OPEN and order.filled == Decimal("0.03")
    assert order.remaining == Decimal("0.07")
    assert bal(e, "USDT") == (Decimal("7100"), Decimal("2030"))  # 0.07 x 29000 still reserved
    # candle 2: 0.123456789 x 0.1 = 0.0123456789, truncated to the 0.00001 lot step
    (f,) = e.advance(
        "BTC/USDT", Decimal("28000"), Decimal("29500"), T0 + 60_000, Decimal("0.123456789"), T0 + 70_000
    )
    assert f.amount == Decimal("0.01234")
    # a candle that does not reach the price fills nothing; a big one completes the order
    assert (
        e.advance(
            "BTC/USDT", Decimal("29000.01"), Decimal("29500"), T0 + 120_000, Decimal("100"), T0 + 130_000
        )
        == []
    )
    (f,) = e.advance(
        "BTC/USDT", Decimal("28000"), Decimal("29500"), T0 + 180_000, Decimal("100"), T0 + 190_000
    )
    assert f.amount == Decimal("0.05766")
    order = e.order("b1")
    assert order is not None and order.status is OrderStatus.FILLED and order.filled == Decimal("0.1")
    assert [x.amount for x in order.fills] == [Decimal("0.03"), Decimal("0.01234"), Decimal("0.05766")]
    assert bal(e, "USDT") == (Decimal("7100"), Decimal(0))
    assert bal(e, "BTC")[0] == Decimal("0.1") - sum(x.fee for x in order.fills)
    # zero-volume candles (the 2023-03-24 trading halt) fill nothing
    e.place(limit(BUY, "0.01", "29000", "b2"), Decimal("30000"), T0)
    assert (
        e.advance("BTC/USDT", Decimal("28080"), Decimal("28080"), T0 + 240_000, Decimal(0), T0 + 250_000)
        == []
    )


def test_price_is_rounded_to_the_tick_and_amount_truncated_to_the_step_first(
    rules_2024: dict[str, MarketRules], rules_2021: dict[str, MarketRules]
) -> None:
    e = engine(rules_2024, USDT="10000")
    order = e.place(limit(BUY, "0.123456789", "29000.005", "b1"), Decimal("30000"), T0)
    assert (order.amount, order.price) == (Decimal("0.12345"), Decimal("29000.01"))
    assert bal(e, "USDT")[1] == Decimal("0.12345") * Decimal("29000.01")
    # the 2021 rules have a finer BTC step (0.000001) and XRP a 0.0001 tick with 0.01 lots
    e21 = engine(rules_2021, USDT="10000")
    assert e21.place(limit(BUY, "0.123456789", "29000.004", "b1"), Decimal("30000"), T0).amount == Decimal(
        "0.123456"
    )
    xrp = e21.place(limit(BUY, "100.129", "1.23456", "x1", "XRP/USDT"), Decimal("1.3"), T0)
    assert (xrp.amount, xrp.price) == (Decimal("100.12"), Decimal("1.2346"))


def test_amount_below_minimum_is_refused_with_binance_lot_size_error(
    rules_2024: dict[str, MarketRules], rules_2021: dict[str, MarketRules]
) -> None:
    e = engine(rules_2024, USDT="10000")
    with pytest.raises(AmountBelowMinimum) as err:
        e.place(limit(BUY, "0.000001", "30000", "b1"), Decimal("30000"), T0)
    assert (err.value.exchange_code, err.value.exchange_message) == (-1013, "Filter failure: LOT_SIZE")
    assert err.value.message == "Order amount 0.000001 BTC is below the minimum of 0.00001 BTC for BTC/USDT."
    assert err.value.hint == "Increase the amount." and err.value.minimum == Decimal("0.00001")
    # XRP/USDT in 2024 trades whole coins only: 0.9 XRP truncates to 0
    with pytest.raises(AmountBelowMinimum, match="minimum of 1 XRP"):
        e.place(market(BUY, "0.9", "x1", "XRP/USDT"), Decimal("0.5"), T0)
    with pytest.raises(AmountBelowMinimum, match=r"minimum of 0\.001 ETH for ETH/BTC"):
        engine(rules_2021, BTC="1").place(limit(SELL, "0.0009", "0.05", "e1", "ETH/BTC"), Decimal("0.05"), T0)
    assert e.order("b1") is None and bal(e, "USDT") == (Decimal("10000"), Decimal(0))


def test_notional_below_minimum_names_the_filter_of_each_schema(
    rules_2024: dict[str, MarketRules], rules_2021: dict[str, MarketRules]
) -> None:
    with pytest.raises(NotionalBelowMinimum) as err:
        engine(rules_2024, USDT="100").place(limit(BUY, "0.0001", "30000", "b1"), Decimal("30000"), T0)
    assert (err.value.exchange_code, err.value.exchange_message) == (-1013, "Filter failure: NOTIONAL")
    assert err.value.message == "Order value 3 USDT is below the minimum of 5 USDT for BTC/USDT."
    assert err.value.minimum == Decimal(5)

    with pytest.raises(NotionalBelowMinimum) as err:
        engine(rules_2021, USDT="100").place(limit(BUY, "0.0003", "30000", "b1"), Decimal("30000"), T0)
    assert (err.value.exchange_code, err.value.exchange_message) == (-1013, "Filter failure: MIN_NOTIONAL")
    assert "below the minimum of 10 USDT for BTC/USDT" in err.value.message and err.value.minimum == Decimal(
        10
    )

    # a market order is valued at the current price
    with pytest.raises(NotionalBelowMinimum) as err:
        engine(rules_2021, USDT="100").place(market(BUY, "0.0003", "m1"), Decimal("30000"), T0)
    assert "Order value 9 USDT at the current price of 30000 USDT" in err.value.message
    engine(rules_2021, USDT="100").place(market(BUY, "0.0003", "m1"), Decimal("40000"), T0)  # 12 USDT: fine


def test_insufficient_funds_is_refused_and_places_nothing(rules_2024: dict[str, MarketRules]) -> None:
    e = engine(rules_2024, USDT="1000", BTC="0.01")
    with pytest.raises(InsufficientFunds) as err:
        e.place(limit(BUY, "0.1", "29000", "b1"), Decimal("30000"), T0)
    assert (err.value.exchange_code, err.value.exchange_message) == (
        -2010,
        "Account has insufficient balance for requested action.",
    )
    assert err.value.message == "Not enough USDT: the order needs 2900 USDT but only 1000 USDT is free."
    with pytest.raises(InsufficientFunds, match=r"needs 0\.02 BTC but only 0\.01 BTC"):
        e.place(market(SELL, "0.02", "s1"), Decimal("30000"), T0)
    # funds held by an open order are not free
    e.place(limit(BUY, "0.03", "29000", "b2"), Decimal("30000"), T0)
    with pytest.raises(InsufficientFunds):
        e.place(market(BUY, "0.01", "b3"), Decimal("30000"), T0)
    # a refused order was never placed: its client id is still free
    assert e.order("b1") is None
    e.place(limit(BUY, "0.001", "29000", "b1"), Decimal("30000"), T0)


def test_a_client_order_id_is_never_accepted_twice(rules_2024: dict[str, MarketRules]) -> None:
    e = engine(rules_2024, USDT="10000")
    e.place(market(BUY, "0.01", "filled"), Decimal("30000"), T0)
    e.place(limit(BUY, "0.01", "20000", "canceled"), Decimal("30000"), T0)
    e.cancel("BTC/USDT", "canceled", T0)
    e.place(limit(BUY, "0.01", "20000", "open"), Decimal("30000"), T0)
    for cid in ("filled", "canceled", "open"):
        with pytest.raises(DuplicateClientOrderId) as err:
            e.place(limit(BUY, "0.01", "20000", cid), Decimal("30000"), T0)
        assert (err.value.exchange_code, err.value.exchange_message) == (-2010, "Duplicate order sent.")
    with pytest.raises(UnknownPair) as unknown:
        e.place(market(BUY, "1", "doge", "DOGE/USDT"), Decimal("0.1"), T0)
    assert (unknown.value.exchange_code, unknown.value.exchange_message) == (-1121, "Invalid symbol.")


def test_cancel_releases_the_reserved_remainder(rules_2024: dict[str, MarketRules]) -> None:
    e = engine(rules_2024, participation="0.1", USDT="10000", BTC="1")
    e.place(limit(BUY, "0.1", "29000", "b1"), Decimal("30000"), T0)
    e.place(limit(SELL, "0.5", "31000", "s1"), Decimal("30000"), T0)
    e.advance("BTC/USDT", Decimal("28000"), Decimal("29500"), T0, Decimal("0.4"), T0 + 1)  # b1 fills 0.04
    canceled = e.cancel("BTC/USDT", "b1", T0 + 2)
    assert (
        canceled.status is OrderStatus.CANCELED
        and canceled.filled == Decimal("0.04")
        and canceled.remaining == 0
    )
    assert bal(e, "USDT") == (Decimal("10000") - Decimal("0.04") * Decimal("29000"), Decimal(0))
    e.cancel("BTC/USDT", "s1", T0 + 3)
    assert bal(e, "BTC") == (Decimal("1") + Decimal("0.04") - Decimal("0.00004"), Decimal(0))
    assert e.open_orders() == []

    with pytest.raises(OrderNotCancelable) as err:
        e.cancel("BTC/USDT", "b1", T0 + 4)
    assert (err.value.exchange_code, err.value.exchange_message) == (-2011, "Unknown order sent.")
    with pytest.raises(OrderNotFound) as missing:
        e.cancel("BTC/USDT", "nope", T0)
    assert (missing.value.exchange_code, missing.value.exchange_message) == (-2013, "Order does not exist.")
    with pytest.raises(OrderNotFound):
        e.cancel("ETH/USDT", "s1", T0)  # the id exists, but not on that pair


def test_changes_restore_an_identical_engine(rules_2024: dict[str, MarketRules]) -> None:
    e = engine(rules_2024, participation="0.1", USDT="10000")
    e.place(market(BUY, "0.01", "m1"), Decimal("30000"), T0)
    e.place(limit(BUY, "0.1", "29000", "b1"), Decimal("30000"), T0)
    e.advance("BTC/USDT", Decimal("28000"), Decimal("29500"), T0, Decimal("0.4"), T0 + 1)
    changes = e.take_changes()
    assert {o.order.client_order_id for o in changes.orders} == {"m1", "b1"}
    assert len(changes.fills) == 2 and {b.asset for b in changes.balances} == {"USDT", "BTC"}
    assert not e.take_changes()

    r = MatchingEngine.restore(rules_2024, e.balances().values(), changes.orders, Decimal("0.1"))
    assert r.balances() == e.balances() and r.open_orders() == e.open_orders() and r.fills() == e.fills()
    # the participation used in the current candle carries over, and ids continue
    assert r.advance("BTC/USDT", Decimal("28000"), Decimal("29500"), T0, Decimal("0.4"), T0 + 2) == []
    (f,) = r.advance("BTC/USDT", Decimal("28000"), Decimal("29500"), T0 + 60_000, Decimal("0.4"), T0 + 60_001)
    assert f.trade_id == "3"
    assert r.place(market(BUY, "0.01", "m2"), Decimal("30000"), T0).exchange_order_id == "3"


def test_open_orders_follow_placing_filling_and_canceling_on_every_pair(
    rules_2024: dict[str, MarketRules],
) -> None:
    e = engine(rules_2024, participation="1", USDT="100000", BTC="1", ETH="10")
    e.place(limit(BUY, "0.01", "29000", "b1"), Decimal("30000"), T0)
    e.place(limit(SELL, "1", "2100", "e1", "ETH/USDT"), Decimal("2000"), T0)
    e.place(limit(SELL, "0.01", "31000", "s1"), Decimal("30000"), T0)
    e.place(limit(BUY, "0.01", "28000", "b2"), Decimal("30000"), T0)
    e.place(market(BUY, "0.01", "m1"), Decimal("30000"), T0)  # fills at once: never open
    assert [o.client_order_id for o in e.open_orders()] == ["b1", "e1", "s1", "b2"]  # oldest first
    assert [o.client_order_id for o in e.open_orders("BTC/USDT")] == ["b1", "s1", "b2"]
    assert e.open_symbols() == {"BTC/USDT", "ETH/USDT"}

    # a segment between the highest buy and the lowest sell reaches nothing, until a higher buy rests
    assert e.advance("BTC/USDT", Decimal("29000.01"), Decimal("30999.99"), T0, Decimal(10), T0 + 1) == []
    e.place(limit(BUY, "0.01", "29500", "b3"), Decimal("30000"), T0)
    (f,) = e.advance("BTC/USDT", Decimal("29400"), Decimal("30999.99"), T0, Decimal(10), T0 + 1)
    assert f.client_order_id == "b3"
    # one down to the highest buy fills it; then the next buy is the highest
    (f,) = e.advance("BTC/USDT", Decimal("29000"), Decimal("30000"), T0, Decimal(10), T0 + 2)
    assert f.client_order_id == "b1"
    assert e.advance("BTC/USDT", Decimal("28500"), Decimal("30000"), T0, Decimal(10), T0 + 3) == []
    (f,) = e.advance("BTC/USDT", Decimal("27000"), Decimal("30000"), T0, Decimal(10), T0 + 4)
    assert f.client_order_id == "b2"
    e.cancel("BTC/USDT", "s1", T0 + 5)
    assert e.advance("BTC/USDT", Decimal("20000"), Decimal("40000"), T0, Decimal(10), T0 + 6) == []
    assert [o.client_order_id for o in e.open_orders()] == ["e1"] and e.open_symbols() == {"ETH/USDT"}

    e.place(limit(SELL, "0.01", "32000", "s2"), Decimal("30000"), T0 + 7)
    r = MatchingEngine.restore(rules_2024, e.balances().values(), e.take_changes().orders, Decimal("1"))
    assert [o.client_order_id for o in r.open_orders()] == ["e1", "s2"]
    (f,) = r.advance("BTC/USDT", Decimal("30000"), Decimal("32000"), T0 + 60_000, Decimal(10), T0 + 60_001)
    assert f.client_order_id == "s2" and r.open_symbols() == {"ETH/USDT"}
