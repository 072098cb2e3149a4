"""DCA strategy math: the safety-order ladder by hand, exchange rounding, problems, validation, properties."""

from __future__ import annotations

import re
from decimal import Decimal as D  # noqa: N817 - short money literals read better in tables
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import (
    DcaParams,
    DcaPreview,
    dca_preview,
    free_balance_problem,
    funds_needed,
    funds_per_deal,
    max_deviation_pct,
    safety_order_deviation_pct,
    safety_order_size,
    take_profit_price,
)
from cryptobots_desktop.core.strategies.validation import field_problems


def market(
    symbol: str, tick: str, step: str, min_amount: str, min_notional: str, fee: str = "0.001"
) -> Market:
    base, quote = symbol.split("/")
    return Market(
        symbol,
        base + quote,
        base,
        quote,
        D(tick),
        D(step),
        D(min_amount),
        D(9_000_000),
        D(min_notional),
        D(fee),
        D(fee),
    )


BTC = market("BTC/USDT", "0.01", "0.00001", "0.00001", "5")
XRP = market("XRP/USDT", "0.0001", "1", "1", "5")
NO_FEES = market("TST/USDT", "0.01", "0.00001", "0.00001", "5", fee="0")


def params(**kw: Any) -> DcaParams:
    defaults: dict[str, Any] = {
        "base_order_size": "10",
        "safety_order_size": "10",
        "max_safety_orders": 3,
        "price_deviation_pct": "1",
        "take_profit_pct": "1",
    }
    return DcaParams.model_validate(defaults | kw)


def test_ladder_with_step_and_volume_scales_by_hand() -> None:
    p = params(safety_order_step_scale="2", safety_order_volume_scale="2")
    # deviations d_i = 1 × (1 + 2 + … + 2^(i−1)): d1 = 1, d2 = 1 + 2 = 3, d3 = 1 + 2 + 4 = 7
    assert [safety_order_deviation_pct(p, i) for i in range(4)] == [0, 1, 3, 7]
    # sizes 10 × 2^(i−1): 10, 20, 40; funds per deal 10 + 10 + 20 + 40 = 80
    assert [safety_order_size(p, i) for i in (1, 2, 3)] == [10, 20, 40]
    assert funds_per_deal(p) == funds_needed(p) == 80
    assert max_deviation_pct(p) == 7

    preview = dca_preview(p, NO_FEES, D(100))
    assert preview.problems == ()
    rows = preview.rows
    # prices 100 × (1 − d/100): 100, 99, 97, 93 (all exact at the 0.01 tick)
    assert [r.price for r in rows] == [100, 99, 97, 93]
    assert [r.size for r in rows] == [10, 10, 20, 40]
    assert [r.cumulative_size for r in rows] == [10, 20, 40, 80]
    # amounts truncated to 0.00001: 10/100 = 0.1; 10/99 = 0.101010… → 0.10101;
    # 20/97 = 0.2061855… → 0.20618; 40/93 = 0.4301075… → 0.43010
    assert [r.amount for r in rows] == [D("0.1"), D("0.10101"), D("0.20618"), D("0.4301")]
    # costs amount × price: 10, 0.10101 × 99 = 9.99999, 0.20618 × 97 = 19.99946, 0.4301 × 93 = 39.9993
    assert [r.cost for r in rows] == [10, D("9.99999"), D("19.99946"), D("39.9993")]
    # cumulative: spent 10, 19.99999, 39.99945, 79.99875; held (no fees) 0.1, 0.20101, 0.40719, 0.83729
    assert [r.quote_spent for r in rows] == [10, D("19.99999"), D("39.99945"), D("79.99875")]
    assert [r.base_held for r in rows] == [D("0.1"), D("0.20101"), D("0.40719"), D("0.83729")]
    # average entry = spent / held: 100, 99.4974…, 98.2328…, 95.5448…
    assert [r.average_entry for r in rows] == [
        D(100),
        D("19.99999") / D("0.20101"),
        D("39.99945") / D("0.40719"),
        D("79.99875") / D("0.83729"),
    ]
    # take profit 1 %, rounded up to 0.01: 101.00; 99.4974… × 1.01 = 100.4924… → 100.50;
    # 98.2328… × 1.01 = 99.2152… → 99.22; 95.5448… × 1.01 = 96.5003… → 96.51
    assert [r.take_profit_price for r in rows] == [D(101), D("100.50"), D("99.22"), D("96.51")]
    # profit with no fees = held × TP − spent, e.g. after SO 3: 0.83729 × 96.51 − 79.99875 = 0.8060979
    assert rows[3].profit_at_take_profit == D("0.83729") * D("96.51") - D("79.99875")
    assert [r.label for r in rows] == ["Base order", "Safety order 1", "Safety order 2", "Safety order 3"]


