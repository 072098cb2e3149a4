"""An order under a pair's minimum amount or value: the check, and the sentences that say so.

ccxt refuses client-side an amount that truncates to nothing at the lot step (an ``InvalidOrder`` without
the minimum); the exchange refuses one under its minimum quantity or value (Binance -1013 LOT_SIZE /
NOTIONAL, OKX 51020). ``below_minimums`` finds these before anything is sent; ``ccxt_errors`` builds the
exchange's and ccxt's refusals from the same functions, so a person reads one sentence, naming the minimum,
whoever refused.
"""

from __future__ import annotations

from decimal import ROUND_UP, Decimal
from typing import Any

from cryptobots_desktop.core.errors import AmountBelowMinimum, NotionalBelowMinimum
from cryptobots_desktop.core.market import Market, quantize_to_step


def fmt(value: Decimal) -> str:
    """A Decimal as a person reads it: no exponent, no trailing zeros."""
    return f"{value.normalize():f}"


def amount_below_minimum(
    exchange: str, market: Market | None, amount: Decimal | None = None, *, said: str = "", **kw: Any
) -> AmountBelowMinimum:
    """An order amount under the pair's minimum (or nothing once truncated to its lot step)."""
    if market is None:
        return AmountBelowMinimum(
            f"The order's amount is under {exchange}'s minimum for this pair.{said}",
            f"Increase the amount to at least the pair's minimum on {exchange}.",
            minimum=Decimal(0),
            **kw,
        )
    minimum = max(market.min_amount, market.amount_step)
    asked = f" ({fmt(amount)} {market.base})" if amount is not None else ""
    return AmountBelowMinimum(
        f"The order's amount{asked} is under {exchange}'s minimum of {fmt(minimum)} {market.base} for "
        f"{market.symbol} (amounts go in steps of {fmt(market.amount_step)} {market.base}).{said}",
        f"Increase the amount to at least {fmt(minimum)} {market.base}.",
        minimum=minimum,
        **kw,
    )


def notional_below_minimum(
    exchange: str,
    market: Market | None,
    value: Decimal | None = None,
    price: Decimal | None = None,
    *,
    said: str = "",
    **kw: Any,
) -> NotionalBelowMinimum:
    """An order worth less than the pair's minimum order value; with ``price``, the amount that suffices."""
    if market is None or market.min_notional <= 0:  # the exchange's minimum is not in its market list
        pair = market.symbol if market is not None else "this pair"
        return NotionalBelowMinimum(
            f"The order's value is under {exchange}'s minimum for {pair}.{said}",
            f"Increase the amount until the order is worth at least the pair's minimum on {exchange}.",
            minimum=Decimal(0),
            **kw,
        )
    minimum, quote = market.min_notional, market.quote
    worth = f" ({fmt(value)} {quote})" if value is not None else ""
    hint = f"Increase the amount so the order is worth at least {fmt(minimum)} {quote}."
    if price is not None and price > 0 and market.amount_step > 0:
        enough = quantize_to_step(minimum / price, market.amount_step, ROUND_UP)
        enough = max(enough, market.min_amount)
        hint = (
            f"Increase the amount to at least {fmt(enough)} {market.base} (worth {fmt(minimum)} {quote} at "
            f"{fmt(price)} {quote})."
        )
    return NotionalBelowMinimum(
        f"The order's value{worth} is under {exchange}'s minimum of {fmt(minimum)} {quote} for "
        f"{market.symbol}.{said}",
        hint,
        minimum=minimum,
        **kw,
    )


def below_minimums(
    exchange: str, market: Market, amount: Decimal, price: Decimal | None
) -> AmountBelowMinimum | NotionalBelowMinimum | None:
    """What the exchange (or ccxt, before sending) would refuse about an order's size, else None.

    ``amount`` is checked as ccxt sends it (truncated to the lot step); the value only when the price is
    known (a limit order: a market order's value is the exchange's to judge, at its price).
    """
    sent = market.floor_amount(amount)
    if sent <= 0 or sent < market.min_amount:
        return amount_below_minimum(exchange, market, amount)
    if price is not None and market.min_notional > 0 and sent * price < market.min_notional:
        return notional_below_minimum(exchange, market, sent * price, price)
    return None
