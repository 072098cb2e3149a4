"""What a grid needs from the account when it starts, and the sentence when the free balance falls short.

A grid bot pays for everything in the quote currency: its buy orders reserve ``quote_for_buys``, and the
base its sell orders sell is bought at market when the grid starts (the ``init`` order of
:mod:`~cryptobots_desktop.core.strategies.grid_bot`), about ``base_for_sells_value`` at the current price.
Base already in the account is not used: the grid trades only what it bought.
"""

from __future__ import annotations

from decimal import Decimal

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.grid import GridPreview
from cryptobots_desktop.core.strategies.validation import fmt_number, fmt_quote


def grid_funds_needed(preview: GridPreview) -> Decimal:
    """Quote the grid needs at the start: its buy orders plus the market buy of its sells' base."""
    return preview.quote_for_buys + preview.base_for_sells_value


def grid_balance_problem(preview: GridPreview, market: Market, free_quote: Decimal) -> str | None:
    """A sentence when ``free_quote`` cannot pay for the grid's start, else None."""
    needed = grid_funds_needed(preview)
    if needed <= free_quote:
        return None
    quote, base = market.quote, market.base
    parts = [f"{fmt_quote(preview.quote_for_buys)} {quote} for the buy orders"]
    if preview.base_for_sells > 0:
        value, sells = fmt_quote(preview.base_for_sells_value), fmt_number(preview.base_for_sells)
        parts.append(f"{value} {quote} to buy the {sells} {base} its sell orders sell")
    return (
        f"The grid needs about {fmt_quote(needed)} {quote} ({' and '.join(parts)}), but only "
        f"{fmt_quote(free_quote)} {quote} is free: {fmt_quote(needed - free_quote)} {quote} short. "
        "Add funds, or lower the amount per level or the number of levels."
    )
