"""Grid strategy math: levels by hand (arithmetic, geometric), sides and funds, profit per step, problems."""

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
from cryptobots_desktop.core.orders import OrderSide
from cryptobots_desktop.core.strategies.grid import (
    GridParams,
    GridSpacing,
    grid_levels,
    grid_preview,
    grid_step_profit_pct,
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


def grid(**kw: Any) -> GridParams:
    defaults: dict[str, Any] = {
        "lower_price": "25000",
        "upper_price": "30000",
        "levels": 6,
        "amount_per_level": "0.001",
    }
    return GridParams.model_validate(defaults | kw)


def test_arithmetic_levels_sides_and_funds_by_hand() -> None:
    # (30000 − 25000) / (6 − 1) = 1000 per step
    preview = grid_preview(grid(), BTC, D(27400))
    assert [lv.price for lv in preview.levels] == [25000, 26000, 27000, 28000, 29000, 30000]
    # 27000 is 400 away from 27400, 28000 is 600 away: 27000 stays empty
    assert [lv.side for lv in preview.levels] == [OrderSide.BUY, OrderSide.BUY, None] + [OrderSide.SELL] * 3
    assert [lv.index for lv in preview.levels] == [1, 2, 3, 4, 5, 6]
    # buys 0.001 × 25000 + 0.001 × 26000 = 51 USDT; sells 3 × 0.001 = 0.003 BTC, worth 0.003 × 27400 = 82.2
    assert preview.quote_for_buys == 51
    assert (preview.base_for_sells, preview.base_for_sells_value) == (D("0.003"), D("82.2"))
    # profit per step with 0.1 % maker fee each way: (high/low) × 0.999² − 1, 0.999² = 0.998001
    # widest step 26000/25000 = 1.04 → 1.04 × 0.998001 − 1 = 0.03792104 → 3.792104 %
    # narrowest 30000/29000 = 1.0344827… → 1.0344827… × 0.998001 − 1 = 0.0324148… → 3.24148… %
    assert preview.profit_per_step_max_pct == D("3.792104")
    assert preview.profit_per_step_min_pct == (D(30000) / D(29000) * D("0.998001") - 1) * 100
    assert preview.problems == ()


def test_geometric_levels_by_hand() -> None:
    # ratio (1331/1000)^(1/3) = 1.1: 1000, 1100, 1210, 1331
    p = grid(lower_price="1000", upper_price="1331", levels=4, spacing="geometric", amount_per_level="0.01")
    assert p.spacing is GridSpacing.GEOMETRIC
    preview = grid_preview(p, BTC, D(1150))
    assert [lv.price for lv in preview.levels] == [1000, 1100, 1210, 1331]
    # equal ratios, so every step earns the same: 1.1 × 0.998001 − 1 = 0.0978011 → 9.78011 %
    assert preview.profit_per_step_min_pct == preview.profit_per_step_max_pct == D("9.78011")
    # 1150 is 50 from 1100 and 60 from 1210: 1100 stays empty
    assert [lv.side for lv in preview.levels] == [OrderSide.BUY, None, OrderSide.SELL, OrderSide.SELL]
    # 8^(1/3) = 2 (inexact in Decimal, exact after rounding to the tick): 1, 2, 4, 8
    p = grid(lower_price="1", upper_price="8", levels=4, spacing="geometric")
    assert grid_levels(p, BTC).prices == (1, 2, 4, 8)


def test_a_tie_leaves_the_lower_level_empty() -> None:
    sides = [lv.side for lv in grid_preview(grid(), BTC, D(27500)).levels]
    assert sides == [OrderSide.BUY, OrderSide.BUY, None] + [OrderSide.SELL] * 3


def test_step_profit_formula() -> None:
    # 1 % step, 0.1 % fee each way: 1.01 × 0.998001 − 1 = 0.00798101 → 0.798101 %, about 1 − 2 × 0.1
    assert grid_step_profit_pct(D(100), D(101), D("0.001")) == D("0.798101")
    assert grid_step_profit_pct(D(100), D(101), D(0)) == 1


def test_rounding_merges_levels_and_steps_that_lose_to_fees() -> None:
    # XRP tick 0.0001: 20 levels from 0.5 to 0.501 are 0.0000526… apart, so only 0.5000 … 0.5010 remain
    p = grid(lower_price="0.5", upper_price="0.501", levels=20, amount_per_level="20")
    levels = grid_levels(p, XRP)
    assert levels.prices == tuple(D("0.5") + D("0.0001") * i for i in range(11))
    preview = grid_preview(p, XRP, D("0.5005"))
    # the widest step 0.5001/0.5 = 1.0002 (0.02 %) → 1.0002 × 0.998001 − 1 = −0.0017994… → every step loses
    assert preview.problems == (
        "With 20 levels from 0.5 to 0.501 USDT, some levels round to the same price at this market's tick "
        "of 0.0001 USDT, leaving 11 distinct levels. Use fewer levels or a wider range.",
        "Every grid step loses after the maker fee of 0.1 % each way: even the widest (0.5000 to 0.5001 "
        "USDT, 0.02 %) would lose 0.1799 % per trade. Use fewer levels or a wider range.",
    )


def test_only_the_narrow_steps_lose() -> None:
    # levels 10, 30, 50 with an (absurd) 30 % fee: (1 − 0.3)² = 0.49;
    # 10 → 30: 3 × 0.49 − 1 = 0.47 (+47 %); 30 → 50 (+66.67 %): 5/3 × 0.49 − 1 = −0.18333… (−18.3333 %)
    high_fee = market("T/USDT", "0.01", "0.01", "0.01", "0", fee="0.3")
    problems = grid_preview(
        grid(lower_price="10", upper_price="50", levels=3, amount_per_level="1"), high_fee, D(30)
    )
    assert problems.problems == (
        "The narrowest grid step (30.00 to 50.00 USDT, 66.6667 %) would lose 18.3333 % per trade after the "
        "maker fee of 30 % each way. Use fewer levels or a wider range.",
    )


def test_amounts_under_the_exchange_minimums() -> None:
    # 0.00019 BTC is 4.75 USDT at 25000 and 4.94 at 26000 (under 5), 5.13 at 27000;
    # the smallest amount that works at 25000 is 5/25000 = 0.0002
    problems = grid_preview(grid(amount_per_level="0.00019"), BTC, D(27400)).problems
    assert problems == (
        "Levels 1 and 2 (up to 26000.00 USDT) would each be under the exchange minimum of 5 USDT for "
        "BTC/USDT (level 1 would be 4.75 USDT). Raise the amount per level to at least 0.0002 BTC.",
    )
    problems = grid_preview(grid(amount_per_level="0.000195"), BTC, D(27400)).problems
    assert problems[0] == "Amount per level (0.000195 BTC) is cut to 0.00019 BTC, the lot step of BTC/USDT."
    problems = grid_preview(grid(amount_per_level="0.000001"), BTC, D(27400)).problems
    assert problems == (
        "Amount per level (0.000001 BTC) is less than the lot step of 0.00001 BTC for BTC/USDT, so the grid "
        "orders would trade nothing. Raise the amount per level.",
    )
    problems = grid_preview(
        grid(lower_price="0.5", upper_price="0.6", amount_per_level="0.5"), XRP, D("0.55")
    ).problems
    assert problems[-1].startswith("Amount per level (0.5 XRP) is less than the lot step of 1 XRP")
    # one level under: 11 XRP × 0.4 = 4.4 USDT; 11 × 0.5 = 5.5
    p = grid(lower_price="0.4", upper_price="0.6", levels=3, amount_per_level="11")
    assert grid_preview(p, XRP, D("0.5")).problems == (
        "Level 1 (0.4000 USDT) would be 4.40 USDT per order, under the exchange minimum of 5 USDT for "
        "XRP/USDT. Raise the amount per level to at least 13 XRP.",
    )


def test_price_outside_the_range() -> None:
    above = grid_preview(grid(), BTC, D(31000))
    assert [lv.side for lv in above.levels] == [OrderSide.BUY] * 5 + [None]
    assert above.quote_for_buys == D("0.001") * (25000 + 26000 + 27000 + 28000 + 29000)
    assert above.problems == (
        "The current price (31000.00 USDT) is above the upper price (30000 USDT): every order is a buy, so "
        "the bot buys nothing until the price falls into the range.",
    )
    below = grid_preview(grid(), BTC, D(20000))
    assert [lv.side for lv in below.levels] == [None] + [OrderSide.SELL] * 5
    assert (below.quote_for_buys, below.base_for_sells, below.base_for_sells_value) == (0, D("0.005"), 100)
    assert below.problems == (
        "The current price (20000.00 USDT) is below the lower price (25000 USDT): every order is a sell, so "
        "the bot needs 0.005 BTC up front (about 100.00 USDT at the current price) and sells nothing until "
        "the price rises into the range.",
    )


def test_a_lower_price_under_the_tick() -> None:
    p = grid(lower_price="0.00004", upper_price="0.0003", levels=3, amount_per_level="100000")
    levels = grid_levels(p, XRP)
    # 0.00004 → 0, 0.00017 → 0.0002, 0.0003
    assert levels.prices == (D("0.0002"), D("0.0003"))
    assert levels.problems[0] == (
        "Lower price (0.00004 USDT) rounds to 0 at this market's tick of 0.0001 USDT, so the levels at 0 are "
        "left out. Raise the lower price."
    )
    p = grid(lower_price="0.00001", upper_price="0.00002", levels=2, amount_per_level="100000")
    assert any("no grid to trade" in x for x in grid_preview(p, XRP, D("0.0001")).problems)


INVALID = [
    ({"lower_price": "0"}, "Lower price", "Lower price must be more than 0."),
    ({"upper_price": "25000"}, "Upper price", "Upper price (25000) must be above the lower price (25000)."),
    ({"levels": 1}, "Grid levels", "Grid levels must be between 2 and 200."),
    ({"levels": 201}, "Grid levels", "Grid levels must be between 2 and 200."),
    ({"spacing": "log"}, "Spacing", "Spacing must be one of: 'arithmetic' or 'geometric'."),
    ({"amount_per_level": "0"}, "Amount per level", "Amount per level must be more than 0"),
    ({"amount_per_level": "x"}, "Amount per level", "Amount per level must be a number, like 10 or 2.5."),
]


@pytest.mark.parametrize(("change", "label", "sentence"), INVALID)
def test_each_invalid_setting_has_its_sentence(change: dict[str, Any], label: str, sentence: str) -> None:
    with pytest.raises(ValidationError) as info:
        grid(**change)
    problems = field_problems(info.value, GridParams)
    assert len(problems) == 1, problems
    assert problems[0][0] == label
    assert problems[0][1].startswith(sentence), problems[0][1]


# ---- properties -------------------------------------------------------------------------------------

MARKETS = [BTC, XRP, market("SHIB/USDT", "0.00000001", "1", "1", "1", fee="0.00075")]


@st.composite
def grid_cases(draw: st.DrawFn) -> tuple[GridParams, Market, D]:
    mantissa = draw(st.decimals(min_value=D(1), max_value=D(10), places=3))
    lower = mantissa.scaleb(draw(st.integers(-4, 4)))  # 0.0001 … 100000, spread over the magnitudes
    width = draw(st.decimals(min_value=D("0.001"), max_value=D(3), places=3))
    p = GridParams(
        lower_price=lower,
        upper_price=lower * (1 + width),
        levels=draw(st.integers(2, 60)),
        spacing=draw(st.sampled_from(GridSpacing)),
        amount_per_level=draw(st.decimals(min_value=D("0.00001"), max_value=D(100_000), places=5)),
    )
    price = lower * draw(st.decimals(min_value=D("0.5"), max_value=D(5), places=3))
    return p, draw(st.sampled_from(MARKETS)), price


def names_level(index: int, problems: tuple[str, ...]) -> bool:
    for p in problems:
        found = re.match(r"^Levels? (\d+)(?: (?:to|and) (\d+))?\b", p)
        if found and int(found[1]) <= index <= int(found[2] or found[1]):
            return True
    return False


@settings(max_examples=150, deadline=None)
@given(grid_cases())
def test_no_level_under_the_minimum_goes_unmentioned(case: tuple[GridParams, Market, D]) -> None:
    p, m, price = case
    preview = grid_preview(p, m, price)
    prices = [lv.price for lv in preview.levels]
    assert all(a < b for a, b in pairwise(prices))
    assert all(m.round_price(p.lower_price) <= x <= m.round_price(p.upper_price) for x in prices)
    assert sum(lv.side is None for lv in preview.levels) == (1 if prices else 0)
    for level in preview.levels:
        if level.amount < max(m.min_amount, m.amount_step):
            assert any(x.startswith("Amount per level") for x in preview.problems), preview.problems
        elif level.value < m.min_notional:
            assert names_level(level.index, preview.problems), (level, preview.problems)
    if preview.profit_per_step_min_pct is not None and preview.profit_per_step_min_pct <= 0:
        assert any("grid step" in x for x in preview.problems)
    if len(prices) < p.levels:
        assert any("distinct levels" in x for x in preview.problems)