def test_ladder_with_even_steps_and_fees_by_hand() -> None:
    p = params(base_order_size="20", price_deviation_pct="2.5", take_profit_pct="1.5")
    preview = dca_preview(p, BTC, D(30000))
    rows = preview.rows
    # step scale 1: d_i = 2.5 × i → 2.5, 5, 7.5 %; prices 29250, 28500, 27750; sizes 10 each
    assert [r.deviation_pct for r in rows] == [0, D("2.5"), 5, D("7.5")]
    assert [r.price for r in rows] == [30000, 29250, 28500, 27750]
    # amounts: 20/30000 = 0.000666… → 0.00066; 10/29250 = 0.000341… → 0.00034;
    # 10/28500 = 0.000350… → 0.00035; 10/27750 = 0.000360… → 0.00036
    assert [r.amount for r in rows] == [D("0.00066"), D("0.00034"), D("0.00035"), D("0.00036")]
    # costs: 19.8, 9.945, 9.975, 9.99 → spent 19.8, 29.745, 39.72, 49.71 (funds per deal 50)
    assert [r.quote_spent for r in rows] == [D("19.8"), D("29.745"), D("39.72"), D("49.71")]
    assert preview.funds_per_deal == 50
    # buy fee 0.1 % taken in BTC: held 0.00066 × 0.999 = 0.00065934, + 0.00034 × 0.999 = 0.000999,
    # + 0.00035 × 0.999 = 0.00134865, + 0.00036 × 0.999 = 0.00170829
    assert [r.base_held for r in rows] == [D("0.00065934"), D("0.000999"), D("0.00134865"), D("0.00170829")]
    # entries 19.8/0.00065934 = 30030.03…, 29.745/0.000999 = 29774.77…, 39.72/0.00134865 = 29451.67…,
    # 49.71/0.00170829 = 29099.27…; × 1.015 rounded up: 30480.49, 30221.40, 29893.45, 29535.77
    assert rows[1].average_entry == D("29.745") / D("0.000999")
    assert [r.take_profit_price for r in rows] == [D("30480.49"), D("30221.40"), D("29893.45"), D("29535.77")]
    # profit net of the 0.1 % sell fee (paid in USDT) after SO 3: 0.00170829 × 29535.77 × 0.999 − 49.71
    assert rows[3].profit_at_take_profit == D("0.00170829") * D("29535.77") * D("0.999") - D("49.71")
    assert preview.problems == ()


def test_take_profit_rounds_up_to_the_tick() -> None:
    assert take_profit_price(D("0.5"), D("1"), XRP) == D("0.505")
    assert take_profit_price(D("0.50001"), D("1"), XRP) == D("0.5051")  # 0.5050101 → up to 0.5051
    assert take_profit_price(D(100), D("1"), BTC) == D(101)


def test_xrp_rounds_amounts_to_whole_coins_and_prices_down_to_the_tick() -> None:
    p = params(safety_order_size="6", max_safety_orders=2, price_deviation_pct="3")
    rows = dca_preview(p, XRP, D("0.5123")).rows
    # SO1 0.5123 × 0.97 = 0.496931 → down to 0.4969; SO2 0.5123 × 0.94 = 0.481562 → 0.4815
    assert [r.price for r in rows] == [D("0.5123"), D("0.4969"), D("0.4815")]
    # 10/0.5123 = 19.52 → 19 XRP; 6/0.4969 = 12.07 → 12; 6/0.4815 = 12.46 → 12
    assert [r.amount for r in rows] == [19, 12, 12]
    assert [r.cost for r in rows] == [D("9.7337"), D("5.9628"), D("5.778")]


