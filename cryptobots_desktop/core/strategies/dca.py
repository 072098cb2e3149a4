"""DCA bots with safety orders, with the definitions 3Commas users know.

A deal opens with a **base order** at the current price ``P``, then places up to ``N`` **safety orders**
(limit buys) below it; when the price comes back up to the take-profit price the whole position is sold.
With ``s`` = safety order step scale and ``v`` = safety order volume scale, for safety order ``i`` (1-based):

* size (quote) ``size_i = safety_order_size × v^(i−1)``;
* deviation from the base order's price ``d_i = price_deviation × (1 + s + s² + … + s^(i−1))``
  (so ``d_1 = price_deviation``; with ``s = 1``, ``d_i = i × price_deviation``);
* price ``p_i = P × (1 − d_i/100)``, rounded **down** to the market's price tick (a buy a hair deeper
  than asked, never above it); the base order's price is ``P`` rounded down the same way;
* amount (base) ``a_i = size_i / p_i`` truncated to the market's lot step, so an order spends
  ``cost_i = a_i × p_i ≤ size_i``;
* funds per deal ``= base_order_size + Σ size_i`` (the configured sizes, an upper bound of what is
  spent), and the maximum deviation covered is ``d_N``.

Fees (Binance spot): a buy pays its fee in the **base** asset, so the base a deal holds is
``Σ a_i × (1 − fee rate)``; a sell pays its fee in the **quote** asset. The base order is a market buy
(taker fee); safety orders and the take-profit sell rest on the book (maker fee). So

* average entry ``= quote spent / base held`` (fees included, because the base held is net of them);
* take-profit price ``= average entry × (1 + take_profit/100)``, rounded **up** to the tick (a sell never
  below its target); the sell fee is not in the target, so the profit is ``≈ take_profit − maker fee``;
* the stop-loss price is measured from the base order's price like the deviations:
  ``P × (1 − stop_loss/100)``, rounded up to the tick.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator, model_validator

from cryptobots_desktop.core.market import Market, quantize_to_step
from cryptobots_desktop.core.strategies.validation import fmt_fixed, fmt_number, fmt_pct, fmt_quote, reject

HUNDRED = Decimal(100)
MAX_SAFETY_ORDERS = 100


def _deviation(price_deviation_pct: Decimal, step_scale: Decimal, index: int) -> Decimal:
    """``d_i = price_deviation × (1 + s + … + s^(i−1))``; 0 for the base order (``index`` 0)."""
    return price_deviation_pct * sum((step_scale**k for k in range(index)), Decimal(0))


class DcaParams(BaseModel):
    """The settings of a DCA bot; amounts in the quote currency, percentages as numbers (1 = 1 %).

    Cross-field checks read fields declared before them, so keep the declaration order.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    base_order_size: Decimal = Field(title="Base order size", description="Quote a deal's first buy spends.")
    safety_order_size: Decimal = Field(title="Safety order size", description="Quote safety order 1 spends.")
    max_safety_orders: int = Field(title="Max safety orders", description="Safety orders per deal, 0 to 100.")
    price_deviation_pct: Decimal = Field(
        title="Price deviation", description="% below the base order's price where safety order 1 buys."
    )
    safety_order_step_scale: Decimal = Field(
        Decimal(1), title="Safety order step scale", description="Each gap between safety orders × this."
    )
    safety_order_volume_scale: Decimal = Field(
        Decimal(1), title="Safety order volume scale", description="Each safety order's size × this."
    )
    take_profit_pct: Decimal = Field(title="Take profit", description="% above the average entry to sell at.")
    trailing_take_profit: bool = Field(False, title="Trailing take profit")
    trailing_deviation_pct: Decimal | None = Field(
        None,
        title="Trailing deviation",
        description="Once at the take profit, sell when the price falls this % from its high.",
        validate_default=True,
    )
    stop_loss_pct: Decimal | None = Field(
        None, title="Stop loss", description="% below the base order's price where the deal sells at a loss."
    )
    cooldown_seconds: int = Field(0, title="Cooldown", description="Seconds from a deal's close to the next.")
    max_active_deals: int = Field(1, title="Max active deals")

    @field_validator("base_order_size")
    @classmethod
    def _check_base_order_size(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject(
                "Base order size must be more than 0: it is how much of the quote currency (e.g. USDT) "
                "the first buy of each deal spends."
            )
        return value

    @field_validator("safety_order_size")
    @classmethod
    def _check_safety_order_size(cls, value: Decimal) -> Decimal:
        if value < 0:
            reject("Safety order size cannot be negative. Enter a size, or 0 with no safety orders.")
        return value

    @field_validator("max_safety_orders")
    @classmethod
    def _check_max_safety_orders(cls, value: int) -> int:
        if not 0 <= value <= MAX_SAFETY_ORDERS:
            reject(f"Max safety orders must be between 0 and {MAX_SAFETY_ORDERS}.")
        return value

    @field_validator("price_deviation_pct")
    @classmethod
    def _check_price_deviation(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject(
                "Price deviation must be more than 0 %: it is how far the price falls below the base "
                "order's price before the first safety order buys."
            )
        if value >= HUNDRED:
            reject("Price deviation must be under 100 %: a price cannot fall by 100 % or more.")
        return value

    @field_validator("safety_order_step_scale")
    @classmethod
    def _check_step_scale(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject("Safety order step scale must be more than 0 (1 keeps the safety orders evenly spaced).")
        return value

    @field_validator("safety_order_volume_scale")
    @classmethod
    def _check_volume_scale(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject(
                "Safety order volume scale must be more than 0 (1 makes every safety order the same size)."
            )
        return value

    @field_validator("take_profit_pct")
    @classmethod
    def _check_take_profit(cls, value: Decimal) -> Decimal:
        if value <= 0:
            reject("Take profit must be more than 0 %: it is how far above the average entry the deal sells.")
        return value

    @field_validator("trailing_deviation_pct")
    @classmethod
    def _check_trailing(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if not info.data.get("trailing_take_profit"):
            return value  # unused without trailing: the dialog may keep whatever was typed
        if value is None:
            reject(
                "Trailing deviation is required when Trailing take profit is on. Enter a percentage "
                "smaller than the take profit, or turn trailing off."
            )
        if value <= 0:
            reject("Trailing deviation must be more than 0 %.")
        take_profit = info.data.get("take_profit_pct")
        if take_profit is not None and value >= take_profit:
            reject(
                f"Trailing deviation ({fmt_pct(value)} %) must be smaller than Take profit "
                f"({fmt_pct(take_profit)} %), or a trailing deal could close at a loss. "
                "Lower the trailing deviation or raise the take profit."
            )
        return value

    @field_validator("stop_loss_pct")
    @classmethod
    def _check_stop_loss(cls, value: Decimal | None, info: ValidationInfo) -> Decimal | None:
        if value is None:
            return value
        if value <= 0:
            reject("Stop loss must be more than 0 %, or left empty for no stop loss.")
        if value >= HUNDRED:
            reject("Stop loss must be under 100 %: a price cannot fall by 100 % or more.")
        count, deviation, step = (
            info.data.get(k) for k in ("max_safety_orders", "price_deviation_pct", "safety_order_step_scale")
        )
        if count and deviation is not None and step is not None:
            last = _deviation(deviation, step, count)
            if value <= last:
                reject(
                    f"Stop loss ({fmt_pct(value)} %) must be beyond the last safety order, which buys "
                    f"{fmt_pct(last)} % below the base order's price; otherwise the deal sells at a loss "
                    "before its safety orders can buy. Raise the stop loss, or use fewer or closer "
                    "safety orders."
                )
        return value

    @field_validator("cooldown_seconds")
    @classmethod
    def _check_cooldown(cls, value: int) -> int:
        if value < 0:
            reject("Cooldown cannot be negative; use 0 to start the next deal at once.")
        return value

    @field_validator("max_active_deals")
    @classmethod
    def _check_max_active_deals(cls, value: int) -> int:
        if value < 1:
            reject("Max active deals must be at least 1.")
        return value

    @model_validator(mode="after")
    def _check_safety_orders_have_a_size(self) -> DcaParams:
        if self.max_safety_orders > 0 and self.safety_order_size == 0:
            reject(
                "Safety order size must be more than 0 when Max safety orders is 1 or more. "
                "Enter a size, or set Max safety orders to 0.",
                field="safety_order_size",
            )
        return self


def safety_order_size(params: DcaParams, index: int) -> Decimal:
    """Quote size of safety order ``index`` (1-based): ``safety_order_size × volume_scale^(index−1)``."""
    return params.safety_order_size * params.safety_order_volume_scale ** (index - 1)


def safety_order_deviation_pct(params: DcaParams, index: int) -> Decimal:
    """``d_index`` in % below the base order's price; 0 for ``index`` 0 (the base order)."""
    return _deviation(params.price_deviation_pct, params.safety_order_step_scale, index)


def max_deviation_pct(params: DcaParams) -> Decimal:
    """How far below the base order's price the last safety order buys (``d_N``; 0 without safety orders)."""
    return safety_order_deviation_pct(params, params.max_safety_orders)


def funds_per_deal(params: DcaParams) -> Decimal:
    """``base_order_size + Σ size_i``: the most quote one deal may spend."""
    sizes = (safety_order_size(params, i) for i in range(1, params.max_safety_orders + 1))
    return params.base_order_size + sum(sizes, Decimal(0))


def funds_needed(params: DcaParams) -> Decimal:
    """The most quote the bot may have in its deals at once: funds per deal × max active deals."""
    return funds_per_deal(params) * params.max_active_deals


def buy_price(base_price: Decimal, deviation_pct: Decimal, market: Market) -> Decimal:
    """``base_price × (1 − deviation/100)`` rounded down to the tick (0 or less when it cannot exist)."""
    raw = base_price * (1 - deviation_pct / HUNDRED)
    return quantize_to_step(raw, market.price_tick, ROUND_FLOOR) if raw > 0 else raw


def base_received(amount: Decimal, buy_fee_rate: Decimal) -> Decimal:
    """Base credited by a buy of ``amount`` when the fee (a fraction, 0.001 = 0.1 %) is taken in base."""
    return amount * (1 - buy_fee_rate)


def average_entry_price(quote_spent: Decimal, base_held: Decimal) -> Decimal | None:
    """``quote_spent / base_held``: with base net of buy fees, fees are in the price. None if none held."""
    return quote_spent / base_held if base_held > 0 else None


def take_profit_price(average_entry: Decimal, take_profit_pct: Decimal, market: Market) -> Decimal:
    """``average_entry × (1 + take_profit/100)``, rounded up to the market's tick."""
    return quantize_to_step(average_entry * (1 + take_profit_pct / HUNDRED), market.price_tick, ROUND_CEILING)


def stop_loss_price(base_price: Decimal, stop_loss_pct: Decimal, market: Market) -> Decimal:
    """``base_price × (1 − stop_loss/100)``, rounded up to the tick (the stop fires no later than asked)."""
    return quantize_to_step(base_price * (1 - stop_loss_pct / HUNDRED), market.price_tick, ROUND_CEILING)


@dataclass(frozen=True, slots=True)
class DcaRow:
    """One order of a deal's ladder and where the deal stands if every order up to it has filled.

    ``size`` is the configured quote size; ``cost = amount × price`` what the order really spends.
    ``base_held``, ``quote_spent``, ``average_entry`` and ``take_profit_price`` are cumulative:
    "if the price falls to here, you'd hold this and sell at that". ``profit_at_take_profit`` is
    ``base_held × take_profit_price × (1 − maker fee) − quote_spent`` (dust under the lot step, which
    stays in the account, is valued as if sold).
    """

    index: int
    label: str
    deviation_pct: Decimal
    price: Decimal
    size: Decimal
    amount: Decimal
    cost: Decimal
    cumulative_size: Decimal
    quote_spent: Decimal
    base_held: Decimal
    average_entry: Decimal | None
    take_profit_price: Decimal | None
    profit_at_take_profit: Decimal | None


@dataclass(frozen=True, slots=True)
class DcaPreview:
    """The ladder of one deal opened at ``base_price``, its totals, and what would go wrong.

    ``rows`` stop before the first safety order whose price would be zero or below (``problems`` says so).
    """

    symbol: str
    base_price: Decimal
    rows: tuple[DcaRow, ...]
    funds_per_deal: Decimal
    funds_needed: Decimal
    max_deviation_pct: Decimal
    stop_loss_price: Decimal | None
    problems: tuple[str, ...]


def _label(index: int) -> str:
    return "Base order" if index == 0 else f"Safety order {index}"


@dataclass(frozen=True, slots=True)
class _Issue:
    """Why one order could not be placed; consecutive safety orders with the same issue share a sentence."""

    index: int
    kind: str
    subject: str  # what this order would be: "would be 4.20 USDT"
    rule: str  # the rule it breaks: "under the exchange minimum of 5 USDT for BTC/USDT"
    advice: str
    take_profit: bool = False

    def name(self, last: int | None = None) -> str:
        if self.take_profit:
            if self.index == 0:
                return "The take-profit sell after the base order alone"
            if last is None:
                return f"The take-profit sell after safety order {self.index}"
            return f"The take-profit sells after {_safety_orders(self.index, last)}"
        return _label(self.index) if last is None else _safety_orders(self.index, last).capitalize()


def _safety_orders(first: int, last: int) -> str:
    """``safety orders 3 to 7`` (``3 and 4`` for two)."""
    return f"safety orders {first} {'and' if last == first + 1 else 'to'} {last}"


def _unplaceable(index: int, last: int, price: Decimal, deviation: Decimal, market: Market) -> str:
    """The sentence for safety orders ``index`` to ``last`` whose price would be zero or below."""
    raw = price * (1 - deviation / HUNDRED)
    quote = market.quote
    detail = (
        f"{fmt_pct(deviation)} % below the base order's price"
        if raw <= 0
        else f"at {fmt_number(raw)} {quote}, which rounds to 0 at this market's tick of "
        f"{fmt_number(market.price_tick)} {quote}"
    )
    advice = "Lower the price deviation, the safety order step scale or the max safety orders."
    if index == last:
        zero = ", at or below zero" if raw <= 0 else ""
        return f"{_label(index)} would be priced {detail}{zero}: no order can be placed there. {advice}"
    which = _safety_orders(index, last).capitalize()
    return (
        f"{which} would be priced at or below zero (safety order {index} is {detail}): "
        f"no orders can be placed there. {advice}"
    )


def _sentences(issues: list[_Issue]) -> list[str]:
    """One sentence per issue, runs of consecutive safety orders with the same issue merged into one."""
    runs: list[list[_Issue]] = []
    for issue in issues:
        run = runs[-1] if runs else None
        if (
            run is not None
            and issue.index > 1
            and run[-1].index == issue.index - 1
            and (run[-1].kind, run[-1].take_profit) == (issue.kind, issue.take_profit)
        ):
            run.append(issue)
        else:
            runs.append([issue])
    sentences = []
    for run in runs:
        first = run[0]
        if len(run) == 1:
            sentences.append(f"{first.name()} {first.subject}, {first.rule}. {first.advice}")
        else:
            example = first.name()
            example = example[0].lower() + example[1:]
            sentences.append(
                f"{first.name(run[-1].index)} would each be {first.rule} ({example} {first.subject}). "
                f"{first.advice}"
            )
    return sentences


def _order_issue(row: DcaRow, market: Market) -> _Issue | None:
    """Why the order of ``row`` could not be placed at the exchange, or None."""
    quote, base, symbol = market.quote, market.base, market.symbol
    advice = f"Raise the {'base order size' if row.index == 0 else 'safety order size'}."
    amount = f"{fmt_fixed(row.amount, market.amount_decimals)} {base}"
    if row.amount <= 0:
        spend = f"{fmt_quote(row.size)} {quote} at {fmt_fixed(row.price, market.price_decimals)} {quote}"
        return _Issue(
            row.index,
            "nothing",
            f"would spend {spend}",
            f"too small to buy the lot step of {fmt_number(market.amount_step)} {base} for {symbol}",
            advice,
        )
    if row.amount < market.min_amount:
        return _Issue(
            row.index,
            "min_amount",
            f"would buy {amount}",
            f"under the exchange minimum of {fmt_number(market.min_amount)} {base} for {symbol}",
            advice,
        )
    if row.cost < market.min_notional:
        return _Issue(
            row.index,
            "min_notional",
            f"would be {fmt_quote(row.cost)} {quote}",
            f"under the exchange minimum of {fmt_number(market.min_notional)} {quote} for {symbol}",
            advice,
        )
    if market.max_amount > 0 and row.amount > market.max_amount:
        return _Issue(
            row.index,
            "max_amount",
            f"would buy {amount}",
            f"over the exchange maximum of {fmt_number(market.max_amount)} {base} per order for {symbol}",
            "Lower the order sizes or the safety order volume scale.",
        )
    return None


def _take_profit_issue(row: DcaRow, market: Market) -> _Issue | None:
    """Why the take-profit sell after ``row`` could not be placed, or None."""
    if row.take_profit_price is None:
        return None
    amount = market.floor_amount(row.base_held)
    value = amount * row.take_profit_price
    base, quote = market.base, market.quote
    advice = "Raise the base order size."
    if amount <= 0 or amount < market.min_amount:
        return _Issue(
            row.index,
            "min_amount",
            f"would sell {fmt_fixed(amount, market.amount_decimals)} {base} (what the buys leave after fees)",
            f"under the exchange minimum of {fmt_number(market.min_amount)} {base} for {market.symbol}",
            advice,
            take_profit=True,
        )
    if value < market.min_notional:
        return _Issue(
            row.index,
            "min_notional",
            f"would be {fmt_quote(value)} {quote}",
            f"under the exchange minimum of {fmt_number(market.min_notional)} {quote} for {market.symbol}",
            advice,
            take_profit=True,
        )
    return None


def dca_preview(params: DcaParams, market: Market, price: Decimal) -> DcaPreview:
    """The ladder of a deal opened now at ``price``, rounded to ``market``'s rules, with its problems.

    Safety-order deviations are measured from the base order's price (``price`` rounded down to the tick).
    """
    base_price = buy_price(price, Decimal(0), market)
    if base_price <= 0:
        raise ValueError(f"the current price {price} is not a positive price at {market.symbol}'s tick")
    quote = market.quote
    rows: list[DcaRow] = []
    problems: list[str] = []
    order_issues: list[_Issue] = []
    sell_issues: list[_Issue] = []
    cumulative = spent = held = Decimal(0)
    for index in range(params.max_safety_orders + 1):
        label = _label(index)
        deviation = safety_order_deviation_pct(params, index)
        order_price = buy_price(base_price, deviation, market)
        if order_price <= 0:
            problems.append(_unplaceable(index, params.max_safety_orders, base_price, deviation, market))
            break
        size = params.base_order_size if index == 0 else safety_order_size(params, index)
        amount = market.floor_amount(size / order_price)
        cost = amount * order_price
        fee_rate = market.taker_fee if index == 0 else market.maker_fee
        cumulative += size
        spent += cost
        held += base_received(amount, fee_rate)
        entry = average_entry_price(spent, held)
        target = None if entry is None else take_profit_price(entry, params.take_profit_pct, market)
        profit = None if target is None else held * target * (1 - market.maker_fee) - spent
        row = DcaRow(
            index=index,
            label=label,
            deviation_pct=deviation,
            price=order_price,
            size=size,
            amount=amount,
            cost=cost,
            cumulative_size=cumulative,
            quote_spent=spent,
            base_held=held,
            average_entry=entry,
            take_profit_price=target,
            profit_at_take_profit=profit,
        )
        if rows and order_price == rows[-1].price:
            problems.append(
                f"{label} rounds to the same price as {rows[-1].label.lower()} "
                f"({fmt_fixed(order_price, market.price_decimals)} {quote}) at this market's tick of "
                f"{fmt_number(market.price_tick)} {quote}. Raise the price deviation or the safety order "
                "step scale."
            )
        rows.append(row)
        order_issues += filter(None, [_order_issue(row, market)])
        sell_issues += filter(None, [_take_profit_issue(row, market)])
    problems[:0] = _sentences(order_issues) + _sentences(sell_issues)
    stop = None if params.stop_loss_pct is None else stop_loss_price(base_price, params.stop_loss_pct, market)
    return DcaPreview(
        market.symbol,
        base_price,
        tuple(rows),
        funds_per_deal(params),
        funds_needed(params),
        max_deviation_pct(params),
        stop,
        tuple(problems),
    )


def free_balance_problem(params: DcaParams, free_balance: Decimal, quote: str, bots: int = 1) -> str | None:
    """A sentence saying by how much ``free_balance`` falls short of :func:`funds_needed` (× ``bots``, the
    bots started at once with these settings, one per pair), or None."""
    each = funds_needed(params)
    needed = each * bots
    if free_balance >= needed:
        return None
    deals = params.max_active_deals
    if bots > 1:
        who, scope = f"The {bots} bots", f"for their deals ({fmt_quote(each)} {quote} each)"
        advice = "Add funds, choose fewer pairs, or lower"
    else:
        who = "The bot"
        scope = (
            "for its deal"
            if deals == 1
            else f"for {deals} deals at once ({fmt_quote(funds_per_deal(params))} {quote} each)"
        )
        advice = "Add funds, or lower"
    return (
        f"{who} may need up to {fmt_quote(needed)} {quote} {scope}, but only {fmt_quote(free_balance)} "
        f"{quote} is free: {fmt_quote(needed - free_balance)} {quote} short. {advice} the order "
        "sizes, the max safety orders or the max active deals."
    )
