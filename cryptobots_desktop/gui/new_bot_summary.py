"""The new-bot dialog's sentences about DCA settings, from what the checks found (no widgets): the ladder
preview's status line and problems, whether the bots may start, the one-line verdict beside the Start
button (what to fix or wait for, or that they are ready), and the bots a setting starts on several pairs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cryptobots_desktop.core.market import Market
from cryptobots_desktop.core.strategies.dca import DcaParams, DcaPreview, funds_needed
from cryptobots_desktop.core.strategies.validation import field_label

from .also_on import and_list, unbroken
from .dca_checks import PairCheck, QuoteGroups
from .ladder_model import fmt_money, quote_decimals

WAITING_FOR_PRICE = "Waiting for the pair's price…"


def needs_fixing(titles: Sequence[str]) -> str:
    """The verdict while settings are wrong, naming them by their titles."""
    count = "1 setting needs" if len(titles) == 1 else f"{len(titles)} settings need"
    return f"{count} fixing before the bot can start: {', '.join(titles)}."


def _title(name: str) -> str:
    """A wrong field by its title: the bot's name and pair, a DCA setting, or the settings as a whole."""
    if name == "name":
        return "Name"
    if name == "pair":
        return "Pair"
    return field_label(DcaParams, name) if name else "Settings"


def ladder_status(
    pair: str,
    params: DcaParams | None,
    market: Market | None,
    preview: DcaPreview | None,
    preview_error: str | None,
) -> str:
    """The line above the ladder: what it shows, or why there is none yet."""
    if market is None:
        return f"The exchange's trading rules for {pair} are not loaded yet." if pair else "Choose a pair."
    if params is None:
        return "The ladder appears when the settings are valid."
    if preview_error is not None:
        return preview_error
    if preview is None:
        return WAITING_FOR_PRICE
    last = fmt_money(preview.base_price, market.quote, market.price_decimals)
    return f"A deal opened now at {last}, the last price of {market.symbol}:"


def ladder_problems(pair: str, preview: DcaPreview | None, others: Sequence[PairCheck]) -> list[str]:
    """The ladders' problems; with "Also on" pairs, each under its pair (the ladder shown is only the
    first pair's)."""
    problems = list(preview.problems if preview is not None else ())
    if others:
        problems = [f"{pair}: {p}" for p in problems]
        problems += [f"{c.pair}: {p}" for c in others for p in c.problems]
    return problems


def dca_ready(
    errors: Mapping[str, str],
    preview: DcaPreview | None,
    others: Sequence[PairCheck],
    short: Sequence[str],
) -> bool:
    """The bots may start: no wrong field, every pair's ladder worked out without problems, funds enough."""
    return (
        not errors
        and preview is not None
        and not preview.problems
        and all(c.preview is not None and not c.problems for c in others)
        and not short
    )


def dca_summary(
    pair: str,
    errors: Mapping[str, str],
    params: DcaParams | None,
    market: Market | None,
    preview: DcaPreview | None,
    preview_error: str | None,
    others: Sequence[PairCheck],
    short: Sequence[str],
    groups: QuoteGroups,
) -> str:
    """The verdict for DCA bots on ``pair`` and the ``others``: the first thing that keeps them from
    starting, or what they may spend (``groups``: the bots by quote currency)."""
    bad = [(c.pair, len(c.problems)) for c in others if c.problems]
    if preview is not None and preview.problems:
        bad.insert(0, (pair, len(preview.problems)))
    waiting = ([pair] if preview is None else []) + [c.pair for c in others if c.preview is None]
    if errors:
        return needs_fixing([_title(n) for n in errors])
    if market is None:
        return f"The bot can start once {pair}'s trading rules are loaded."
    if preview_error is not None:
        return preview_error
    if bad and not others:
        n = bad[0][1]
        what = "an order that the exchange would reject" if n == 1 else f"{n} problems"
        return f"The ladder has {what} (see the preview). Change the settings to start the bot."
    if bad:  # name the pairs: each is checked at its own price and rules
        n = sum(count for _, count in bad)
        what = "an order that the exchange would reject" if n == 1 else f"{n} problems"
        names = and_list([p for p, _ in bad])
        ladder = f"The ladder on {names} has" if len(bad) == 1 else f"The ladders on {names} have"
        fix = (
            "Change the settings to start the bots."
            if bad[0][0] == pair
            else f"Change the settings, or untick {names} under Also on, to start the bots."
        )
        return f"{ladder} {what} (see the preview). {fix}"
    if waiting:
        whose = f"{waiting[0]}'s price" if len(waiting) == 1 else f"the prices of {and_list(waiting)}"
        return f"Waiting for {whose} to check the orders against the exchange's minimums."
    if short:
        who = "this bot" if not others else f"these {len(others) + 1} bots"
        return f"Not enough free {and_list(short)} for {who} (see the preview)."
    assert params is not None
    each = funds_needed(params)
    totals = and_list([fmt_money(each * n, q, quote_decimals(m)) for q, (n, m) in groups.items()])
    if not others:
        return f"Ready to start: up to {totals} in this bot's deals."
    return f"Ready to start {len(others) + 1} bots: up to {totals} in their deals."


def bots_to_start(bots: Sequence[tuple[str, str]]) -> str:
    """The line under "Also on" naming the bots the Start button starts (several: one per pair)."""
    names = and_list([unbroken(name) for name, _ in bots])
    return f"Starts {len(bots)} bots, one per pair: {names}."
