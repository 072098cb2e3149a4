"""What DCA settings come to at the pairs' prices, for the new-bot dialog (no widgets): each pair's ladder,
the bots grouped by quote currency, and the funds lines with the free-balance check for all the bots
started at once."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import (
    DcaParams,
    DcaPreview,
    dca_preview,
    free_balance_problem,
    funds_needed,
    funds_per_deal,
    max_deviation_pct,
)

from .ladder_model import fmt_deviation, fmt_money, quote_decimals

QuoteGroups = dict[str, tuple[int, Market]]


@dataclass(frozen=True)
class PairCheck:
    """One more pair the DCA bot starts on: its ladder at its own price (None while the price is unknown)."""

    pair: str
    market: Market | None
    preview: DcaPreview | None
    error: str | None = None

    @property
    def problems(self) -> tuple[str, ...]:
        """The ladder's problems at this pair's price, or why it could not be worked out."""
        if self.error is not None:
            return (self.error,)
        return self.preview.problems if self.preview is not None else ()


def make_preview(
    params: DcaParams | None, market: Market | None, price: Decimal | None
) -> tuple[DcaPreview | None, str | None]:
    """The ladder at ``price`` (None while anything is missing), or why it could not be worked out."""
    if params is None or market is None or price is None or price <= 0:
        return None, None
    try:
        return dca_preview(params, market, price), None
    except ValueError:  # the price rounds to nothing at the tick: as good as unknown
        return None, None
    except ArithmeticError:
        return None, "These settings are too large to preview. Lower the sizes or the scales."


def check_pair(
    params: DcaParams | None,
    pair: str,
    markets: Mapping[str, Market],
    price_of: Callable[[str], Decimal | None],
) -> PairCheck:
    """An "Also on" pair's ladder at its own price and rules."""
    market = markets.get(pair)
    preview, error = make_preview(params, market, price_of(pair))
    return PairCheck(pair, market, preview, error)


def quote_groups(pairs: Sequence[str], markets: Mapping[str, Market]) -> QuoteGroups:
    """The pairs the bots start on, by quote currency (the previewed pair's first): how many bots, and
    one of their markets (for the money's precision)."""
    groups: QuoteGroups = {}
    for pair in pairs:
        market = markets.get(pair)
        if market is not None:
            n, first = groups.get(market.quote, (0, market))
            groups[market.quote] = (n + 1, first)
    return groups


@dataclass(frozen=True)
class FundsFacts:
    """The funds lines under the ladder, for all the bots started at once; ``short`` are the quote
    currencies whose free balance falls short of what the bots may need."""

    per_deal: str
    needed: str
    free_balance: str
    max_deviation: str
    stop_loss_price: str
    balance_sentences: tuple[str, ...]
    short: tuple[str, ...]


def _needed(params: DcaParams, market: Market, groups: QuoteGroups) -> str:
    deals = params.max_active_deals
    each = funds_needed(params)
    if sum(n for n, _ in groups.values()) <= 1:
        scope = "1 deal at a time" if deals == 1 else f"× {deals} deals at a time"
        return f"{fmt_money(each, market.quote, quote_decimals(market))} ({scope})"
    lines = []
    for q, (n, m) in groups.items():
        d = quote_decimals(m)
        who = f"{n} bots × {fmt_money(each, q, d)}" if n > 1 else "1 bot"
        at_once = ("1 deal" if deals == 1 else f"{deals} deals") + " at a time" + (" each" if n > 1 else "")
        lines.append(f"{fmt_money(each * n, q, d)} ({who}, {at_once})")
    return "\n".join(lines)


def _stop_loss_price(params: DcaParams, market: Market, preview: DcaPreview | None) -> str:
    if params.stop_loss_pct is None:
        return "No stop loss"
    if preview is not None and preview.stop_loss_price is not None:
        price = fmt_money(preview.stop_loss_price, market.quote, market.price_decimals)
        return f"{price} ({fmt_deviation(params.stop_loss_pct)})"
    return fmt_deviation(params.stop_loss_pct)


def funds_facts(
    params: DcaParams | None,
    market: Market | None,
    preview: DcaPreview | None,
    groups: QuoteGroups,
    free_balance_of: Callable[[str], Decimal | None],
) -> FundsFacts | None:
    """The funds lines for the bots in ``groups`` (None while the settings or the pair's rules are not
    there), with the free balance of each quote currency checked against what its bots may need."""
    if params is None or market is None:
        return None
    deviation = fmt_deviation(max_deviation_pct(params))
    if preview is not None and preview.rows:
        deviation += f" (down to {fmt_money(preview.rows[-1].price, market.quote, market.price_decimals)})"
    each = funds_needed(params)
    bots = sum(n for n, _ in groups.values())
    whose = "the bot's" if bots <= 1 else "the bots'"
    free_lines: list[str] = []
    sentences: list[str] = []
    short: list[str] = []
    for q, (n, m) in groups.items():
        d = quote_decimals(m)
        free = free_balance_of(q)
        if free is None:
            free_lines.append("Not known yet" if len(groups) == 1 else f"{q}: not known yet")
            sentences.append(
                f"The free {q} balance is not known yet: make sure "
                f"{fmt_money(each * n, q, d)} is free before {whose} deals need it."
            )
            continue
        free_lines.append(fmt_money(free, q, d))
        problem = free_balance_problem(params, free, q, bots=n)
        if problem is not None:
            sentences.append(problem)
            short.append(q)
    return FundsFacts(
        per_deal=fmt_money(funds_per_deal(params), market.quote, quote_decimals(market)),
        needed=_needed(params, market, groups),
        free_balance="\n".join(free_lines),
        max_deviation=deviation,
        stop_loss_price=_stop_loss_price(params, market, preview),
        balance_sentences=tuple(sentences),
        short=tuple(short),
    )
