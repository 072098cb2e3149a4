"""Grid bots: levels between a lower and an upper price, a buy below the price and a sell above it.

With ``n`` levels from ``L`` to ``U`` (level ``i`` = 0 … n−1 before rounding):

* arithmetic spacing: equal price steps, ``p_i = L + i × (U − L)/(n − 1)``;
* geometric spacing: equal ratios, ``p_i = L × (U/L)^(i/(n − 1))``;

each rounded to the **nearest** tick (a grid level is neither a buy nor a sell price by nature), then
deduplicated. Every level trades ``amount_per_level`` of the base asset, truncated to the lot step.

At the start, levels below the current price hold buys and levels above it hold sells; the level nearest
the current price stays empty (on a tie, the lower one), as usual grid bots do. Buys need quote
``Σ amount × p`` and sells need base ``amount × (number of sells)``.

One grid step from ``p_i`` to ``p_(i+1)`` buys ``a`` at ``p_i`` and sells what was received at
``p_(i+1)``, both as maker orders with fee rate ``f`` (the buy's fee taken in base, the sell's in quote):
profit per step ``= (p_(i+1)/p_i) × (1 − f)² − 1``, in % (about the step % minus twice the fee %).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum
from itertools import pairwise

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from cryptobots_desktop.core.market import Market, quantize_to_step
from cryptobots_desktop.core.orders import OrderSide
from cryptobots_desktop.core.strategies.validation import fmt_fixed, fmt_number, fmt_pct, fmt_quote, reject

HUNDRED = Decimal(100)
MIN_LEVELS, MAX_LEVELS = 2, 200


class GridSpacing(StrEnum):
    """How the levels are spread: equal price steps or equal ratios."""

    ARITHMETIC = "arithmetic"
    GEOMETRIC = "geometric"


class GridParams(BaseModel):
    """The settings of a grid bot; prices in the quote currency, ``amount_per_level`` in the base asset."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lower_price: Decimal = Field(title="Lower price", description="The lowest level of the grid.")
    upper_price: Decimal = Field(title="Upper price", description="The highest level of the grid.")
    levels: int = Field(title="Grid levels", description="How many prices the grid trades at, 2 to 200.")
    spacing: GridSpacing = Field(GridSpacing.ARITHMETIC, title="Spacing")
    amount_per_level: Decimal = Field(title="Amount per level", description="Base asset each order trades.")

    @field_validator("lower_price")
    @classmethod
    def _check_lower(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject("Lower price must be more than 0.")
        return value

    @field_validator("upper_price")
    @classmethod
    def _check_upper(cls, value: Decimal, info: ValidationInfo) -> Decimal:
        lower = info.data.get("lower_price")
        if lower is not None and value <= lower:
            reject(
                f"Upper price ({fmt_number(value)}) must be above the lower price ({fmt_number(lower)}). "
                "Raise the upper price or lower the lower price."
            )
        if value <= 0:
            reject("Upper price must be more than 0.")
        return value

    @field_validator("levels")
    @classmethod
    def _check_levels(cls, value: int) -> int:
        if not MIN_LEVELS <= value <= MAX_LEVELS:
            reject(f"Grid levels must be between {MIN_LEVELS} and {MAX_LEVELS}.")
        return value

    @field_validator("amount_per_level")
    @classmethod
    def _check_amount(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject(
                "Amount per level must be more than 0: it is how much of the base asset (e.g. BTC) "
                "each grid order buys or sells."
            )
        return value


@dataclass(frozen=True, slots=True)
class GridLevels:
    """The distinct level prices, lowest first, and what rounding them to the tick cost."""

    prices: tuple[Decimal, ...]
    problems: tuple[str, ...]


def raw_grid_prices(params: GridParams) -> tuple[Decimal, ...]:
    """The ``levels`` prices before rounding, lowest first, ending exactly at the lower and upper price."""
    lower, upper, last = params.lower_price, params.upper_price, params.levels - 1
    if params.spacing is GridSpacing.ARITHMETIC:
        step = (upper - lower) / last
        inner = [lower + i * step for i in range(1, last)]
    else:
        ratio = upper / lower
        inner = [lower * ratio ** (Decimal(i) / last) for i in range(1, last)]
    return (lower, *inner, upper)


def grid_levels(params: GridParams, market: Market) -> GridLevels:
    """Level prices rounded to the nearest tick and deduplicated; says if rounding merged or lost any."""
    quote, tick = market.quote, fmt_number(market.price_tick)
    prices: list[Decimal] = []
    problems: list[str] = []
    for raw in raw_grid_prices(params):
        price = market.round_price(raw)
        if price > 0 and (not prices or price != prices[-1]):
            prices.append(price)
    if market.round_price(params.lower_price) <= 0:
        problems.append(
            f"Lower price ({fmt_number(params.lower_price)} {quote}) rounds to 0 at this market's tick of "
            f"{tick} {quote}, so the levels at 0 are left out. Raise the lower price."
        )
    if len(prices) < params.levels:
        problems.append(
            f"With {params.levels} levels from {fmt_number(params.lower_price)} to "
            f"{fmt_number(params.upper_price)} {quote}, some levels round to the same price at this "
            f"market's tick of {tick} {quote}, leaving {len(prices)} distinct levels. Use fewer levels or a "
            "wider range."
        )
    return GridLevels(tuple(prices), tuple(problems))


def grid_step_profit_pct(low: Decimal, high: Decimal, fee_rate: Decimal) -> Decimal:
    """Profit % of buying at ``low`` and selling what it received at ``high``: ``(high/low)(1 − f)² − 1``."""
    return (high / low * (1 - fee_rate) ** 2 - 1) * HUNDRED


@dataclass(frozen=True, slots=True)
class GridLevel:
    """One level at the start: its order side (None for the empty level), amount and quote value."""

    index: int  # 1-based, from the lowest level
    price: Decimal
    side: OrderSide | None
    amount: Decimal
    value: Decimal


@dataclass(frozen=True, slots=True)
class GridPreview:
    """A grid started at ``price``: its levels, the funds it needs, profit per step and what would go wrong.

    ``quote_for_buys`` is the quote the buy orders reserve; ``base_for_sells`` the base the sell orders
    need, worth ``base_for_sells_value`` at the current price. Profit per step is net of maker fees both ways.
    """

    symbol: str
    price: Decimal
    levels: tuple[GridLevel, ...]
    amount_per_level: Decimal
    quote_for_buys: Decimal
    base_for_sells: Decimal
    base_for_sells_value: Decimal
    profit_per_step_min_pct: Decimal | None
    profit_per_step_max_pct: Decimal | None
    problems: tuple[str, ...]


def _levels_name(first: int, last: int) -> str:
    if first == last:
        return f"Level {first}"
    return f"Levels {first} {'and' if last == first + 1 else 'to'} {last}"


def _amount_problems(
    params: GridParams, market: Market, amount: Decimal, prices: tuple[Decimal, ...]
) -> list[str]:
    """Sentences for an amount per level the exchange would refuse at some or every level."""
    base, quote, symbol = market.base, market.quote, market.symbol
    asked = fmt_number(params.amount_per_level)
    if amount <= 0:
        return [
            f"Amount per level ({asked} {base}) is less than the lot step of "
            f"{fmt_number(market.amount_step)} {base} for {symbol}, so the grid orders would trade nothing. "
            "Raise the amount per level."
        ]
    problems = []
    if amount != params.amount_per_level:
        problems.append(
            f"Amount per level ({asked} {base}) is cut to "
            f"{fmt_fixed(amount, market.amount_decimals)} {base}, the lot step of {symbol}."
        )
    if amount < market.min_amount:
        problems.append(
            f"Amount per level ({fmt_fixed(amount, market.amount_decimals)} {base}) is under the exchange "
            f"minimum of {fmt_number(market.min_amount)} {base} for {symbol}. Raise the amount per level."
        )
        return problems
    if market.max_amount > 0 and amount > market.max_amount:
        problems.append(
            f"Amount per level ({fmt_fixed(amount, market.amount_decimals)} {base}) is over the exchange "
            f"maximum of {fmt_number(market.max_amount)} {base} per order for {symbol}. "
            "Lower the amount per level."
        )
    under = [i for i, p in enumerate(prices, 1) if amount * p < market.min_notional]
    if under:  # values rise with the price, so these are levels 1 … k
        needed = max(
            market.min_amount,
            quantize_to_step(market.min_notional / prices[0], market.amount_step, ROUND_CEILING),
        )
        first_value = f"{fmt_quote(amount * prices[0])} {quote}"
        top = fmt_fixed(prices[under[-1] - 1], market.price_decimals)
        where = (
            f"({fmt_fixed(prices[0], market.price_decimals)} {quote}) would be {first_value} per order, under"
            if len(under) == 1
            else f"(up to {top} {quote}) would each be under"
        )
        example = "" if len(under) == 1 else f" (level 1 would be {first_value})"
        problems.append(
            f"{_levels_name(1, under[-1])} {where} the exchange minimum of {fmt_number(market.min_notional)} "
            f"{quote} for {symbol}{example}. Raise the amount per level to at least "
            f"{fmt_number(needed)} {base}."
        )
    return problems


def _profit_problem(steps: list[tuple[Decimal, Decimal, Decimal]], market: Market) -> str | None:
    """A sentence if some grid step earns nothing after fees, else None."""
    worst = min(steps, key=lambda s: s[2])
    if worst[2] > 0:
        return None
    best = max(steps, key=lambda s: s[2])
    fee = f"the maker fee of {fmt_pct(market.maker_fee * HUNDRED)} % each way"
    advice = "Use fewer levels or a wider range."

    def step(low: Decimal, high: Decimal, net: Decimal) -> str:
        prices = f"{fmt_fixed(low, market.price_decimals)} to {fmt_fixed(high, market.price_decimals)}"
        result = "earn nothing" if net == 0 else f"lose {fmt_pct(-net)} %"
        return f"({prices} {market.quote}, {fmt_pct((high / low - 1) * HUNDRED)} %) would {result} per trade"

    if best[2] <= 0:
        return f"Every grid step loses after {fee}: even the widest {step(*best)}. {advice}"
    return f"The narrowest grid step {step(*worst)} after {fee}. {advice}"


def _range_problem(params: GridParams, market: Market, price: Decimal, base_needed: Decimal) -> str | None:
    quote, base, decimals = market.quote, market.base, market.price_decimals
    now = f"The current price ({fmt_fixed(price, decimals)} {quote})"
    if price > params.upper_price:
        return (
            f"{now} is above the upper price ({fmt_number(params.upper_price)} {quote}): every order is a "
            "buy, so the bot buys nothing until the price falls into the range."
        )
    if price < params.lower_price:
        return (
            f"{now} is below the lower price ({fmt_number(params.lower_price)} {quote}): every order is a "
            f"sell, so the bot needs {fmt_number(base_needed)} {base} up front (about "
            f"{fmt_quote(base_needed * price)} {quote} at the current price) and sells nothing until the "
            "price rises into the range."
        )
    return None


def grid_preview(params: GridParams, market: Market, price: Decimal) -> GridPreview:
    """The grid as it would start at ``price`` on ``market``: sides, funds, profit per step, problems."""
    if price <= 0:
        raise ValueError("the current price must be positive")
    ladder = grid_levels(params, market)
    prices = ladder.prices
    amount = market.floor_amount(params.amount_per_level)
    empty = min(range(len(prices)), key=lambda i: (abs(prices[i] - price), prices[i])) if prices else -1
    levels = tuple(
        GridLevel(
            i + 1,
            p,
            None if i == empty else OrderSide.BUY if p < price else OrderSide.SELL,
            amount,
            amount * p,
        )
        for i, p in enumerate(prices)
    )
    quote_for_buys = sum((lv.value for lv in levels if lv.side is OrderSide.BUY), Decimal(0))
    base_for_sells = amount * sum(1 for lv in levels if lv.side is OrderSide.SELL)
    problems = list(ladder.problems)
    steps = [(lo, hi, grid_step_profit_pct(lo, hi, market.maker_fee)) for lo, hi in pairwise(prices)]
    if not steps:
        problems.append(
            f"Fewer than 2 distinct levels remain at this market's tick of {fmt_number(market.price_tick)} "
            f"{market.quote}: there is no grid to trade. Widen the range."
        )
    problems += _amount_problems(params, market, amount, prices)
    profit = _profit_problem(steps, market) if steps else None
    outside = _range_problem(params, market, price, base_for_sells)
    problems += [p for p in (profit, outside) if p]
    return GridPreview(
        symbol=market.symbol,
        price=price,
        levels=levels,
        amount_per_level=amount,
        quote_for_buys=quote_for_buys,
        base_for_sells=base_for_sells,
        base_for_sells_value=base_for_sells * price,
        profit_per_step_min_pct=min((s[2] for s in steps), default=None),
        profit_per_step_max_pct=max((s[2] for s in steps), default=None),
        problems=tuple(problems),
    )