def test_orders_under_the_minimum_notional_are_named() -> None:
    # 5.2/0.4969 = 10.46 → 10 XRP = 4.969 USDT; 5.2/0.4815 = 10.79 → 10 XRP = 4.815 USDT: both under 5
    p = params(safety_order_size="5.2", max_safety_orders=2, price_deviation_pct="3")
    assert dca_preview(p, XRP, D("0.5123")).problems == (
        "Safety orders 1 and 2 would each be under the exchange minimum of 5 USDT for XRP/USDT "
        "(safety order 1 would be 4.96 USDT). Raise the safety order size.",
    )
    # BTC at 30000: SO1 at 29700 buys 4.2/29700 = 0.000141… → 0.00014 BTC = 4.158 USDT (shown cut, 4.15)
    p = params(safety_order_size="4.2", max_safety_orders=1)
    assert dca_preview(p, BTC, D(30000)).problems == (
        "Safety order 1 would be 4.15 USDT, under the exchange minimum of 5 USDT for BTC/USDT. "
        "Raise the safety order size.",
    )


def test_a_base_order_at_the_minimum_leaves_too_little_to_sell_after_the_fee() -> None:
    # 5/30000 = 0.000166… → 0.00016 BTC = 4.8 USDT (under 5); after the 0.1 % fee 0.00015984 BTC is held,
    # which the lot step cuts to 0.00015; at the take profit 30300 that sells for 4.545 USDT
    problems = dca_preview(params(base_order_size="5", max_safety_orders=0), BTC, D(30000)).problems
    assert problems == (
        "Base order would be 4.80 USDT, under the exchange minimum of 5 USDT for BTC/USDT. "
        "Raise the base order size.",
        "The take-profit sell after the base order alone would be 4.54 USDT, under the exchange minimum "
        "of 5 USDT for BTC/USDT. Raise the base order size.",
    )


def test_orders_that_buy_nothing_and_prices_at_or_below_zero() -> None:
    p = params(safety_order_size="0.1", max_safety_orders=1)
    assert dca_preview(p, BTC, D(30000)).problems[0] == (
        "Safety order 1 would spend 0.1 USDT at 29700.00 USDT, too small to buy the lot step of "
        "0.00001 BTC for BTC/USDT. Raise the safety order size."
    )
    # d = 30, 90, 210, 450 %: safety orders 3 and 4 would be priced below zero
    p = params(
        price_deviation_pct="30", safety_order_step_scale="2", max_safety_orders=4, base_order_size="100"
    )
    preview = dca_preview(p, BTC, D(30000))
    assert len(preview.rows) == 3
    assert preview.problems[-1] == (
        "Safety orders 3 and 4 would be priced at or below zero (safety order 3 is 210 % below the base "
        "order's price): no orders can be placed there. Lower the price deviation, the safety order step "
        "scale or the max safety orders."
    )
    # at 0.0003 a 70 % deviation is 0.00009, under XRP's 0.0001 tick
    p = params(price_deviation_pct="70", max_safety_orders=1, base_order_size="100")
    assert dca_preview(p, XRP, D("0.0003")).problems[-1] == (
        "Safety order 1 would be priced at 0.00009 USDT, which rounds to 0 at this market's tick of "
        "0.0001 USDT: no order can be placed there. Lower the price deviation, the safety order step scale "
        "or the max safety orders."
    )


def test_safety_orders_that_round_to_the_same_price() -> None:
    p = params(price_deviation_pct="1", max_safety_orders=2, safety_order_size="100", base_order_size="100")
    # at 1.0000 on a 0.01 tick market: SO1 0.99, SO2 0.98 — distinct; at 0.5 → 0.495 → 0.49, 0.49
    problems = dca_preview(p, NO_FEES, D("0.5")).problems
    assert problems == (
        "Safety order 2 rounds to the same price as safety order 1 (0.49 USDT) at this market's tick of "
        "0.01 USDT. Raise the price deviation or the safety order step scale.",
    )


def test_stop_loss_price_and_totals_for_several_deals() -> None:
    p = params(stop_loss_pct="10", max_active_deals=3)
    preview = dca_preview(p, BTC, D("30000.005"))
    assert preview.base_price == D(30000)  # buys round down to the tick
    assert preview.stop_loss_price == D(27000)
    assert (preview.funds_per_deal, preview.funds_needed) == (40, 120)


