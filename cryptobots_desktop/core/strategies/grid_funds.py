"""What a grid needs from the account when it starts, and the sentence when the free balance falls short.

A grid bot pays for everything in the quote currency: its buy orders reserve ``quote_for_buys``, and the
base its sell orders sell is bought at market when the grid starts (the ``init`` order of
:mod:`~cryptobots_desktop.core.strategies.grid_bot`), about ``base_for_sells_value`` at the current price.
Base already in the account is not used: the grid trades only what it bought.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.grid import GridPreview
from cryptobots_desktop.core.strategies.validation import fmt_number

CENT = Decimal("0.01")


def _money(value: Decimal) -> str:
    """Cents, half up, as the dialog's figures read (``93.37``); values under 1 keep their digits."""
    return format(value.quantize(CENT, ROUND_HALF_UP), "f") if abs(value) >= 1 else fmt_number(value)


def grid_funds_needed(preview: GridPreview) -> Decimal:
    """Quote the grid needs at the start: its buy orders plus the market buy of its sells' base."""
    return preview.quote_for_buys + preview.base_for_sells_value


def grid_balance_problem(preview: GridPreview, market: Market, free_quote: Decimal) -> str | None:
    """A sentence when ``free_quote`` cannot pay for the grid's start, else None."""
    needed = grid_funds_needed(preview)
    if needed <= free_quote:
        return None
    quote, base = market.quote, market.base
    parts = [f"{_money(preview.quote_for_buys)} {quote} for the buy orders"]
    if preview.base_for_sells > 0:
        value, sells = _money(preview.base_for_sells_value), fmt_number(preview.base_for_sells)
        parts.append(f"{value} {quote} to buy the {sells} {base} its sell orders sell")
    return (
        f"The grid needs about {_money(needed)} {quote} ({' and '.join(parts)}), but only "
        f"{_money(free_quote)} {quote} is free: {_money(needed - free_quote)} {quote} short. "
        "Add funds, or lower the amount per level or the number of levels."
    )