def test_free_balance_shortfall() -> None:
    assert free_balance_problem(params(max_active_deals=3), D(200), "USDT") is None
    assert free_balance_problem(params(max_active_deals=3), D("100.5"), "USDT") == (
        "The bot may need up to 120.00 USDT for 3 deals at once (40.00 USDT each), but only 100.50 USDT "
        "is free: 19.50 USDT short. Add funds, or lower the order sizes, the max safety orders or the max "
        "active deals."
    )
    assert free_balance_problem(params(), D(0), "USDT") == (
        "The bot may need up to 40.00 USDT for its deal, but only 0 USDT is free: 40.00 USDT short. Add "
        "funds, or lower the order sizes, the max safety orders or the max active deals."
    )
    # the same settings started on three pairs at once: three bots' worth of the quote
    assert free_balance_problem(params(max_active_deals=3), D(360), "USDT", bots=3) is None
    assert free_balance_problem(params(max_active_deals=3), D(300), "USDT", bots=3) == (
        "The 3 bots may need up to 360.00 USDT for their deals (120.00 USDT each), but only 300.00 USDT is "
        "free: 60.00 USDT short. Add funds, choose fewer pairs, or lower the order sizes, the max safety "
        "orders or the max active deals."
    )


INVALID = [
    ({"base_order_size": "0"}, "Base order size", "Base order size must be more than 0"),
    ({"safety_order_size": "-1"}, "Safety order size", "Safety order size cannot be negative"),
    (
        {"safety_order_size": "0"},
        "Safety order size",
        "Safety order size must be more than 0 when Max safety",
    ),
    ({"max_safety_orders": 101}, "Max safety orders", "Max safety orders must be between 0 and 100."),
    ({"price_deviation_pct": "0"}, "Price deviation", "Price deviation must be more than 0 %"),
    ({"price_deviation_pct": "100"}, "Price deviation", "Price deviation must be under 100 %"),
    (
        {"safety_order_step_scale": "0"},
        "Safety order step scale",
        "Safety order step scale must be more than 0",
    ),
    (
        {"safety_order_volume_scale": "-2"},
        "Safety order volume scale",
        "Safety order volume scale must be more",
    ),
    ({"take_profit_pct": "0"}, "Take profit", "Take profit must be more than 0 %"),
    ({"trailing_take_profit": True}, "Trailing deviation", "Trailing deviation is required when Trailing"),
    (
        {"trailing_take_profit": True, "trailing_deviation_pct": "1.5"},
        "Trailing deviation",
        "Trailing deviation (1.5 %) must be smaller than Take profit (1 %)",
    ),
    (
        {"trailing_take_profit": True, "trailing_deviation_pct": "0"},
        "Trailing deviation",
        "Trailing deviation must be more than 0 %.",
    ),
    ({"stop_loss_pct": "0"}, "Stop loss", "Stop loss must be more than 0 %, or left empty"),
    ({"stop_loss_pct": "100"}, "Stop loss", "Stop loss must be under 100 %"),
    (
        {"stop_loss_pct": "3"},
        "Stop loss",
        "Stop loss (3 %) must be beyond the last safety order, which buys 3 % below the base order's price",
    ),
    ({"cooldown_seconds": -1}, "Cooldown", "Cooldown cannot be negative"),
    ({"max_active_deals": 0}, "Max active deals", "Max active deals must be at least 1."),
    ({"base_order_size": "ten"}, "Base order size", "Base order size must be a number, like 10 or 2.5."),
    ({"base_order_size": "NaN"}, "Base order size", "Base order size must be an ordinary number"),
    ({"max_safety_orders": "2.5"}, "Max safety orders", "Max safety orders must be a whole number."),
    ({"take_profit_pct": None}, "Take profit", "Take profit must be a number"),
    ({"bogus": 1}, "bogus", "bogus is not a setting of this bot; remove it."),
]


@pytest.mark.parametrize(("change", "label", "sentence"), INVALID)
def test_each_invalid_setting_has_its_sentence(change: dict[str, Any], label: str, sentence: str) -> None:
    with pytest.raises(ValidationError) as info:
        params(**change)
    problems = field_problems(info.value, DcaParams)
    assert len(problems) == 1, problems
    assert problems[0][0] == label
    assert problems[0][1].startswith(sentence), problems[0][1]


def test_missing_settings_and_several_errors_at_once() -> None:
    with pytest.raises(ValidationError) as info:
        DcaParams.model_validate({"base_order_size": "-1", "take_profit_pct": "0"})
    assert field_problems(info.value, DcaParams) == [
        ("Base order size", "Base order size must be more than 0: it is how much of the quote currency (e.g. "
         "USDT) the first buy of each deal spends."),
        ("Safety order size", "Safety order size is required."),
        ("Max safety orders", "Max safety orders is required."),
        ("Price deviation", "Price deviation is required."),
        ("Take profit", "Take profit must be more than 0 %: it is how far above the average entry the deal "
         "sells."),
    ]  # fmt: skip


def test_valid_edge_settings() -> None:
    p = params(safety_order_size="0", max_safety_orders=0, stop_loss_pct="0.5")  # no SOs: any stop loss
    assert funds_per_deal(p) == 10
    p = params(trailing_take_profit=False, trailing_deviation_pct="-3")  # unused without trailing
    assert p.trailing_deviation_pct == -3
    p = params(trailing_take_profit=True, trailing_deviation_pct="0.5", stop_loss_pct="3.01")
    assert p.stop_loss_pct == D("3.01")
    with pytest.raises(ValidationError, match="frozen"):
        setattr(p, "take_profit_pct", D(2))  # noqa: B010 - the model is frozen


# ---- properties -------------------------------------------------------------------------------------

MARKETS = [BTC, XRP, NO_FEES, market("SHIB/USDT", "0.00000001", "1", "1", "1", fee="0.00075")]
money = st.decimals(min_value=D("0.5"), max_value=D(500), places=2)
pct = st.decimals(min_value=D("0.1"), max_value=D(20), places=2)
scale = st.decimals(min_value=D("0.5"), max_value=D(3), places=2)


@st.composite
def dca_cases(draw: st.DrawFn) -> tuple[DcaParams, Market, D]:
    p = DcaParams(
        base_order_size=draw(money),
        safety_order_size=draw(money),
        max_safety_orders=draw(st.integers(0, 12)),
        price_deviation_pct=draw(pct),
        safety_order_step_scale=draw(scale),
        safety_order_volume_scale=draw(scale),
        take_profit_pct=draw(pct),
    )
    m = draw(st.sampled_from(MARKETS))
    price = draw(st.decimals(min_value=D("0.00001"), max_value=D(100_000), places=5))
    return p, m, max(m.price_tick, price)


def named(label: str, problems: tuple[str, ...]) -> bool:
    """Whether some problem names ``label`` ("Safety order 3") alone or inside a range of safety orders."""
    if any(re.match(rf"{label}\b", p) for p in problems):
        return True
    index = int(label.rsplit(" ", 1)[1]) if label.startswith("Safety") else -1
    for p in problems:
        for first, last in re.findall(r"^Safety orders (\d+) (?:to|and) (\d+)", p):
            if int(first) <= index <= int(last):
                return True
    return False


def sell_named(index: int, problems: tuple[str, ...]) -> bool:
    if index == 0:
        return any(p.startswith("The take-profit sell after the base order alone") for p in problems)
    if any(p.startswith(f"The take-profit sell after safety order {index} ") for p in problems):
        return True
    ranges = (
        re.findall(r"^The take-profit sells after safety orders (\d+) (?:to|and) (\d+)", p) for p in problems
    )
    return any(int(a) <= index <= int(b) for found in ranges for a, b in found)


def check_minimums(preview: DcaPreview, m: Market) -> None:
    for row in preview.rows:
        if row.amount < max(m.min_amount, m.amount_step) or row.cost < m.min_notional:
            assert named(row.label, preview.problems), (row, preview.problems)
        if row.take_profit_price is not None:
            sell = m.floor_amount(row.base_held)
            if sell < max(m.min_amount, m.amount_step) or sell * row.take_profit_price < m.min_notional:
                assert sell_named(row.index, preview.problems), (row, preview.problems)


@settings(max_examples=150, deadline=None)
@given(dca_cases())
def test_no_order_under_the_minimum_goes_unmentioned(case: tuple[DcaParams, Market, D]) -> None:
    p, m, price = case
    preview = dca_preview(p, m, price)
    check_minimums(preview, m)
    if len(preview.rows) < p.max_safety_orders + 1:
        assert any("at or below zero" in x or "rounds to 0" in x for x in preview.problems)


@settings(max_examples=150, deadline=None)
@given(dca_cases())
def test_deviations_increase_and_the_average_entry_never_rises(case: tuple[DcaParams, Market, D]) -> None:
    p, m, price = case
    deviations = [safety_order_deviation_pct(p, i) for i in range(p.max_safety_orders + 1)]
    assert all(a < b for a, b in pairwise(deviations))
    rows = dca_preview(p, m, price).rows
    assert all(a.price >= b.price for a, b in pairwise(rows))
    entries = [r.average_entry for r in rows if r.average_entry is not None]
    assert all(a >= b for a, b in pairwise(entries))
    assert all(r.cost <= r.size for r in rows)
